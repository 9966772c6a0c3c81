"""Hostile books: files made to hurt whatever reads them. Each ends the dataset in FetchError
with a message a person can act on, in bounded memory, without a crash or a hang.

Every book starts as one the real GnuCash engine made (``resources/sample-books``) and is then
damaged here; each is read through the real source, as the runner's Fetching phase reads it
(the fingerprint's snapshot, then the fetch). ``tests/agent/test_gnucash_bad_books.py`` has the
books that are merely broken; ``test_runner.py`` runs some of these through the runner.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.errors import BookUnreadable
from agent.sources.gnucash.reading import book_limits, snapshot
from agent.sources.gnucash.reading.book_limits import MAX_SPLITS_PER_TRANSACTION
from agent.sources.gnucash.reading.records import Book
from agent.sources.gnucash.reading.snapshot import Snapshot
from agent.sources.gnucash.reading.sqlite_access import open_copy
from agent.sources.gnucash.reading.xml_reader import read_xml_snapshot
from agent.sources.gnucash.source import GnuCashSource
from protocol.states import DatasetStatus
from tests.agent.hostile_books import (
    MIB,
    SecretFile,
    billion_laughs,
    crowded_sqlite,
    endless_view,
    external_entity_xml,
    first_transaction,
    gzip_bomb,
    sample_xml,
    sqlite_book,
    with_prolog,
    write_xml,
    xml_with_splits,
)
from tests.support.gnucash_books import place_sample
from tests.support.recording_sleep import RecordingSleep


def fetch_error(book: Path, workdir: Path, data_type: str = "journalEntries") -> str:
    """The FetchError's message for ``book``, read as the runner's Fetching phase reads it."""
    source = GnuCashSource(book, workdir, sleep=RecordingSleep())
    try:
        with pytest.raises(BookUnreadable) as caught:
            source.fingerprint()
            source.fetch(data_type)
    finally:
        source.release()
    error = caught.value
    assert error.status is DatasetStatus.FETCH_ERROR
    assert str(book) in error.message
    left = [p.name for p in workdir.iterdir() if not p.name.startswith("digest-")]
    assert left == []  # no snapshot or spool left behind
    return error.message


@contextmanager
def fetched(book: Path, workdir: Path, data_type: str = "journalEntries") -> Iterator[Book]:
    """The book as fetched, while its ledger can still stream from the snapshot."""
    source = GnuCashSource(book, workdir, sleep=RecordingSleep())
    try:
        source.fingerprint()
        yield source.fetch(data_type)
    finally:
        source.release()


@contextmanager
def peak_traced() -> Iterator[Callable[[], int]]:
    """The peak of Python's own allocations inside the block (expat's and zlib's included)."""
    tracemalloc.start()
    try:
        yield lambda: tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


FORMATS = pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])


# --- XML: no DTD, ever ---------------------------------------------------------------------------


@FORMATS
def test_billion_laughs_is_refused_before_any_entity_expands(
    compress: bool, book_dir: Path, workdir: Path
) -> None:
    xml = with_prolog(sample_xml(), billion_laughs())
    tx = first_transaction(xml)
    xml = xml.replace(tx.group(0), tx.group(0).replace(b"Opening balances", b"&lol9;"), 1)
    book = write_xml(book_dir / "Laughs.gnucash", xml, compress=compress)

    with peak_traced() as peak:
        message = fetch_error(book, workdir)

    assert "declares an XML document type (a DOCTYPE)" in message
    assert "Choose the .gnucash file you open in GnuCash" in message
    assert peak() < 16 * MIB  # a billion "lol"s would be 3 GB


@pytest.fixture
def secret(tmp_path: Path) -> Iterator[SecretFile]:
    fifo = SecretFile(tmp_path / "passwd")
    yield fifo
    fifo.close()


@FORMATS
def test_an_external_entity_is_refused_and_its_file_never_opened(
    compress: bool, book_dir: Path, workdir: Path, secret: SecretFile
) -> None:
    book = write_xml(
        book_dir / "Entity.gnucash", external_entity_xml(secret.path), compress=compress
    )

    message = fetch_error(book, workdir)

    assert "declares an XML document type" in message
    assert "secret" not in message
    assert not secret.opened.is_set()


