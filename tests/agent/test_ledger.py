"""The book's ledger streams transactions from a file, and one reading serves a whole sync."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.sources.gnucash.reading.reader import open_book, read_book
from agent.sources.gnucash.source import GnuCashSource
from tests.support.gnucash_books import place_sample
from tests.support.paths import SAMPLE_BOOKS


@pytest.mark.parametrize("book_format", sorted(SAMPLE_BOOKS))
def test_the_ledger_streams_what_a_whole_read_holds(
    book_format: str, book_dir: Path, workdir: Path
) -> None:
    live = place_sample(book_format, book_dir)
    whole = tuple(read_book(live, workdir, transactions=True).transactions)
    assert len(whole) == 26

    with open_book(live, workdir) as reading:
        ledger = reading.book.transactions
        assert tuple(ledger) == whole
        assert tuple(ledger) == whole  # every pass starts again from the first
        wanted = {whole[20].guid, whole[3].guid, "0" * 32}
        assert tuple(ledger.select(wanted)) == (whole[3], whole[20])
        assert tuple(ledger.select(())) == ()
        assert ledger.latest_posted() == max(txn.posted for txn in whole)
        assert any(workdir.iterdir())  # the snapshot (and an XML book's spool) while in use

    assert list(workdir.iterdir()) == []  # closing the reading deletes both


@pytest.mark.parametrize("book_format", sorted(SAMPLE_BOOKS))
def test_one_reading_serves_every_data_type_until_the_book_changes(
    book_format: str, book_dir: Path, workdir: Path
) -> None:
    live = place_sample(book_format, book_dir)
    before = live.read_bytes()
    source = GnuCashSource(live, workdir)

    first = source.fetch("chartOfAccounts")
    assert source.fetch("journalEntries") is first
    assert source.fetch("invoices") is first
    kept = list(workdir.iterdir())

    later = live.stat().st_mtime_ns + 1_000_000_000
    os.utime(live, ns=(later, later))  # what a save in GnuCash does, at least
    second = source.fetch("customers")
    assert second is not first
    assert not any(path in kept for path in workdir.iterdir())  # the old snapshot went

    source.release()
    assert list(workdir.iterdir()) == []
    assert live.read_bytes() == before


def test_an_unchanged_book_is_not_copied_again_after_a_restart(
    book_dir: Path, workdir: Path
) -> None:
    live = place_sample("sqlite", book_dir)
    first = GnuCashSource(live, workdir)
    fingerprint = first.fingerprint()
    first.release()

    restarted = GnuCashSource(live, workdir)  # a new process: nothing in memory
    assert restarted.fingerprint() == fingerprint
    assert not list(workdir.glob("*.snapshot"))  # answered without a snapshot

    later = live.stat().st_mtime_ns + 1_000_000_000
    os.utime(live, ns=(later, later))  # touched: the data is digested again, and is the same
    assert restarted.fingerprint() == fingerprint
    assert list(workdir.glob("*.snapshot"))  # this time from a snapshot
    restarted.release()
