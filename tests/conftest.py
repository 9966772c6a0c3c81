"""Fixtures every folder shares: the hand-moved clock and the in-process cloud on SQLite. The
helpers they build on are in tests/support/ (conftest files hold fixtures and hooks only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cloud_harness import CloudHarness, cloud_on
from tests.support.fake_clock import FakeClock
from tests.support.test_kinds import keep_within_the_unit, mark_kinds

# Fails a parallel run in which a collected test never reported (tests/support/every_test_ran.py).
pytest_plugins = ["tests.support.every_test_ran"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """unit, integration or e2e on every test (tests/support/test_kinds.py), for -m."""
    mark_kinds(items)


@pytest.fixture(autouse=True)
def _unit_tests_stay_in_this_process(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker("unit"):
        keep_within_the_unit(monkeypatch)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cloud(tmp_path: Path, clock: FakeClock) -> Iterator[CloudHarness]:
    with cloud_on(f"sqlite:///{tmp_path / 'cloud.db'}", clock) as harness:
        yield harness
