"""Real things in a cloud for the fuzz to aim at: a company, a linked connection with synced
data, a dataset in Processing, a webhook consumer, and the credentials of both APIs.

A request generated from the OpenAPI document names random ids and would mostly stop at 401
or 404; ``World.aim`` gives it credentials and real ids, so that it reaches the handlers.
Requests that would destroy the shared things (deleting, unlinking, revoking) get things of
their own, and so does queueing (the shared connection has every type in progress); a
dataset the fuzz moved on is replaced by a fresh one in Processing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx

from protocol.datatypes import ACCOUNTING_DATA_TYPES

TIMESTAMP = "2026-01-01T00:00:00Z"
CUSTOMER = {"id": "c1", "customerName": "Alice", "status": "Active", "balance": 12.5}
MONTH = {"id": "2026-01", "currency": "GBP", "date": "2026-01-31T00:00:00", "netAssets": 1}

# (method, path) of the requests that get things of their own: they would take the shared
# things away, or find them always busy (every data type in progress).
OWN_THINGS = {
    ("POST", "/companies/{company_id}/data/queue/{data_type}"),
    ("DELETE", "/companies/{company_id}"),
    ("DELETE", "/companies/{company_id}/connections/{connection_id}"),
    ("PATCH", "/companies/{company_id}/connections/{connection_id}"),
    ("POST", "/companies/{company_id}/connections/{connection_id}/revoke"),
    ("DELETE", "/webhooks/{webhook_id}"),
}


def _pick(generated: Any, known: list[str]) -> str:
    """Mostly a known value (the handler's real work), one time in five what was generated
    (its 404). Chosen from the generated value, so that a run replays the same."""
    text = str(generated)
    return text if len(text) % 5 == 4 else known[len(text) % len(known)]


class World:
    """``unstick`` lets time pass in the cloud: claims the fuzz made and left lapse, so that
    datasets can be claimed again."""

    def __init__(self, http: httpx.Client, api_key: str, unstick: Callable[[], None]) -> None:
        self.http = http
        self.unstick = unstick
        self.basic = {"Authorization": "Basic " + base64.b64encode(api_key.encode()).decode()}
        self.company = self._company()
        self.connection, grant = self._linked(self.company)
        self.bearer, self.refresh_token = grant["accessToken"], grant["refreshToken"]
        for data_type, record in (
            ("customers", CUSTOMER),
            ("bankAccounts", {"id": "b1", "accountName": "Current"}),
            ("company", {"id": "book", "companyName": "Acme"}),
            ("balanceSheet", MONTH),
        ):
            self._synced(data_type, record)
        self.dataset = self._processing()
        self.webhook = self._webhook()

    # Aiming one request ----------------------------------------------------------------------

    def aim(self, method: str, path: str, parameters: dict[str, Any]) -> dict[str, str]:
        """Fill ``parameters`` (the path's, in place) with real ids; the credential to send."""
        if (method, path) in OWN_THINGS:
            company = self._company()
            parameters["company_id"] = company
            connection, _ = self._linked(company)
            if "connection_id" in parameters:
                parameters["connection_id"] = connection
            if "webhook_id" in parameters:
                parameters["webhook_id"] = self._webhook()
        else:
            if "company_id" in parameters:
                parameters["company_id"] = self.company
            if "connection_id" in parameters:
                parameters["connection_id"] = self.connection
            if "webhook_id" in parameters:
                parameters["webhook_id"] = self.webhook
        if "dataset_id" in parameters:
            parameters["dataset_id"] = self._dataset_in_processing()
        if "read_path" in parameters:
            parameters["read_path"] = _pick(parameters["read_path"], ["customers"])
        if "record_id" in parameters:
            parameters["record_id"] = _pick(parameters["record_id"], [str(CUSTOMER["id"])])
        if "report" in parameters:
            parameters["report"] = _pick(parameters["report"], ["balanceSheet", "profitAndLoss"])
        if "data_type" in parameters:
            parameters["data_type"] = _pick(parameters["data_type"], list(ACCOUNTING_DATA_TYPES))
        if path.startswith("/agent/"):
            return {"Authorization": f"Bearer {self.bearer}"}
        return dict(self.basic)

    @staticmethod
    def checksum(body: bytes, generated: str | None) -> str | None:
        """The page's true SHA-256, unless the generated header is to be tried as it is: a
        page with a wrong checksum stops before staging, so most pages carry the right one."""
        if generated is not None and len(generated) % 4 == 0:
            return generated
        return hashlib.sha256(body).hexdigest()

    # The shared things -----------------------------------------------------------------------

    def _ok(self, response: httpx.Response) -> Any:
        assert response.status_code < 300, f"{response.request.url}: {response.text}"
        return response.json() if response.content else None

    def _company(self) -> str:
        body = self._ok(self.http.post("/companies", json={"name": "Acme"}, headers=self.basic))
        return str(body["id"])

    def _linked(self, company: str) -> tuple[str, dict[str, Any]]:
        connection = self._ok(
            self.http.post(
                f"/companies/{company}/connections",
                json={"platformKey": "gncs"},
                headers=self.basic,
            )
        )
        code = connection["linkUrl"].rsplit("/", 1)[1]
        grant = self._ok(self.http.post("/agent/v1/link", json={"linkCode": code}))
        return str(connection["id"]), grant

    def _time_passes(self) -> None:
        """Let the claims the fuzz left lapse; the agent's access token may expire meanwhile,
        so it is refreshed, as an agent does."""
        self.unstick()
        grant = self._ok(
            self.http.post("/agent/v1/token", json={"refreshToken": self.refresh_token})
        )
        self.bearer, self.refresh_token = grant["accessToken"], grant["refreshToken"]

    def _webhook(self) -> str:
        body = self._ok(
            self.http.post("/webhooks", json={"url": "https://example.com/"}, headers=self.basic)
        )
        return str(body["id"])

    @property
    def _agent(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bearer}"}

    def _move(self, dataset: str, *statuses: str) -> bool:
        for status in statuses:
            answer = self.http.post(
                f"/agent/v1/datasets/{dataset}/transitions",
                json={"status": status, "timestamp": TIMESTAMP},
                headers=self._agent,
            )
            if answer.status_code != 200:
                return False
        return True

    def _claimed(self, data_type: str | None = None) -> str:
        """Claim the next dataset (of ``data_type``, ending others NotSupported) and take it
        to Processing; queue more when none waits."""
        # The fuzz may have said the agent is paused or reads nothing: undo that first.
        self._ok(
            self.http.post(
                "/agent/v1/heartbeat",
                json={"dataTypes": list(ACCOUNTING_DATA_TYPES)},
                headers=self._agent,
            )
        )
        for _ in range(len(ACCOUNTING_DATA_TYPES) * 3):
            polled = self._ok(
                self.http.post("/agent/v1/poll", json={"waitSeconds": 0}, headers=self._agent)
            )["dataset"]
            if polled is None:
                wanted = [data_type] if data_type else list(ACCOUNTING_DATA_TYPES)
                queued = self._ok(
                    self.http.post(
                        "/agent/v1/queue", json={"dataTypes": wanted}, headers=self._agent
                    )
                )["queued"]
                if not queued:  # all in progress, claimed by the fuzz's own polls
                    self._time_passes()
                continue
            if data_type is not None and polled["dataType"] != data_type:
                self._move(polled["id"], "NotSupported")
                continue
            if self._move(polled["id"], "Fetching", "Mapping", "Validating", "Processing"):
                return str(polled["id"])
        raise AssertionError(f"no dataset of {data_type or 'any type'} could be claimed")

    def _synced(self, data_type: str, record: dict[str, Any]) -> None:
        dataset = self._claimed(data_type)
        page = json.dumps({"records": [record]}).encode()
        self._ok(
            self.http.put(
                f"/agent/v1/datasets/{dataset}/chunks/0",
                content=page,
                headers={**self._agent, "X-Content-SHA256": hashlib.sha256(page).hexdigest()},
            )
        )
        self._ok(
            self.http.post(
                f"/agent/v1/datasets/{dataset}/transitions",
                json={"status": "Complete", "timestamp": TIMESTAMP, "chunks": 1},
                headers=self._agent,
            )
        )

    def _processing(self) -> str:
        return self._claimed()

    def _dataset_in_processing(self) -> str:
        current = self.http.get(
            f"/companies/{self.company}/data/history/{self.dataset}", headers=self.basic
        )
        if current.status_code != 200 or current.json()["status"] != "Processing":
            self.dataset = self._processing()
        return self.dataset
