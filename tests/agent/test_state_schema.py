"""``state.db``'s schema version: a file from before it had one is migrated, keeping its runs and
outbox (old ``chunk`` entries included, which still drain to a real cloud); a file from a newer
version is refused, untouched, with a message a person can act on."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.tokens import TokenKeeper
from agent.runtime.backoff import ErrorStreak
from agent.runtime.local_state import SCHEMA_VERSION, LocalState, StateFromNewerVersion
from agent.runtime.outbox import OutboxSender
from agent.runtime.outbox_entries import PageEntry, ReportEntry
from cloud.local import LocalCloud
from protocol.agent_requests import TransitionReport
from protocol.clock import to_iso, utc_now
from protocol.states import DatasetStatus
from tests.agent.runtime_harness import agent_home, new_company
from tests.support.memory_keyring import memory_store

S = DatasetStatus

# The tables exactly as the code before the schema version wrote them (no user_version), and
# the older form of ``runs`` without the ``dropped`` column, which the ad hoc migration added.
UNVERSIONED = """
CREATE TABLE runs (
    dataset_id TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL,
    data_type TEXT NOT NULL,
    lease_seconds REAL NOT NULL,
    status TEXT NOT NULL,
    staged INTEGER NOT NULL DEFAULT 0,
    finished INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    fingerprint TEXT,
    {dropped}
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX outbox_by_connection ON outbox (connection_id, seq);
CREATE TABLE run_states (
    dataset_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    error TEXT
);
CREATE INDEX run_states_by_dataset ON run_states (dataset_id, at);
CREATE TABLE synced (
    connection_id TEXT NOT NULL,
    data_type TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (connection_id, data_type)
);
"""


def _old_state_db(
    path: Path, connection_id: str, dataset_id: str, page: Path, *, with_dropped: bool = True
) -> None:
    """What the old code left when it was stopped after staging an upload: the run marked
    Complete and finished, a ``chunk`` entry and a Complete ``transition`` whose timestamp is
    null (stamped when sent); and an older finished run with its synced fingerprint."""
    now = to_iso(utc_now())
    dropped = "dropped INTEGER NOT NULL DEFAULT 0," if with_dropped else ""
    db = sqlite3.connect(path)
    db.executescript(UNVERSIONED.format(dropped=dropped))
    runs = "(dataset_id, connection_id, data_type, lease_seconds, status, staged, finished,"
    db.execute(
        f"INSERT INTO runs {runs} created, updated) VALUES (?, ?, 'customers', 60,"
        " 'Complete', 1, 1, ?, ?)",
        (dataset_id, connection_id, now, now),
    )
    db.execute(
        f"INSERT INTO runs {runs} created, updated) VALUES ('older', ?, 'suppliers', 60,"
        " 'Complete', 0, 1, ?, ?)",
        (connection_id, now, now),
    )
    for status in ("Queued", "Fetching", "Mapping", "Validating", "Processing", "Complete"):
        db.execute("INSERT INTO run_states VALUES (?, ?, ?, NULL)", (dataset_id, status, now))
    db.execute("INSERT INTO synced VALUES (?, 'suppliers', 'abc')", (connection_id,))
    entries = [
        ("chunk", {"chunk": 0, "file": str(page)}),
        (
            "transition",
            {
                "status": "Complete",
                "timestamp": None,
                "chunks": 1,
                "recordCount": 1,
                "mode": "full",
                "deletedIds": [],
            },
        ),
    ]
    db.executemany(
        "INSERT INTO outbox (connection_id, dataset_id, kind, body, created)"
        " VALUES (?, ?, ?, ?, ?)",
        [(connection_id, dataset_id, kind, json.dumps(body), now) for kind, body in entries],
    )
    db.commit()
    db.close()


@pytest.mark.parametrize("with_dropped", [True, False], ids=["unversioned", "before-dropped"])
def test_a_state_db_from_before_the_schema_version_keeps_its_runs_and_outbox(
    tmp_path: Path, with_dropped: bool
) -> None:
    path = tmp_path / "state.db"
    page = tmp_path / "page-00000.json"
    _old_state_db(path, "conn", "d1", page, with_dropped=with_dropped)

    state = LocalState(path)

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [row[0] for row in db.execute("SELECT kind FROM outbox ORDER BY seq")] == [
            "page",
            "report",
        ]
    older = state.get_run("older")
    assert older is not None and older.status == "Complete" and not older.dropped
    assert state.synced_fingerprint("conn", "suppliers") == "abc"
    # Its upload is not acknowledged: it waits in Processing, unfinished, to be resumed.
    run = state.get_run("d1")
    assert run is not None and run.status == "Processing" and run.staged and not run.finished
    assert [status for status, _at, _error in state.timeline("d1")][-1] == "Processing"
    first = state.next_entry("conn")
    assert first is not None and first.item == PageEntry(page=0, file=str(page))
    state.acknowledge(first.seq)
    second = state.next_entry("conn")
    assert second is not None and isinstance(second.item, ReportEntry)
    assert second.item.entered_on_sending  # the null timestamp, said explicitly
    assert second.item.report.status == S.COMPLETE and second.item.report.chunks == 1
    state.close()
    LocalState(path).close()  # opening it again changes nothing


def test_old_chunk_entries_still_drain_to_the_cloud(tmp_path: Path) -> None:
    """A state.db the old code left with a staged upload (a ``chunk`` entry, a Complete with a
    null timestamp) is sent after the upgrade: the cloud publishes the page, and the run
    enters Complete when the cloud acknowledges it."""
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane")
        with CloudClient(cloud.url) as anonymous:
            grant = anonymous.link(company.link_url.rsplit("/", 1)[1], ["customers"])
        keeper = TokenKeeper(grant.connection_id, memory_store(), first_grant=grant.tokens)
        with CloudClient(cloud.url, keeper) as client:
            dataset = client.poll(0)
            assert dataset is not None
            for status in (S.FETCHING, S.MAPPING, S.VALIDATING, S.PROCESSING):
                client.report(
                    dataset.dataset_id, TransitionReport(status=status, timestamp=utc_now())
                )
            page = tmp_path / "page-00000.json"
            page.write_text('[{"id": "c1", "customerName": "A", "status": "Active"}]')
            path = tmp_path / "state.db"
            _old_state_db(path, grant.connection_id, dataset.dataset_id, page)
            before = utc_now()

            state = LocalState(path)
            streak = ErrorStreak(grant.connection_id, lambda _event: None)
            OutboxSender(state, client, grant.connection_id, streak, threading.Event()).drain()

        assert state.pending() == 0
        run = state.get_run(dataset.dataset_id)
        assert run is not None and run.status == "Complete" and run.finished and not run.error
        history = company.datasets("customers")[0]
        assert history["status"] == "Complete"
        complete = history["statusHistory"][-1]
        assert complete["status"] == "Complete"
        assert complete["timestamp"] >= to_iso(before)  # stamped when it was sent
        assert [c["id"] for c in company.records("customers")] == ["c1"]


def test_a_state_db_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE runs (dataset_id TEXT PRIMARY KEY, shape TEXT)")
        db.execute("INSERT INTO runs VALUES ('d1', 'a newer one')")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    with pytest.raises(StateFromNewerVersion) as refused:
        LocalState(path)

    assert str(path) in refused.value.message
    assert "newer version of Connector" in refused.value.message
    assert "Install that newer version again" in refused.value.message
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # nothing lost or changed
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT shape FROM runs").fetchall() == [("a newer one",)]


def test_the_cli_says_what_to_do_with_a_newer_state_db(tmp_path: Path) -> None:
    """``connector status`` on a data folder a newer version wrote: its title and message,
    no traceback."""
    paths = agent_home(tmp_path)
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(paths.data_dir / "state.db") as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    shown = subprocess.run(
        [sys.executable, "-m", "agent.cli", "status"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CONNECTOR_HOME": str(paths.config_dir.parent)},
    )
    assert shown.returncode != 0
    assert "Traceback" not in shown.stderr
    assert StateFromNewerVersion.title in shown.stdout + shown.stderr
    assert "newer version of Connector" in shown.stdout + shown.stderr
