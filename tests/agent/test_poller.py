"""The poll loop's manners, with a scripted cloud and no real waiting."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from agent.cloud_client import Assignment
from agent.errors import AuthorizationLost, CloudUnavailable
from agent.poller import BACKOFF_CAP_SECONDS, LinkPoller
from agent.runner import Outcome
from agent.states import DatasetStatus


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class ScriptedClient:
    """Answers polls from a script: an Assignment, None, or an exception to raise.

    An empty answer (None) uses up the whole wait on ``clock``, as a real long poll does.
    """

    def __init__(self, script: list[Any], clock: Clock) -> None:
        self.script = script
        self.clock = clock
        self.waits: list[float] = []
        self.heartbeats: list[list[str]] = []

    def heartbeat(self, data_types: list[str]) -> dict[str, Any]:
        self.heartbeats.append(data_types)
        return {}

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

    def run(self, assignment: Assignment) -> Outcome:
        self.ran.append(assignment.dataset_id)
        return Outcome(assignment.dataset_id, assignment.data_type, DatasetStatus.COMPLETE)


class FakeStop(threading.Event):
    """A stop event whose waits return at once and are remembered."""

    def __init__(self) -> None:
        super().__init__()
        self.waited: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waited.append(timeout or 0.0)
        return False


def _dataset(n: int) -> Assignment:
    return Assignment(f"d{n}", "customers", "2026-01-01T00:00:00Z", 60)


def _poller(script: list[Any], *, idle_limit: float | None = None) -> tuple[Any, ...]:
    clock = Clock()
    client, runner, stop = ScriptedClient(script, clock), RecordingRunner(), FakeStop()
    poller = LinkPoller(
        "link",
        client,  # type: ignore[arg-type]
        runner,  # type: ignore[arg-type]
        data_types=["customers"],
        stop=stop,
        idle_limit=idle_limit,
        monotonic=clock,
        random_fraction=lambda: 1.0,
    )
    return poller, client, runner, stop


def test_backoff_doubles_up_to_the_cap_and_honours_retry_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures: list[Any] = [CloudUnavailable("down") for _ in range(12)]
    told = CloudUnavailable("busy").with_retry_after("7")
    script = [*failures, told, _dataset(1), AuthorizationLost("revoked")]
    poller, _client, runner, stop = _poller(script)
    with caplog.at_level(logging.DEBUG):
        result = poller.run()
    assert stop.waited[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(stop.waited) == BACKOFF_CAP_SECONDS
    assert stop.waited[-1] == 7.0
    assert runner.ran == ["d1"]
    assert result.needs_reauthorization == "revoked"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("down" in m for m in warnings) == 1  # only the first error of the streak
    assert sum("reconnected" in m for m in warnings) == 1


def test_no_wait_after_a_dataset_and_an_idle_exit() -> None:
    poller, client, runner, stop = _poller([_dataset(1), _dataset(2), None], idle_limit=5.0)
    poller.run()
    assert runner.ran == ["d1", "d2"]
    assert stop.waited == []  # never slept between datasets
    # Datasets arrive at once (no time passes), so each poll may wait the whole idle limit;
    # the empty third poll uses it up, and the loop ends without a fourth.
    assert client.waits == [5.0, 5.0, 5.0]
    # The cloud learns what the agent reads before the first poll, and not on every poll.
    assert client.heartbeats == [["customers"]]
