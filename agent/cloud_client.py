"""The agent's side of the agent API (see ``docs/PROTOCOL.md``), over httpx.

Every failure comes out as one of three kinds, which is all the caller needs to decide:
:class:`~agent.errors.CloudUnavailable` (try again later; ``retry_after`` when the server said),
:class:`~agent.errors.AuthorizationLost` (stop and ask the user to re-link: a 401 that a token
refresh could not cure), or a refusal specific to the call (:class:`~agent.errors.LinkRefused`,
:class:`~agent.errors.UploadRefused`, :class:`TransitionRefused`).
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from agent.clock import Clock, to_iso, utc_now
from agent.config import SYSTEM_PROXY
from agent.errors import (
    AuthorizationLost,
    CloudUnavailable,
    ConnectorError,
    LinkRefused,
    UploadRefused,
)
from agent.network import proxy_options, require_secure, tls_context
from agent.states import DatasetStatus
from agent.tokens import TokenGrant, TokenKeeper
from agent.version import __version__

API_PREFIX = "/agent/v1"


class TransitionRefused(ConnectorError):
    """The cloud would not move the dataset, or take its records: it was cancelled, taken
    back, or moved on without us (409)."""

    title = "The cloud refused a status update"


@dataclass(frozen=True)
class _Call:
    """One request as the caller asked for it; sent again as it was after a token refresh."""

    method: str
    path: str
    json: Any
    content: bytes | None
    headers: dict[str, str] | None
    params: dict[str, str | int] | None
    timeout: float | None


class _SentOnce:
    """A request body that lets go of its bytes as it is sent.

    httpx keeps each request reachable from its response, and the response in a reference cycle
    (its stream points back at it), so a body passed as plain ``content`` lives until Python's
    cycle collector next runs a full pass. A record page is about 0.3 MB: at hundreds of pages
    a sync, the waiting ones raised the agent's peak memory by several MB.
    """

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data

    def __iter__(self) -> Iterator[bytes]:
        data, self._data = self._data, None
        if data:
            yield data


@dataclass(frozen=True)
class LinkGrant:
    cloud_url: str
    company_id: str
    company_name: str
    connection_id: str
    tokens: TokenGrant


@dataclass(frozen=True)
class Assignment:
    """A dataset the cloud handed to this agent."""

    dataset_id: str
    data_type: str
    requested: str
    lease_seconds: float


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
        keeper: TokenKeeper | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        clock: Clock = utc_now,
        ca_bundle: str | None = None,
        proxy: str | None = SYSTEM_PROXY,
    ) -> None:
        require_secure(cloud_url)
        self.cloud_url = cloud_url.rstrip("/")
        self._keeper = keeper
        self._clock = clock
        self._http = httpx.Client(
            base_url=self.cloud_url + API_PREFIX,
            headers={"User-Agent": f"Connector/{__version__}"},
            timeout=timeout,
            transport=transport,
            verify=tls_context(ca_bundle),
            **proxy_options(proxy),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CloudClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # Without a token -----------------------------------------------------------------------

    def link(self, link_code: str, data_types: list[str]) -> LinkGrant:
        body = {"linkCode": link_code, **_agent_info(data_types)}
        data = self._send("POST", "/link", json=body, kind="link").json()
        return LinkGrant(
            cloud_url=self.cloud_url,
            company_id=data["companyId"],
            company_name=data["companyName"],
            connection_id=data["connectionId"],
            tokens=self._grant(data),
        )

    def refresh(self, refresh_token: str) -> TokenGrant:
        body = {"refreshToken": refresh_token}
        return self._grant(self._send("POST", "/token", json=body, kind="token").json())

    # As the linked agent -------------------------------------------------------------------

    def heartbeat(self, data_types: list[str], *, wait_reason: str | None = None) -> dict[str, Any]:
        """Who we are and what we read; ``wait_reason`` says why queued datasets wait."""
        body = {**_agent_info(data_types), "waitReason": wait_reason}
        answer: dict[str, Any] = self._send("POST", "/heartbeat", json=body).json()
        return answer

    def queue(self, data_types: list[str]) -> dict[str, Any]:
        """Ask the cloud to queue syncs for this connection (all first-link types if empty)."""
        answer: dict[str, Any] = self._send("POST", "/queue", json={"dataTypes": data_types}).json()
        return answer

    def status(self) -> dict[str, Any]:
        """The cloud's view of this connection and its data types."""
        answer: dict[str, Any] = self._send("GET", "/status").json()
        return answer

    def poll(self, wait_seconds: float) -> Assignment | None:
        """Wait up to ``wait_seconds`` for the next dataset; None when none came."""
        response = self._send(
            "POST", "/poll", json={"waitSeconds": wait_seconds}, timeout=wait_seconds + 15.0
        )
        dataset = response.json().get("dataset")
        if dataset is None:
            return None
        return Assignment(
            dataset_id=dataset["id"],
            data_type=dataset["dataType"],
            requested=dataset["requested"],
            lease_seconds=float(dataset.get("leaseSeconds", 60)),
        )

    def renew_lease(self, dataset_id: str) -> None:
        self._send("POST", f"/datasets/{dataset_id}/lease", json={})

    def report(
        self,
        dataset_id: str,
        status: DatasetStatus,
        timestamp: datetime,
        *,
        error_message: str | None = None,
        progress: int | None = None,
        chunks: int | None = None,
        record_count: int | None = None,
        mode: str | None = None,
        deleted_ids: list[str] | None = None,
    ) -> None:
        body: dict[str, Any] = {"status": status, "timestamp": to_iso(timestamp)}
        optional = {
            "errorMessage": error_message,
            "progress": progress,
            "chunks": chunks,
            "recordCount": record_count,
            "mode": mode,
            "deletedIds": deleted_ids,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        self._send("POST", f"/datasets/{dataset_id}/transitions", json=body, kind="transition")

    def baseline_hashes(
        self, dataset_id: str, *, page_size: int | None = None
    ) -> Iterator[tuple[str, str]]:
        """(record id, hash) of what the cloud holds for this dataset's data type, in record id
        order, fetched a page at a time as the caller goes (``page_size`` hashes a page; the
        cloud's default when None). A cloud that does not page answers in one piece."""
        params: dict[str, str | int] = {} if page_size is None else {"limit": page_size}
        path = f"/datasets/{dataset_id}/baseline"
        while True:
            page = self._send("GET", path, params=params).json()
            hashes: dict[str, str] = page["recordHashes"]
            yield from hashes.items()
            after = page.get("nextAfter")
            if after is None or not hashes or after == params.get("after"):
                return  # the last page (the last two checks: never ask the same page again)
            params = {**params, "after": after}

    def upload_chunk(self, dataset_id: str, chunk: int, page: bytes) -> None:
        """Upload one page of records (``page``: their JSON array, as staged); sending the same
        page again replaces it."""
        body = b'{"records":' + page + b"}"
        self._send(
            "PUT",
            f"/datasets/{dataset_id}/chunks/{chunk}",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Content-SHA256": hashlib.sha256(body).hexdigest(),
            },
            kind="upload",
        )

    # Plumbing ------------------------------------------------------------------------------

    def _grant(self, data: dict[str, Any]) -> TokenGrant:
        return TokenGrant(
            access_token=data["accessToken"],
            access_expires=self._clock() + timedelta(seconds=data["accessTokenExpiresIn"]),
            refresh_token=data["refreshToken"],
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str | int] | None = None,
        timeout: float | None = None,
        kind: str = "call",
    ) -> httpx.Response:
        anonymous = kind in ("link", "token")
        token = None if anonymous else self._access_token()
        call = _Call(method, path, json, content, headers, params, timeout)
        response = self._request(call, token)
        if response.status_code == 401 and token is not None and self._keeper is not None:
            # Most likely the access token expired: refresh once, then try again.
            token = self._keeper.force_refresh(self.refresh, token)
            response = self._request(call, token)
        if response.is_success:
            return response
        raise self._failure(response, kind)

    def _access_token(self) -> str:
        if self._keeper is None:
            raise AuthorizationLost("This client has no credential: link Connector first.")
        return self._keeper.access_token(self.refresh)

    def _request(self, call: _Call, token: str | None) -> httpx.Response:
        all_headers = dict(call.headers or {})
        content: _SentOnce | None = None
        if call.content is not None:
            # The same framing as bytes would get (not chunked), without keeping the bytes.
            all_headers["Content-Length"] = str(len(call.content))
            content = _SentOnce(call.content)
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        try:
            return self._http.request(
                call.method,
                call.path,
                json=call.json,
                content=content,
                headers=all_headers,
                params=call.params,
                timeout=call.timeout if call.timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TransportError as exc:
            raise CloudUnavailable(
                f"Cannot reach {self.cloud_url}: {exc}. Check the network connection."
            ) from exc

    def _failure(self, response: httpx.Response, kind: str) -> ConnectorError:
        message = _error_message(response)
        code = response.status_code
        if code == 429 or code >= 500:
            unavailable = CloudUnavailable(
                f"{self.cloud_url} is not answering normally ({code}: {message})."
            )
            return unavailable.with_retry_after(response.headers.get("Retry-After"))
        if kind == "link" and code in (400, 401, 403):
            return LinkRefused(message)
        if code in (401, 403):
            return AuthorizationLost(message)
        if kind == "upload" and code == 409:
            # Not Processing any more (taken back, say): the attempt is over, not failed.
            return TransitionRefused(
                f"The cloud no longer takes records for this dataset ({code}: {message})."
            )
        if kind == "upload":
            return UploadRefused(f"The cloud refused the records ({code}: {message}).")
        if kind == "transition":
            return TransitionRefused(f"The cloud refused the status update ({code}: {message}).")
        return ConnectorError(f"Unexpected answer from {self.cloud_url} ({code}: {message}).")


def _agent_info(data_types: list[str]) -> dict[str, Any]:
    return {"agentVersion": __version__, "hostname": platform.node(), "dataTypes": data_types}


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        message: str = body["error"]
        return message
    return str(body)[:200]
