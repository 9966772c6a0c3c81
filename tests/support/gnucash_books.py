"""The user's live book in a test: a sample or "cases" book copied into the user's folder, and
what the agent would upload from it."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

from agent.sources.base import Record
from agent.sources.gnucash.source import GnuCashSource
from agent.standard.validation import validate
from tests.support.paths import ROOT, SAMPLE_BOOKS

# tests/fixtures/make_books.py writes both formats of the "cases" book with the real engine.
MAKE_BOOKS = ROOT / "tests" / "fixtures" / "make_books.py"
CASES_BOOKS = {"sqlite": "cases.gnucash", "xml-gzip": "cases-xml.gnucash"}


def place_sample(book_format: str, book_dir: Path, name: str = "Harbor Lane.gnucash") -> Path:
    """Copy a sample book into ``book_dir``, where tests treat it as the user's live book."""
    return Path(shutil.copy2(SAMPLE_BOOKS[book_format], book_dir / name))


def synced(book: Path, workdir: Path, data_type: str) -> list[Record]:
    """What the agent would upload for ``data_type``: fetched, mapped and validated."""
    source = GnuCashSource(book, workdir)
    try:
        records = list(source.map(data_type, source.fetch(data_type)))
    finally:
        source.release()
    validate(data_type, records)
    return records


def cents(value: Fraction | int | str) -> float:
    """An exact amount (or its ``num/denom`` text) rounded to cents, as the mapping rounds."""
    return float(round(Fraction(value), 2))


def place_case(cases_books: dict[str, Path], book_format: str, book_dir: Path) -> Path:
    """Copy one format of the cases book into ``book_dir``, as the user's live book."""
    return Path(shutil.copy2(cases_books[book_format], book_dir / "Cases.gnucash"))
