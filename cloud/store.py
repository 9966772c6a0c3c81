"""The cloud's domain operations on companies, connections and datasets.

Every write runs in one database transaction under one lock, so that a claim, a transition and
the publication of a dataset's records are each all-or-nothing. (SQLite allows one writer at a
time anyway; on PostgreSQL the lock would give way to row locks.)
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, func, insert, select, update

from agent.clock import Clock, from_iso, to_iso, utc_now
from agent.datatypes import ACCOUNTING_DATA_TYPES, FETCH_ON_FIRST_LINK
from agent.states import DatasetStatus, check_transition, is_error, is_terminal
from cloud import cache
from cloud.db import companies, connections, dataset_transitions, datasets
from cloud.errors import BadRequest, Conflict, NotFound, Unauthorized
from cloud.tokens import new_agent_token, new_link_code, normalise_link_code, token_hash

PLATFORMS: Mapping[str, str] = {"gncs": "GnuCash"}
"""Platform keys this cloud accepts, with their display names."""

LINK_CODE_LIFETIME = timedelta(days=7)
CLAIM_LEASE = timedelta(seconds=60)

# Where a dataset's progress stands when it enters a state, unless the agent says more precisely.
_PROGRESS_ON_ENTRY = {
    DatasetStatus.QUEUED: 0,
    DatasetStatus.FETCHING: 10,
    DatasetStatus.MAPPING: 40,
    DatasetStatus.VALIDATING: 60,
    DatasetStatus.PROCESSING: 75,
    DatasetStatus.COMPLETE: 100,
}


@dataclass(frozen=True)
class LinkResult:
    connection: RowMapping
    company_name: str
    agent_token: str


class Store:
    """Companies, connections, datasets and their transitions, on one database."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = utc_now,
        on_queued: Callable[[str], None] = lambda _connection_id: None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._on_queued = on_queued  # wakes the long polls of that connection
        self._write_lock = threading.Lock()

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self._write_lock, self._engine.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            yield conn

    def now(self) -> datetime:
        return self._clock()

    # Companies and connections ------------------------------------------------------------

    def create_company(self, name: str, description: str | None) -> RowMapping:
        if not name.strip():
            raise BadRequest("A company needs a name.")
        company_id = str(uuid.uuid4())
        with self._writing() as conn:
            conn.execute(
                insert(companies).values(
                    id=company_id,
                    name=name.strip(),
                    description=description,
                    created=to_iso(self.now()),
                )
            )
        return self.get_company(company_id)

    def get_company(self, company_id: str) -> RowMapping:
        with self.reading() as conn:
            row = conn.execute(select(companies).where(companies.c.id == company_id)).mappings()
            found = row.first()
        if found is None:
            raise NotFound(f"No company with id {company_id}.")
        return found

    def list_connections(self, company_id: str) -> list[RowMapping]:
        with self.reading() as conn:
            query = (
                select(connections)
                .where(connections.c.company_id == company_id)
                .order_by(connections.c.created, connections.c.id)
            )
            return list(conn.execute(query).mappings())

    def create_connection(self, company_id: str, platform_key: str) -> RowMapping:
        self.get_company(company_id)
        if platform_key not in PLATFORMS:
            known = ", ".join(sorted(PLATFORMS))
            raise BadRequest(f"Unknown platformKey '{platform_key}'. This cloud supports: {known}.")
        now = self.now()
        row = {
            "id": str(uuid.uuid4()),
            "company_id": company_id,
            "platform_key": platform_key,
            "status": "PendingAuth",
            "created": to_iso(now),
            "link_code": new_link_code(),
            "link_code_expires": to_iso(now + LINK_CODE_LIFETIME),
        }
        with self._writing() as conn:
            conn.execute(insert(connections).values(**row))
        return self.get_connection(company_id, row["id"])

    def get_connection(self, company_id: str, connection_id: str) -> RowMapping:
        with self.reading() as conn:
            query = select(connections).where(
                connections.c.company_id == company_id, connections.c.id == connection_id
            )
            found = conn.execute(query).mappings().first()
        if found is None:
            raise NotFound(f"No connection {connection_id} in company {company_id}.")
        return found

    # The agent's side ---------------------------------------------------------------------

    def link_agent(self, link_code: str, *, agent_version: str, hostname: str) -> LinkResult:
        """Spend a link code: the connection becomes Linked and first-link datasets are queued."""
        code = normalise_link_code(link_code)
        now = self.now()
        token = new_agent_token()
        with self._writing() as conn:
            found = (
                conn.execute(select(connections).where(connections.c.link_code == code))
                .mappings()
                .first()
            )
            if found is None:
                raise Unauthorized(
                    "This link code is not valid: it may have been used already. "
                    "Ask for a new link from the service you are connecting to."
                )
            if found["link_code_expires"] and found["link_code_expires"] < to_iso(now):
                raise Unauthorized("This link code has expired. Ask for a new link.")
            first_link = found["last_sync"] is None and found["agent_token_hash"] is None
            conn.execute(
                update(connections)
                .where(connections.c.id == found["id"])
                .values(
                    status="Linked",
                    link_code=None,
                    link_code_expires=None,
                    agent_token_hash=token_hash(token),
                    agent_last_seen=to_iso(now),
                    agent_version=agent_version,
                    agent_hostname=hostname,
                )
            )
            if first_link:
                for data_type in FETCH_ON_FIRST_LINK:
                    self._insert_queued(conn, found["company_id"], found["id"], data_type, now)
            company = conn.execute(
                select(companies.c.name).where(companies.c.id == found["company_id"])
            ).scalar_one()
        self._on_queued(found["id"])
        connection = self.get_connection(found["company_id"], found["id"])
        return LinkResult(connection=connection, company_name=company, agent_token=token)

    def authenticate_agent(self, token: str) -> RowMapping:
        """The Linked connection ``token`` belongs to; records that its agent was seen."""
        with self._writing() as conn:
            found = (
                conn.execute(
                    select(connections).where(connections.c.agent_token_hash == token_hash(token))
                )
                .mappings()
                .first()
            )
            if found is None or found["status"] != "Linked":
                raise Unauthorized("This connector is no longer authorized. Link it again.")
            conn.execute(
                update(connections)
                .where(connections.c.id == found["id"])
                .values(agent_last_seen=to_iso(self.now()))
            )
        return found

    def claim_next(self, connection_id: str) -> RowMapping | None:
        """Hand the oldest Queued, unclaimed dataset of a connection to its agent, with a lease."""
        now = self.now()
        with self._writing() as conn:
            query = (
                select(datasets)
                .where(
                    datasets.c.connection_id == connection_id,
                    datasets.c.status == DatasetStatus.QUEUED,
                    (datasets.c.lease_until.is_(None)) | (datasets.c.lease_until < to_iso(now)),
                )
                .order_by(datasets.c.queue_position)
                .limit(1)
            )
            found = conn.execute(query).mappings().first()
            if found is None:
                return None
            conn.execute(
                update(datasets)
                .where(datasets.c.id == found["id"])
                .values(lease_until=to_iso(now + CLAIM_LEASE))
            )
        return found

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
    ) -> RowMapping:
        """Move a dataset to ``status``. Repeating the latest transition is a harmless no-op."""
        now = self.now()
        with self._writing() as conn:
            dataset = self._agent_dataset(conn, connection_id, dataset_id)
            current = DatasetStatus(dataset["status"])
            if current == status:
                return dataset  # a retried report that was already applied
            check_transition(current, status)
            history = self._transitions(conn, dataset_id)
            # The agent's clock may be off: keep the history ordered and never in the future.
            stamp = min(max(timestamp, _latest(history)), now)
            values: dict[str, Any] = {
                "status": status,
                "progress": progress
                if progress is not None
                else _progress_on_entry(status, dataset),
                "lease_until": to_iso(now + CLAIM_LEASE),
                "status_description": None,
            }
            if error_message is not None:
                values["error_message"] = error_message
            if status == DatasetStatus.COMPLETE:
                if chunks is None:
                    raise BadRequest("Complete must say how many record chunks were uploaded.")
                cache.publish(conn, dataset, chunks=chunks, now=now)
                values["completed"] = to_iso(stamp)
                conn.execute(
                    update(connections)
                    .where(connections.c.id == connection_id)
                    .values(last_sync=to_iso(stamp))
                )
            if is_terminal(status):
                values["lease_until"] = None
            conn.execute(update(datasets).where(datasets.c.id == dataset_id).values(**values))
            conn.execute(
                insert(dataset_transitions).values(
                    dataset_id=dataset_id, seq=len(history), status=status, timestamp=to_iso(stamp)
                )
            )
            updated = conn.execute(select(datasets).where(datasets.c.id == dataset_id)).mappings()
            return updated.one()

    def stage_chunk(
        self, connection_id: str, dataset_id: str, chunk: int, payload: list[dict[str, Any]]
    ) -> None:
        with self._writing() as conn:
            dataset = self._agent_dataset(conn, connection_id, dataset_id)
            if dataset["status"] != DatasetStatus.PROCESSING:
                raise Conflict(
                    f"Records can only be uploaded while the dataset is Processing "
                    f"(it is {dataset['status']})."
                )
            cache.stage(conn, dataset_id, chunk, payload)

    # Datasets, the public side ------------------------------------------------------------

    def queue(self, company_id: str, data_type: str, connection_id: str | None) -> RowMapping:
        self.get_company(company_id)
        if data_type not in ACCOUNTING_DATA_TYPES:
            raise BadRequest(f"'{data_type}' is not a data type.")
        connection = self._connection_to_sync(company_id, connection_id)
        now = self.now()
        with self._writing() as conn:
            running = conn.execute(
                select(datasets.c.id, datasets.c.status).where(
                    datasets.c.connection_id == connection["id"],
                    datasets.c.data_type == data_type,
                )
            ).all()
            for dataset_id, status in running:
                if not is_terminal(DatasetStatus(status)):
                    raise BadRequest(
                        f"DatasetAlreadyInProgressException: Cannot queue {data_type} sync for "
                        f"{company_id} as previous sync {dataset_id} is still in progress"
                    )
            dataset_id = self._insert_queued(conn, company_id, connection["id"], data_type, now)
        self._on_queued(connection["id"])
        return self.get_dataset(company_id, dataset_id)

    def get_dataset(self, company_id: str, dataset_id: str) -> RowMapping:
        with self.reading() as conn:
            query = select(datasets).where(
                datasets.c.company_id == company_id, datasets.c.id == dataset_id
            )
            found = conn.execute(query).mappings().first()
        if found is None:
            raise NotFound(f"No dataset {dataset_id} in company {company_id}.")
        return found

    def list_datasets(self, company_id: str) -> list[RowMapping]:
        self.get_company(company_id)
        with self.reading() as conn:
            query = (
                select(datasets)
                .where(datasets.c.company_id == company_id)
                .order_by(datasets.c.queue_position)
            )
            return list(conn.execute(query).mappings())

    def transitions_of(self, dataset_ids: list[str]) -> dict[str, list[RowMapping]]:
        by_dataset: dict[str, list[RowMapping]] = {dataset_id: [] for dataset_id in dataset_ids}
        with self.reading() as conn:
            query = (
                select(dataset_transitions)
                .where(dataset_transitions.c.dataset_id.in_(dataset_ids))
                .order_by(dataset_transitions.c.dataset_id, dataset_transitions.c.seq)
            )
            for row in conn.execute(query).mappings():
                by_dataset[row["dataset_id"]].append(row)
        return by_dataset

    def count_datasets(self, company_id: str) -> int:
        with self.reading() as conn:
            query = select(func.count()).where(datasets.c.company_id == company_id)
            return int(conn.execute(query).scalar_one())

    # Helpers -------------------------------------------------------------------------------

    def _connection_to_sync(self, company_id: str, connection_id: str | None) -> RowMapping:
        if connection_id is not None:
            return self.get_connection(company_id, connection_id)
        candidates = [c for c in self.list_connections(company_id) if c["status"] != "Unlinked"]
        if not candidates:
            raise BadRequest(f"Company {company_id} has no connection to sync.")
        return candidates[0]

    def _insert_queued(
        self, conn: Connection, company_id: str, connection_id: str, data_type: str, now: datetime
    ) -> str:
        dataset_id = str(uuid.uuid4())
        last_position = conn.execute(select(func.max(datasets.c.queue_position))).scalar()
        conn.execute(
            insert(datasets).values(
                queue_position=(last_position or 0) + 1,
                id=dataset_id,
                company_id=company_id,
                connection_id=connection_id,
                data_type=data_type,
                status=DatasetStatus.QUEUED,
                requested=to_iso(now),
                progress=0,
            )
        )
        conn.execute(
            insert(dataset_transitions).values(
                dataset_id=dataset_id, seq=0, status=DatasetStatus.QUEUED, timestamp=to_iso(now)
            )
        )
        return dataset_id

    def _agent_dataset(self, conn: Connection, connection_id: str, dataset_id: str) -> RowMapping:
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

    @staticmethod
    def _transitions(conn: Connection, dataset_id: str) -> list[RowMapping]:
        query = (
            select(dataset_transitions)
            .where(dataset_transitions.c.dataset_id == dataset_id)
            .order_by(dataset_transitions.c.seq)
        )
        return list(conn.execute(query).mappings())


def _latest(history: list[RowMapping]) -> datetime:
    return from_iso(history[-1]["timestamp"])


def _progress_on_entry(status: DatasetStatus, dataset: RowMapping) -> int:
    """A failed dataset keeps the progress it had reached; other terminal states are done."""
    if status in _PROGRESS_ON_ENTRY:
        return _PROGRESS_ON_ENTRY[status]
    if is_error(status) or not is_terminal(status):
        return int(dataset["progress"])
    return 100
