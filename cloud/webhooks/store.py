"""Webhook consumers, messages and every delivery attempt, kept in the cloud's database.

A message is written once, with the exact body every consumer receives; it fans out into one
delivery per consumer that wants it, decided when it is published. A delivery carries its retry
state (attempts made, when the next one is due), so that a restart loses nothing: pending
deliveries are simply due again. Each attempt is logged with what the consumer answered.

The tables sit on the shared ``cloud.store.db.metadata``: importing this module before
``cloud.store.db.open_database`` runs is enough for them to be created.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    RowMapping,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)

from cloud.errors import NotFound
from cloud.store.db import metadata
from cloud.webhooks.signing import new_secret
from protocol.clock import Clock, from_iso, to_iso, utc_now

PENDING = "Pending"
SUCCEEDED = "Succeeded"
FAILED = "Failed"

webhook_consumers = Table(
    "webhook_consumers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("url", Text, nullable=False),
    Column("event_types", Text, nullable=False),  # JSON list; empty = every event type
    Column("disabled", Boolean, nullable=False, default=False),
    Column("company_tags", Text, nullable=False),  # JSON list of "tagKey:tagValue"
    # Kept in the clear because every delivery is signed with it (it is a shared secret).
    Column("secret", Text, nullable=False),
    Column("created", String(32), nullable=False),
)

webhook_messages = Table(
    "webhook_messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("event_type", String(128), nullable=False),
    Column("company_id", String(36)),
    # The serialised envelope: every attempt sends (and signs) these very bytes.
    Column("body", Text, nullable=False),
    Column("created", String(32), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("message_id", ForeignKey("webhook_messages.id", ondelete="CASCADE"), primary_key=True),
    Column("consumer_id", ForeignKey("webhook_consumers.id", ondelete="CASCADE"), primary_key=True),
    Column("status", String(16), nullable=False),  # Pending, Succeeded or Failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", String(32)),  # NULL once the delivery is settled
    Column("last_response_status", Integer),
    Column("last_error", Text),
    Column("settled", String(32)),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("consumer_id", String(36), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("attempted", String(32), nullable=False),
    Column("response_status", Integer),  # NULL when the consumer could not be reached
    Column("error", Text),
    Column("succeeded", Boolean, nullable=False),
    ForeignKeyConstraint(
        ["message_id", "consumer_id"],
        ["webhook_deliveries.message_id", "webhook_deliveries.consumer_id"],
        ondelete="CASCADE",
    ),
)


@dataclass(frozen=True)
class DueDelivery:
    """A pending delivery whose next attempt is due, with what it takes to make it."""

    message_id: str
    consumer_id: str
    url: str
    secret: str
    body: str
    attempts: int
    next_attempt_at: str  # as stored: the claim compares against it


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt achieved, and when to try again (``None``: the delivery is settled)."""

    attempted: datetime
    response_status: int | None
    error: str | None
    succeeded: bool
    next_attempt_at: datetime | None


