"""The marker that tells another process (``connector status``) that the agent runs here."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from agent.status.run_marker import RunMarker, running_elsewhere

HOLD_AND_WAIT = """
import sys, time
from pathlib import Path
from agent.status.run_marker import RunMarker
marker = RunMarker(Path(sys.argv[1]))  # kept: a lock let go of is released
assert marker.hold()
print("held", flush=True)
time.sleep(600)
"""


def test_the_marker_says_running_while_held_and_not_after(tmp_path: Path) -> None:
    path = tmp_path / "data" / "agent.lock"
    assert not running_elsewhere(path)
    marker = RunMarker(path)
    assert marker.hold() and marker.held
    assert running_elsewhere(path)  # what any other process (or Connector object) sees
    assert marker.hold()  # holding again is a no-op
    marker.release()
    assert not marker.held and not running_elsewhere(path)
    assert path.stat().st_mode & 0o077 == 0  # nobody else's business


def test_a_killed_agent_leaves_no_stale_marker(tmp_path: Path) -> None:
    path = tmp_path / "agent.lock"
    agent = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_WAIT, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert agent.stdout is not None and agent.stdout.readline().strip() == "held"
        assert running_elsewhere(path)
        second = RunMarker(path)
        assert not second.hold()  # another agent runs: said, not fought over
    finally:
        agent.send_signal(signal.SIGKILL)
        agent.wait(30)
    assert not running_elsewhere(path)
    assert RunMarker(path).hold()
