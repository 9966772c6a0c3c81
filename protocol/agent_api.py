"""Every answer of the agent API (``/agent/v1``), as the cloud sends it and the agent reads it.

Bounded so that an answer that passes is safe to act on: ids are UUIDs in their canonical text
(so never a path, a URL or a header), names and messages have a length, lists and maps a size,
numbers a sane range. Fields the models do not know are ignored, so that a newer cloud may add
some without breaking older agents. Wire names are camelCase, like the public API's.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from protocol.states import DatasetStatus

# The cloud's ids: uuid4 in the text ``str(uuid.UUID(...))`` gives, lower-case with dashes.
Uuid = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
    Field(json_schema_extra={"format": "uuid"}),
]
# Tokens travel in an Authorization header: URL-safe characters only, never a line break.
Token = Annotated[
    str, StringConstraints(min_length=16, max_length=1024, pattern=r"^[A-Za-z0-9._~+/=-]+$")
]
# A data type key of the public API (``chartOfAccounts``).
DataType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9]{0,63}$")]
# ISO 8601 in UTC as both sides write it (protocol/clock.py); only its length is held to here.
Timestamp = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# A record's id as the agent made it (GnuCash GUIDs, "YYYY-MM" for report months).
RecordId = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Name = Annotated[str, StringConstraints(max_length=1000)]
Label = Annotated[str, StringConstraints(max_length=200)]  # a status, a platform's name
Message = Annotated[str, StringConstraints(max_length=8000)]  # a sentence for people

MAX_DATA_TYPES = 100  # the public API has about 30
MAX_BASELINE_PAGE = 10_000  # record hashes in one baseline page (the cloud's default and most)
MAX_LEASE_SECONDS = 86_400.0
MAX_POLL_WAIT_SECONDS = 600.0
MAX_TOKEN_SECONDS = 366 * 86_400


class Answer(BaseModel):
    """What every answer shares: unknown fields ignored, nothing changed after parsing."""

    # Built at import, not deferred to first use: a deferred build is not thread-safe (the link
    # and lease threads parse at once), and could validate with a parent class's validator.
    model_config = ConfigDict(extra="ignore", frozen=True)


class TokenAnswer(Answer):
    """``POST /token``: a new pair; the refresh token rotates on every use."""

    accessToken: Token
    accessTokenExpiresIn: int = Field(ge=0, le=MAX_TOKEN_SECONDS)
    refreshToken: Token
    refreshTokenExpires: Timestamp


class LinkAnswer(TokenAnswer):
    """``POST /link``: the company and connection linked, and the first tokens."""

    companyId: Uuid
    companyName: Name
    connectionId: Uuid


class HeartbeatAnswer(Answer):
    serverTime: Timestamp
    pollWaitSeconds: float = Field(ge=0, le=MAX_POLL_WAIT_SECONDS)
    leaseSeconds: float = Field(gt=0, le=MAX_LEASE_SECONDS)


class QueuedDataset(Answer):
    id: Uuid
    dataType: DataType
    status: DatasetStatus


class QueueAnswer(Answer):
    """``POST /queue``: the datasets queued, and the data types already in progress."""

    queued: list[QueuedDataset] = Field(max_length=MAX_DATA_TYPES)
    alreadyInProgress: list[DataType] = Field(max_length=MAX_DATA_TYPES)


class ConnectionInfo(Answer):
    agentOnline: bool
    agentLastSeen: Timestamp | None = None
    agentVersion: Name | None = None  # as the agent said: kept generous, it is only shown
    agentHostname: Name | None = None
    agentDataTypes: list[DataType] | None = Field(default=None, max_length=MAX_DATA_TYPES)
    statusReason: Message | None = None
    statusChanged: Timestamp | None = None


class Connection(Answer):
    """The public Connection shape, as ``GET /status`` carries it."""

    id: Uuid
    integrationId: Label
    integrationKey: Label
    sourceId: Label
    sourceType: Label
    platformName: Label
    linkUrl: Annotated[str, StringConstraints(max_length=2048)]
    status: Label
    created: Timestamp
    connectionInfo: ConnectionInfo
    lastSync: Timestamp | None = None


class DataStatusEntry(Answer):
    """One data type's entry of the public ``dataStatus``."""

    dataType: DataType
    lastSuccessfulSync: Timestamp | None = None
    currentStatus: Label | None = None  # shown, never acted on: a newer cloud may add states
    latestSyncId: Uuid | None = None
    latestSuccessfulSyncId: Uuid | None = None


