"""A real cloud, a company whose first link queues only what a test wants, and an agent home."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from agent.facade import Connector
from agent.support.config import Paths
from cloud.local import LocalCloud
from tests.support.paths import SAMPLE_BOOKS

HAPPY_PATH = ["Queued", "Fetching", "Mapping", "Validating", "Processing", "Complete"]


@dataclass
class Company:
    cloud: LocalCloud
    company_id: str
    connection_id: str
    link_url: str

    def api(self) -> httpx.Client:
        return self.cloud.client()

    def datasets(self, data_type: str) -> list[dict[str, Any]]:
        with self.api() as api:
            body = api.get(
                f"/companies/{self.company_id}/data/history",
                params={"query": f"dataType={data_type}", "orderBy": "requested"},
            ).json()
        results: list[dict[str, Any]] = body["results"]
        return results

    def latest_status(self, data_type: str) -> str | None:
        """The status of the type's newest dataset; None when none was queued."""
        datasets = self.datasets(data_type)
        return datasets[-1]["status"] if datasets else None

    def queue(self, data_type: str) -> dict[str, Any]:
        with self.api() as api:
            body: dict[str, Any] = api.post(
                f"/companies/{self.company_id}/data/queue/{data_type}"
            ).json()
        return body

    def records(self, path: str) -> list[dict[str, Any]]:
        with self.api() as api:
            body = api.get(f"/companies/{self.company_id}/data/{path}", params={"pageSize": 5000})
            results: list[dict[str, Any]] = body.json()["results"]
        return results

    def connection(self) -> dict[str, Any]:
        with self.api() as api:
            body: dict[str, Any] = api.get(
                f"/companies/{self.company_id}/connections/{self.connection_id}"
            ).json()
        return body


def new_company(
    cloud: LocalCloud, name: str, first_link: tuple[str, ...] = ("customers",)
) -> Company:
    """A company whose first link queues exactly ``first_link``."""
    with cloud.client() as api:
        company_id = api.post("/companies", json={"name": name}).json()["id"]
        settings = [
            {"dataType": dt, "fetchOnFirstLink": True, "syncSchedule": 0, "syncOrder": i}
            for i, dt in enumerate(first_link)
        ]
        every = api.get("/profile/syncSettings").json()["settings"]
        off = [{**s, "fetchOnFirstLink": False} for s in every if s["dataType"] not in first_link]
        api.post(f"/companies/{company_id}/syncSettings", json={"settings": settings + off})
        connection = api.post(
            f"/companies/{company_id}/connections", json={"platformKey": "gncs"}
        ).json()
    return Company(cloud, company_id, connection["id"], connection["linkUrl"])


def agent_home(tmp_path: Path, name: str = "agent") -> Paths:
    return Paths.resolve({"CONNECTOR_HOME": str(tmp_path / name)})


def book_copy(tmp_path: Path, book_format: str = "sqlite") -> Path:
    book = tmp_path / "books" / f"{book_format}.gnucash"
    book.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE_BOOKS[book_format], book)
    return book


def linked_connector(paths: Paths, company: Company, book: Path) -> Connector:
    connector = Connector(paths)
    connector.link(company.link_url, book, insecure_file_store=True)
    return connector
