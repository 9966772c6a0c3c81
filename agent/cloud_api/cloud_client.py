"""The agent's side of the agent API (see ``docs/PROTOCOL.md``), over httpx.

Every failure comes out as one of three kinds, which is all the caller needs to decide:
:class:`~agent.errors.CloudUnavailable` (try again later; ``retry_after`` when the server said),
:class:`~agent.errors.AuthorizationLost` (the cloud says the authorization is gone: a token
refresh refused with one of the protocol's reasons for that), or a refusal specific to the call
(:class:`~agent.errors.LinkRefused`, :class:`~agent.errors.UploadRefused`,
:class:`TransitionRefused`).

A 401 on a call is never a verdict by itself: whatever its reason, the access token is renewed
through the connection's :class:`~agent.cloud_api.tokens.TokenKeeper` (which first takes a token
another process renewed meanwhile) and the call sent again; the refresh's own answer decides. A 401
without a reason, or a 403, is no word from the cloud (a proxy, a sign-in page): network class.

Nothing the cloud says is believed before it is parsed (:mod:`agent.cloud_api.cloud_answers`): every
answer, errors included, is read within a limit and checked against the models of
:mod:`protocol.agent_api`, and one that does not fit, or a redirect (never followed), is a
:class:`~agent.errors.BadAnswer`, which is a ``CloudUnavailable``. A refusal counts only in the
cloud's error shape: a proxy's or a portal's 403 page does not stop a link.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel

from agent.cloud_api import cloud_answers
from agent.cloud_api.cloud_answers import AnswerContext, Reply
from agent.cloud_api.connectivity import unreachable
from agent.cloud_api.network import proxy_options, require_secure, tls_context
from agent.cloud_api.tokens import TokenGrant, TokenKeeper
from agent.errors import (
    AuthorizationLost,
    CloudUnavailable,
    ConnectorError,
    LinkRefused,
    NotLinked,
    UploadRefused,
)
from agent.support.config import SYSTEM_PROXY
from protocol.agent_api import (
    AUTHORIZATION_GONE,
    BaselinePage,
    ErrorAnswer,
    HeartbeatAnswer,
    LeaseAnswer,
    LinkAnswer,
    PollAnswer,
    QueueAnswer,
    StatusAnswer,
    TokenAnswer,
    TransitionAnswer,
)
from protocol.agent_requests import (
    BaselineQuery,
    HeartbeatRequest,
    LinkRequest,
    PollRequest,
    QueueRequest,
    RefreshRequest,
    TransitionReport,
    page_body,
)
from protocol.clock import Clock, utc_now
from protocol.states import DatasetStatus, is_terminal
from protocol.version import __version__

API_PREFIX = "/agent/v1"
# A call whose freshly renewed token is refused again and again is not being told that its
# authorization is gone (the refresh would have said so): it is tried again later.
MAX_RENEWALS = 3

Model = TypeVar("Model", bound=BaseModel)


class TransitionRefused(ConnectorError):
    """The cloud would not move the dataset, or take its records (409), and has not moved on
    from it to an end or back to the queue (that is :class:`DatasetMovedOn`)."""

    title = "The cloud refused a status update"


class DatasetMovedOn(ConnectorError):
    """The cloud ended the dataset (AuthError after a revocation, say) or took it back
    (Queued) while the agent worked on it: a report or a page for it is refused (409) with the
    ``current_status`` it has now. Nothing went wrong on this PC; what is left is dropped."""

    title = "The cloud has moved on from this dataset"

    def __init__(self, message: str, *, current_status: DatasetStatus) -> None:
        super().__init__(message)
        self.current_status = current_status


def moved_on_to(current_status: str | None) -> DatasetStatus | None:
    """The state a 409's ``currentStatus`` says the cloud moved the dataset on to: one it
    ended in, or Queued (taken back); None for any other (or none, or one not known here)."""
    try:
        status = DatasetStatus(current_status) if current_status is not None else None
    except ValueError:
        return None
    if status is not None and (is_terminal(status) or status == DatasetStatus.QUEUED):
        return status
    return None


@dataclass(frozen=True)
class _Call:
    """One request as the caller asked for it; sent again as it was after a token refresh."""

    method: str
    path: str
    kind: str = "call"  # link, token, upload, transition or call: what a refusal means
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] | None = None
    params: dict[str, str | int] | None = None
    timeout: float | None = None
    limit: int = cloud_answers.SMALL_ANSWER  # the most an answer to it may hold, in bytes

    @property
    def anonymous(self) -> bool:
        """Sent without a credential; its answer carries credentials, so is never quoted."""
        return self.kind in ("link", "token")


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


@dataclass(frozen=True)
class QueuedDataset:
    """A dataset the cloud queued when asked to sync now."""

    dataset_id: str
    data_type: str
    status: DatasetStatus  # Queued, or already ended (NotSupported, AuthError)


@dataclass(frozen=True)
class SyncQueued:
    """The cloud's answer to "sync now" for one connection: what it queued, and the data types
    it left alone because a dataset of theirs is already in progress."""

    queued: tuple[QueuedDataset, ...]
    already_in_progress: tuple[str, ...]


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
        self._proxy = proxy
        self._http = httpx.Client(
            base_url=self.cloud_url + API_PREFIX,
            # No compression: an answer's size limit must hold for what is held in memory.
            headers={"User-Agent": f"Connector/{__version__}", "Accept-Encoding": "identity"},
            timeout=timeout,
            transport=transport,
            verify=tls_context(ca_bundle),
            follow_redirects=False,  # the credential goes to the cloud it was made for, only
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
        body = LinkRequest.model_construct(linkCode=link_code, **_agent_info(data_types))
        answer = self._send("POST", "/link", LinkAnswer, json=_wire(body), kind="link")
        return LinkGrant(
            cloud_url=self.cloud_url,
            company_id=answer.companyId,
            company_name=answer.companyName,
            connection_id=answer.connectionId,
            tokens=self._grant(answer),
        )

    def refresh(self, refresh_token: str) -> TokenGrant:
        body = _wire(RefreshRequest.model_construct(refreshToken=refresh_token))
        return self._grant(self._send("POST", "/token", TokenAnswer, json=body, kind="token"))

    # As the linked agent -------------------------------------------------------------------

    def heartbeat(
        self, data_types: list[str], *, wait_reason: str | None = None
    ) -> HeartbeatAnswer:
        """Who we are and what we read; ``wait_reason`` says why queued datasets wait."""
        body = HeartbeatRequest.model_construct(**_agent_info(data_types), waitReason=wait_reason)
        return self._send("POST", "/heartbeat", HeartbeatAnswer, json=_wire(body))

    def queue(self, data_types: list[str]) -> SyncQueued:
        """Ask the cloud to queue syncs for this connection (all first-link types if empty)."""
        answer = self._send(
            "POST",
            "/queue",
            QueueAnswer,
            json=_wire(QueueRequest.model_construct(dataTypes=data_types)),
            limit=cloud_answers.QUEUE_ANSWER,
        )
        return SyncQueued(
            queued=tuple(
                QueuedDataset(dataset.id, dataset.dataType, dataset.status)
                for dataset in answer.queued
            ),
            already_in_progress=tuple(answer.alreadyInProgress),
        )

    def status(self) -> StatusAnswer:
        """The cloud's view of this connection and its data types."""
        return self._send("GET", "/status", StatusAnswer, limit=cloud_answers.STATUS_ANSWER)

    def poll(self, wait_seconds: float) -> Assignment | None:
        """Wait up to ``wait_seconds`` for the next dataset; None when none came."""
        answer = self._send(
            "POST",
            "/poll",
            PollAnswer,
            json=_wire(PollRequest.model_construct(waitSeconds=wait_seconds)),
            timeout=wait_seconds + 15.0,
        )
        dataset = answer.dataset
        if dataset is None:
            return None
        return Assignment(
            dataset_id=dataset.id,
            data_type=dataset.dataType,
            requested=dataset.requested,
            lease_seconds=dataset.leaseSeconds,
        )

    def renew_lease(self, dataset_id: str) -> None:
        self._send("POST", f"{_dataset_path(dataset_id)}/lease", LeaseAnswer, json={})

    def report(self, dataset_id: str, report: TransitionReport) -> None:
        """Send a transition report as it is (built and bounded where the transition was made:
        ``agent/runtime/dataset_moves.py``)."""
        path = f"{_dataset_path(dataset_id)}/transitions"
        self._send("POST", path, TransitionAnswer, json=_wire(report), kind="transition")

    def baseline_hashes(
        self, dataset_id: str, *, page_size: int | None = None
    ) -> Iterator[tuple[str, str]]:
        """(record id, hash) of what the cloud holds for this dataset's data type, in record id
        order, fetched a page at a time as the caller goes (``page_size`` hashes a page; the
        cloud's default when None). A cloud that does not page answers in one piece."""
        query = BaselineQuery.model_construct()  # only the fields given go on the wire
        if page_size is not None:
            query = query.model_copy(update={"limit": page_size})
        path = f"{_dataset_path(dataset_id)}/baseline"
        while True:
            params: dict[str, str | int] = _wire(query)
            page = self._send(
                "GET", path, BaselinePage, params=params, limit=cloud_answers.BASELINE_ANSWER
            )
            hashes = page.recordHashes
            yield from hashes.items()
            after = page.nextAfter
            if after is None or not hashes or after == query.after:
                return  # the last page (the last two checks: never ask the same page again)
            query = query.model_copy(update={"after": after})

    def upload_page(self, dataset_id: str, page: int, records: bytes) -> None:
        """Upload page number ``page`` of a dataset's records (``records``: their JSON array,
        as staged); sending the same page again replaces it. The wire calls it a chunk."""
        body = page_body(records)
        headers = {
            "Content-Type": "application/json",
            "X-Content-SHA256": hashlib.sha256(body).hexdigest(),
        }
        path = f"{_dataset_path(dataset_id)}/chunks/{page}"
        self._exchange(_Call("PUT", path, "upload", content=body, headers=headers))

    # Plumbing ------------------------------------------------------------------------------

    def _grant(self, answer: TokenAnswer) -> TokenGrant:
        return TokenGrant(
            access_token=answer.accessToken,
            access_expires=self._clock() + timedelta(seconds=answer.accessTokenExpiresIn),
            refresh_token=answer.refreshToken,
        )

    def _send(
        self,
        method: str,
        path: str,
        answer: type[Model],
        *,
        json: Any = None,
        params: dict[str, str | int] | None = None,
        timeout: float | None = None,
        kind: str = "call",
        limit: int = cloud_answers.SMALL_ANSWER,
    ) -> Model:
        """Send a call and parse its answer as ``answer``."""
        call = _Call(method, path, kind, json=json, params=params, timeout=timeout, limit=limit)
        return cloud_answers.parse(answer, self._exchange(call), self._context(call))

    def _exchange(self, call: _Call) -> Reply:
        """Send ``call`` (with a token unless it is the link or a refresh) and return the
        answer of a success; raise what a failure means."""
        token = None if call.anonymous else self._access_token()
        reply = self._request(call, token)
        renewals = 0
        while reply.status == 401 and token is not None and self._keeper is not None:
            # Only the cloud's own word, with a reason, costs a renewal.
            if self._refusal(reply, call).reason is None or renewals == MAX_RENEWALS:
                break  # _failure says what it is: not a verdict on the authorization
            renewals += 1
            # Replaced by another holder's renewal, or expired; or, if the reason says the
            # authorization is gone, the renewal confirms it (or finds the link made anew).
            token = self._keeper.renew_after_refusal(self.refresh, token)
            reply = self._request(call, token)
        if 200 <= reply.status < 300:
            return reply
        raise self._failure(reply, call)

    def _access_token(self) -> str:
        if self._keeper is None:
            raise NotLinked("This client has no credential: link Connector first.")
        return self._keeper.access_token(self.refresh)

    def _context(self, call: _Call) -> AnswerContext:
        return AnswerContext(
            self.cloud_url, f"{call.method} {API_PREFIX}{call.path}", secret=call.anonymous
        )

    def _request(self, call: _Call, token: str | None) -> Reply:
        all_headers = dict(call.headers or {})
        content: _SentOnce | None = None
        if call.content is not None:
            # The same framing as bytes would get (not chunked), without keeping the bytes.
            all_headers["Content-Length"] = str(len(call.content))
            content = _SentOnce(call.content)
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        request = self._http.build_request(
            call.method,
            call.path,
            json=call.json,
            content=content,
            headers=all_headers,
            params=call.params,
            timeout=call.timeout if call.timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        context = self._context(call)
        try:
            response = self._http.send(request, stream=True, follow_redirects=False)
            try:
                if response.is_redirect or 300 <= response.status_code < 400:
                    raise cloud_answers.refuse_redirect(response, context)
                limit = call.limit if response.is_success else cloud_answers.ERROR_ANSWER
                return cloud_answers.read_reply(response, limit, context)
            finally:
                response.close()
        except httpx.TransportError as exc:
            # Titled and worded by the hop that failed (the certificate, the proxy, ...).
            raise unreachable(exc, self.cloud_url, proxy=self._proxy) from exc

    def _refusal(self, reply: Reply, call: _Call) -> ErrorAnswer:
        """The error an answer carries; a :class:`BadAnswer` when it is not in the cloud's
        error shape (a proxy's or a captive portal's page is no word from the cloud)."""
        return cloud_answers.parse(ErrorAnswer, reply, self._context(call))

    def _failure(self, reply: Reply, call: _Call) -> ConnectorError:
        code, kind = reply.status, call.kind
        if code == 429 or code >= 500:
            # Whoever answered (the cloud, or a proxy before it), it is busy or down.
            try:
                message = self._refusal(reply, call).error
            except CloudUnavailable:
                message = "no details" if call.anonymous else cloud_answers.excerpt(reply.body)
            unavailable = CloudUnavailable(
                f"{self.cloud_url} is not answering normally ({code}: {message})."
            )
            return unavailable.with_retry_after(reply.retry_after)
        refusal = self._refusal(reply, call)
        message = refusal.error
        if kind == "link" and code in (400, 401, 403):
            return LinkRefused(message)
        if kind == "token" and code == 401 and refusal.reason in AUTHORIZATION_GONE:
            return AuthorizationLost(message, reason=refusal.reason)
        if kind == "token" or code in (401, 403):
            # A refresh the cloud did not refuse for good, a 401 without a reason, a 403: none
            # is the cloud saying the authorization is gone, so none stops the link.
            return CloudUnavailable(
                f"{self.cloud_url} did not accept Connector's credential this time ({code}: "
                f"{message}), without saying it is no longer valid. Something between this PC "
                "and the cloud (a proxy, a sign-in page) may be answering in its place. "
                "Connector keeps trying."
            )
        moved_on = moved_on_to(refusal.currentStatus) if code == 409 else None
        if kind in ("upload", "transition") and moved_on is not None:
            return DatasetMovedOn(message, current_status=moved_on)
        if kind == "upload" and code == 409:
            # Not Processing any more, yet not ended either: the attempt is over, not failed.
            return TransitionRefused(
                f"The cloud no longer takes records for this dataset ({code}: {message})."
            )
        if kind == "upload":
            return UploadRefused(f"The cloud refused the records ({code}: {message}).")
        if kind == "transition":
            return TransitionRefused(f"The cloud refused the status update ({code}: {message}).")
        return ConnectorError(f"Unexpected answer from {self.cloud_url} ({code}: {message}).")


def _dataset_path(dataset_id: str) -> str:
    """A dataset's path: its id quoted, so that an id (from an older version's local state)
    can never step out of ``/datasets/``."""
    return f"/datasets/{quote(dataset_id, safe='')}"


def _wire(request: BaseModel) -> dict[str, Any]:
    """A request model as its JSON body: only the fields given (an absent one is not a null).

    Built with ``model_construct``, not validated here: what the cloud refuses stays its 400,
    answered as before; the model gives the field names, types and wire format (timestamps as
    ``protocol/clock.py`` writes them) the cloud parses with.
    """
    return request.model_dump(mode="json", exclude_unset=True)


def _agent_info(data_types: list[str]) -> dict[str, Any]:
    return {"agentVersion": __version__, "hostname": platform.node(), "dataTypes": data_types}
