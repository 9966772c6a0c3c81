"""The agent's local memory: the datasets it is running, and the outbox of what the cloud must
still hear. A SQLite file in the data folder; every change is committed before it counts, so a
kill at any instant loses nothing that was written.

Nothing secret is stored here. Outbox entries for record pages only point at staged files.

The file carries its schema version (:data:`SCHEMA_VERSION`, in ``PRAGMA user_version``): an
earlier version's file is migrated step by step when it is opened, a newer version's refused.
A run's state is changed only through ``dataset_moves.DatasetMoves``, which checks each move.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from agent.errors import ConnectorError
from agent.runtime.outbox_entries import ITEMS, PageEntry, ReportEntry
from agent.support.private_files import create_private_file, make_private_dir
from protocol.agent_requests import TransitionReport, error_text
from protocol.clock import from_iso, to_iso, utc_now

SCHEMA_VERSION = 2
"""The version of ``state.db``'s tables this code reads and writes (``PRAGMA user_version``).

A file with a lower number (0: written before it had one) is brought up to it by the
migrations below, in order, each in the transaction that sets its number; one with a higher
number was written by a newer Connector and is refused (:class:`StateFromNewerVersion`),
untouched.
"""

# The tables as they were before the schema had a version (migration 1 brings a file to them).
_TABLES = (
    """CREATE TABLE IF NOT EXISTS runs (
    dataset_id TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL,
    data_type TEXT NOT NULL,
    lease_seconds REAL NOT NULL,
    status TEXT NOT NULL,            -- the last state entered here
    staged INTEGER NOT NULL DEFAULT 0,  -- records validated and written to the staging folder
    finished INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    fingerprint TEXT,                -- of the book when the run read it
    dropped INTEGER NOT NULL DEFAULT 0,  -- the cloud ended it or took it back: not ours to show
    created TEXT NOT NULL,
    updated TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    kind TEXT NOT NULL,              -- 'report' or 'page' (before version 2: 'transition', 'chunk')
    body TEXT NOT NULL,              -- the entry's JSON (outbox_entries.py)
    created TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS outbox_by_connection ON outbox (connection_id, seq)",
    """CREATE TABLE IF NOT EXISTS run_states (
    dataset_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    error TEXT
)""",
    "CREATE INDEX IF NOT EXISTS run_states_by_dataset ON run_states (dataset_id, at)",
    """CREATE TABLE IF NOT EXISTS synced (
    connection_id TEXT NOT NULL,
    data_type TEXT NOT NULL,
    fingerprint TEXT NOT NULL,       -- of the book, as it was at the last Complete
    PRIMARY KEY (connection_id, data_type)
)""",
)


class StateFromNewerVersion(ConnectorError):
    """``state.db`` was written by a newer Connector, whose tables this version cannot read."""

    title = "Connector's local state is from a newer version"


@dataclass(frozen=True)
class Run:
    dataset_id: str
    connection_id: str
    data_type: str
    lease_seconds: float
    status: str
    staged: bool
    finished: bool
    error: str | None
    updated: str
    fingerprint: str | None
    dropped: bool = False  # the cloud moved it on while it ran here (LocalState.drop)


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    connection_id: str
    dataset_id: str
    item: ReportEntry | PageEntry


