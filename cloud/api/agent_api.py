"""The agent API (``/agent/v1``): link, tokens, heartbeat, long poll, leases, reports, uploads.

Documented for agent authors in ``docs/PROTOCOL.md``; keep the two in step.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from cloud.api.auth import AgentDep, ServicesDep
from cloud.errors import Unauthorized
from cloud.http.throttle import client_address
from cloud.store import shapes
from cloud.store.agent_tokens import Tokens
from protocol.agent_api import (
    BaselinePage,
    ErrorAnswer,
    HeartbeatAnswer,
    LeaseAnswer,
    LinkAnswer,
    PollAnswer,
    PolledDataset,
    QueueAnswer,
    QueuedDataset,
    StatusAnswer,
    TokenAnswer,
    TransitionAnswer,
)
from protocol.agent_requests import (
    PAGE_SCHEMA,
    BaselineQuery,
    HeartbeatRequest,
    LinkRequest,
    PollRequest,
    QueueRequest,
    RefreshRequest,
    TransitionReport,
)
from protocol.clock import to_iso

# The answers are the models of protocol/agent_api.py, which the agent parses with, and the
# requests those of protocol/agent_requests.py, which it builds its bodies from: the OpenAPI
# document carries the one schema both sides use, errors included.
router = APIRouter(
    prefix="/agent/v1",
    responses={code: {"model": ErrorAnswer} for code in (400, 401, 404, 409)},
)


@router.post("/link")
def link(body: LinkRequest, request: Request, services: ServicesDep) -> LinkAnswer:
    # A code that is not good counts against the client (with the public link page's), so
    # codes cannot be tried at speed; past the limit even a good one waits (429).
    throttle = services.throttles.link_code
    address = client_address(request)
    now = services.db.now()
    throttle.check(address, now, "link codes that are not valid")
    try:
        grant = services.agents.link(
            body.linkCode,
            agent_version=body.agentVersion,
            hostname=body.hostname,
            data_types=body.dataTypes,
        )
    except Unauthorized:
        throttle.failed(address, now)
        raise
    return LinkAnswer(
        companyId=grant.connection["company_id"],
        companyName=grant.company_name,
        connectionId=grant.connection["id"],
        **_tokens(grant.tokens, services.db.now()).model_dump(),
    )


@router.post("/token")
def refresh(body: RefreshRequest, services: ServicesDep) -> TokenAnswer:
    return _tokens(services.agents.refresh(body.refreshToken), services.db.now())


@router.post("/heartbeat")
def heartbeat(
    body: HeartbeatRequest, connection: AgentDep, services: ServicesDep
) -> HeartbeatAnswer:
    services.agents.heartbeat(
        connection["id"],
        agent_version=body.agentVersion,
        hostname=body.hostname,
        data_types=body.dataTypes or [],
        wait_reason=body.waitReason,
    )
    return HeartbeatAnswer(
        serverTime=to_iso(services.db.now()),
        pollWaitSeconds=services.settings.max_poll_wait_seconds,
        leaseSeconds=services.datasets.lease.total_seconds(),
    )


@router.post("/queue")
def queue(body: QueueRequest, connection: AgentDep, services: ServicesDep) -> QueueAnswer:
    """ "Sync now" from the PC: queue these types (the first-link types if none) for this
    connection; those already in progress are left as they are."""
    company_id = connection["company_id"]
    data_types = body.dataTypes or services.sync_settings.first_link_types(company_id)
    queued = services.datasets.queue_many(company_id, data_types, connection["id"])
    rows = [services.datasets.get(company_id, dataset_id) for dataset_id in queued]
    return QueueAnswer(
        queued=[
            QueuedDataset(id=r["id"], dataType=r["data_type"], status=r["status"]) for r in rows
        ],
        alreadyInProgress=sorted(set(data_types) - {r["data_type"] for r in rows}),
    )


# Only the fields the public shapes carry: an absent optional field stays absent, not null.
@router.get("/status", response_model_exclude_unset=True)
def status(connection: AgentDep, services: ServicesDep) -> StatusAnswer:
    """This connection as the cloud sees it, and the status of each of its data types."""
    company_id = connection["company_id"]
    mine = [
        row
        for row in services.datasets.of_company(company_id)
        if row["connection_id"] == connection["id"]
    ]
    # When each type's latest dataset was queued, so the agent can tell one that waits too long
    # (or one its re-authorization has made moot); ``mine`` is oldest first, the last one wins.
    requested = {row["data_type"]: row["requested"] for row in mine}
    now = services.db.now()
    return StatusAnswer.model_validate(
        {
            "connection": shapes.connection(connection, services.link_codes, now),
            "dataStatus": shapes.data_status(mine),
            "requested": requested,
            "serverTime": to_iso(now),
        }
    )


@router.post("/poll")
async def poll(
    body: PollRequest, request: Request, connection: AgentDep, services: ServicesDep
) -> PollAnswer:
    """Answer at once with the next Queued dataset, or hold the request until one is queued.

    An agent that said it is paused (or outside its sync window) gets nothing; one whose
    authorization was withdrawn meanwhile is told so at once.
    """
    wait = min(body.waitSeconds, services.settings.max_poll_wait_seconds)
    deadline = time.monotonic() + wait
    dataset = None
    with services.wakeups.listening(connection["id"]) as woken:
        while True:
            woken.clear()
            if not await run_in_threadpool(services.agents.taking_work, connection["id"]):
                break
            dataset = await run_in_threadpool(services.datasets.claim_next, connection["id"])
            remaining = deadline - time.monotonic()
            if dataset is not None or remaining <= 0 or await request.is_disconnected():
                break
            try:
                async with asyncio.timeout(remaining):
                    await woken.wait()
            except TimeoutError:
                if await run_in_threadpool(services.agents.taking_work, connection["id"]):
                    dataset = await run_in_threadpool(
                        services.datasets.claim_next, connection["id"]
                    )
                break
    if dataset is None:
        return PollAnswer(dataset=None)
    return PollAnswer(
        dataset=PolledDataset(
            id=dataset["id"],
            dataType=dataset["data_type"],
            requested=dataset["requested"],
            leaseSeconds=services.datasets.lease.total_seconds(),
        )
    )


@router.post("/datasets/{dataset_id}/lease")
def renew_lease(dataset_id: str, connection: AgentDep, services: ServicesDep) -> LeaseAnswer:
    until = services.datasets.renew_lease(connection["id"], dataset_id)
    return LeaseAnswer(
        leaseUntil=to_iso(until), leaseSeconds=services.datasets.lease.total_seconds()
    )


@router.post("/datasets/{dataset_id}/transitions")
def report_transition(
    dataset_id: str, body: TransitionReport, connection: AgentDep, services: ServicesDep
) -> TransitionAnswer:
    row = services.datasets.record_transition(
        connection["id"],
        dataset_id,
        body.status,
        timestamp=body.timestamp,
        error_message=body.errorMessage,
        progress=body.progress,
        chunks=body.chunks,
        record_count=body.recordCount,
        delta=body.mode == "delta",
        deleted_ids=body.deletedIds,
    )
    return TransitionAnswer(
        id=row["id"], status=row["status"], serverTime=to_iso(services.db.now())
    )


@router.get("/datasets/{dataset_id}/baseline")
def baseline(
    dataset_id: str,
    connection: AgentDep,
    services: ServicesDep,
    query: Annotated[BaselineQuery, Query()],
) -> BaselinePage:
    """The hashes of the records the cloud holds for this dataset's data type and connection,
    so that the agent can upload only what changed: a page in record id order, starting after
    ``after``; ``nextAfter`` is what to send as ``after`` for the next page (null: no more)."""
    hashes, next_after = services.datasets.baseline(
        connection["id"], dataset_id, after=query.after, limit=query.limit
    )
    return BaselinePage(recordHashes=hashes, nextAfter=next_after)


@router.put(
    "/datasets/{dataset_id}/chunks/{chunk}",
    status_code=204,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PAGE_SCHEMA}},
        }
    },
)
async def upload_chunk(
    dataset_id: str,
    chunk: Annotated[int, Path(ge=0)],
    request: Request,
    connection: AgentDep,
    services: ServicesDep,
    checksum: Annotated[str | None, Header(alias="X-Content-SHA256", max_length=128)] = None,
) -> Response:
    """Stage one page of records. The body is ``{"records": [...]}``; its SHA-256 in hex comes
    in ``X-Content-SHA256`` and must match. Its size is bounded before it is read
    (``cloud/http/body_limits.py``), and so is the page number."""
    services.datasets.limits.check_page_number(chunk)
    body = await request.body()
    await run_in_threadpool(
        services.datasets.stage_chunk, connection["id"], dataset_id, chunk, body, checksum
    )
    return Response(status_code=204)


def _tokens(tokens: Tokens, now: Any) -> TokenAnswer:
    return TokenAnswer(
        accessToken=tokens.access_token,
        accessTokenExpiresIn=round((tokens.access_expires - now).total_seconds()),
        refreshToken=tokens.refresh_token,
        refreshTokenExpires=to_iso(tokens.refresh_expires),
    )
