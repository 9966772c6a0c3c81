"""Books that cannot be read fail with a message that names the file and says what to do."""

from __future__ import annotations

import gzip
import random
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from agent.errors import BookUnreadable
from agent.sources.gnucash.reading.reader import read_book
from agent.sources.gnucash.reading.snapshot import DEFAULT_BACKOFF
from protocol.states import DatasetStatus
from tests.support.gnucash_books import place_sample
from tests.support.paths import SAMPLE_BOOKS
from tests.support.recording_sleep import RecordingSleep


def _unreadable(book: Path, workdir: Path, sleep: RecordingSleep) -> str:
    with pytest.raises(BookUnreadable) as caught:
        read_book(book, workdir, sleep=sleep)
    error = caught.value
    assert error.status is DatasetStatus.FETCH_ERROR
    assert str(book) in error.message
    assert list(workdir.iterdir()) == []  # no snapshot left behind
    return error.message


def _xml_text() -> bytes:
    with gzip.open(SAMPLE_BOOKS["xml-gzip"], "rb") as f:
        return f.read()


def _sqlite_edit(book: Path, statement: str) -> None:
    with closing(sqlite3.connect(book)) as db, db:
        db.execute(statement)


def test_missing_book(book_dir: Path, workdir: Path, no_sleep: RecordingSleep) -> None:
    message = _unreadable(book_dir / "Gone.gnucash", workdir, no_sleep)

    assert "does not exist" in message
    assert "choose it again" in message
    # It may be GnuCash renaming the book while it saves, so Connector looked again first.
    assert no_sleep.waits == list(DEFAULT_BACKOFF)


def test_book_in_a_missing_folder(tmp_path: Path, workdir: Path, no_sleep: RecordingSleep) -> None:
    message = _unreadable(tmp_path / "USB drive" / "Books.gnucash", workdir, no_sleep)

    assert "folder" in message
    assert no_sleep.waits == []


def test_a_folder_is_not_a_book(book_dir: Path, workdir: Path, no_sleep: RecordingSleep) -> None:
    folder = book_dir / "Books.gnucash"
    folder.mkdir()

    assert "is a folder" in _unreadable(folder, workdir, no_sleep)


def test_empty_file(book_dir: Path, workdir: Path, no_sleep: RecordingSleep) -> None:
    empty = book_dir / "Empty.gnucash"
    empty.write_bytes(b"")

    assert "is empty" in _unreadable(empty, workdir, no_sleep)
    assert no_sleep.waits == []


def test_random_bytes(book_dir: Path, workdir: Path, no_sleep: RecordingSleep) -> None:
    noise = book_dir / "Noise.gnucash"
    noise.write_bytes(b"\x07" + random.Random(7).randbytes(4095))

    message = _unreadable(noise, workdir, no_sleep)

    assert "is not a GnuCash file" in message
    assert "bytes 07" in message  # shows what the file starts with
    assert "Choose the .gnucash file you open in GnuCash" in message


def test_a_text_file(book_dir: Path, workdir: Path, no_sleep: RecordingSleep) -> None:
    text = book_dir / "Notes.gnucash"
    text.write_text("Remember to file the quarterly taxes.\n")

    assert "it starts with 'Remember to file'" in _unreadable(text, workdir, no_sleep)


