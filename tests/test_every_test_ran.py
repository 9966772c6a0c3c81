"""The guard against a parallel run that ends green with tests that never ran."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A worker plugin that swallows one test: it claims to have run it and reports nothing, as the
# lost tests behaved (collected, no outcome, a green summary).
SWALLOWS_ONE = """
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    if item.name == "test_lost" and hasattr(item.config, "workerinput"):
        return True
"""

TESTS = """
def test_kept():
    pass

def test_lost():
    pass

def test_also_kept():
    pass
"""


def _run(project: Path, *, swallowing: bool) -> subprocess.CompletedProcess[str]:
    (project / "test_three.py").write_text(TESTS)
    plugins = ["-p", "tests.support.every_test_ran"]
    if swallowing:
        (project / "swallow.py").write_text(SWALLOWS_ONE)
        plugins += ["-p", "swallow"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", *plugins],
        cwd=project,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{project}"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_parallel_run_that_lost_a_test_fails_and_names_it(tmp_path: Path) -> None:
    run = _run(tmp_path, swallowing=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 of 3 collected tests never reported an outcome" in run.stdout
    assert "test_three.py::test_lost" in run.stdout


def test_a_parallel_run_where_every_test_ran_passes(tmp_path: Path) -> None:
    run = _run(tmp_path, swallowing=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