class StatusAnswer(Answer):
    """``GET /status``: the connection as the cloud sees it, and each data type's status."""

    connection: Connection
    dataStatus: dict[DataType, DataStatusEntry] = Field(max_length=MAX_DATA_TYPES)
    # When each data type's latest dataset was queued, and the cloud's clock as it answered:
    # together they tell a dataset that waits too long, whatever this PC's clock says.
    requested: dict[DataType, Timestamp] = Field(default_factory=dict, max_length=MAX_DATA_TYPES)
    serverTime: Timestamp | None = None


class PolledDataset(Answer):
    """A dataset handed to the agent: a claim with a lease."""

    id: Uuid
    dataType: DataType
    requested: Timestamp
    leaseSeconds: float = Field(default=60.0, gt=0, le=MAX_LEASE_SECONDS)


class PollAnswer(Answer):
    """``POST /poll``: the next dataset, or null when none came within the wait."""

    dataset: PolledDataset | None


class LeaseAnswer(Answer):
    """``POST /datasets/{id}/lease``."""

    leaseUntil: Timestamp
    leaseSeconds: float = Field(gt=0, le=MAX_LEASE_SECONDS)


class TransitionAnswer(Answer):
    """``POST /datasets/{id}/transitions``: where the dataset now stands."""

    id: Uuid
    status: DatasetStatus
    serverTime: Timestamp


class BaselinePage(Answer):
    """``GET /datasets/{id}/baseline``: record id -> hash, a page in record id order."""

    recordHashes: dict[RecordId, Sha256] = Field(max_length=MAX_BASELINE_PAGE)
    nextAfter: RecordId | None = None


class RefusalReason(StrEnum):
    """Why the cloud refused a token: the ``reason`` of a 401 (``docs/PROTOCOL.md``)."""

    REVOKED = "revoked"  # the API user revoked the agent
    UNLINKED = "unlinked"  # the API user unlinked the connection
    EXPIRED = "expired"  # the refresh token went unused past its lifetime
    REUSED = "reused"  # a replaced refresh token was used again: the family is revoked
    UNKNOWN = "unknown"  # a token this cloud never issued, or no longer remembers
    EXPIRED_ACCESS_TOKEN = "expired_access_token"  # noqa: S105 (a reason); refresh, then retry


# A refresh refused with one of these means the connection's authorization is really gone: the
# cloud's own verdict, and the only one that may make the agent ask the user to re-link.
AUTHORIZATION_GONE = frozenset(
    {
        RefusalReason.REVOKED,
        RefusalReason.UNLINKED,
        RefusalReason.EXPIRED,
        RefusalReason.REUSED,
        RefusalReason.UNKNOWN,
    }
)


def _known_reason(value: Any) -> str | None:
    """A reason this version does not know (a newer cloud's, or not even a word) reads as none:
    it is no verdict the agent can act on, so the answer counts as a 401 without a reason."""
    return value if isinstance(value, str) and value in _REASONS else None


_REASONS = frozenset(reason.value for reason in RefusalReason)


class ErrorAnswer(Answer):
    """The public error shape; ``error`` is a sentence for people. A refused transition also
    carries the dataset's ``currentStatus``; a 401 its ``reason`` (None when it has none, or
    one this version does not know)."""

    statusCode: int = Field(ge=100, le=599)
    error: Message
    service: Label | None = None
    correlationId: Label | None = None
    canBeRetried: Label | None = None
    detailedErrorCode: int | None = None
    currentStatus: Label | None = None
    reason: Annotated[RefusalReason | None, BeforeValidator(_known_reason)] = None
