"""The agent's side of the agent API (see ``docs/PROTOCOL.md``), over httpx.

Every failure comes out as one of three errors, which is all the caller needs to decide:
:class:`~agent.errors.CloudUnavailable` (try again later; ``retry_after`` when the server said),
:class:`~agent.errors.AuthorizationLost` (stop and ask the user to re-link), or a refusal
specific to the call (:class:`~agent.errors.LinkRefused`,
:class:`~agent.errors.UploadRefused`, :class:`TransitionRefused`).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from agent.clock import to_iso
from agent.errors import (
    AuthorizationLost,
    CloudUnavailable,
    ConnectorError,
    LinkRefused,
    UploadRefused,
)
from agent.states import DatasetStatus
from agent.version import __version__

API_PREFIX = "/agent/v1"


class TransitionRefused(ConnectorError):
    """The cloud would not move the dataset (it was cancelled, or moved on without us)."""

    title = "The cloud refused a status update"


@dataclass(frozen=True)
class LinkGrant:
    cloud_url: str
    company_id: str
    company_name: str
    connection_id: str
    token: str


@dataclass(frozen=True)
class Assignment:
    """A dataset the cloud handed to this agent."""

    dataset_id: str
    data_type: str
    requested: str
    lease_seconds: int


def split_link_url(link_url: str) -> tuple[str, str]:
    """``https://cloud.example/link/K7QM-3TXA`` -> (``https://cloud.example``, ``K7QM-3TXA``)."""
    parts = urlsplit(link_url.strip())
    marker = "/link/"
    if parts.scheme not in ("http", "https") or marker not in parts.path:
        raise LinkRefused(
            f"'{link_url}' is not a link URL. Paste the whole address you were given; "
            "it looks like https://.../link/ABCD-EFGH."
        )
    prefix, _, code = parts.path.rpartition(marker)
    if not code:
        raise LinkRefused(f"The link URL '{link_url}' has no link code at its end.")
    return f"{parts.scheme}://{parts.netloc}{prefix}", code


class CloudClient:
    """Calls one cloud on behalf of one connection (or, before linking, of nobody)."""

    def __init__(
        self,
        cloud_url: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        headers = {"User-Agent": f"Connector/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.cloud_url = cloud_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.cloud_url + API_PREFIX,
            headers=headers,
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CloudClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def link(self, link_code: str) -> LinkGrant:
        body = {
            "linkCode": link_code,
            "agentVersion": __version__,
            "hostname": platform.node(),
        }
        response = self._send("POST", "/link", json=body, link=True)
        data = response.json()
        return LinkGrant(
            cloud_url=self.cloud_url,
            company_id=data["companyId"],
            company_name=data["companyName"],
            connection_id=data["connectionId"],
            token=data["token"],
        )

    def poll(self, wait_seconds: float) -> Assignment | None:
        """Wait up to ``wait_seconds`` for the next dataset; None when none came."""
        response = self._send(
            "POST",
            "/poll",
            json={"waitSeconds": wait_seconds},
            timeout=wait_seconds + 15.0,
        )
        dataset = response.json().get("dataset")
        if dataset is None:
            return None
        return Assignment(
            dataset_id=dataset["id"],
            data_type=dataset["dataType"],
            requested=dataset["requested"],
            lease_seconds=int(dataset.get("leaseSeconds", 60)),
        )

    def report(
        self,
        dataset_id: str,
        status: DatasetStatus,
        timestamp: datetime,
        *,
        error_message: str | None = None,
        progress: int | None = None,
        chunks: int | None = None,
    ) -> None:
        body: dict[str, Any] = {"status": status, "timestamp": to_iso(timestamp)}
        if error_message is not None:
            body["errorMessage"] = error_message
        if progress is not None:
            body["progress"] = progress
        if chunks is not None:
            body["chunks"] = chunks
        self._send("POST", f"/datasets/{dataset_id}/transitions", json=body)

    def upload_chunk(self, dataset_id: str, chunk: int, records: list[dict[str, Any]]) -> None:
        self._send("PUT", f"/datasets/{dataset_id}/chunks/{chunk}", json={"records": records})

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        timeout: float | None = None,
        link: bool = False,
    ) -> httpx.Response:
        try:
            response = self._http.request(
                method,
                path,
                json=json,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TransportError as exc:
            raise CloudUnavailable(
                f"Cannot reach {self.cloud_url}: {exc}. Check the network connection."
            ) from exc
        if response.is_success:
            return response
        message = _error_message(response)
        code = response.status_code
        if code == 429 or code >= 500:
            raise CloudUnavailable(
                f"{self.cloud_url} is not answering normally ({code}: {message}).",
            ).with_retry_after(response.headers.get("Retry-After"))
        if code in (401, 403):
            if link:
                raise LinkRefused(message)
            raise AuthorizationLost(message)
        if "/chunks/" in path:
            raise UploadRefused(f"The cloud refused the records ({code}: {message}).")
        if "/transitions" in path:
            raise TransitionRefused(f"The cloud refused the status update ({code}: {message}).")
        raise ConnectorError(f"Unexpected answer from {self.cloud_url} ({code}: {message}).")


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        message: str = body["error"]
        return message
    return str(body)[:200]
