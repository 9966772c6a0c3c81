"""A dataset's moves: each checked against the shared state machine and appended to its history.

Moves the cloud makes on its own (an agent that cannot read a type, a lost authorization, a
lease that lapsed) are recorded the same way as the agent's, with the reason; a move that ends
a dataset becomes a ``read.completed`` event for webhook consumers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from cloud.store.db import connections, dataset_transitions, datasets
from protocol.clock import from_iso, to_iso
from protocol.states import (
    IN_PROGRESS_STATES,
    DatasetStatus,
    check_transition,
    is_error,
    is_terminal,
)

S = DatasetStatus

# Where a dataset's progress stands when it enters a state, unless the agent says more precisely.
_PROGRESS_ON_ENTRY = {
    S.QUEUED: 0,
    S.FETCHING: 10,
    S.MAPPING: 40,
    S.VALIDATING: 60,
    S.PROCESSING: 75,
    S.COMPLETE: 100,
}

AUTH_LOST_MESSAGE = (
    "The connector's authorization for this connection was {why}. Ask the user to re-link "
    "Connector by following the connection's linkUrl, then queue the sync again."
)
STOPPED_RESPONDING_MESSAGE = (
    "The connector stopped responding while working on this dataset, twice. Check that "
    "Connector is running on the PC and can reach the internet, then queue the sync again."
)


@dataclass(frozen=True)
class WebhookEvent:
    """Something the cloud tells webhook consumers about, after the transaction commits."""

    event_type: str
    company_id: str
    payload: dict[str, Any]


EventSink = Callable[[WebhookEvent], None]


def insert_queued(
    conn: Connection, connection: RowMapping, data_type: str, now: datetime
) -> RowMapping:
    dataset_id = str(uuid.uuid4())
    last_position = conn.execute(select(func.max(datasets.c.queue_position))).scalar()
    conn.execute(
        insert(datasets).values(
            id=dataset_id,
            company_id=connection["company_id"],
            connection_id=connection["id"],
            data_type=data_type,
            status=S.QUEUED,
            requested=to_iso(now),
            queue_position=(last_position or 0) + 1,
            progress=0,
            attempts=0,
        )
    )
    conn.execute(
        insert(dataset_transitions).values(
            dataset_id=dataset_id, seq=0, status=S.QUEUED, timestamp=to_iso(now)
        )
    )
    return conn.execute(select(datasets).where(datasets.c.id == dataset_id)).mappings().one()


def move(
    conn: Connection,
    dataset: RowMapping,
    status: DatasetStatus,
    now: datetime,
    *,
    reported_at: datetime | None = None,
    error_message: str | None = None,
    progress: int | None = None,
    description: str | None = None,
    lease: timedelta | None = None,
    events: list[WebhookEvent],
) -> RowMapping:
    """Move ``dataset`` to ``status`` and append the move to its history."""
    current = S(dataset["status"])
    check_transition(current, status)
    history = (
        conn.execute(
            select(dataset_transitions.c.timestamp)
            .where(dataset_transitions.c.dataset_id == dataset["id"])
            .order_by(dataset_transitions.c.seq)
        )
        .scalars()
        .all()
    )
    # An agent's clock may be off: keep the history ordered and never in the future.
    stamp = min(max(reported_at or now, from_iso(history[-1])), now)
    values: dict[str, Any] = {
        "status": status,
        "progress": progress if progress is not None else _progress_on_entry(status, dataset),
        "status_description": description,
        "lease_until": to_iso(now + lease) if lease is not None else dataset["lease_until"],
    }
    if error_message is not None:
        values["error_message"] = error_message
    if status == S.COMPLETE:
        values["completed"] = to_iso(stamp)
        conn.execute(
            update(connections)
            .where(connections.c.id == dataset["connection_id"])
            .values(last_sync=to_iso(stamp))
        )
    if is_terminal(status):
        values["lease_until"] = None
        events.append(_read_completed(dataset, status, stamp, error_message))
    conn.execute(update(datasets).where(datasets.c.id == dataset["id"]).values(**values))
    conn.execute(
        insert(dataset_transitions).values(
            dataset_id=dataset["id"], seq=len(history), status=status, timestamp=to_iso(stamp)
        )
    )
    return conn.execute(select(datasets).where(datasets.c.id == dataset["id"])).mappings().one()


def end_open_datasets(
    conn: Connection,
    connection_id: str,
    status: DatasetStatus,
    message: str,
    now: datetime,
    events: list[WebhookEvent],
) -> None:
    """End every dataset of a connection that is queued or running (e.g. authorization lost)."""
    open_datasets = (
        conn.execute(
            select(datasets).where(
                datasets.c.connection_id == connection_id,
                datasets.c.status.in_([str(S.QUEUED), *(str(s) for s in IN_PROGRESS_STATES)]),
            )
        )
        .mappings()
        .all()
    )
    for dataset in open_datasets:
        move(conn, dataset, status, now, error_message=message, events=events)


def unsupported_reason(connection: RowMapping, data_type: str) -> str | None:
    """Why the connection's agent cannot serve ``data_type``; None if it can (or may)."""
    if connection["agent_data_types"] is None:
        return None  # the agent has not said: let it decide
    readable = json.loads(connection["agent_data_types"])
    if data_type in readable:
        return None
    version = connection["agent_version"] or "unknown"
    return (
        f"The connector linked to this company (version {version}) cannot read {data_type}; "
        f"it reads {', '.join(sorted(readable)) or 'nothing yet'}."
    )


def _read_completed(
    dataset: RowMapping, status: DatasetStatus, stamp: datetime, error_message: str | None
) -> WebhookEvent:
    entry: dict[str, Any] = {
        "dataType": dataset["data_type"],
        "datasetId": dataset["id"],
        "datasetStatus": str(status),
        "completed": to_iso(stamp),
        "isErrored": is_error(status),
    }
    if error_message:
        entry["errorMessage"] = error_message
    return WebhookEvent(
        "read.completed",
        dataset["company_id"],
        {"connectionId": dataset["connection_id"], "dataTypes": [entry]},
    )


def _progress_on_entry(status: DatasetStatus, dataset: RowMapping) -> int:
    """A failed dataset keeps the progress it had reached; other terminal states are done."""
    if status in _PROGRESS_ON_ENTRY:
        return _PROGRESS_ON_ENTRY[status]
    if is_error(status) or not is_terminal(status):
        return int(dataset["progress"])
    return 100
