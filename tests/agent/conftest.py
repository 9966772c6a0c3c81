"""Shared fixtures for the GnuCash reader tests: live books in a temporary folder, no waiting."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from agent.sources.base import Record
from agent.sources.gnucash.source import GnuCashSource
from agent.validation import validate
from tests.conftest import SAMPLE_BOOKS


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
