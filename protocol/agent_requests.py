"""Every request body of the agent API (``/agent/v1``): the agent sends them, the cloud parses them.

The cloud's routes (``cloud/api/agent_api.py``) take these models, so its OpenAPI document
carries their schema and a request that breaks a bound is refused with 400; the agent's client
(``agent/cloud_api/cloud_client.py``) builds its bodies from the same models, so a field's name,
type and bounds are written down once for both. The answers are in ``agent_api.py``. Wire names
are camelCase, like the public API's. Every field is bounded (``fields.py``); the limits agents
keep to are in ``limits.py``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from protocol.agent_api import MAX_BASELINE_PAGE
from protocol.datatypes import ACCOUNTING_DATA_TYPES
from protocol.fields import MAX_LIST, DataTypeKey, Name, RecordId, Text, Timestamp
from protocol.limits import MAX_DELETED_IDS, MAX_ERROR_MESSAGE_LENGTH, MAX_RECORD_ID_LENGTH
from protocol.states import DatasetStatus


class AgentInfo(BaseModel):
    agentVersion: Name = "unknown"
    hostname: Name = ""
    # What the agent can read; None = not saying. Names this cloud does not know are kept
    # (a newer agent may read more), but bounded.
    dataTypes: Annotated[list[Name], Field(max_length=MAX_LIST)] | None = None


class LinkRequest(AgentInfo):
    """``POST /link``: spend a link code."""

    linkCode: Name


class RefreshRequest(BaseModel):
    """``POST /token``: renew the pair with the refresh token (which rotates)."""

    refreshToken: Name


class HeartbeatRequest(AgentInfo):
    """``POST /heartbeat``: who the agent is and what it reads."""

    waitReason: Text | None = None  # why the agent takes no datasets now (paused, window)


class QueueRequest(BaseModel):
    """``POST /queue``: queue these data types (empty: every fetch-on-first-link type)."""

    dataTypes: Annotated[list[DataTypeKey], Field(max_length=len(ACCOUNTING_DATA_TYPES))] = []


class PollRequest(BaseModel):
    """``POST /poll``: wait up to this long for a dataset (the cloud caps it)."""

    waitSeconds: float = Field(default=25.0, ge=0, allow_inf_nan=False)


class TransitionReport(BaseModel):
    """``POST /datasets/{id}/transitions``: the dataset entered ``status``.

    The agent builds it once, when the transition is made (``agent/runtime/dataset_moves.py``),
    keeps it in its outbox as this model's JSON, and sends it as it is; the cloud parses it.
    Build ``errorMessage`` with :func:`error_text`, which keeps it within the bounds.
    """

    status: DatasetStatus
    timestamp: Timestamp
    errorMessage: Text | None = None
    progress: int | None = Field(default=None, ge=0, le=100)
    # Bounded by the cloud's limits (max_pages) when Complete is checked.
    chunks: int | None = Field(default=None, ge=0)
    recordCount: int | None = Field(default=None, ge=0)
    # "delta": the pages hold only what changed since the baseline; deletedIds went away.
    mode: Literal["full", "delta"] = "full"
    deletedIds: Annotated[list[RecordId], Field(max_length=MAX_DELETED_IDS)] = []


class BaselineQuery(BaseModel):
    """``GET /datasets/{id}/baseline``'s query: a page of record hashes, in record id order,
    from after ``after`` (the answer's ``nextAfter``), at most ``limit`` of them. The answer is
    ``agent_api.BaselinePage``."""

    after: RecordId | None = None
    limit: int = Field(default=MAX_BASELINE_PAGE, ge=1, le=MAX_BASELINE_PAGE)


def error_text(message: str) -> str:
    """An error message as a report may carry it: without NUL or lone surrogates (which the
    cloud's databases cannot store), and cut short at the limit (its start says what went
    wrong)."""
    text = message.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if len(text) > MAX_ERROR_MESSAGE_LENGTH:
        text = text[: MAX_ERROR_MESSAGE_LENGTH - 1] + "\u2026"
    return text


# A page of records: ``PUT /datasets/{id}/chunks/{n}`` (the wire says chunk). Its body is read
# as bytes on both sides (its SHA-256, in ``X-Content-SHA256``, is of the bytes), so it is not a
# model: the agent wraps the page's staged JSON array with page_body, the cloud documents it
# with PAGE_SCHEMA and reads the records from the same key.
PAGE_RECORDS = "records"

PAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [PAGE_RECORDS],
    "properties": {
        PAGE_RECORDS: {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "string", "maxLength": MAX_RECORD_ID_LENGTH}},
            },
        }
    },
}
"""The body of a page upload, for the cloud's OpenAPI document."""


def page_body(records: bytes) -> bytes:
    """A page's body from its records' JSON array, as staged: ``{"records": [...]}``."""
    return b'{"' + PAGE_RECORDS.encode() + b'":' + records + b"}"
