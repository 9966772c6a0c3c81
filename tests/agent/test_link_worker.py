"""One link's loop with a scripted cloud: no wait after a dataset, an idle exit, backoff, and
a lost credential stopping the link with an event, only once the cloud has confirmed it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.cloud_api.cloud_client import Assignment
from agent.cloud_api.cloud_view import CloudView
from agent.errors import AuthorizationLost, CloudUnavailable
from agent.events import Event, LinkStopped, NeedsReauthorization
from agent.runtime.backoff import ErrorStreak
from agent.runtime.link_worker import LinkWorker
from agent.runtime.local_state import LocalState
from agent.runtime.outbox import OutboxSender
from agent.runtime.runner import Outcome
from agent.runtime.sync_gate import FOREVER
from agent.support.config import AgentConfig, Link
from protocol.agent_api import HeartbeatAnswer, StatusAnswer
from protocol.clock import to_iso
from protocol.states import DatasetStatus
from tests.agent.status_answers import status_answer

LINK = Link("http://127.0.0.1:1", "company", "Acme", "link", "/books/acme.gnucash", "2026")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class ScriptedCloud:
    """Answers polls from a script: an Assignment, None (an empty long poll, which uses up its
    wait), or an exception to raise."""

    def __init__(self, script: list[Any], clock: Clock, statuses: list[Any] | None = None) -> None:
        self.script = script
        self.clock = clock
        self.waits: list[float] = []
        self.heartbeats: list[str | None] = []
        self.views_asked: list[float] = []  # the monotonic moments of each status call
        # What each status call meets, in turn: an exception to raise, or None for the usual
        # answer (which every call gets once these run out).
        self.statuses = list(statuses or [])

    def heartbeat(
        self, data_types: list[str], *, wait_reason: str | None = None
    ) -> HeartbeatAnswer:
        self.heartbeats.append(wait_reason)
        return HeartbeatAnswer(
            serverTime="2026-01-01T00:00:00Z", pollWaitSeconds=20, leaseSeconds=60
        )

    def status(self) -> StatusAnswer:
        self.views_asked.append(self.clock.now)
        step = self.statuses.pop(0) if self.statuses else None
        if isinstance(step, Exception):
            raise step
        return status_answer(
            {"customers": {"dataType": "customers", "currentStatus": "Complete"}},
            requested={"customers": "2026-01-01T00:00:00Z"},
            serverTime="2026-01-01T00:00:01Z",
        )

    def poll(self, wait_seconds: float) -> Assignment | None:
        self.waits.append(wait_seconds)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        if step is None:
            self.clock.now += wait_seconds
        return step  # type: ignore[no-any-return]


class RecordingRunner:
    def __init__(self) -> None:
        self.ran: list[str] = []
        self.idled: list[int] = []
        self.sent_pending = 0

    def run(self, assignment: Assignment) -> Outcome:
        self.ran.append(assignment.dataset_id)
        return Outcome(assignment.dataset_id, assignment.data_type, DatasetStatus.COMPLETE)

    def idle(self) -> None:
        self.idled.append(len(self.ran))  # how many datasets had run when it went idle

    def send_pending(self) -> None:
        self.sent_pending += 1  # the outbox of these tests is empty: only the calls count


class CountingWake(threading.Event):
    """A wake event whose waits return at once and are remembered."""

    def __init__(self) -> None:
        super().__init__()
        self.waited: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waited.append(timeout or 0.0)
        return False


def _worker(
    tmp_path: Path,
    script: list[Any],
    *,
    idle_limit: float | None = 5.0,
    statuses: list[Any] | None = None,
    keep_view: Callable[[CloudView], None] = lambda _view: None,
    settings: Callable[[], AgentConfig] = AgentConfig,
    stopping: threading.Event | None = None,
) -> tuple[Any, ...]:
    clock = Clock()
    cloud = ScriptedCloud(script, clock, statuses)
    runner = RecordingRunner()
    state = LocalState(tmp_path / "state.db")
    events: list[Event] = []
    streak = ErrorStreak("link", events.append, random_fraction=lambda: 1.0)
    stopping, wake = stopping or threading.Event(), CountingWake()
    worker = LinkWorker(
        LINK,
        cloud,  # type: ignore[arg-type]
        runner,  # type: ignore[arg-type]
        state,
        streak,
        data_types=["customers"],
        settings=settings,
        publish=events.append,
        stopping=stopping,
        wake=wake,
        idle_limit=idle_limit,
        monotonic=clock,
        keep_view=keep_view,
    )
    return worker, cloud, runner, wake, events


def _dataset(n: int) -> Assignment:
    return Assignment(f"d{n}", "customers", "2026-01-01T00:00:00Z", 60)


def test_no_wait_after_a_dataset_then_an_idle_exit(tmp_path: Path) -> None:
    worker, cloud, runner, wake, _events = _worker(tmp_path, [_dataset(1), _dataset(2), None])
    worker.run()
    assert runner.ran == ["d1", "d2"]
    # The source let go of its snapshot on the empty poll (not between the two datasets, which
    # share it), and again as the worker stopped.
    assert runner.idled == [2, 2]
    assert wake.waited == []  # never slept between datasets
    assert cloud.waits == [5.0, 5.0, 5.0]  # capped by the idle limit (the server allows 20)
    assert cloud.heartbeats == [None]  # told the cloud once who we are; not on every poll


def test_backoff_while_the_cloud_is_away_then_reconnected(tmp_path: Path) -> None:
    script: list[Any] = [CloudUnavailable("down")] * 3 + [_dataset(1), None]
    worker, _cloud, runner, wake, events = _worker(tmp_path, script)
    worker.run()
    assert wake.waited == [1.0, 2.0, 4.0]
    assert runner.ran == ["d1"]
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["CloudUnreachable", "CloudReconnected"]


def test_a_refused_credential_stops_the_link_with_an_event(tmp_path: Path) -> None:
    worker, cloud, _runner, wake, events = _worker(
        tmp_path,
        [AuthorizationLost("revoked", reason="revoked")],
        idle_limit=None,
        # The view fetched on start, then the confirmation.
        statuses=[None, AuthorizationLost("revoked, still", reason="revoked")],
    )
    result = worker.run()
    # Told only once the cloud refused again, after a short wait; in the cloud's latest words.
    assert len(cloud.views_asked) == 2
    assert len(wake.waited) == 1 and wake.waited[0] > 0
    assert result.needs_reauthorization == "revoked, still"
    assert events == [
        NeedsReauthorization("link", "Acme", "revoked, still"),
        LinkStopped("link", "needs re-authorization"),
    ]


def test_a_refusal_the_cloud_does_not_confirm_is_never_told(tmp_path: Path) -> None:
    # Another process had just renewed the credential, say: asked again, the cloud answers.
    script: list[Any] = [AuthorizationLost("gone?", reason="unknown"), _dataset(1), None]
    worker, _cloud, runner, wake, events = _worker(tmp_path, script)
    result = worker.run()
    assert len(wake.waited) == 1 and wake.waited[0] > 0  # asked again after a short wait
    assert runner.ran == ["d1"]  # and the link carried on
    assert result.needs_reauthorization is None and result.error is None
    assert not [e for e in events if isinstance(e, NeedsReauthorization | LinkStopped)]


def test_a_refusal_that_cannot_be_checked_is_waited_out_not_told(tmp_path: Path) -> None:
    script: list[Any] = [AuthorizationLost("gone?", reason="revoked"), _dataset(1), None]
    worker, _cloud, runner, _wake, events = _worker(
        tmp_path, script, statuses=[None, CloudUnavailable("down")]
    )
    result = worker.run()
    assert runner.ran == ["d1"]
    assert result.needs_reauthorization is None
    assert [type(e).__name__ for e in events] == ["CloudUnreachable", "CloudReconnected"]


def test_the_cloud_view_is_fetched_on_start_after_each_dataset_and_each_minute(
    tmp_path: Path,
) -> None:
    kept: list[CloudView] = []  # the facade keeps each view and tells the observers
    worker, cloud, runner, _wake, _events = _worker(
        tmp_path, [_dataset(1), *[None] * 8], idle_limit=130.0, keep_view=kept.append
    )
    worker.run()
    assert runner.ran == ["d1"]
    # On start; after the dataset (the same instant: no poll waited in between); then once a
    # minute of idle long polls (20 s each), never on every poll.
    assert cloud.views_asked == [0.0, 0.0, 60.0, 120.0]
    assert len(kept) == 4
    assert kept[-1].connection_status == "Linked"
    (customers,) = kept[-1].data_types
    assert customers.status == DatasetStatus.COMPLETE


def test_a_pause_given_while_the_worker_reads_the_gate_is_the_clouds_last_word(
    tmp_path: Path,
) -> None:
    """The worker reads the gate (open), the user pauses and the facade tells the cloud, then
    the worker's own heartbeat goes out: it must not tell the cloud it takes work after that."""
    paused = AgentConfig(paused_until=to_iso(FOREVER))
    current = [AgentConfig()]
    stopping = threading.Event()
    worker_thread = threading.current_thread()
    reads_on_the_worker = 0

    def settings() -> AgentConfig:
        nonlocal reads_on_the_worker
        read = current[0]
        if threading.current_thread() is worker_thread:
            reads_on_the_worker += 1
            if reads_on_the_worker == 1:  # the user pauses right after the worker's read
                current[0] = paused
                facade = threading.Thread(target=worker.tell_gate)
                facade.start()
                facade.join(timeout=0.5)  # done at once, unless it waits for this heartbeat
            elif reads_on_the_worker == 3:
                stopping.set()  # the worker has seen the pause: enough
        return read

    worker, cloud, _runner, _wake, _events = _worker(
        tmp_path, [None], idle_limit=None, settings=settings, stopping=stopping
    )
    worker.run()
    reason = "Paused on the connector until the user resumes it"
    told = cloud.heartbeats
    assert reason in told and None not in told[told.index(reason) :], told
    assert told[-1] == reason, told


def test_the_worker_says_which_data_type_it_is_running(tmp_path: Path) -> None:
    """The facade's graceful stop asks the worker this typed query (no reading of its inner
    attributes): the data type while a dataset runs, None between datasets."""
    worker, _cloud, runner, _wake, _events = _worker(tmp_path, [_dataset(1), None])
    seen_while_running: list[str | None] = []
    run: Callable[[Assignment], Outcome] = runner.run

    def observing_run(assignment: Assignment) -> Outcome:
        seen_while_running.append(worker.running_data_type)
        return run(assignment)

    runner.run = observing_run
    assert worker.running_data_type is None
    worker.run()
    assert seen_while_running == ["customers"]
    assert worker.running_data_type is None


def test_the_runner_is_the_one_that_drains_the_outbox(tmp_path: Path) -> None:
    """The worker holds no outbox sender: it asks the runner to send what is pending, before
    resuming runs and at each turn (one owner of when the outbox is drained)."""
    worker, _cloud, runner, _wake, _events = _worker(tmp_path, [_dataset(1), None])
    worker.run()
    assert runner.ran == ["d1"]
    assert runner.sent_pending >= 2  # before resuming, then at least once per turn
    assert not any(isinstance(value, OutboxSender) for value in vars(worker).values())