@FORMATS
def test_the_parser_never_gets_a_dtd_even_past_the_snapshot(
    compress: bool, book_dir: Path, workdir: Path, secret: SecretFile
) -> None:
    """The XML reader refuses a DOCTYPE itself: a copy that never met the snapshot's check."""
    copy = write_xml(workdir / "copy.xml", external_entity_xml(secret.path), compress=compress)

    with pytest.raises(BookUnreadable, match="declares an XML document type"):
        _parse_copy(copy, book_dir / "Entity.gnucash", compress=compress)
    assert not secret.opened.is_set()


def _parse_copy(copy: Path, book: Path, *, compress: bool) -> Book:
    """Parse ``copy`` as the snapshot of ``book``, without the snapshot's own checks."""
    snapshot = Snapshot(
        source=book,
        copy=copy,
        format="xml-gzip" if compress else "xml",
        taken_at=datetime.now(UTC),
        open_in_gnucash=False,
    )
    return read_xml_snapshot(snapshot, ledger=copy.with_name("ledger"), documents=True)


@pytest.mark.parametrize(
    "prolog",
    [
        b"<!DOCTYPE gnc-v2>\n",
        b'<!DOCTYPE gnc-v2 SYSTEM "http://203.0.113.9/gnucash.dtd">\n',
        # Hidden behind what may come before it: a comment and a processing instruction.
        b"<!-- saved by GnuCash -->\n<?gnc hint?>\n<!DOCTYPE gnc-v2 []>\n",
    ],
    ids=["bare", "external-dtd", "after-comment-and-pi"],
)
def test_any_doctype_at_all_is_refused(prolog: bytes, book_dir: Path, workdir: Path) -> None:
    book = write_xml(book_dir / "Typed.gnucash", with_prolog(sample_xml(), prolog), compress=True)

    assert "declares an XML document type" in fetch_error(book, workdir)


# --- XML: gzip bombs and records past their bounds ----------------------------------------------


def test_a_gzip_bomb_is_stopped_after_a_hundred_times_its_size(
    book_dir: Path, workdir: Path
) -> None:
    xml = sample_xml()
    root_end = xml.index(b"<gnc:book")
    bomb = gzip_bomb(book_dir / "Bomb.gnucash", xml[:root_end], b" ", 1024 * MIB, xml[root_end:])
    assert bomb.stat().st_size < 2 * MIB  # a gigabyte of XML in about one megabyte

    with peak_traced() as peak:
        message = fetch_error(bomb, workdir)

    assert "of compressed data inflate to more than" in message
    assert "no GnuCash book inflates to 100 times its compressed size" in message
    assert peak() < 16 * MIB


