"""Shared fixtures for the GnuCash reader tests: live books in a temporary folder, no waiting,
and the "cases" book (tests/fixtures/make_books.py) built once a session by the real engine."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from agent.sources.base import Record
from agent.sources.gnucash.source import GnuCashSource
from agent.standard.validation import validate
from tests.conftest import SAMPLE_BOOKS
from tests.gnucash_engine import ENGINE_PYTHON, require_gnucash, run_oracle

MAKE_BOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "make_books.py"
CASES_BOOKS = {"sqlite": "cases.gnucash", "xml-gzip": "cases-xml.gnucash"}


class RecordingSleep:
    """A ``sleep`` that returns at once and remembers what it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


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


def place_sample(book_format: str, book_dir: Path, name: str = "Harbor Lane.gnucash") -> Path:
    """Copy a sample book into ``book_dir``, where tests treat it as the user's live book."""
    return Path(shutil.copy2(SAMPLE_BOOKS[book_format], book_dir / name))


@pytest.fixture(params=sorted(SAMPLE_BOOKS))
def live_book(request: pytest.FixtureRequest, book_dir: Path) -> Path:
    """Each sample book in turn, as a live book in the user's folder."""
    return place_sample(request.param, book_dir)


def synced(book: Path, workdir: Path, data_type: str) -> list[Record]:
    """What the agent would upload for ``data_type``: fetched, mapped and validated."""
    source = GnuCashSource(book, workdir)
    try:
        records = list(source.map(data_type, source.fetch(data_type)))
    finally:
        source.release()
    validate(data_type, records)
    return records


def cents(value: Fraction | str) -> float:
    """An exact amount (or its ``num/denom`` text) rounded to cents, as the mapping rounds."""
    return float(round(Fraction(value), 2))


def place_case(cases_books: dict[str, Path], book_format: str, book_dir: Path) -> Path:
    """Copy one format of the cases book into ``book_dir``, as the user's live book."""
    return Path(shutil.copy2(cases_books[book_format], book_dir / "Cases.gnucash"))


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
