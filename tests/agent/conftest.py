"""Shared fixtures for the GnuCash reader tests: live books in a temporary folder, no waiting,
and the "cases" book (tests/fixtures/make_books.py) built once a session by the real engine."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.sources.base import Record
from tests.support.gnucash_books import (
    CASES_BOOKS,
    MAKE_BOOKS,
    place_case,
    place_sample,
    synced,
)
from tests.support.gnucash_engine import ENGINE_PYTHON, require_gnucash, run_oracle
from tests.support.paths import SAMPLE_BOOKS
from tests.support.recording_sleep import RecordingSleep


@pytest.fixture
def no_sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """Connector's own scratch folder, apart from the book's folder."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def book_dir(tmp_path: Path) -> Path:
    """The user's folder that holds the live book."""
    path = tmp_path / "My Books"
    path.mkdir()
    return path


@pytest.fixture(params=sorted(SAMPLE_BOOKS))
def live_book(request: pytest.FixtureRequest, book_dir: Path) -> Path:
    """Each sample book in turn, as a live book in the user's folder."""
    return place_sample(request.param, book_dir)


@pytest.fixture(scope="session")
def cases_books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both formats of the cases book, built once per session by the real engine."""
    require_gnucash()
    outdir = tmp_path_factory.mktemp("cases-books")
    subprocess.run(
        [ENGINE_PYTHON, str(MAKE_BOOKS), str(outdir)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return {name: outdir / file for name, file in CASES_BOOKS.items()}


@pytest.fixture(scope="session")
def cases_truth(cases_books: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """What the engine says each format of the book holds."""
    return {name: run_oracle(path) for name, path in cases_books.items()}


@pytest.fixture(scope="session")
def cases_synced(
    cases_books: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str, str], list[Record]]:
    """(format, data type) -> what the agent uploads from the book, synced once a session; a
    sync that fails is not kept, so it fails each test of that data type and no other."""
    found: dict[tuple[str, str], list[Record]] = {}

    def records(book_format: str, data_type: str) -> list[Record]:
        if (book_format, data_type) not in found:
            root = tmp_path_factory.mktemp(f"cases-{book_format}-{data_type}")
            book_dir, workdir = root / "My Books", root / "work"
            book_dir.mkdir()
            workdir.mkdir()
            live = place_case(cases_books, book_format, book_dir)
            found[book_format, data_type] = synced(live, workdir, data_type)
        return found[book_format, data_type]

    return records
