"""The benchmark's synthetic books are real GnuCash books: the readers and the engine agree."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from agent.sources.gnucash.reading.reader import read_book
from benchmarks.synthetic_book import FORMATS, SyntheticFormat, write_book
from tests.support.gnucash_engine import requires_gnucash, run_oracle

SPLITS = 2_000


def _workdir(tmp_path: Path) -> Path:
    """Connector's own scratch folder, apart from the book's."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.mark.parametrize("book_format", FORMATS)
def test_the_reader_reads_a_synthetic_book(book_format: SyntheticFormat, tmp_path: Path) -> None:
    written = write_book(tmp_path / "book.gnucash", SPLITS, book_format)
    assert written.splits == SPLITS
    assert written.transactions > SPLITS // 4  # 2-4 splits each

    book = read_book(written.path, _workdir(tmp_path))

    assert book.format == book_format
    assert book.default_currency == "USD"
    assert len(book.accounts) == written.accounts >= 60
    assert len(book.customers) == written.customers
    assert len(book.vendors) == written.vendors
    types = {a.account_type for a in book.accounts}
    assert {"BANK", "RECEIVABLE", "PAYABLE", "INCOME", "EXPENSE", "EQUITY"} <= types
    assert {a.guid: a.balance for a in book.accounts if a.balance} == {
        guid: Fraction(cents, 100) for guid, cents in written.balances.items() if cents
    }
    assert sum(a.balance for a in book.accounts) == 0  # every transaction balances


def test_the_same_seed_writes_the_same_book(tmp_path: Path) -> None:
    first = write_book(tmp_path / "a.gnucash", 500, "xml-gzip", seed=7)
    second = write_book(tmp_path / "b.gnucash", 500, "xml-gzip", seed=7)
    other = write_book(tmp_path / "c.gnucash", 500, "xml-gzip", seed=8)
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.balances == second.balances != other.balances


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_the_engine_loads_a_synthetic_book_and_agrees(
    book_format: SyntheticFormat, tmp_path: Path
) -> None:
    written = write_book(tmp_path / "book.gnucash", SPLITS, book_format)

    truth = run_oracle(written.path)
    book = read_book(written.path, _workdir(tmp_path))

    assert len(truth["accounts"]) == written.accounts
    assert len(truth["customers"]) == written.customers
    assert len(truth["vendors"]) == written.vendors
    engine = {o["guid"]: Fraction(o["balance"]) for o in truth["accounts"]}
    assert engine == {a.guid: a.balance for a in book.accounts}
    assert any(engine.values())  # not a vacuous comparison
    assert {o["guid"] for o in truth["customers"]} == {c.guid for c in book.customers}
    assert {o["guid"] for o in truth["vendors"]} == {v.guid for v in book.vendors}
