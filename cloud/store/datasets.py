"""Datasets: queued by the public API or the schedule, claimed and moved by agents, and the
records they upload staged and published (``cloud/store/ingest.py``).

Every move goes through ``cloud/store/dataset_moves.py``, which checks it against
:func:`protocol.states.check_transition` and appends it to the dataset's history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, RowMapping, delete, select, update

from cloud.errors import BadRequest, Conflict, NotFound, shown
from cloud.store import cache, ingest
from cloud.store.dataset_moves import (
    AUTH_LOST_MESSAGE,
    STOPPED_RESPONDING_MESSAGE,
    EventSink,
    WebhookEvent,
    end_open_datasets,
    insert_queued,
    move,
    unsupported_reason,
)
from cloud.store.db import Database, connections, dataset_transitions, datasets, staged_chunks
from cloud.store.tenancy import company_row, connection_row
from protocol.clock import to_iso
from protocol.datatypes import ACCOUNTING_DATA_TYPES
from protocol.states import IN_PROGRESS_STATES, DatasetStatus, check_transition, is_terminal

# Re-exported: other modules have imported these from here.
__all__ = [
    "AUTH_LOST_MESSAGE",
    "STOPPED_RESPONDING_MESSAGE",
    "Datasets",
    "EventSink",
    "WebhookEvent",
    "end_open_datasets",
    "insert_queued",
    "move",
    "unsupported_reason",
]

S = DatasetStatus


class Datasets:
    def __init__(
        self,
        db: Database,
        *,
        lease: timedelta,
        wake: Callable[[str], None] = lambda _connection_id: None,
        emit: EventSink = lambda _event: None,
        limits: ingest.UploadLimits | None = None,
    ) -> None:
        self._db = db
        self._lease = lease
        self._limits = limits or ingest.UploadLimits()
        self._wake = wake  # wakes the long polls of a connection
        self._emit = emit

    @property
    def lease(self) -> timedelta:
        return self._lease

    @property
    def limits(self) -> ingest.UploadLimits:
        return self._limits

    # The public side -------------------------------------------------------------------------

    def queue(self, company_id: str, data_type: str, connection_id: str | None) -> RowMapping:
        if data_type not in ACCOUNTING_DATA_TYPES:
            raise BadRequest(f"{shown(data_type)} is not a data type.")
        events: list[WebhookEvent] = []
        with self._db.writing() as conn:
            connection = _connection_to_sync(conn, company_id, connection_id)
            dataset_id = self._queue_one(conn, connection, data_type, events, refuse_busy=True)
        self._after(connection["id"], events)
        assert dataset_id is not None  # refuse_busy raised instead of skipping
        return self.get(company_id, dataset_id)

    def queue_many(
        self, company_id: str, data_types: Iterable[str], connection_id: str | None = None
    ) -> list[str]:
        """Queue several types at once, skipping those already in progress."""
        data_types = list(data_types)
        for data_type in data_types:
            if data_type not in ACCOUNTING_DATA_TYPES:  # before anything is written
                raise BadRequest(f"{shown(data_type)} is not a data type.")
        events: list[WebhookEvent] = []
        with self._db.writing() as conn:
            connection = _connection_to_sync(conn, company_id, connection_id)
            queued = [
                self._queue_one(conn, connection, data_type, events, refuse_busy=False)
                for data_type in data_types
            ]
        self._after(connection["id"], events)
        return [dataset_id for dataset_id in queued if dataset_id]

    def get(self, company_id: str, dataset_id: str) -> RowMapping:
        with self._db.reading() as conn:
            query = select(datasets).where(
                datasets.c.company_id == company_id, datasets.c.id == dataset_id
            )
            found = conn.execute(query).mappings().first()
        if found is None:
            raise NotFound(f"No dataset {dataset_id} in company {company_id}.")
        return found

    def of_company(self, company_id: str) -> list[RowMapping]:
        with self._db.reading() as conn:
            company_row(conn, company_id)
            query = (
                select(datasets)
                .where(datasets.c.company_id == company_id)
                .order_by(datasets.c.queue_position)
            )
            return list(conn.execute(query).mappings())

    def transitions_of(self, dataset_ids: list[str]) -> dict[str, list[RowMapping]]:
        by_dataset: dict[str, list[RowMapping]] = {dataset_id: [] for dataset_id in dataset_ids}
        with self._db.reading() as conn:
            query = (
                select(dataset_transitions)
                .where(dataset_transitions.c.dataset_id.in_(dataset_ids))
                .order_by(dataset_transitions.c.dataset_id, dataset_transitions.c.seq)
            )
            for row in conn.execute(query).mappings():
                by_dataset[row["dataset_id"]].append(row)
        return by_dataset

    # The agent's side ------------------------------------------------------------------------

    def claim_next(self, connection_id: str) -> RowMapping | None:
        """Hand the oldest Queued, unclaimed dataset of a connection to its agent, with a lease.

        A dataset of a type the agent said it cannot read ends NotSupported instead.
        """
        now = self._db.now()
        if not self._anything_claimable(connection_id, now):
            return None  # the common case for an idle agent: no write, no lock
        events: list[WebhookEvent] = []
        with self._db.writing() as conn:
            self._db.serialise_connection(conn, connection_id)
            connection = (
                conn.execute(select(connections).where(connections.c.id == connection_id))
                .mappings()
                .one()
            )
            while True:
                found = (
                    conn.execute(
                        select(datasets)
                        .where(
                            datasets.c.connection_id == connection_id,
                            datasets.c.status == S.QUEUED,
                            datasets.c.lease_until.is_(None)
                            | (datasets.c.lease_until < to_iso(now)),
                        )
                        .order_by(datasets.c.queue_position)
                        .limit(1)
                    )
                    .mappings()
                    .first()
                )
                if found is None:
                    break
                reason = unsupported_reason(connection, found["data_type"])
                if reason is None:
                    conn.execute(
                        update(datasets)
                        .where(datasets.c.id == found["id"])
                        .values(lease_until=to_iso(now + self._lease))
                    )
                    break
                move(conn, found, S.NOT_SUPPORTED, now, error_message=reason, events=events)
        self._after(None, events)
        return found

    def _anything_claimable(self, connection_id: str, now: datetime) -> bool:
        with self._db.reading() as conn:
            found = conn.execute(
                select(datasets.c.id)
                .where(
                    datasets.c.connection_id == connection_id,
                    datasets.c.status == S.QUEUED,
                    datasets.c.lease_until.is_(None) | (datasets.c.lease_until < to_iso(now)),
                )
                .limit(1)
            ).first()
        return found is not None

    def extend_leases(self) -> None:
        """Give every running dataset a full lease from now: used when this server starts, so
        that time the cloud itself was down is not held against the agents."""
        until = to_iso(self._db.now() + self._lease)
        with self._db.writing() as conn:
            conn.execute(
                update(datasets)
                .where(
                    datasets.c.status.in_([str(s) for s in IN_PROGRESS_STATES]),
                    datasets.c.lease_until < until,
                )
                .values(lease_until=until)
            )

    def renew_lease(self, connection_id: str, dataset_id: str) -> datetime:
        now = self._db.now()
        with self._db.writing() as conn:
            self._db.serialise_connection(conn, connection_id)
            dataset = _agent_dataset(conn, connection_id, dataset_id)
            if is_terminal(S(dataset["status"])) or dataset["lease_until"] is None:
                raise Conflict(f"This dataset is {dataset['status']}: there is no lease to renew.")
            until = now + self._lease
            conn.execute(
                update(datasets)
                .where(datasets.c.id == dataset_id)
                .values(lease_until=to_iso(until))
            )
        return until

    def record_transition(
        self,
        connection_id: str,
        dataset_id: str,
        status: DatasetStatus,
        *,
        timestamp: datetime,
        error_message: str | None = None,
        progress: int | None = None,
        chunks: int | None = None,
        record_count: int | None = None,
        delta: bool = False,
        deleted_ids: Sequence[str] = (),
    ) -> RowMapping:
        """Move a dataset as its agent reports. Repeating the latest report is a no-op."""
        if status == S.QUEUED:
            raise Conflict("Only the cloud puts a dataset back in the queue.")
        events: list[WebhookEvent] = []
        now = self._db.now()
        with self._db.writing() as conn:
            self._db.serialise_connection(conn, connection_id)
            dataset = _agent_dataset(conn, connection_id, dataset_id)
            if dataset["status"] == S.QUEUED and dataset["lease_until"] is None:
                # Handed to no agent: a late report from an attempt taken back. Some moves
                # from Queued are legal (Fetching, FetchError), but none is this report's.
                raise Conflict(
                    "This dataset was taken back from the connector and waits to be handed "
                    "out again; this report belongs to the attempt that was taken back.",
                    current_status=S.QUEUED,
                )
            if dataset["status"] == status:
                return dataset  # a retried report that was already applied
            if status == S.COMPLETE:
                if chunks is None:
                    raise BadRequest("Complete must say how many record chunks were uploaded.")
                self._limits.check_page_count(chunks)
                check_transition(S(dataset["status"]), status)
                ingest.publish(
                    conn,
                    dataset,
                    chunks=chunks,
                    record_count=record_count,
                    now=now,
                    delta=delta,
                    deleted_ids=deleted_ids,
                )
            updated = move(
                conn,
                dataset,
                status,
                now,
                reported_at=timestamp,
                error_message=error_message,
                progress=progress,
                lease=self._lease,
                events=events,
            )
        self._after(None, events)
        return updated

    def baseline(
        self,
        connection_id: str,
        dataset_id: str,
        *,
        after: str | None = None,
        limit: int = cache.BASELINE_PAGE,
    ) -> tuple[dict[str, str], str | None]:
        """One page of record hashes, and the id to ask the next page after (None: the last)."""
        with self._db.reading() as conn:
            dataset = _agent_dataset(conn, connection_id, dataset_id)
            return cache.baseline(conn, dataset, after=after, limit=limit)

    def stage_chunk(
        self, connection_id: str, dataset_id: str, chunk: int, body: bytes, checksum: str | None
    ) -> None:
        with self._db.writing() as conn:
            self._db.serialise_connection(conn, connection_id)
            dataset = _agent_dataset(conn, connection_id, dataset_id)
            if dataset["status"] != S.PROCESSING:
                raise Conflict(
                    f"Records can only be uploaded while the dataset is Processing "
                    f"(it is {dataset['status']}).",
                    current_status=dataset["status"],  # the agent drops one the cloud ended
                )
            ingest.stage(conn, dataset_id, chunk, body, checksum, self._limits)

    # Moves the cloud makes on its own --------------------------------------------------------

    def take_back_lapsed(self) -> int:
        """Requeue datasets whose agent went silent mid-run; a second lapse ends them."""
        events: list[WebhookEvent] = []
        now = self._db.now()
        in_progress = [str(s) for s in IN_PROGRESS_STATES]
        with self._db.reading() as conn:
            candidates = conn.execute(
                select(datasets.c.id, datasets.c.connection_id)
                .where(datasets.c.status.in_(in_progress), datasets.c.lease_until < to_iso(now))
                .order_by(datasets.c.connection_id)
            ).all()
        taken = 0
        for dataset_id, connection_id in candidates:
            with self._db.writing() as conn:
                self._db.serialise_connection(conn, connection_id)
                dataset = _agent_dataset(conn, connection_id, dataset_id)
                lease = dataset["lease_until"]
                if dataset["status"] not in in_progress or lease is None or lease >= to_iso(now):
                    continue  # the agent spoke up meanwhile
                taken += 1
                if dataset["attempts"] >= 1:
                    move(
                        conn,
                        dataset,
                        S.INTERNAL_ERROR,
                        now,
                        error_message=STOPPED_RESPONDING_MESSAGE,
                        events=events,
                    )
                    continue
                conn.execute(delete(staged_chunks).where(staged_chunks.c.dataset_id == dataset_id))
                move(
                    conn,
                    dataset,
                    S.QUEUED,
                    now,
                    events=events,
                    description=(
                        "Taken back from the connector, which stopped responding; "
                        "waiting to run again"
                    ),
                )
                conn.execute(
                    update(datasets)
                    .where(datasets.c.id == dataset_id)
                    .values(attempts=dataset["attempts"] + 1, lease_until=None, progress=0)
                )
            self._wake(connection_id)
        self._after(None, events)
        return taken

    def _queue_one(
        self,
        conn: Connection,
        connection: RowMapping,
        data_type: str,
        events: list[WebhookEvent],
        *,
        refuse_busy: bool,
    ) -> str | None:
        self._db.serialise_connection(conn, connection["id"])
        busy = conn.execute(
            select(datasets.c.id, datasets.c.status).where(
                datasets.c.connection_id == connection["id"], datasets.c.data_type == data_type
            )
        ).all()
        for dataset_id, status in busy:
            if not is_terminal(S(status)):
                if not refuse_busy:
                    return None
                raise BadRequest(
                    f"DatasetAlreadyInProgressException: Cannot queue {data_type} sync for "
                    f"{connection['company_id']} as previous sync {dataset_id} is still in progress"
                )
        now = self._db.now()
        dataset = insert_queued(conn, connection, data_type, now)
        # What is known to be hopeless ends at once, with the reason, instead of waiting.
        if connection["status"] == "Deauthorized":
            why = connection["status_reason"] or "lost"
            message = AUTH_LOST_MESSAGE.format(why=why)
            move(conn, dataset, S.AUTH_ERROR, now, error_message=message, events=events)
        elif (reason := unsupported_reason(connection, data_type)) is not None:
            move(conn, dataset, S.NOT_SUPPORTED, now, error_message=reason, events=events)
        return str(dataset["id"])

    def _after(self, connection_id: str | None, events: list[WebhookEvent]) -> None:
        if connection_id is not None:
            self._wake(connection_id)
        for event in events:
            self._emit(event)


def _connection_to_sync(conn: Connection, company_id: str, connection_id: str | None) -> RowMapping:
    if connection_id is not None:
        found = connection_row(conn, company_id, connection_id)
        if found["status"] == "Unlinked":
            raise BadRequest(f"Connection {connection_id} is Unlinked: it cannot sync any more.")
        return found
    company_row(conn, company_id)
    candidates = (
        conn.execute(
            select(connections)
            .where(connections.c.company_id == company_id, connections.c.status != "Unlinked")
            .order_by(connections.c.created, connections.c.id)
        )
        .mappings()
        .all()
    )
    if not candidates:
        raise BadRequest(f"Company {company_id} has no connection to sync.")
    return candidates[0]


def _agent_dataset(conn: Connection, connection_id: str, dataset_id: str) -> RowMapping:
    # A dataset of another connection is reported as missing: an agent never learns of it.
    found = (
        conn.execute(
            select(datasets).where(
                datasets.c.id == dataset_id, datasets.c.connection_id == connection_id
            )
        )
        .mappings()
        .first()
    )
    if found is None:
        raise NotFound(f"No dataset {dataset_id} for this connector.")
    return found
