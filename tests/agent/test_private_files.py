"""The agent's files are private whatever the umask: while a dataset runs (snapshots, scratch
spools, record pages), in the rotated logs, and in an install from before, tightened at start."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.events import Event, UploadStaged
from agent.facade import Connector
from agent.support.logs import PrivateLogFile
from agent.support.private_files import make_private_dir
from cloud.local import LocalCloud
from tests.agent.runtime_harness import agent_home, book_copy, linked_connector, new_company
from tests.e2e.test_private_files import USUAL_UMASK, modes_that_are_not_private


@pytest.fixture
def usual_umask() -> Iterator[None]:
    # The process's umask, for the agent's threads too; put back after.
    before = os.umask(USUAL_UMASK)
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.parametrize("book_format", ["sqlite", "xml-gzip"])
def test_the_files_of_a_running_dataset_are_private(
    book_format: str, tmp_path: Path, usual_umask: None
) -> None:
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane", first_link=("invoices",))
        paths = agent_home(tmp_path)
        connector = linked_connector(paths, company, book_copy(tmp_path, book_format))
        seen: list[tuple[set[str], dict[str, str]]] = []

        def look(event: Event) -> None:
            # When the upload is staged, the pages are there, the record spool and the snapshot
            # (and the XML book's ledger spool) still there: everything a run writes, at once.
            if isinstance(event, UploadStaged):
                home = paths.config_dir.parent
                names = {path.name for path in home.rglob("*")}
                seen.append((names, modes_that_are_not_private(home)))

        connector.subscribe(look)
        summary = connector.run(until_idle=2)
    assert [o.status for r in summary.results.values() for o in r.outcomes] == ["Complete"]
    ((names, wrong),) = seen
    assert "records.db" in names and "page-00000.json" in names
    assert any(name.endswith(".snapshot") for name in names)
    if book_format == "xml-gzip":
        assert any(name.endswith(".ledger") for name in names)
    assert wrong == {}


def test_an_install_from_before_is_made_private_at_start(tmp_path: Path) -> None:
    paths = agent_home(tmp_path)
    home = paths.config_dir.parent
    for folder in (paths.config_dir, paths.data_dir / "staging" / "snapshots", paths.log_dir):
        folder.mkdir(parents=True, mode=0o755)
    for file in (
        paths.config_file,
        paths.data_dir / "state.db",
        paths.data_dir / "staging" / "snapshots" / "digest-0123.json",
        paths.log_dir / "connector.log",
    ):
        file.write_text("{}")
        file.chmod(0o644)
    for folder in [home, *home.rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o755)
    beside = home / "portable-connector"  # CONNECTOR_HOME holds what a person put there
    beside.write_text("#!/bin/sh\n")
    beside.chmod(0o755)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not Connector's")
    elsewhere.chmod(0o644)
    (paths.data_dir / "a link out").symlink_to(elsewhere)

    Connector(paths)

    # Connector's three folders are its own; the home a person chose, and what else it holds,
    # are left as they are, and so is a symlink (never followed).
    assert modes_that_are_not_private(home) == {
        ".": "0o755",
        "portable-connector": "0o755",
        "data/a link out": "0o777",
    }
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644


def test_the_log_stays_private_as_it_rotates(tmp_path: Path, usual_umask: None) -> None:
    log_file = make_private_dir(tmp_path / "logs") / "connector.log"
    handler = PrivateLogFile(log_file, maxBytes=200, backupCount=2, encoding="utf-8")
    logger = logging.getLogger("test.private.rotation")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for line in range(20):
            logger.warning("line %d of the log, long enough to rotate it soon", line)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(path.name for path in (tmp_path / "logs").iterdir())
    assert files == ["connector.log", "connector.log.1", "connector.log.2"]
    assert modes_that_are_not_private(tmp_path / "logs") == {}


def test_folders_are_made_private_level_by_level(tmp_path: Path, usual_umask: None) -> None:
    deep = make_private_dir(tmp_path / "home" / "data" / "staging" / "link-0123")
    assert deep.is_dir()
    assert modes_that_are_not_private(tmp_path / "home") == {}
