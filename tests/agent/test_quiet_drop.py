"""A dataset the cloud ended (AuthError after a revocation) or took back (Queued) while this PC
worked on it is dropped quietly: no error for the user to read beside "up to date", a line in the
log, and a running dataset left at once, at the next phase.

Against a real cloud on loopback: the connection is revoked and linked again with the fresh code
in its linkUrl while the dataset runs, as a user re-linking does; the dataset the revocation
ended stays AuthError in the cloud.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.cloud_api.cloud_client import Assignment, CloudClient, moved_on_to
from agent.cloud_api.tokens import TokenKeeper
from agent.runtime.backoff import ErrorStreak
from agent.runtime.dataset_moves import DatasetMoves
from agent.runtime.local_state import LocalState
from agent.runtime.outbox import OutboxSender
from agent.runtime.runner import DatasetRunner
from agent.sources.base import Record
from cloud.local import LocalCloud
from protocol.datatypes import ACCOUNTING_DATA_TYPES
from protocol.states import DatasetStatus
from tests.agent.stub_source import CustomersOnlySource
from tests.support.memory_keyring import memory_store

S = DatasetStatus


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path_factory.mktemp("cloud")) as local:
        yield local


class Linked:
    """A linked connection with the agent's client, local state and outbox."""

    def __init__(self, cloud: LocalCloud, workdir: Path) -> None:
        self.cloud = cloud
        with cloud.client() as api:
            self.company_id = api.post("/companies", json={"name": "Acme"}).json()["id"]
            connection = api.post(
                f"/companies/{self.company_id}/connections", json={"platformKey": "gncs"}
            ).json()
        grant = self._link(connection["linkUrl"])
        self.connection_id = grant.connection_id
        self.keeper = TokenKeeper(self.connection_id, memory_store(), first_grant=grant.tokens)
        self.client = CloudClient(cloud.url, self.keeper)
        self.state = LocalState(workdir / "state.db")
        self.sender = OutboxSender(
            self.state,
            self.client,
            self.connection_id,
            ErrorStreak(self.connection_id, lambda _event: None),
            threading.Event(),
        )
        self.workdir = workdir

    def _link(self, link_url: str) -> Any:
        with CloudClient(self.cloud.url) as anonymous:
            return anonymous.link(link_url.rsplit("/", 1)[1], list(ACCOUNTING_DATA_TYPES))

    def revoke_and_link_again(self) -> None:
        """The API user revokes the agent (its datasets end AuthError); the user links again."""
        base = f"/companies/{self.company_id}/connections/{self.connection_id}"
        with self.cloud.client() as api:
            api.post(f"{base}/revoke").raise_for_status()
            link_url = api.get(base).json()["linkUrl"]
        self.keeper.accept(self._link(link_url).tokens)

    def claim(self, data_type: str = "customers") -> Assignment:
        """The dataset of ``data_type`` the first link queued, handed to this agent."""
        while (assignment := self.client.poll(0)) is not None:
            if assignment.data_type == data_type:
                return assignment
        raise AssertionError(f"no {data_type} dataset was handed out")

    def in_cloud(self, dataset_id: str) -> dict[str, Any]:
        with self.cloud.client() as api:
            body: dict[str, Any] = api.get(
                f"/companies/{self.company_id}/data/history/{dataset_id}"
            ).json()
        return body


@pytest.fixture
def linked(cloud: LocalCloud, tmp_path: Path) -> Linked:
    return Linked(cloud, tmp_path)


def test_a_report_for_a_dataset_the_cloud_ended_is_dropped_quietly(
    linked: Linked, caplog: pytest.LogCaptureFixture
) -> None:
    assignment = linked.claim()
    dataset_id = assignment.dataset_id
    linked.state.start_run(dataset_id, linked.connection_id, "customers", 60)
    DatasetMoves(linked.state, linked.connection_id).enter(dataset_id, S.FETCHING)
    linked.revoke_and_link_again()

    with caplog.at_level(logging.INFO, logger="agent.runtime.outbox"):
        linked.sender.drain()

    run = linked.state.get_run(dataset_id)
    assert run is not None and run.finished
    assert run.error is None  # nothing for the user to read: nothing went wrong here
    assert run.status == "AuthError"  # as the cloud ended it, so never counted a success
    assert run.dropped  # nor counted as a result of this PC's: the status shows no problem
    assert linked.state.latest_finished_runs(linked.connection_id) == []
    assert linked.state.recent_runs(linked.connection_id)[0].error is None
    assert linked.state.last_success(linked.connection_id) is None
    assert linked.state.pending(linked.connection_id) == 0
    dropped = [r for r in caplog.records if dataset_id in r.getMessage()]
    assert [r.levelno for r in dropped] == [logging.INFO]
    assert "AuthError" in dropped[0].getMessage()
    assert linked.in_cloud(dataset_id)["status"] == "AuthError"  # the cloud's word stands


