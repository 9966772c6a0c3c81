"""The public API's answers as pydantic models: what the OpenAPI document declares, and what
every answer is checked against before it leaves.

The shapes are those the official Codat SDKs parse (Codat's published models), built by
``cloud/store/shapes.py``; the models only describe them. A field that a shape leaves out when it
has no value is optional here, and the routes answer with ``response_model_exclude_unset`` so that
it stays absent rather than becoming ``null`` (the seed's data status of a type never synced
is ``{"dataType": "x"}`` alone). Fields are declared in the order the shapes write them, so
the JSON is the same byte for byte. What an agent uploaded (records, report figures) is typed
``Any`` or kept as a plain dict: the cloud serves it as it came, in its order, and must not
refuse to answer because of it.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, RootModel, WithJsonSchema

from protocol.states import DatasetStatus

__all__ = [
    "ERROR_RESPONSES",
    "Companies",
    "Company",
    "CompanyInfo",
    "CompanySyncSettings",
    "Connection",
    "ConnectionInfo",
    "Connections",
    "DataStatus",
    "DataStatuses",
    "ErrorMessage",
    "FinancialReport",
    "HalRef",
    "Links",
    "ProfileSyncSettings",
    "PullOperation",
    "PullOperations",
    "Records",
    "StatusChange",
    "SyncSetting",
    "WebhookConsumer",
    "WebhookConsumerCreated",
    "WebhookConsumers",
    "WebhookSecret",
]


class ErrorMessage(BaseModel):
    """Every error answer (``cloud/errors.py`` ``error_body``); a refused transition adds
    ``currentStatus``."""

    statusCode: int
    service: str
    error: str
    correlationId: str
    validation: Any = None
    canBeRetried: str
    detailedErrorCode: int


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorMessage, "description": "Refused; the error says why."},
    "5XX": {"model": ErrorMessage, "description": "A fault of the cloud's, logged."},
}
"""The error answers of every public route (declaring them also keeps FastAPI from
documenting a 422 the cloud never sends: its validation errors are 400s)."""


# The list envelope -------------------------------------------------------------------------

Result = TypeVar("Result")


class HalRef(BaseModel):
    href: str


class Links(BaseModel):
    self_: HalRef = Field(alias="self")
    current: HalRef
    next: HalRef | None = None
    previous: HalRef | None = None


class _Page(BaseModel, Generic[Result]):
    """The list envelope: a page of results, the paging numbers, and ``_links``."""

    results: list[Result]
    pageNumber: int
    pageSize: int
    totalResults: int
    links: Links = Field(alias="_links")


# Companies and connections -----------------------------------------------------------------


class ConnectionInfo(BaseModel):
    """The connector behind a connection, as the cloud last heard from it."""

    agentOnline: bool
    agentLastSeen: str | None
    agentVersion: str | None
    agentHostname: str | None
    agentDataTypes: list[str] | None
    statusReason: str | None = None  # why it is Deauthorized, in words for people
    statusChanged: str | None = None  # when the connection's status last changed


class Connection(BaseModel):
    id: str
    integrationId: str
    integrationKey: str
    sourceId: str
    sourceType: Literal["Accounting"]
    platformName: str
    linkUrl: str
    status: Literal["PendingAuth", "Linked", "Unlinked", "Deauthorized"]
    created: str
    connectionInfo: ConnectionInfo
    lastSync: str | None = None


class Company(BaseModel):
    id: str
    name: str
    redirect: str
    created: str
    dataConnections: list[Connection]
    description: str | None = None
    tags: dict[str, str] | None = None
    lastSync: str | None = None


class Companies(_Page[Company]):
    pass


class Connections(_Page[Connection]):
    pass


# Datasets ----------------------------------------------------------------------------------


class StatusChange(BaseModel):
    status: DatasetStatus
    timestamp: str


class PullOperation(BaseModel):
    """A dataset. ``statusHistory`` is this cloud's extension; the SDKs ignore it."""

    id: str
    companyId: str
    connectionId: str
    dataType: str
    status: DatasetStatus
    requested: str
    progress: int
    isCompleted: bool
    isErrored: bool
    statusHistory: list[StatusChange]
    completed: str | None = None
    errorMessage: str | None = None
    statusDescription: str | None = None


class PullOperations(_Page[PullOperation]):
    pass


class DataStatus(BaseModel):
    """One data type's status; a type never synced has ``dataType`` alone."""

    dataType: str
    lastSuccessfulSync: str | None = None
    currentStatus: DatasetStatus | None = None
    latestSyncId: str | None = None
    latestSuccessfulSyncId: str | None = None


class DataStatuses(RootModel[dict[str, DataStatus]]):
    """Keyed by data type."""


# Sync settings -----------------------------------------------------------------------------


class SyncSetting(BaseModel):
    dataType: str
    fetchOnFirstLink: bool
    syncSchedule: int
    syncOrder: int
    syncFromUtc: str | None = None
    syncFromWindow: int | None = None
    monthsToSync: int | None = None
    isLocked: bool | None = None


class ProfileSyncSettings(BaseModel):
    clientId: str
    settings: list[SyncSetting]
    overridesDefaults: bool


class CompanySyncSettings(BaseModel):
    companyId: str
    settings: list[SyncSetting]
    overridesDefaults: bool


# Webhook consumers -------------------------------------------------------------------------


class WebhookConsumer(BaseModel):
    id: str
    url: str
    disabled: bool
    eventTypes: list[str]
    companyTags: list[str]


class WebhookConsumerCreated(WebhookConsumer):
    """Only on creation: the signing secret (the SDK ignores the extra field)."""

    signingSecret: str


class WebhookConsumers(BaseModel):
    results: list[WebhookConsumer]


class WebhookSecret(BaseModel):
    key: str


# Synced data -------------------------------------------------------------------------------


class Records(_Page[dict[str, Any]]):
    """A page of records of one data type, as the agent uploaded them, each with
    ``modifiedDate`` and ``metadata.isDeleted``."""


# Codat's CompanyDataset, by name: the agent's record is served as it came (in the order the
# cloud stores a record's fields), so the schema names them without holding the agent to types.
_COMPANY_FIELDS = (
    "accountingPlatformRef",
    "addresses",
    "baseCurrency",
    "companyLegalName",
    "companyName",
    "createdDate",
    "financialYearStartDate",
    "ledgerLockDate",
    "phoneNumbers",
    "registrationNumber",
    "sourceModifiedDate",
    "sourceUrls",
    "supplementalData",
    "taxNumber",
    "webLinks",
)
_COMPANY_INFO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        **{name: {} for name in _COMPANY_FIELDS},
        "modifiedDate": {"type": "string"},
        "metadata": {"type": "object", "properties": {"isDeleted": {"type": "boolean"}}},
    },
    "required": ["id", "modifiedDate", "metadata"],
    "additionalProperties": True,
}


class CompanyInfo(RootModel[Annotated[dict[str, Any], WithJsonSchema(_COMPANY_INFO_SCHEMA)]]):
    """The ``company`` record (Codat's ``CompanyDataset``), served bare at ``/data/info``."""


class FinancialReport(BaseModel):
    """A balance sheet or a profit and loss assembled from the agent's monthly records
    (``cloud/store/reports.py``); ``reportBasis`` for a profit and loss only."""

    currency: Any
    earliestAvailableMonth: str | None = None
    mostRecentAvailableMonth: str | None = None
    reportBasis: Any = None
    reports: list[dict[str, Any]]