def test_truncated_gzip_xml(book_dir: Path, workdir: Path, no_sleep: RecordingSleep) -> None:
    live = place_sample("xml-gzip", book_dir)
    data = live.read_bytes()
    live.write_bytes(data[: len(data) * 2 // 3])

    message = _unreadable(live, workdir, no_sleep)

    assert "incomplete" in message
    assert "backup" in message
    assert no_sleep.waits == list(DEFAULT_BACKOFF)


def test_plain_xml_cut_off(book_dir: Path, workdir: Path, no_sleep: RecordingSleep) -> None:
    live = book_dir / "Plain.gnucash"
    text = _xml_text()
    live.write_bytes(text[: len(text) // 2])

    assert "incomplete" in _unreadable(live, workdir, no_sleep)


def test_truncated_sqlite(book_dir: Path, workdir: Path, no_sleep: RecordingSleep) -> None:
    live = place_sample("sqlite", book_dir)
    data = live.read_bytes()
    live.write_bytes(data[: len(data) // 3])

    message = _unreadable(live, workdir, no_sleep)

    assert "is damaged" in message
    assert "cut off" in message
    assert no_sleep.waits == []  # nothing was changing: retrying would not help


def test_sqlite_header_only(book_dir: Path, workdir: Path, no_sleep: RecordingSleep) -> None:
    live = place_sample("sqlite", book_dir)
    live.write_bytes(live.read_bytes()[:40])

    assert "is damaged" in _unreadable(live, workdir, no_sleep)


def test_corrupt_sqlite_pages(book_dir: Path, workdir: Path, no_sleep: RecordingSleep) -> None:
    live = place_sample("sqlite", book_dir)
    data = bytearray(live.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[page_size : page_size * 4] = b"\xff" * (page_size * 3)  # wreck pages 2-4
    live.write_bytes(bytes(data))

    assert "is damaged" in _unreadable(live, workdir, no_sleep)


def test_sqlite_that_is_not_gnucash(
    book_dir: Path, workdir: Path, no_sleep: RecordingSleep
) -> None:
    other = book_dir / "Recipes.gnucash"
    with closing(sqlite3.connect(other)) as db, db:
        db.execute("CREATE TABLE recipes (name TEXT, minutes INTEGER)")
        db.execute("INSERT INTO recipes VALUES ('Chowder', 45)")

    message = _unreadable(other, workdir, no_sleep)

    assert "not a GnuCash book" in message
    assert "books" in message  # says what is missing


def test_gnucash_tables_of_an_unknown_shape(
    book_dir: Path, workdir: Path, no_sleep: RecordingSleep
) -> None:
    live = place_sample("sqlite", book_dir)
    _sqlite_edit(live, "ALTER TABLE accounts DROP COLUMN placeholder")

    assert "not the ones GnuCash writes" in _unreadable(live, workdir, no_sleep)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_xml_that_is_not_gnucash(
    compress: bool, book_dir: Path, workdir: Path, no_sleep: RecordingSleep
) -> None:
    other = book_dir / "Feed.gnucash"
    xml = (
        b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>News</title></channel></rss>\n'
    )
    other.write_bytes(gzip.compress(xml) if compress else xml)

    message = _unreadable(other, workdir, no_sleep)

    assert "not a GnuCash book" in message
    assert "<rss>" in message
    assert no_sleep.waits == []


def test_malformed_xml_inside_a_complete_file(
    book_dir: Path, workdir: Path, no_sleep: RecordingSleep
) -> None:
    live = book_dir / "Broken.gnucash"
    live.write_bytes(gzip.compress(_xml_text().replace(b"</act:name>", b"</act:nam>", 1)))

    message = _unreadable(live, workdir, no_sleep)

    assert "is damaged" in message
    assert "not well-formed XML" in message


Edit = Callable[[bytes], bytes]


def _after(anchor: bytes, old: bytes, new: bytes) -> Edit:
    """Replace ``old`` at its first place after ``anchor``: records sit in the file in the
    order of their random GUIDs, so "the first one" differs from one generated book to the next.
    """

    def edit(xml: bytes) -> bytes:
        at = xml.index(old, xml.index(anchor))
        return xml[:at] + new + xml[at + len(old) :]

    return edit


@pytest.mark.parametrize(
    ("edit", "names"),
    [
        (
            lambda x: x.replace(b"<act:type>EXPENSE</act:type>", b"<act:type>SPENDY</act:type>", 1),
            "SPENDY",
        ),
        (
            lambda x: x.replace(b"<split:quantity>38920/100", b"<split:quantity>lots", 1),
            "Harborview Hotel",
        ),
        (
            lambda x: x.replace(b"<split:quantity>38920/100", b"<split:quantity>38920/0", 1),
            "38920/0",
        ),
        (
            _after(b"<cust:id>000003</cust:id>", b"<cust:active>1", b"<cust:active>maybe"),
            "Pine & Pier",
        ),
        (
            _after(b"<vendor:id>000001</vendor:id>", b"<vendor:active>1", b"<vendor:active>maybe"),
            'the vendor "Portside Properties LLC" (ID 000001)',
        ),
    ],
    ids=["account-type", "split-quantity", "zero-denominator", "customer-flag", "vendor-flag"],
)
def test_garbled_xml_values_name_the_record(
    edit: Edit, names: str, book_dir: Path, workdir: Path, no_sleep: RecordingSleep
) -> None:
    live = book_dir / "Garbled.gnucash"
    edited = edit(_xml_text())
    assert edited != _xml_text()
    live.write_bytes(gzip.compress(edited))

    message = _unreadable(live, workdir, no_sleep)

    assert "cannot read" in message
    assert names in message


@pytest.mark.parametrize(
    ("statement", "names"),
    [
        ("UPDATE accounts SET account_type = 'SPENDY' WHERE name = 'Rent'", '"Rent"'),
        (
            "UPDATE accounts SET parent_guid = 'f' || substr(guid, 2) WHERE name = 'Travel'",
            '"Travel"',
        ),
        ("UPDATE accounts SET commodity_guid = NULL WHERE name = 'Savings'", '"Savings"'),
        ("UPDATE customers SET currency = 'nowhere' WHERE id = '000004'", "Northfield Dental"),
        (
            "UPDATE vendors SET currency = 'nowhere' WHERE id = '000002'",
            'the vendor "Casco Print Works" (ID 000002)',
        ),
        (
            "UPDATE splits SET quantity_denom = 0 WHERE rowid = (SELECT MIN(rowid) FROM splits)",
            "has no valid denominator",
        ),
        (
            "UPDATE splits SET value_denom = 0 WHERE rowid = (SELECT MIN(rowid) FROM splits)",
            "has no valid denominator",
        ),
        (
            # A split of no transaction, so no transaction can be named: its account is.
            "INSERT INTO splits (guid, tx_guid, account_guid, memo, action, reconcile_state, "
            "value_num, value_denom, quantity_num, quantity_denom) "
            "VALUES ('0123456789abcdef0123456789abcdef', 'gone', 'ffff', '', '', 'n', "
            "1, 100, 1, 100)",
            "a split in the account ffff",
        ),
    ],
    ids=[
        "account-type",
        "orphan-account",
        "no-commodity",
        "customer-currency",
        "vendor-currency",
        "zero-denom",
        "zero-value-denom",
        "orphan-split-unknown-account",
    ],
)
def test_garbled_sqlite_values_name_the_record(
    statement: str, names: str, book_dir: Path, workdir: Path, no_sleep: RecordingSleep
) -> None:
    live = place_sample("sqlite", book_dir)
    _sqlite_edit(live, statement)

    message = _unreadable(live, workdir, no_sleep)

    assert "cannot read" in message
    assert names in message
