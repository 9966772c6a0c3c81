"""Rows turned into the public API's JSON shapes, field for field as the official SDK reads them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from cloud.store.link_codes import LinkCodes
from cloud.store.tenancy import PLATFORMS
from protocol.clock import from_iso
from protocol.datatypes import ACCOUNTING_DATA_TYPES
from protocol.states import DatasetStatus, is_error

# Stable ids for the one integration this cloud offers, as Codat's catalogue would list it.
_INTEGRATION_IDS = {"gncs": "6b2a6a59-9c3e-4d0b-9c58-1e0f6f4a9c11"}
_SOURCE_IDS = {"gncs": "0d9d1a7e-5f0c-4b7e-8f37-2a6f3f1b6d42"}


def company(
    row: RowMapping, connections: Sequence[RowMapping], links: LinkCodes, now: datetime
) -> dict[str, Any]:
    pending = next((c for c in connections if c["link_nonce"]), None)
    body: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "redirect": links.url_of(pending),
        "created": row["created"],
        "dataConnections": [connection(c, links, now) for c in connections],
    }
    if row["description"]:
        body["description"] = row["description"]
    if row["tags"]:
        body["tags"] = json.loads(row["tags"])
    synced = [c["last_sync"] for c in connections if c["last_sync"]]
    if synced:
        body["lastSync"] = max(synced)
    return body


ONLINE_WITHIN_SECONDS = 90.0


def agent_online(row: RowMapping, now: datetime) -> bool:
    """Heard from recently enough that a queued dataset will be picked up at once."""
    seen = row["agent_last_seen"]
    return (
        row["status"] == "Linked"
        and seen is not None
        and (now - from_iso(seen)).total_seconds() < ONLINE_WITHIN_SECONDS
    )


def connection(row: RowMapping, links: LinkCodes, now: datetime) -> dict[str, Any]:
    key = row["platform_key"]
    body: dict[str, Any] = {
        "id": row["id"],
        "integrationId": _INTEGRATION_IDS[key],
        "integrationKey": key,
        "sourceId": _SOURCE_IDS[key],
        "sourceType": "Accounting",
        "platformName": PLATFORMS[key],
        "linkUrl": links.url_of(row),
        "status": row["status"],
        "created": row["created"],
        "connectionInfo": {
            "agentOnline": agent_online(row, now),
            "agentLastSeen": row["agent_last_seen"],
            "agentVersion": row["agent_version"],
            "agentHostname": row["agent_hostname"],
            "agentDataTypes": json.loads(row["agent_data_types"] or "null"),
        },
    }
    # The connection's last change of status, and why it lost its authorization: the smallest
    # history that tells the API user (and the Portal) what happened to it, and when.
    if row["status_reason"]:
        body["connectionInfo"]["statusReason"] = row["status_reason"]
    if row["status_changed"]:
        body["connectionInfo"]["statusChanged"] = row["status_changed"]
    if row["last_sync"]:
        body["lastSync"] = row["last_sync"]
    return body


def pull_operation(
    row: RowMapping,
    transitions: Sequence[RowMapping],
    *,
    connection: RowMapping | None,
    now: datetime,
) -> dict[str, Any]:
    status = DatasetStatus(row["status"])
    body: dict[str, Any] = {
        "id": row["id"],
        "companyId": row["company_id"],
        "connectionId": row["connection_id"],
        "dataType": row["data_type"],
        "status": status,
        "requested": row["requested"],
        "progress": row["progress"],
        "isCompleted": status == DatasetStatus.COMPLETE,
        "isErrored": is_error(status),
        "statusHistory": [
            {"status": t["status"], "timestamp": t["timestamp"]} for t in transitions
        ],
    }
    if row["completed"]:
        body["completed"] = row["completed"]
    if row["error_message"]:
        body["errorMessage"] = row["error_message"]
    description = row["status_description"] or _why_queued(status, connection, now)
    if description:
        body["statusDescription"] = description
    return body


def _why_queued(status: DatasetStatus, connection: RowMapping | None, now: datetime) -> str | None:
    """Say in plain words why a dataset has not left Queued yet."""
    if status != DatasetStatus.QUEUED:
        return None
    if connection is None or connection["agent_last_seen"] is None:
        return "Waiting for the connector to be installed and linked"
    idle = (now - from_iso(connection["agent_last_seen"])).total_seconds()
    if idle >= ONLINE_WITHIN_SECONDS:
        return f"Waiting for the connector to come online; last seen {_ago(idle)}"
    reason: str | None = connection["agent_wait_reason"]
    return reason or "Waiting for the connector to pick it up"


def _ago(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    return f"{hours} h ago" if hours < 48 else f"{hours // 24} days ago"


def data_status(datasets: Sequence[RowMapping]) -> dict[str, dict[str, Any]]:
    """The seed's dataStatus: one entry per data type, with only the keys that have values.

    ``datasets`` must be in the order they were requested, oldest first.
    """
    statuses: dict[str, dict[str, Any]] = {dt: {"dataType": dt} for dt in ACCOUNTING_DATA_TYPES}
    for row in datasets:
        entry = statuses.setdefault(row["data_type"], {"dataType": row["data_type"]})
        entry["currentStatus"] = row["status"]
        entry["latestSyncId"] = row["id"]
        if row["status"] == DatasetStatus.COMPLETE:
            entry["lastSuccessfulSync"] = row["completed"]
            entry["latestSuccessfulSyncId"] = row["id"]
    key_order = (
        "dataType",
        "lastSuccessfulSync",
        "currentStatus",
        "latestSyncId",
        "latestSuccessfulSyncId",
    )
    return {dt: {k: entry[k] for k in key_order if k in entry} for dt, entry in statuses.items()}
