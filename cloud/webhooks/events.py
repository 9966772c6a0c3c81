"""The webhook event types the cloud publishes, and their payloads as Codat shapes them.

Every message is an envelope ``{"id", "eventType", "generatedDate", "payload"}`` (the
dispatcher adds all but ``payload``); the payloads below follow the official SDK's
``ReadCompletedWebhookPayload`` and ``ConnectionWebhookPayload`` field for field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from protocol.datatypes import ACCOUNTING_DATA_TYPES
from protocol.states import DatasetStatus

READ_COMPLETED = "read.completed"
"""A read of one or more data types has finished (whether each succeeded or not)."""
READ_COMPLETED_INITIAL = "read.completed.initial"
"""The first read after a connection was linked has finished."""
CONNECTION_CREATED = "connection.created"
CONNECTION_CONNECTED = "connection.connected"
"""The connector linked the connection (it became ``Linked``)."""
CONNECTION_DISCONNECTED = "connection.disconnected"
"""The connection was unlinked by the API user or can no longer reach its source."""
CONNECTION_RECONNECTED = "connection.reconnected"
CONNECTION_FAILED = "connection.failed"
CONNECTION_DELETED = "connection.deleted"
COMPANY_CREATED = "company.created"
COMPANY_DELETED = "company.deleted"

EVENT_TYPES: tuple[str, ...] = (
    COMPANY_CREATED,
    COMPANY_DELETED,
    CONNECTION_CREATED,
    CONNECTION_CONNECTED,
    CONNECTION_DISCONNECTED,
    CONNECTION_RECONNECTED,
    CONNECTION_FAILED,
    CONNECTION_DELETED,
    READ_COMPLETED,
    READ_COMPLETED_INITIAL,
)
"""Codat's platform-wide event types: the ones this cloud can publish."""


def company_reference(company_id: str, *, name: str | None = None) -> dict[str, Any]:
    """``referenceCompany``: which company an event is about."""
    reference: dict[str, Any] = {"id": company_id}
    if name is not None:
        reference["name"] = name
    return reference


def read_completed_payload(
    company_id: str,
    connection_id: str | None,
    data_types: Sequence[Mapping[str, Any]],
    *,
    company_name: str | None = None,
    modified_from_date: str | None = None,
) -> dict[str, Any]:
    """The payload of ``read.completed`` (and ``read.completed.initial``).

    Each of ``data_types`` gives ``dataType`` and ``status`` (a dataset status), and may give
    ``recordsModified``, ``issues`` (``[{type, message}]``) and its own ``connectionId``, which
    defaults to ``connection_id``. A data type or status the SDK would refuse raises
    ``ValueError``: it is a bug in the caller, not something to send.
    """
    payload: dict[str, Any] = {
        "referenceCompany": company_reference(company_id, name=company_name),
        "dataTypes": [_read_summary(entry, connection_id) for entry in data_types],
    }
    if modified_from_date is not None:
        payload["modifiedFromDate"] = modified_from_date
    return payload


def connection_event_payload(
    connection: Mapping[str, Any], *, company_id: str, company_name: str | None = None
) -> dict[str, Any]:
    """The payload of every ``connection.*`` event.

    ``connection`` is the public Connection shape (``cloud.store.shapes.connection``); it does not
    name its company, hence ``company_id``.
    """
    return {
        "referenceCompany": company_reference(company_id, name=company_name),
        "connection": dict(connection),
    }


def _read_summary(entry: Mapping[str, Any], connection_id: str | None) -> dict[str, Any]:
    data_type = entry.get("dataType")
    if data_type not in ACCOUNTING_DATA_TYPES:
        raise ValueError(f"{data_type!r} is not a data type")
    status = entry.get("status")
    if status not in {s.value for s in DatasetStatus}:
        raise ValueError(f"{status!r} is not a dataset status")
    summary: dict[str, Any] = {}
    connection = entry.get("connectionId", connection_id)
    if connection is not None:
        summary["connectionId"] = connection
    summary["dataType"] = data_type
    if "recordsModified" in entry:
        summary["recordsModified"] = bool(entry["recordsModified"])
    summary["status"] = status
    summary["issues"] = [dict(issue) for issue in entry.get("issues") or ()]
    return summary
