"""UI tests run offscreen: set before any QApplication exists, since Qt reads it only then."""

from __future__ import annotations

import gc
import logging
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator  # after the platform is chosen

import pytest

from tests.ui.fake_connector import FakeConnector
from ui.bridge import AgentBridge
from ui.status_feed import StatusFeed
from ui.tasks import TaskRunner


@pytest.fixture
def connector(tmp_path) -> FakeConnector:  # type: ignore[no-untyped-def]
    return FakeConnector(tmp_path / "logs")


@pytest.fixture
def bridge(qapp, connector: FakeConnector) -> Iterator[AgentBridge]:  # type: ignore[no-untyped-def]
    bridge = AgentBridge(connector)
    yield bridge
    bridge.detach()


@pytest.fixture
def feed(bridge: AgentBridge, connector: FakeConnector) -> StatusFeed:
    return StatusFeed(connector, bridge)


@pytest.fixture
def tasks(qapp) -> Iterator[TaskRunner]:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    yield runner
    runner.wait()


@pytest.fixture(autouse=True)
def _collect_qt_garbage_here() -> Iterator[None]:
    """Free each test's Qt objects on the GUI thread, before the next test starts agent and
    server threads: Python's cycle collector runs on whichever thread allocates, and a QObject
    with a timer (a tray, a status feed) deleted from another thread leaves Qt a dangling timer
    that crashes the event loop when it fires."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _root_log_level() -> Iterator[None]:
    """The tray sets the root logger's level (the saved log level); keep it from leaking."""
    level = logging.getLogger().level
    yield
    logging.getLogger().setLevel(level)