class _EndedWhileFetching(CustomersOnlySource):
    """A book whose reading takes long enough for the cloud to end the dataset meanwhile."""

    def __init__(self, meanwhile: Any) -> None:
        self.meanwhile = meanwhile
        self.mapped = False

    def fetch(self, data_type: str) -> object:
        self.meanwhile()
        return object()

    def map(self, data_type: str, fetched: object) -> Iterable[Record]:
        self.mapped = True
        yield from super().map(data_type, fetched)


def test_a_running_dataset_the_cloud_ended_is_left_at_the_next_phase(linked: Linked) -> None:
    source = _EndedWhileFetching(linked.revoke_and_link_again)
    runner = DatasetRunner(
        linked.connection_id,
        linked.client,
        source,
        linked.state,
        linked.sender,
        linked.workdir / "staging",
    )
    outcome = runner.run(linked.claim())

    assert outcome.status == S.AUTH_ERROR and outcome.error_message is None
    assert not source.mapped  # left at once: the book was not mapped for nothing
    run = linked.state.get_run(outcome.dataset_id)
    assert run is not None and run.finished and run.error is None
    history = [s["status"] for s in linked.in_cloud(outcome.dataset_id)["statusHistory"]]
    assert history == ["Queued", "Fetching", "AuthError"]  # nothing reported after the end


@pytest.mark.parametrize(
    ("current", "moved_on"),
    [
        ("AuthError", S.AUTH_ERROR),
        ("Complete", S.COMPLETE),
        ("InternalError", S.INTERNAL_ERROR),
        ("NotSupported", S.NOT_SUPPORTED),
        ("Queued", S.QUEUED),  # taken back: it is handed out again, and run afresh
        ("Mapping", None),  # still in progress there: a refusal to report
        ("Wandering", None),  # a state this version does not know
        (None, None),
    ],
)
def test_which_409s_mean_the_cloud_has_moved_on(
    current: str | None, moved_on: DatasetStatus | None
) -> None:
    assert moved_on_to(current) == moved_on


def test_a_state_db_from_before_gains_the_dropped_mark(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE runs (dataset_id TEXT PRIMARY KEY, connection_id TEXT NOT NULL,"
            " data_type TEXT NOT NULL, lease_seconds REAL NOT NULL, status TEXT NOT NULL,"
            " staged INTEGER NOT NULL DEFAULT 0, finished INTEGER NOT NULL DEFAULT 0,"
            " error TEXT, fingerprint TEXT, created TEXT NOT NULL, updated TEXT NOT NULL)"
        )
        old.execute(
            "INSERT INTO runs VALUES ('d1', 'c1', 'customers', 60, 'Complete', 0, 1, NULL,"
            " NULL, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
        )
    state = LocalState(path)
    (run,) = state.latest_finished_runs("c1")
    assert run.status == "Complete" and not run.dropped


class _RevokedOnceStaged:
    """The outbox's sender, but the connection is revoked and linked again just before the
    first drain that finds the pages staged: the cloud refuses Processing and Complete."""

    def __init__(self, linked: Linked, dataset_id: str) -> None:
        self.linked = linked
        self.dataset_id = dataset_id
        self.revoked = False

    def drain(self) -> None:
        run = self.linked.state.get_run(self.dataset_id)
        if not self.revoked and run is not None and run.staged:
            self.revoked = True
            self.linked.revoke_and_link_again()
        self.linked.sender.drain()


def test_a_run_whose_last_reports_are_refused_ends_as_the_cloud_ended_it(
    linked: Linked,
) -> None:
    assignment = linked.claim()
    sender = _RevokedOnceStaged(linked, assignment.dataset_id)
    runner = DatasetRunner(
        linked.connection_id,
        linked.client,
        CustomersOnlySource(),
        linked.state,
        sender,  # type: ignore[arg-type]
        linked.workdir / "staging",
    )
    outcome = runner.run(assignment)

    assert sender.revoked  # the refusal came where it was meant to: after staging
    assert outcome.status == S.AUTH_ERROR  # not the Complete it had recorded before sending
    assert outcome.error_message is None  # nothing went wrong on this PC
    assert linked.in_cloud(assignment.dataset_id)["status"] == "AuthError"
    assert linked.state.last_success(linked.connection_id) is None
