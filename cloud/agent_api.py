"""The agent API (``/agent/v1``): link, long-poll, report transitions, upload records.

Documented for agent authors in ``docs/PROTOCOL.md``; keep the two in step.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import RowMapping
from starlette.concurrency import run_in_threadpool

from agent.clock import from_iso, to_iso
from agent.states import DatasetStatus
from cloud.auth import agent_connection, settings_of, store_of
from cloud.settings import CloudSettings
from cloud.store import CLAIM_LEASE, Store
from cloud.wakeups import Wakeups

router = APIRouter(prefix="/agent/v1")

StoreDep = Annotated[Store, Depends(store_of)]
AgentDep = Annotated[RowMapping, Depends(agent_connection)]


# Wire names are camelCase, like the public API's.
class LinkRequest(BaseModel):
    linkCode: str
    agentVersion: str = "unknown"
    hostname: str = ""


class PollRequest(BaseModel):
    waitSeconds: float = Field(default=25.0, ge=0)


class TransitionReport(BaseModel):
    status: DatasetStatus
    timestamp: str
    errorMessage: str | None = None
    progress: int | None = Field(default=None, ge=0, le=100)
    chunks: int | None = Field(default=None, ge=0)


class ChunkUpload(BaseModel):
    records: list[dict[str, Any]]


@router.post("/link")
def link(body: LinkRequest, store: StoreDep) -> dict[str, Any]:
    result = store.link_agent(
        body.linkCode, agent_version=body.agentVersion, hostname=body.hostname
    )
    return {
        "companyId": result.connection["company_id"],
        "companyName": result.company_name,
        "connectionId": result.connection["id"],
        "token": result.agent_token,
    }


@router.post("/poll")
async def poll(
    body: PollRequest,
    request: Request,
    connection: AgentDep,
    store: StoreDep,
    settings: Annotated[CloudSettings, Depends(settings_of)],
) -> dict[str, Any]:
    """Answer at once with the next Queued dataset, or hold the request until one is queued."""
    wakeups: Wakeups = request.app.state.wakeups
    deadline = time.monotonic() + min(body.waitSeconds, settings.max_poll_wait_seconds)
    with wakeups.listening(connection["id"]) as woken:
        while True:
            woken.clear()
            dataset = await run_in_threadpool(store.claim_next, connection["id"])
            remaining = deadline - time.monotonic()
            if dataset is not None or remaining <= 0 or await request.is_disconnected():
                break
            try:
                async with asyncio.timeout(remaining):
                    await woken.wait()
            except TimeoutError:
                dataset = await run_in_threadpool(store.claim_next, connection["id"])
                break
    if dataset is None:
        return {"dataset": None}
    return {
        "dataset": {
            "id": dataset["id"],
            "dataType": dataset["data_type"],
            "requested": dataset["requested"],
            "leaseSeconds": int(CLAIM_LEASE.total_seconds()),
        }
    }


@router.post("/datasets/{dataset_id}/transitions")
def report_transition(
    dataset_id: str, body: TransitionReport, connection: AgentDep, store: StoreDep
) -> dict[str, Any]:
    row = store.record_transition(
        connection["id"],
        dataset_id,
        body.status,
        timestamp=from_iso(body.timestamp),
        error_message=body.errorMessage,
        progress=body.progress,
        chunks=body.chunks,
    )
    return {"id": row["id"], "status": row["status"], "serverTime": to_iso(store.now())}


@router.put("/datasets/{dataset_id}/chunks/{chunk}", status_code=204)
def upload_chunk(
    dataset_id: str, chunk: int, body: ChunkUpload, connection: AgentDep, store: StoreDep
) -> Response:
    store.stage_chunk(connection["id"], dataset_id, chunk, body.records)
    return Response(status_code=204)