class LocalState:
    """Thread-safe access to ``state.db``."""

    def __init__(self, path: Path) -> None:
        make_private_dir(path.parent)
        create_private_file(path)  # SQLite gives the -wal and -shm files the same mode
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        try:
            self._refuse_newer()  # before anything is written, the journal mode included
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives power loss
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def _refuse_newer(self) -> None:
        found = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if found > SCHEMA_VERSION:
            raise StateFromNewerVersion(
                f"{self.path} was written by a newer version of Connector (its format is "
                f"version {found}; this version reads up to {SCHEMA_VERSION}). Install that "
                "newer version again to carry on where it stopped; this file is left as it is."
            )

    def _migrate(self) -> None:
        """Bring the file's tables up to :data:`SCHEMA_VERSION`, or refuse a newer file.

        Each step runs in the transaction that sets its version, so a kill midway leaves the
        file at the last whole step; two processes opening it at once take turns (the second
        finds the work done)."""
        with self._transaction() as db:
            self._refuse_newer()  # again: a newer agent may have migrated it meanwhile
            found = int(db.execute("PRAGMA user_version").fetchone()[0])
            for version in range(found + 1, SCHEMA_VERSION + 1):
                _MIGRATIONS[version](db)
                db.execute(f"PRAGMA user_version = {version}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # Runs --------------------------------------------------------------------------------

    def start_run(
        self, dataset_id: str, connection_id: str, data_type: str, lease_seconds: float
    ) -> None:
        """Note a dataset the cloud handed over.

        The cloud hands out a dataset this agent already finished only after taking it back
        (its lease lapsed: the PC slept, or the agent was down); the reports it then refused
        were dropped (``outbox.py``). So such a run starts afresh from the book, with a Queued
        entry in its timeline where the new attempt begins; replaying what was left of the
        refused attempt would report nothing, and the dataset would go round the queue for ever.
        """
        now = to_iso(utc_now())
        with self._transaction() as db:
            again = db.execute(
                "SELECT 1 FROM runs WHERE dataset_id = ? AND finished = 1", (dataset_id,)
            ).fetchone()
            db.execute(
                "INSERT INTO runs (dataset_id, connection_id, data_type, lease_seconds,"
                " status, created, updated) VALUES (?, ?, ?, ?, 'Queued', ?, ?)"
                " ON CONFLICT (dataset_id) DO UPDATE SET status = 'Queued', staged = 0,"
                " finished = 0, error = NULL, fingerprint = NULL,"
                " lease_seconds = excluded.lease_seconds, updated = excluded.updated"
                " WHERE runs.finished = 1",
                (dataset_id, connection_id, data_type, lease_seconds, now, now),
            )
            if again:
                db.execute(
                    "INSERT INTO run_states (dataset_id, status, at, error) VALUES (?, ?, ?, ?)",
                    (dataset_id, "Queued", now, None),
                )

    def get_run(self, dataset_id: str) -> Run | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM runs WHERE dataset_id = ?", (dataset_id,)
            ).fetchone()
        return _run(row) if row else None

    def unfinished_runs(self, connection_id: str) -> list[Run]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM runs WHERE connection_id = ? AND finished = 0 ORDER BY created",
                (connection_id,),
            ).fetchall()
        return [_run(row) for row in rows]

    def recent_runs(self, connection_id: str, limit: int = 20) -> list[Run]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM runs WHERE connection_id = ? ORDER BY updated DESC LIMIT ?",
                (connection_id, limit),
            ).fetchall()
        return [_run(row) for row in rows]

    def enter(
        self,
        dataset_id: str,
        connection_id: str,
        status: str,
        entries: Sequence[ReportEntry | PageEntry],
        *,
        finished: bool = False,
        error: str | None = None,
        staged: bool = False,
        acknowledged: int | None = None,
    ) -> None:
        """Record that a dataset entered ``status`` and queue what the cloud must be told, in
        one commit (with the outbox entry ``acknowledged``, when the cloud's acknowledgement
        of it is what made the move). Only ``DatasetMoves`` calls this: it checks the move."""
        now = to_iso(utc_now())
        with self._transaction() as db:
            if acknowledged is not None:
                db.execute("DELETE FROM outbox WHERE seq = ?", (acknowledged,))
            self._queue(db, connection_id, dataset_id, entries, now)
            db.execute(
                "UPDATE runs SET status = ?, finished = ?, error = ?, updated = ?,"
                " staged = staged OR ?, dropped = 0 WHERE dataset_id = ?",
                (status, int(finished), error, now, int(staged), dataset_id),
            )
            db.execute(
                "INSERT INTO run_states (dataset_id, status, at, error) VALUES (?, ?, ?, ?)",
                (dataset_id, status, now, error),
            )

    def stage(
        self, dataset_id: str, connection_id: str, entries: Sequence[ReportEntry | PageEntry]
    ) -> None:
        """Queue a run's staged upload (its pages and the report that follows them) and mark
        it staged, in one commit; its state does not change."""
        now = to_iso(utc_now())
        with self._transaction() as db:
            self._queue(db, connection_id, dataset_id, entries, now)
            db.execute(
                "UPDATE runs SET staged = 1, updated = ? WHERE dataset_id = ?", (now, dataset_id)
            )

    @staticmethod
    def _queue(
        db: sqlite3.Connection,
        connection_id: str,
        dataset_id: str,
        entries: Sequence[ReportEntry | PageEntry],
        now: str,
    ) -> None:
        db.executemany(
            "INSERT INTO outbox (connection_id, dataset_id, kind, body, created)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (connection_id, dataset_id, entry.kind, entry.model_dump_json(), now)
                for entry in entries
            ],
        )

    def note_fingerprint(self, dataset_id: str, fingerprint: str | None) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET fingerprint = ? WHERE dataset_id = ?", (fingerprint, dataset_id)
            )

    def abandon(self, dataset_id: str, reason: str) -> None:
        """The cloud will not take more about this dataset: drop what is left to send."""
        with self._transaction() as db:
            db.execute("DELETE FROM outbox WHERE dataset_id = ?", (dataset_id,))
            db.execute(
                "UPDATE runs SET finished = 1, error = ?, updated = ? WHERE dataset_id = ?",
                (reason, to_iso(utc_now()), dataset_id),
            )

    def drop(self, dataset_id: str, cloud_status: str) -> None:
        """The cloud ended this dataset, or took it back, while this PC worked on it: drop
        what is left to send, and record no error, since nothing went wrong here. The run
        takes the state the cloud gave it, so it never counts as a success of this PC's, and
        is marked dropped, so it counts as no result of this PC's either (the cloud's own view
        says what became of it)."""
        now = to_iso(utc_now())
        with self._transaction() as db:
            db.execute("DELETE FROM outbox WHERE dataset_id = ?", (dataset_id,))
            db.execute(
                "UPDATE runs SET status = ?, finished = 1, staged = 0, error = NULL, updated = ?,"
                " dropped = 1 WHERE dataset_id = ?",
                (cloud_status, now, dataset_id),
            )
            db.execute(
                "INSERT INTO run_states (dataset_id, status, at, error) VALUES (?, ?, ?, NULL)",
                (dataset_id, cloud_status, now),
            )

    def timeline(self, dataset_id: str) -> list[tuple[str, str, str | None]]:
        """(status, when, error) for every state the dataset entered here, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT status, at, error FROM run_states WHERE dataset_id = ? ORDER BY rowid",
                (dataset_id,),
            ).fetchall()
        return [(row[0], row[1], row[2]) for row in rows]

    def latest_finished_runs(self, connection_id: str) -> list[Run]:
        """Per data type, the run that finished last: how that type stands on this PC (a run
        the cloud moved on from is none of this PC's results)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM runs AS r WHERE connection_id = ? AND finished = 1 AND rowid = ("
                " SELECT rowid FROM runs WHERE connection_id = r.connection_id"
                " AND data_type = r.data_type AND finished = 1 AND dropped = 0"
                " ORDER BY updated DESC, rowid DESC LIMIT 1)",
                (connection_id,),
            ).fetchall()
        return [_run(row) for row in rows]

    def last_success(self, connection_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT max(updated) FROM runs WHERE connection_id = ? AND status = 'Complete'"
                " AND error IS NULL",
                (connection_id,),
            ).fetchone()
        return str(row[0]) if row and row[0] else None

    def finished_before(self, cutoff: str) -> list[Run]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM runs WHERE finished = 1 AND updated < ?", (cutoff,)
            ).fetchall()
        return [_run(row) for row in rows]

    def forget(self, dataset_ids: list[str]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM runs WHERE dataset_id = ?", [(i,) for i in dataset_ids])
            db.executemany(
                "DELETE FROM run_states WHERE dataset_id = ?", [(i,) for i in dataset_ids]
            )

    # What the cloud already has ------------------------------------------------------------

    def synced_fingerprint(self, connection_id: str, data_type: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT fingerprint FROM synced WHERE connection_id = ? AND data_type = ?",
                (connection_id, data_type),
            ).fetchone()
        return str(row[0]) if row else None

    def remember_synced(self, connection_id: str, data_type: str, fingerprint: str | None) -> None:
        """The cloud holds this data type as of a book with ``fingerprint`` (None: forget)."""
        with self._transaction() as db:
            if fingerprint is None:
                db.execute(
                    "DELETE FROM synced WHERE connection_id = ? AND data_type = ?",
                    (connection_id, data_type),
                )
            else:
                db.execute(
                    "INSERT OR REPLACE INTO synced VALUES (?, ?, ?)",
                    (connection_id, data_type, fingerprint),
                )

    # Outbox ------------------------------------------------------------------------------

    def next_entry(self, connection_id: str) -> OutboxEntry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM outbox WHERE connection_id = ? ORDER BY seq LIMIT 1",
                (connection_id,),
            ).fetchone()
        if row is None:
            return None
        return OutboxEntry(
            seq=row["seq"],
            connection_id=row["connection_id"],
            dataset_id=row["dataset_id"],
            item=ITEMS.validate_json(row["body"]),
        )

    def acknowledge(self, seq: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def pending(self, connection_id: str | None = None) -> int:
        with self._lock:
            if connection_id is None:
                row = self._db.execute("SELECT count(*) FROM outbox").fetchone()
            else:
                row = self._db.execute(
                    "SELECT count(*) FROM outbox WHERE connection_id = ?", (connection_id,)
                ).fetchone()
        return int(row[0])


def _run(row: sqlite3.Row) -> Run:
    return Run(
        dataset_id=row["dataset_id"],
        connection_id=row["connection_id"],
        data_type=row["data_type"],
        lease_seconds=row["lease_seconds"],
        status=row["status"],
        staged=bool(row["staged"]),
        finished=bool(row["finished"]),
        error=row["error"],
        updated=row["updated"],
        fingerprint=row["fingerprint"],
        dropped=bool(row["dropped"]),
    )


# Migrations: the step to each version from the one before ---------------------------------


def _to_1(db: sqlite3.Connection) -> None:
    """The tables as the unversioned state.db had them; a file from before the ``dropped``
    column gets it (a run the cloud moved on from was not marked then: none is)."""
    for statement in _TABLES:
        db.execute(statement)
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    if "dropped" not in columns:
        db.execute("ALTER TABLE runs ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0")


def _to_2(db: sqlite3.Connection) -> None:
    """Typed outbox entries (``outbox_entries.py``), and a staged upload's Complete entered
    when the cloud acknowledges it.

    Before, an entry was a camelCase dict: kind ``transition`` (a report whose ``timestamp``
    was null when it was to be stamped on sending) or ``chunk`` (``{"chunk": n, "file": f}``);
    a run whose pages were staged was marked Complete and finished at once. Now the reports
    are the wire's model with an explicit ``entered_on_sending``, pages are kind ``page``, and
    such a run stays in Processing, unfinished, until its Complete is acknowledged.
    """
    rows = db.execute("SELECT seq, kind, body, created FROM outbox ORDER BY seq").fetchall()
    for seq, kind, body, created in rows:
        old = json.loads(body)
        entry: ReportEntry | PageEntry
        if kind == "chunk":
            entry = PageEntry(page=old["chunk"], file=old["file"])
        else:
            stamped_on_sending = old.get("timestamp") is None
            if old.get("errorMessage") is not None:
                old["errorMessage"] = error_text(old["errorMessage"])
            old["timestamp"] = old.get("timestamp") or to_iso(from_iso(created))
            try:
                report = TransitionReport.model_validate(old)
            except ValidationError:
                # The cloud would have refused it (400), and the run been abandoned: so now.
                _abandon_unreadable(db, seq)
                continue
            entry = ReportEntry(report=report, entered_on_sending=stamped_on_sending)
        db.execute(
            "UPDATE outbox SET kind = ?, body = ? WHERE seq = ?",
            (entry.kind, entry.model_dump_json(), seq),
        )
    waiting = [
        row[0]
        for row in db.execute(
            "SELECT dataset_id FROM runs WHERE status = 'Complete' AND staged = 1"
            " AND EXISTS (SELECT 1 FROM outbox WHERE outbox.dataset_id = runs.dataset_id)"
        )
    ]
    for dataset_id in waiting:
        db.execute(
            "UPDATE runs SET status = 'Processing', finished = 0 WHERE dataset_id = ?",
            (dataset_id,),
        )
        db.execute(
            "DELETE FROM run_states WHERE dataset_id = ? AND status = 'Complete'", (dataset_id,)
        )


def _abandon_unreadable(db: sqlite3.Connection, seq: int) -> None:
    row = db.execute("SELECT dataset_id FROM outbox WHERE seq = ?", (seq,)).fetchone()
    db.execute("DELETE FROM outbox WHERE dataset_id = ?", (row[0],))
    db.execute(
        "UPDATE runs SET finished = 1, error = ? WHERE dataset_id = ?",
        (
            "A status update Connector's earlier version left unsent did not fit the agent "
            "API, so it was not sent. Queue the sync again.",
            row[0],
        ),
    )


_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _to_1, 2: _to_2}
