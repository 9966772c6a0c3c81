"""A parallel run fails unless every test it collected reported an outcome.

pytest-xdist can end a run green with tests that never ran: here, `--dist=loadgroup` reported
1196 passed of 1235 collected and nothing else (xdist 3.8). Nothing in its summary tells "39
never ran" from "39 fewer tests", so the controller counts: the ids each worker collected,
against the ids whose outcome came back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

_collected: set[str] = set()
_reported: set[str] = set()


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: absent without it
def pytest_xdist_node_collection_finished(node: Any, ids: Sequence[str]) -> None:
    _collected.update(ids)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _reported.add(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput") or not _collected:
        return  # a worker, or a run in one process (pytest counts that itself)
    if exitstatus != pytest.ExitCode.OK:
        return  # failing already (or stopped at the first failure, -x): nothing to add
    never_ran = sorted(_collected - _reported)
    if never_ran:
        listed = "\n  ".join(never_ran[:20])
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"{len(never_ran)} of {len(_collected)} collected tests never reported an outcome "
                f"(pytest-xdist lost them):\n  {listed}",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
