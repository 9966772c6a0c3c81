"""The reference cloud's tables (SQLAlchemy Core), and opening a database from its URL.

SQLite is the default (``sqlite:///ABS/PATH.db``); the same tables run on PostgreSQL when one
machine is not enough. Timestamps are stored as ISO 8601 text in UTC, exactly as served.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    text,
)

from cloud.store import migrations, server_secret
from protocol.clock import Clock, utc_now

metadata = MetaData()

companies = Table(
    "companies",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("tags", Text),  # JSON object of string -> string
    Column("created", String(32), nullable=False),
)

connections = Table(
    "connections",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("company_id", ForeignKey("companies.id", ondelete="CASCADE"), nullable=False),
    Column("platform_key", String(4), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created", String(32), nullable=False),
    Column("last_sync", String(32)),
    # The one-time link code travels in the linkUrl; it is spent by the agent's link exchange.
    # Only its hash is kept, and the nonce it is derived from (cloud/store/link_codes.py).
    Column("link_nonce", String(32)),
    Column("link_code_hash", String(64)),
    Column("link_code_expires", String(32)),
    Column("agent_last_seen", String(32)),
    Column("agent_version", Text),
    Column("agent_hostname", Text),
    Column("agent_data_types", Text),  # JSON list the agent says it can read; NULL = unknown
    Column("agent_wait_reason", Text),  # why the agent is not taking datasets (paused, ...)
    Column("status_reason", Text),  # why the connection is Deauthorized, in words for people
    Column("status_changed", String(32)),  # when it last changed status (NULL: not since v6)
    Index("ux_connections_link_code_hash", "link_code_hash", unique=True),
)

# A token family: the tokens one link began, each refresh replacing the pair before it. It
# ends when the connection's authorization is lost, keeping why, so that any token of it is
# refused with that reason (cloud/store/agent_tokens.py).
token_families = Table(
    "token_families",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("connection_id", ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
    Column("started", String(32), nullable=False),
    Column("ended", String(32)),
    Column("end_reason", String(16)),  # revoked, unlinked, expired, reused
    Index("ix_token_families_connection", "connection_id"),
)

# Only hashes of the agent's tokens are kept: a leaked database cannot impersonate an agent.
agent_tokens = Table(
    "agent_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("family_id", ForeignKey("token_families.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),  # "access" or "refresh"
    Column("expires", String(32), nullable=False),
    # When a refresh replaced it; NULL while it is the family's current token. Replaced tokens
    # are kept until they would have expired, so that reuse of one is recognised.
    Column("replaced", String(32)),
    # A replaced refresh token: until then, presenting it again is a retry (its answer was
    # lost) and gets the same successor; after, it is reuse.
    Column("grace_until", String(32)),
    Index("ix_agent_tokens_family", "family_id", "replaced"),
    # The sweep looks for what expired every few seconds: only those rows, not the table.
    Index("ix_agent_tokens_expires", "expires"),
)

sync_settings = Table(
    "sync_settings",
    metadata,
    Column("scope", String(36), primary_key=True),  # "profile", or a company id
    Column("data_type", String(64), primary_key=True),
    Column("fetch_on_first_link", Boolean, nullable=False),
    Column("sync_schedule", Integer, nullable=False),  # hours; 0 = never on a schedule
    Column("sync_order", Integer, nullable=False),
    Column("sync_from_utc", String(32)),
    Column("sync_from_window", Integer),
    Column("months_to_sync", Integer),
    Column("is_locked", Boolean),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("company_id", ForeignKey("companies.id", ondelete="CASCADE"), nullable=False),
    Column("connection_id", ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
    Column("data_type", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("requested", String(32), nullable=False),
    # Datasets queued in one request share ``requested``; this keeps them in the order asked.
    Column("queue_position", Integer, nullable=False),
    Column("completed", String(32)),
    Column("progress", Integer, nullable=False, default=0),
    Column("error_message", Text),
    Column("status_description", Text),
    # Set when an agent claims the dataset; a claim lapses (and the dataset is offered again)
    # when the agent neither reports nor renews before this time.
    Column("lease_until", String(32)),
    Column("attempts", Integer, nullable=False, default=0),  # claims that lapsed mid-run
    Index("ix_datasets_connection_status", "connection_id", "status"),
    Index("ix_datasets_company_type", "company_id", "data_type"),
)

dataset_transitions = Table(
    "dataset_transitions",
    metadata,
    Column("dataset_id", ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("status", String(32), nullable=False),
    Column("timestamp", String(32), nullable=False),
)

staged_chunks = Table(
    "staged_chunks",
    metadata,
    Column("dataset_id", ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("payload", Text, nullable=False),  # JSON list of records
)

records = Table(
    "records",
    metadata,
    Column("company_id", ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True),
    Column("data_type", String(64), primary_key=True),
    Column("record_id", Text, primary_key=True),
    Column("connection_id", String(36), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON (protocol/record_hash.py)
    # The SHA-256 of the payload, what the agent's baseline compares with. Set on every write
    # since schema version 2; NULL-able only because ALTER TABLE adds it to older databases.
    Column("hash", String(64)),
    Column("modified_date", String(32), nullable=False),
    Column("is_deleted", Boolean, nullable=False, default=False),
    Column("position", Integer, nullable=False),  # order the source gave, for stable paging
    # One connection's records of a type, in order: where a delta's new records go (the
    # highest position) without reading every payload of a large type.
    Index("ix_records_connection_position", "company_id", "data_type", "connection_id", "position"),
)


class Database:
    """The engine, the clock, and transactions: every write in one transaction under one lock.

    The lock makes a claim, a transition or a publication all-or-nothing with respect to each
    other inside one server process; SQLite allows a single writer anyway. Across processes
    (PostgreSQL) the same statements run inside the database's own transactions.
    """

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock
        self._write_lock = threading.Lock()

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @property
    def shared(self) -> bool:
        """True when other server processes may write to the same database (PostgreSQL)."""
        return self.engine.dialect.name == "postgresql"

    def serialise_connection(self, conn: Connection, connection_id: str) -> None:
        """Within this transaction, be the only writer for one connection's datasets.

        The process lock does this inside one server; across servers sharing PostgreSQL a
        transaction-scoped advisory lock does, so two servers never hand one dataset out twice
        or queue the same type twice.
        """
        if self.shared:
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": connection_id},
            )


def database_url(url: str) -> str:
    """Accept ``postgresql://`` as operators write it; SQLAlchemy needs the driver named."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def open_database(url: str) -> Engine:
    """Create the engine for ``url``, make sure every table exists and is up to date."""
    url = database_url(url)
    engine_options: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # The server's worker threads share the engine; writes are serialised by the store.
        engine_options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **engine_options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite_connection)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Servers starting together must not race to create the same tables.
            conn.execute(text("SELECT pg_advisory_xact_lock(7325001)"))
        fresh = not inspect(conn).has_table("records")
        metadata.create_all(conn)
        migrations.upgrade(conn, fresh=fresh)
        server_secret.ensure(conn)  # a fresh database is stamped at the latest version
    return engine


def _tune_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while the long poll's claim writes; foreign keys make deletes cascade.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
