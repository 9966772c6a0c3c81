"""Snapshots: the live book is never disturbed, and a copy is only taken when it is consistent."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from agent.errors import BookUnreadable
from agent.sources.gnucash.reading import snapshot
from agent.sources.gnucash.reading.reader import read_book
from agent.sources.gnucash.reading.snapshot import DEFAULT_BACKOFF, sniff_format
from tests.support.gnucash_books import place_sample
from tests.support.recording_sleep import RecordingSleep


def _state(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file in ``folder`` with its content hash and modification time."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
    }


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"SQLite format 3\x00\x10\x00", "sqlite"),
        (b"\x1f\x8b\x08\x00", "xml-gzip"),
        (b'<?xml version="1.0" encoding="utf-8" ?>\n<gnc-v2', "xml"),
        (b'\xef\xbb\xbf<?xml version="1.0"?>', "xml"),
        (b'\r\n  <?xml version="1.0"?>', "xml"),
        (b"<gnc-v2>", None),
        (b"PK\x03\x04", None),
        (b"SQLite format 2", None),
        (b"", None),
    ],
)
def test_sniffing_reads_the_first_bytes(head: bytes, expected: str | None) -> None:
    assert sniff_format(head) == expected


def test_reading_leaves_the_live_book_and_its_folder_untouched(
    live_book: Path, workdir: Path
) -> None:
    before = _state(live_book.parent)

    book = read_book(live_book, workdir)

    assert book.accounts
    assert _state(live_book.parent) == before  # same files, bytes and times: no journal/LCK/log
    assert list(workdir.iterdir()) == []  # the snapshot copy is gone too


def test_an_open_xml_book_is_reported_and_still_read(book_dir: Path, workdir: Path) -> None:
    live = place_sample("xml-gzip", book_dir)
    unlocked = read_book(live, workdir)
    lock = live.with_name(live.name + ".LCK")
    lock.write_bytes(b"")
    before = _state(book_dir)

    locked = read_book(live, workdir)

    assert unlocked.open_in_gnucash is False
    assert locked.open_in_gnucash is True
    assert locked.accounts == unlocked.accounts
    assert locked.customers == unlocked.customers
    assert _state(book_dir) == before  # the lock is GnuCash's: never taken or cleared


def test_an_open_sqlite_book_is_reported_and_still_read(book_dir: Path, workdir: Path) -> None:
    live = place_sample("sqlite", book_dir)
    unlocked = read_book(live, workdir)
    # What GnuCash writes while it has the book open (done here on the test's own copy).
    with closing(sqlite3.connect(live)) as db, db:
        db.execute("INSERT INTO gnclock (Hostname, PID) VALUES ('studio-pc', 4242)")
    before = _state(book_dir)

    locked = read_book(live, workdir)

    assert unlocked.open_in_gnucash is False
    assert locked.open_in_gnucash is True
    assert locked.accounts == unlocked.accounts
    assert locked.customers == unlocked.customers
    assert _state(book_dir) == before
    with closing(sqlite3.connect(f"{live.as_uri()}?mode=ro", uri=True)) as db:
        assert db.execute("SELECT COUNT(*) FROM gnclock").fetchone() == (1,)


def test_a_journal_throughout_means_the_book_keeps_changing(
    book_dir: Path, workdir: Path, no_sleep: RecordingSleep
) -> None:
    live = place_sample("sqlite", book_dir)
    live.with_name(live.name + "-journal").write_bytes(b"\x00" * 512)
    before = _state(book_dir)

    with pytest.raises(BookUnreadable) as caught:
        read_book(live, workdir, sleep=no_sleep)

    assert str(live) in caught.value.message
    assert "keeps changing" in caught.value.message
    assert "-journal" in caught.value.message
    assert no_sleep.waits == list(DEFAULT_BACKOFF)
    assert _state(book_dir) == before
    assert list(workdir.iterdir()) == []


def test_a_save_that_ends_while_waiting_is_read(
    book_dir: Path, workdir: Path, no_sleep: RecordingSleep
) -> None:
    live = place_sample("sqlite", book_dir)
    journal = live.with_name(live.name + "-journal")
    journal.write_bytes(b"\x00" * 512)

    def save_finishes(seconds: float) -> None:
        no_sleep(seconds)
        journal.unlink()

    book = read_book(live, workdir, sleep=save_finishes)

    assert len(book.accounts) == 27
    assert no_sleep.waits == [DEFAULT_BACKOFF[0]]


def test_no_copy_is_even_attempted_while_a_journal_exists(
    book_dir: Path, workdir: Path, no_sleep: RecordingSleep, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the file mid-save would only compete with GnuCash for the disk."""
    live = place_sample("sqlite", book_dir)
    live.with_name(live.name + "-journal").write_bytes(b"\x00" * 512)
    copies: list[Path] = []
    monkeypatch.setattr(snapshot, "_copy_bytes", lambda book, copy: copies.append(book))

    with pytest.raises(BookUnreadable):
        read_book(live, workdir, sleep=no_sleep)

    assert copies == []