def test_the_inflated_size_is_checked_as_the_parse_reads_too(
    book_dir: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parse holds to the same bound as the snapshot: a copy that passed the snapshot's
    inflation (here, under a bound lowered for the snapshot alone) is stopped while parsed."""
    xml = sample_xml()
    at = xml.index(b"<gnc:transaction")
    # Tiny records one after the other: none passes a record's bound, together they pass the
    # book's.
    record = b'<gnc:count-data cd:type="x">1</gnc:count-data>\n'
    book = gzip_bomb(book_dir / "Bomb.gnucash", xml[:at], record, 64 * MIB, xml[at:])
    monkeypatch.setattr(snapshot, "xml_size_bound", lambda _size: (1 << 40, "never"))
    # A smaller allowance, so that the parse meets the bound after megabytes, not 64 MiB.
    monkeypatch.setattr(book_limits, "INFLATION_ALLOWANCE", 4 * MIB)

    message = fetch_error(book, workdir)

    assert "of compressed data inflate to more than" in message


def test_blank_space_before_the_declaration_counts_too(book_dir: Path, workdir: Path) -> None:
    """The parse skips blank space before ``<?xml``, and counts it against its bounds (the
    snapshot refuses such a file already, having found no root element in its head)."""
    copy = gzip_bomb(workdir / "copy.xml", b"", b" ", 64 * MIB, sample_xml())

    with pytest.raises(BookUnreadable, match="one of its records spans more than 8 MiB"):
        _parse_copy(copy, book_dir / "Blank.gnucash", compress=True)


@FORMATS
def test_a_record_of_tens_of_megabytes_is_refused_in_bounded_memory(
    compress: bool, book_dir: Path, workdir: Path
) -> None:
    xml = sample_xml()
    tx = first_transaction(xml)
    huge = tx.group(0).replace(b"Opening balances", b"x" * (48 * MIB), 1)
    book = write_xml(
        book_dir / "Huge.gnucash", xml.replace(tx.group(0), huge, 1), compress=compress
    )
    del xml, huge

    with peak_traced() as peak:
        message = fetch_error(book, workdir)

    assert "one of its records spans more than 8 MiB of XML" in message
    assert peak() < 32 * MIB  # the record alone is 48 MiB


def test_a_record_of_countless_elements_is_refused(book_dir: Path, workdir: Path) -> None:
    xml = sample_xml()
    tx = first_transaction(xml)
    crowded = tx.group(0).replace(b"<trn:slots>", b"<trn:slots>" + b"<a/>" * 300_000, 1)
    book = write_xml(
        book_dir / "Crowded.gnucash", xml.replace(tx.group(0), crowded, 1), compress=True
    )

    with peak_traced() as peak:
        message = fetch_error(book, workdir)

    assert "one of its records holds more than 250,000 elements" in message
    assert peak() < 48 * MIB


@FORMATS
def test_a_transaction_of_too_many_splits_is_refused(
    compress: bool, book_dir: Path, workdir: Path
) -> None:
    too_many = MAX_SPLITS_PER_TRANSACTION + 1
    book = write_xml(book_dir / "Split.gnucash", xml_with_splits(too_many), compress=compress)

    message = fetch_error(book, workdir)

    assert 'the transaction "Opening balances"' in message
    assert f"with {too_many:,} splits, more than the 10,000" in message
    assert "split it into several in GnuCash" in message


def test_the_most_splits_a_transaction_may_have_are_read(book_dir: Path, workdir: Path) -> None:
    book = write_xml(
        book_dir / "Split.gnucash", xml_with_splits(MAX_SPLITS_PER_TRANSACTION), compress=True
    )

    with fetched(book, workdir) as read:
        sizes = {t.description: len(t.splits) for t in read.transactions}

    assert sizes["Opening balances"] == MAX_SPLITS_PER_TRANSACTION


def test_thousands_of_prices_and_lots_stream_past_the_record_bounds(
    book_dir: Path, workdir: Path
) -> None:
    """A price database or an account may hold more than one record may: they are taken a
    price, a lot at a time."""
    count = 20_000  # ~260,000 elements and ~11 MiB in either, were each one record
    price = (
        b'<price><price:id type="guid">%032x</price:id>'
        b"<price:commodity><cmdty:space>CURRENCY</cmdty:space><cmdty:id>EUR</cmdty:id>"
        b"</price:commodity><price:currency><cmdty:space>CURRENCY</cmdty:space>"
        b"<cmdty:id>USD</cmdty:id></price:currency><price:time>"
        b"<ts:date>2026-01-01 10:59:00 +0000</ts:date></price:time>"
        b"<price:source>user:price</price:source><price:type>last</price:type>"
        b"<price:value>108/100</price:value></price>\n"
    )
    lot = (
        b'<gnc:lot version="2.0.0"><lot:id type="guid">%032x</lot:id><lot:slots><slot>'
        b'<slot:key>title</slot:key><slot:value type="string">Lot %d</slot:value></slot>'
        b"</lot:slots></gnc:lot>\n"
    )
    pricedb = b'<gnc:pricedb version="1">\n' + b"".join(price % n for n in range(count))
    lots = b"<act:lots>\n" + b"".join(lot % (n, n) for n in range(count)) + b"</act:lots>\n"
    xml = sample_xml()
    account_end = xml.index(b"</gnc:account>")
    xml = xml[:account_end] + lots + xml[account_end:]
    at = xml.index(b"<gnc:account")
    xml = xml[:at] + pricedb + b"</gnc:pricedb>\n" + xml[at:]
    book = write_xml(book_dir / "Prices.gnucash", xml, compress=True)

    with fetched(book, workdir, "balanceSheet") as read:
        assert len(read.prices) == count


# --- SQLite: loops, crowds and giants ------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("statements", "names"),
    [
        (
            [
                "UPDATE accounts SET parent_guid = (SELECT guid FROM accounts WHERE name = "
                "'Travel') WHERE name = 'Rent'",
                "UPDATE accounts SET parent_guid = (SELECT guid FROM accounts WHERE name = "
                "'Rent') WHERE name = 'Travel'",
            ],
            '("Rent" -> "Travel" -> "Rent")',
        ),
        (
            ["UPDATE accounts SET parent_guid = guid WHERE name = 'Rent'"],
            '("Rent" -> "Rent")',
        ),
        (
            # The root below one of its own children: walking the tree down never ended.
            [
                "UPDATE accounts SET parent_guid = (SELECT guid FROM accounts WHERE name = "
                "'Assets') WHERE account_type = 'ROOT' AND name = 'Root Account'"
            ],
            '("Root Account" -> "Assets" -> "Root Account")',
        ),
    ],
    ids=["two-accounts", "own-parent", "through-the-root"],
)
def test_a_loop_of_parent_accounts_is_refused(
    statements: list[str], names: str, book_dir: Path, workdir: Path
) -> None:
    message = fetch_error(sqlite_book(book_dir, *statements), workdir, "chartOfAccounts")

    assert "its parent accounts lead back to it" in message
    assert names in message


@pytest.mark.timeout(60)
def test_a_loop_of_parent_tax_tables_is_refused(book_dir: Path, workdir: Path) -> None:
    """Mapping an invoice climbed from GnuCash's copy of a tax table to the user's, for ever."""
    live = sqlite_book(
        book_dir,
        "UPDATE taxtables SET parent = (SELECT guid FROM taxtables WHERE invisible = 1) "
        "WHERE invisible = 0",
    )

    message = fetch_error(live, workdir, "invoices")

    assert 'the tax table "Maine Sales Tax"' in message
    assert "its parent tax tables lead back to it" in message


def test_a_transaction_of_too_many_splits_is_refused_in_sqlite(
    book_dir: Path, workdir: Path
) -> None:
    too_many = MAX_SPLITS_PER_TRANSACTION + 1

    message = fetch_error(crowded_sqlite(book_dir, too_many), workdir)

    assert 'the transaction "Opening balances"' in message
    assert f"with {too_many:,} splits" in message


def test_the_most_splits_a_transaction_may_have_are_read_in_sqlite(
    book_dir: Path, workdir: Path
) -> None:
    with fetched(crowded_sqlite(book_dir, MAX_SPLITS_PER_TRANSACTION), workdir) as read:
        sizes = {t.description: len(t.splits) for t in read.transactions}

    assert sizes["Opening balances"] == MAX_SPLITS_PER_TRANSACTION


_PEAK_RSS = """
import re, sys
from pathlib import Path
from agent.errors import BookUnreadable
from agent.sources.gnucash.source import GnuCashSource
source = GnuCashSource(Path(sys.argv[1]), Path(sys.argv[2]), sleep=lambda _seconds: None)
try:
    source.fingerprint()
    source.fetch("journalEntries")
    print("read")
except BookUnreadable as e:
    print(e.message)
finally:
    source.release()
# This process's own peak (getrusage's would count the test process it was forked from).
print(int(re.search(r"VmHWM:\\s*(\\d+) kB", Path("/proc/self/status").read_text())[1]) // 1024)
"""


@pytest.mark.parametrize(
    ("column", "size", "where"),
    [
        ("transactions.description", 200_000_000, "a value in its transactions"),
        ("splits.memo", 17 * MIB, "a value in its splits"),
        ("customers.notes", 17 * MIB, "a value in one of its records"),
    ],
)
def test_a_value_of_hundreds_of_megabytes_is_refused_without_loading_it(
    column: str, size: int, where: str, book_dir: Path, workdir: Path
) -> None:
    """In a process of its own, so that its peak memory is the fetch's alone."""
    table, field = column.split(".")
    live = sqlite_book(
        book_dir,
        f"UPDATE {table} SET {field} = printf('%.*c', {size}, 'x') "
        f"WHERE rowid = (SELECT MIN(rowid) FROM {table})",
    )

    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(live), str(workdir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    message, peak_mib = done.stdout.strip().rsplit("\n", 1)
    assert message.startswith(f"The book {live} is not a book GnuCash writes: {where} is longer")
    assert "than 16 MiB" in message
    # The value alone is 200 MB; a fetch of the sample book peaks at about 35 MB.
    assert int(peak_mib) < 120, f"peak RSS {peak_mib} MiB"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("table", ["slots", "accounts"])
def test_a_view_named_like_a_gnucash_table_is_never_run(
    table: str, book_dir: Path, workdir: Path
) -> None:
    # A query that never ends: reading the "table" would hang the sync for good.
    live = sqlite_book(book_dir, *endless_view(table))

    message = fetch_error(live, workdir)

    assert f'it holds a view named "{table}", SQL that would run when the book is read' in message
    assert "Connector runs only its own SQL" in message


@pytest.mark.parametrize(
    ("statement", "what"),
    [
        (
            "CREATE TRIGGER stamp AFTER INSERT ON gnclock BEGIN DELETE FROM splits; END",
            'a trigger named "stamp"',
        ),
        (
            "CREATE VIRTUAL TABLE notes USING fts5(body)",
            'a virtual table named "notes"',
        ),
        (
            "ALTER TABLE customers ADD COLUMN shout TEXT GENERATED ALWAYS AS (upper(name))",
            'a generated column "shout" in its table "customers"',
        ),
    ],
    ids=["trigger", "virtual-table", "generated-column"],
)
def test_sql_that_comes_with_the_book_is_refused(
    statement: str, what: str, book_dir: Path, workdir: Path
) -> None:
    message = fetch_error(sqlite_book(book_dir, statement), workdir)

    assert f"it holds {what}, SQL that would run when the book is read" in message


def test_a_view_is_never_run_even_past_the_snapshot(book_dir: Path) -> None:
    """Every connection to a copy refuses what a view of the book would read."""
    live = sqlite_book(
        book_dir, "CREATE VIEW everything AS SELECT * FROM accounts, splits, transactions"
    )

    with closing(open_copy(live)) as db, pytest.raises(sqlite3.DatabaseError, match="prohibited"):
        db.execute("SELECT COUNT(*) FROM everything").fetchone()


def test_a_malformed_b_tree_is_refused(book_dir: Path, workdir: Path) -> None:
    live = place_sample("sqlite", book_dir)
    with closing(sqlite3.connect(live)) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'splits'").fetchone()
    data = bytearray(live.read_bytes())
    at = (root[0] - 1) * page_size
    data[at + 8 : at + 12] = (0x7FFFFFFF).to_bytes(4, "big")  # a child far past the end
    data[at] = 0x05  # an interior table page now, pointing there
    live.write_bytes(bytes(data))

    message = fetch_error(live, workdir)

    assert "is damaged" in message
    assert "restore it from a backup" in message


@pytest.mark.parametrize(
    "head",
    [b"PK\x03\x04\x14\x00\x00\x00", b"\x89PNG\r\n\x1a\n", b"%PDF-1.7\n", b"\x00" * 16],
    ids=["zip", "png", "pdf", "zeros"],
)
def test_a_file_that_is_neither_sqlite_nor_xml(head: bytes, book_dir: Path, workdir: Path) -> None:
    other = book_dir / "Books.gnucash"
    other.write_bytes(head + bytes(range(256)) * 64)

    message = fetch_error(other, workdir)

    assert "is not a GnuCash file" in message
    assert "Choose the .gnucash file you open in GnuCash" in message


def test_book_limits_reads_as_documented() -> None:
    assert book_limits.max_inflated_bytes(10 * MIB) == 64 * MIB + 1000 * MIB
    assert book_limits.max_inflated_bytes(100 * MIB) == book_limits.MAX_XML_BYTES
    assert book_limits.size_text(book_limits.MAX_VALUE_BYTES) == "16 MiB"