class WebhookStore:
    """Consumers, messages, deliveries and attempts, on the cloud's database."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock
        # Serialises this module's own writes, so a consumer cannot vanish between the moment a
        # message picks it and the insert of its delivery.
        self._write_lock = threading.Lock()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One transaction for the dispatcher's and the consumers' writes."""
        with self._write_lock, self._engine.begin() as conn:
            yield conn

    # Consumers -----------------------------------------------------------------------------

    def create_consumer(
        self,
        url: str,
        *,
        event_types: Sequence[str] = (),
        disabled: bool = False,
        company_tags: Sequence[str] = (),
    ) -> RowMapping:
        """A new consumer with a fresh signing secret (the row's ``secret``)."""
        consumer_id = str(uuid.uuid4())
        with self.writing() as conn:
            conn.execute(
                insert(webhook_consumers).values(
                    id=consumer_id,
                    url=url,
                    event_types=json.dumps(_unique(event_types)),
                    disabled=disabled,
                    company_tags=json.dumps(_unique(company_tags)),
                    secret=new_secret(),
                    created=to_iso(self._clock()),
                )
            )
        return self.get_consumer(consumer_id)

    def get_consumer(self, consumer_id: str) -> RowMapping:
        with self._engine.connect() as conn:
            query = select(webhook_consumers).where(webhook_consumers.c.id == consumer_id)
            found = conn.execute(query).mappings().first()
        if found is None:
            raise NotFound(f"No webhook consumer with id {consumer_id}.")
        return found

    def list_consumers(self) -> list[RowMapping]:
        with self._engine.connect() as conn:
            query = select(webhook_consumers).order_by(
                webhook_consumers.c.created, webhook_consumers.c.id
            )
            return list(conn.execute(query).mappings())

    def delete_consumer(self, consumer_id: str) -> None:
        """Remove a consumer with its deliveries: pending ones are never attempted again."""
        with self.writing() as conn:
            # Deleted explicitly rather than by cascade: SQLite cascades only when the
            # connection enabled foreign keys, which an engine not from open_database may not.
            where_consumer = webhook_attempts.c.consumer_id == consumer_id
            conn.execute(delete(webhook_attempts).where(where_consumer))
            conn.execute(
                delete(webhook_deliveries).where(webhook_deliveries.c.consumer_id == consumer_id)
            )
            gone = conn.execute(
                delete(webhook_consumers).where(webhook_consumers.c.id == consumer_id)
            )
            if gone.rowcount == 0:
                raise NotFound(f"No webhook consumer with id {consumer_id}.")

    # Messages and deliveries ---------------------------------------------------------------

    def due(self, now: datetime, limit: int) -> list[DueDelivery]:
        """Pending deliveries whose next attempt is due at ``now``, the longest-waiting first."""
        query = (
            select(
                webhook_deliveries.c.message_id,
                webhook_deliveries.c.consumer_id,
                webhook_deliveries.c.attempts,
                webhook_deliveries.c.next_attempt_at,
                webhook_consumers.c.url,
                webhook_consumers.c.secret,
                webhook_messages.c.body,
            )
            .join(webhook_consumers, webhook_consumers.c.id == webhook_deliveries.c.consumer_id)
            .join(webhook_messages, webhook_messages.c.id == webhook_deliveries.c.message_id)
            .where(
                webhook_deliveries.c.status == PENDING,
                webhook_deliveries.c.next_attempt_at <= to_iso(now),
            )
            .order_by(webhook_deliveries.c.next_attempt_at)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [DueDelivery(**row) for row in conn.execute(query).mappings()]

    def claim(self, delivery: DueDelivery, until: datetime) -> bool:
        """Take a due delivery for one attempt; ``False`` if another process took it first.

        The claim pushes the delivery's next attempt to ``until``, compared-and-set against the
        time read with it, so of several cloud processes sharing the database only one makes the
        attempt. Should the claimant die, the delivery is simply due again at ``until``.
        """
        with self.writing() as conn:
            taken = conn.execute(
                update(webhook_deliveries)
                .where(
                    webhook_deliveries.c.message_id == delivery.message_id,
                    webhook_deliveries.c.consumer_id == delivery.consumer_id,
                    webhook_deliveries.c.status == PENDING,
                    webhook_deliveries.c.next_attempt_at == delivery.next_attempt_at,
                )
                .values(next_attempt_at=to_iso(until))
            )
        return taken.rowcount == 1

    def next_due(self) -> datetime | None:
        """When the earliest pending delivery is due, if any is pending."""
        query = select(func.min(webhook_deliveries.c.next_attempt_at)).where(
            webhook_deliveries.c.status == PENDING
        )
        with self._engine.connect() as conn:
            earliest = conn.execute(query).scalar()
        return from_iso(earliest) if earliest else None

    def record_attempt(self, delivery: DueDelivery, outcome: AttemptOutcome) -> None:
        """Log an attempt and move the delivery on: settled, or due again later."""
        settled = outcome.next_attempt_at is None
        status = SUCCEEDED if outcome.succeeded else (FAILED if settled else PENDING)
        with self.writing() as conn:
            moved = conn.execute(
                update(webhook_deliveries)
                .where(
                    webhook_deliveries.c.message_id == delivery.message_id,
                    webhook_deliveries.c.consumer_id == delivery.consumer_id,
                )
                .values(
                    status=status,
                    attempts=delivery.attempts + 1,
                    next_attempt_at=None if settled else _iso(outcome.next_attempt_at),
                    last_response_status=outcome.response_status,
                    last_error=outcome.error,
                    settled=to_iso(outcome.attempted) if settled else None,
                )
            )
            if moved.rowcount == 0:
                return  # the consumer was deleted while the attempt was on its way
            conn.execute(
                insert(webhook_attempts).values(
                    message_id=delivery.message_id,
                    consumer_id=delivery.consumer_id,
                    seq=delivery.attempts,
                    attempted=to_iso(outcome.attempted),
                    response_status=outcome.response_status,
                    error=outcome.error,
                    succeeded=outcome.succeeded,
                )
            )

    def deliveries_of(self, message_id: str) -> list[RowMapping]:
        """The deliveries a message fanned out into (for diagnostics and tests)."""
        query = (
            select(webhook_deliveries)
            .where(webhook_deliveries.c.message_id == message_id)
            .order_by(webhook_deliveries.c.consumer_id)
        )
        with self._engine.connect() as conn:
            return list(conn.execute(query).mappings())

    def attempts_of(self, message_id: str, consumer_id: str) -> list[RowMapping]:
        query = (
            select(webhook_attempts)
            .where(
                webhook_attempts.c.message_id == message_id,
                webhook_attempts.c.consumer_id == consumer_id,
            )
            .order_by(webhook_attempts.c.seq)
        )
        with self._engine.connect() as conn:
            return list(conn.execute(query).mappings())


def enqueue(
    conn: Connection,
    *,
    message_id: str,
    event_type: str,
    company_id: str | None,
    body: str,
    company_tags: Collection[str],
    now: datetime,
) -> int:
    """Write a message and a delivery, due at once, for each consumer that wants it.

    Runs inside the caller's transaction, so a message can be committed together with the change
    it announces. Returns how many deliveries were made.
    """
    # The message goes in first: on SQLite the first write takes the database's write lock, so
    # the consumers read next cannot be deleted before their deliveries are written.
    conn.execute(
        insert(webhook_messages).values(
            id=message_id,
            event_type=event_type,
            company_id=company_id,
            body=body,
            created=to_iso(now),
        )
    )
    consumers = conn.execute(
        select(
            webhook_consumers.c.id,
            webhook_consumers.c.event_types,
            webhook_consumers.c.company_tags,
        ).where(webhook_consumers.c.disabled.is_(False))
    ).mappings()
    wanted = [
        row["id"]
        for row in consumers
        if _wants(json.loads(row["event_types"]), event_type)
        and _tags_match(json.loads(row["company_tags"]), company_tags)
    ]
    for consumer_id in wanted:
        conn.execute(
            insert(webhook_deliveries).values(
                message_id=message_id,
                consumer_id=consumer_id,
                status=PENDING,
                attempts=0,
                next_attempt_at=to_iso(now),
            )
        )
    return len(wanted)


def consumer_event_types(row: RowMapping) -> list[str]:
    types: list[str] = json.loads(row["event_types"])
    return types


def consumer_company_tags(row: RowMapping) -> list[str]:
    tags: list[str] = json.loads(row["company_tags"])
    return tags


def _wants(event_types: list[str], event_type: str) -> bool:
    # As Svix does for an endpoint without a filter, no event types means every event type.
    return not event_types or event_type in event_types


def _tags_match(consumer_tags: list[str], company_tags: Collection[str]) -> bool:
    # Tags narrow a consumer to the companies carrying at least one of them (case-sensitive,
    # as Codat says); a message about no company, or about an untagged one, matches none.
    return not consumer_tags or any(tag in company_tags for tag in consumer_tags)


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _iso(moment: datetime | None) -> str | None:
    return to_iso(moment) if moment is not None else None
