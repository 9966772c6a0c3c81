"""The same book in every format GnuCash writes reads the same."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from agent.sources.gnucash.reading.reader import read_book
from agent.sources.gnucash.reading.records import Book
from tests.support.gnucash_books import place_sample
from tests.support.paths import SAMPLE_BOOKS


def _contents(book: Book) -> dict[str, object]:
    """Everything but the format and the time of the snapshot."""
    return {
        "default_currency": book.default_currency,
        "accounts": book.accounts,
        "customers": book.customers,
        "vendors": book.vendors,
        "open_in_gnucash": book.open_in_gnucash,
        "notes": book.notes,
        "company": book.company,
        "tax_tables": book.tax_tables,
        "transactions": tuple(book.transactions),
    }


def _xml_text() -> bytes:
    with gzip.open(SAMPLE_BOOKS["xml-gzip"], "rb") as f:
        return f.read()


def test_sqlite_and_xml_books_read_the_same(book_dir: Path, workdir: Path) -> None:
    from_sqlite = read_book(place_sample("sqlite", book_dir, "a.gnucash"), workdir)
    from_xml = read_book(place_sample("xml-gzip", book_dir, "b.gnucash"), workdir)

    assert from_sqlite.format == "sqlite"
    assert from_xml.format == "xml-gzip"
    assert _contents(from_sqlite) == _contents(from_xml)
    assert len(from_sqlite.accounts) == 27
    assert len(from_sqlite.customers) == 6
    assert len(from_sqlite.vendors) == 3
    assert tuple(from_sqlite.transactions) == ()  # not asked for


def test_sqlite_and_xml_transactions_read_the_same(book_dir: Path, workdir: Path) -> None:
    from_sqlite = read_book(
        place_sample("sqlite", book_dir, "a.gnucash"), workdir, transactions=True
    )
    from_xml = read_book(
        place_sample("xml-gzip", book_dir, "b.gnucash"), workdir, transactions=True
    )

    assert sum(1 for _ in from_sqlite.transactions) == 26
    assert from_sqlite.transactions == from_xml.transactions
    # In posting order, each balanced, debits listed first.
    posted = [t.posted for t in from_sqlite.transactions]
    assert posted == sorted(posted)
    for txn in from_sqlite.transactions:
        assert sum(s.value for s in txn.splits) == 0
        signs = [s.value < 0 for s in txn.splits]
        assert signs == sorted(signs)


@pytest.mark.parametrize(
    "prefix", [b"", b"\xef\xbb\xbf", b"\n  \t"], ids=["plain", "bom", "whitespace"]
)
def test_uncompressed_xml_reads_like_the_compressed_book(
    prefix: bytes, book_dir: Path, workdir: Path
) -> None:
    plain = book_dir / "plain.xml-but-named.gnucash"
    plain.write_bytes(prefix + _xml_text())
    compressed = place_sample("xml-gzip", book_dir)

    from_plain = read_book(plain, workdir)

    assert from_plain.format == "xml"
    assert _contents(from_plain) == _contents(read_book(compressed, workdir))


def test_format_comes_from_the_content_not_the_name(book_dir: Path, workdir: Path) -> None:
    sqlite_named_xml = place_sample("sqlite", book_dir, "book.xml")
    xml_named_sqlite = place_sample("xml-gzip", book_dir, "book.sqlite")

    assert read_book(sqlite_named_xml, workdir).format == "sqlite"
    assert read_book(xml_named_sqlite, workdir).format == "xml-gzip"


def test_sample_book_shape(live_book: Path, workdir: Path) -> None:
    book = read_book(live_book, workdir)

    assert book.default_currency == "USD"
    by_name = {a.name: a for a in book.accounts}
    by_guid = {a.guid: a for a in book.accounts}
    assert "Root Account" not in by_name
    assert "Template Root" not in by_name
    # Parents come before their children, and the top level has no parent.
    seen: set[str] = set()
    for account in book.accounts:
        assert account.parent_guid is None or account.parent_guid in seen
        seen.add(account.guid)
    checking = by_name["Checking Account"]
    assert checking.account_type == "BANK"
    assert checking.code == "1010"
    assert by_guid[checking.parent_guid or ""].name == "Current Assets"
    assert {a.name for a in book.accounts if a.parent_guid is None} == {
        "Assets",
        "Liabilities",
        "Equity",
        "Income",
        "Expenses",
    }
    # A balanced ledger: all balances together are zero.
    assert sum(a.balance for a in book.accounts) == 0

    customers = {c.number: c for c in book.customers}
    cafe = customers["000002"]
    assert cafe.name == "Café Lumière"
    assert cafe.notes == "Menus and signage.\nPrefers invoices by email."
    assert cafe.billing.lines == ("Café Lumière LLC", "PO Box 118", "Camden, ME 04843")
    assert cafe.shipping.name == "Hélène Dubois"
    assert customers["000005"].active is False
    assert customers["000003"].name == "Pine & Pier Outfitters"
    assert customers["000004"].billing.fax == "(207) 555-0176"
    assert len(customers["000004"].billing.lines) == 4

    vendors = {v.number: v for v in book.vendors}
    assert [v.number for v in book.vendors] == ["000001", "000002", "000003"]
    printer = vendors["000002"]
    assert printer.name == "Casco Print Works"
    assert printer.active is True
    assert printer.currency == "USD"
    assert printer.address.name == "Orders"
    assert printer.address.lines == (
        "Casco Print Works",
        "71 Industrial Way",
        "Westbrook, ME 04092",
    )
    assert printer.address.email == "orders@cascoprint.example"
    assert vendors["000003"].address.phone == ""
