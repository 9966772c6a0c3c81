"""The reference cloud's tables (SQLAlchemy Core), and opening a database from its URL.

SQLite is the default (``sqlite:///ABS/PATH.db``); the same tables run on PostgreSQL when one
machine is not enough. Timestamps are stored as ISO 8601 text in UTC, exactly as served.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
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
)

metadata = MetaData()

companies = Table(
    "companies",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text),
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
    Column("link_code", String(16), unique=True),
    Column("link_code_expires", String(32)),
    # Only a hash of the agent's token is kept: a leaked database cannot impersonate an agent.
    Column("agent_token_hash", String(64), unique=True),
    Column("agent_last_seen", String(32)),
    Column("agent_version", Text),
    Column("agent_hostname", Text),
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
    Column("payload", Text, nullable=False),  # JSON object in the standard model
    Column("modified_date", String(32), nullable=False),
    Column("is_deleted", Boolean, nullable=False, default=False),
    Column("position", Integer, nullable=False),  # order the source gave, for stable paging
)


def open_database(url: str) -> Engine:
    """Create the engine for ``url`` and make sure every table exists."""
    engine_options: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # The server's worker threads share the engine; writes are serialised by the store.
        engine_options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **engine_options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite_connection)
    metadata.create_all(engine)
    return engine


def _tune_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while the long poll's claim writes; foreign keys make deletes cascade.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
