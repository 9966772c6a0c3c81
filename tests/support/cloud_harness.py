"""The reference cloud in-process (FastAPI's TestClient) on a real database, with helpers for
both of its APIs: the public one (Basic auth with the test API key) and the agent's."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from cloud.app import create_app
from cloud.services import Services
from cloud.settings import CloudSettings
from tests.support.fake_clock import FakeClock

# As strong as the cloud insists (cloud/settings.py); fixed so that tests can read it.
API_KEY = "test-api-key-K7QM3TXA-9fJd2LwPzR8vYb"


class CloudHarness:
    """The reference cloud in-process on a real SQLite file, with helpers for both sides."""

    def __init__(self, client: TestClient, clock: FakeClock) -> None:
        self.http = client
        self.clock = clock
        self.auth = {"Authorization": "Basic " + base64.b64encode(API_KEY.encode()).decode()}

    def public(self, method: str, path: str, **kwargs: object) -> object:
        return self.http.request(method, path, headers=self.auth, **kwargs)  # type: ignore[arg-type]

    def new_company(self, name: str = "Acme Ltd") -> str:
        response = self.http.post("/companies", json={"name": name}, headers=self.auth)
        assert response.status_code == 200, response.text
        company_id: str = response.json()["id"]
        return company_id

    def new_connection(self, company_id: str) -> dict[str, str]:
        response = self.http.post(
            f"/companies/{company_id}/connections", json={"platformKey": "gncs"}, headers=self.auth
        )
        assert response.status_code == 200, response.text
        body: dict[str, str] = response.json()
        return body

    def link(self, link_url: str) -> dict[str, str]:
        code = link_url.rsplit("/", 1)[1]
        response = self.http.post("/agent/v1/link", json={"linkCode": code})
        assert response.status_code == 200, response.text
        body: dict[str, str] = response.json()
        return body

    def linked_agent(self, company_id: str) -> dict[str, str]:
        """Link a new connection of ``company_id``; returns the Bearer header of its agent."""
        grant = self.link(self.new_connection(company_id)["linkUrl"])
        return {"Authorization": f"Bearer {grant['accessToken']}"}

    @property
    def services(self) -> Services:
        services: Services = self.http.app.state.services  # type: ignore[attr-defined]
        return services

    def sweep(self) -> None:
        """Run the cloud's periodic duties now (the background scheduler is off in tests)."""
        self.services.maintenance.sweep()


@contextmanager
def cloud_on(database_url: str, clock: FakeClock, **overrides: Any) -> Iterator[CloudHarness]:
    """The in-process cloud on the database at ``database_url``; ``overrides`` replace the
    defaults of :class:`CloudSettings` (limits, for instance)."""
    chosen: dict[str, Any] = {
        "database_url": database_url,
        "api_key": API_KEY,
        "public_url": "http://cloud.test",
        "max_poll_wait_seconds": 0.5,
        **overrides,
    }
    settings = CloudSettings(**chosen)
    with TestClient(create_app(settings, clock=clock, run_maintenance=False)) as client:
        yield CloudHarness(client, clock)
