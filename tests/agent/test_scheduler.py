"""The agent's clockwork: noticing a sleep, and cleaning up after finished runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.runtime.local_state import LocalState
from agent.runtime.scheduler import AgentScheduler
from agent.support.config import Paths


class Clocks:
    def __init__(self) -> None:
        self.wall = datetime(2026, 1, 1, tzinfo=UTC)
        self.mono = 1000.0

    def advance(self, wall: float, mono: float) -> None:
        self.wall += timedelta(seconds=wall)
        self.mono += mono


def _scheduler(
    tmp_path: Path,
    clocks: Clocks,
    woken: list[int],
    network: list[bool] | None = None,
    slept: list[float] | None = None,
) -> AgentScheduler:
    paths = Paths.resolve({"CONNECTOR_HOME": str(tmp_path)})
    answers = iter(network or [])
    return AgentScheduler(
        LocalState(tmp_path / "state.db"),
        paths,
        wake_all=lambda: woken.append(1),
        network_ready=lambda: next(answers, True),
        clock=lambda: clocks.wall,
        monotonic=lambda: clocks.mono,
        sleep=(slept if slept is not None else []).append,
        jitter=lambda: 0.5,
    )


def test_a_jump_of_the_wall_clock_past_the_monotonic_one_wakes_the_links(tmp_path: Path) -> None:
    clocks, woken = Clocks(), list[int]()
    scheduler = _scheduler(tmp_path, clocks, woken)
    clocks.advance(wall=15, mono=15)
    assert scheduler.check_clock() is False
    clocks.advance(wall=3600, mono=15)  # the PC slept for an hour
    assert scheduler.check_clock() is True
    assert woken == [1]
    clocks.advance(wall=15, mono=15)
    assert scheduler.check_clock() is False


def test_after_a_sleep_it_waits_for_the_network_then_jitters(tmp_path: Path) -> None:
    clocks, woken, slept = Clocks(), list[int](), list[float]()
    scheduler = _scheduler(tmp_path, clocks, woken, network=[False, False, True], slept=slept)
    clocks.advance(wall=3600, mono=15)
    assert scheduler.check_clock() is True
    assert slept == [5.0, 5.0, 5.0]  # two waits for the network, then half the jitter range
    assert woken == [1]


def test_housekeeping_forgets_old_runs_and_their_staged_pages(tmp_path: Path) -> None:
    clocks, woken = Clocks(), list[int]()
    scheduler = _scheduler(tmp_path, clocks, woken)
    state = LocalState(tmp_path / "state.db")
    state.start_run("old", "link", "customers", 60)
    state.enter("old", "link", "Complete", [], finished=True)
    state.start_run("live", "link", "customers", 60)
    staged = Paths.resolve({"CONNECTOR_HOME": str(tmp_path)}).dataset_staging_dir("link", "old")
    staged.mkdir(parents=True)
    (staged / "page-00000.json").write_text("[]")
    clocks.wall = datetime.now(UTC) + timedelta(days=31)
    scheduler.housekeeping()
    assert state.get_run("old") is None
    assert state.get_run("live") is not None
    assert not staged.exists()


def test_housekeeping_deletes_nothing_outside_the_staging_folder(tmp_path: Path) -> None:
    # Ids an older version took from a hostile cloud and kept in its state: they name no file.
    home = tmp_path / "home"
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("the user's own file")
    clocks, woken = Clocks(), list[int]()
    scheduler = _scheduler(home, clocks, woken)
    state = LocalState(home / "state.db")
    for connection_id, dataset_id in [
        ("../../..", "victim"),
        ("link", "../../../../victim"),
        ("link", str(victim)),
    ]:
        state.start_run(dataset_id, connection_id, "customers", 60)
        state.enter(dataset_id, connection_id, "Complete", [], finished=True)
    clocks.wall = datetime.now(UTC) + timedelta(days=31)
    scheduler.housekeeping()
    assert (victim / "precious.txt").read_text() == "the user's own file"
    assert state.finished_before("9999") == []  # forgotten all the same