def test_a_commit_during_the_copy_is_noticed_by_the_change_counter(
    book_dir: Path, workdir: Path, no_sleep: RecordingSleep, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Size and time stay the same here, so only the header's change counter can tell."""
    live = place_sample("sqlite", book_dir)
    real_copy = snapshot._copy_bytes
    commits = iter([True])

    def copy_while_gnucash_commits(book: Path, copy: Path) -> None:
        real_copy(book, copy)
        if next(commits, False):
            st = book.stat()
            with book.open("r+b") as f:
                f.seek(24)
                counter = int.from_bytes(f.read(4), "big")
                f.seek(24)
                f.write((counter + 1).to_bytes(4, "big"))
            os.utime(book, ns=(st.st_atime_ns, st.st_mtime_ns))

    monkeypatch.setattr(snapshot, "_copy_bytes", copy_while_gnucash_commits)

    book = read_book(live, workdir, sleep=no_sleep)

    assert len(book.accounts) == 27
    assert no_sleep.waits == [DEFAULT_BACKOFF[0]]  # the first copy was refused, the second taken
    assert list(workdir.iterdir()) == []


def test_an_xml_book_briefly_gone_while_gnucash_saves_is_read(
    book_dir: Path, workdir: Path, no_sleep: RecordingSleep
) -> None:
    live = place_sample("xml-gzip", book_dir)
    saving = live.with_name(live.name + ".tmp-Ab12Cd")
    live.rename(saving)  # GnuCash moves the old book aside before the new one is in place

    def save_finishes(seconds: float) -> None:
        no_sleep(seconds)
        saving.rename(live)

    book = read_book(live, workdir, sleep=save_finishes)

    assert len(book.customers) == 6
    assert no_sleep.waits == [DEFAULT_BACKOFF[0]]


def test_an_xml_copy_cut_short_is_retried(
    book_dir: Path, workdir: Path, no_sleep: RecordingSleep, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = place_sample("xml-gzip", book_dir)
    real_copy = snapshot._copy_bytes
    cuts = iter([True])

    def copy_cut_short(book: Path, copy: Path) -> None:
        real_copy(book, copy)
        if next(cuts, False):
            data = copy.read_bytes()
            copy.write_bytes(data[: len(data) // 2])

    monkeypatch.setattr(snapshot, "_copy_bytes", copy_cut_short)

    book = read_book(live, workdir, sleep=no_sleep)

    assert len(book.accounts) == 27
    assert no_sleep.waits == [DEFAULT_BACKOFF[0]]


def test_the_snapshot_is_deleted_even_when_parsing_fails(book_dir: Path, workdir: Path) -> None:
    live = place_sample("sqlite", book_dir)
    with closing(sqlite3.connect(live)) as db, db:
        db.execute("UPDATE accounts SET account_type = 'BOGUS' WHERE name = 'Rent'")

    with pytest.raises(BookUnreadable):
        read_book(live, workdir)

    assert list(workdir.iterdir()) == []


def test_snapshot_copies_are_private_to_each_read(book_dir: Path, workdir: Path) -> None:
    live = place_sample("sqlite", book_dir)
    first = snapshot.take_snapshot(live, workdir)
    second = snapshot.take_snapshot(live, workdir)
    try:
        assert first.copy != second.copy
        assert first.copy.parent == workdir
        assert first.copy.read_bytes() == live.read_bytes()
        assert first.source == live
    finally:
        shutil.rmtree(workdir)
