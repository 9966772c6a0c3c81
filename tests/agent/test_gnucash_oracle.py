"""The readers against the GnuCash engine itself: every field, every balance, exactly."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from contextlib import closing
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from agent.sources.gnucash.reading.reader import read_book
from agent.sources.gnucash.reading.records import Account, Address, Customer, Vendor
from tests.support.gnucash_books import place_sample
from tests.support.gnucash_engine import requires_gnucash, run_oracle
from tests.support.paths import SAMPLE_BOOKS


def _account(a: Account) -> dict[str, Any]:
    return {
        "name": a.name,
        "type": a.account_type,
        "parent_guid": a.parent_guid,
        "code": a.code,
        "description": a.description,
        "hidden": a.hidden,
        "placeholder": a.placeholder,
        "commodity": a.commodity,
        "balance": a.balance,
    }


def _oracle_account(o: dict[str, Any]) -> dict[str, Any]:
    facts = {key: value for key, value in o.items() if key != "guid"}
    facts["balance"] = Fraction(o["balance"])
    return facts


def _oracle_address(o: dict[str, str]) -> Address:
    lines = tuple(o[f"addr{i}"] for i in range(1, 5) if o[f"addr{i}"])
    return Address(name=o["name"], lines=lines, phone=o["phone"], fax=o["fax"], email=o["email"])


def _oracle_customer(o: dict[str, Any]) -> Customer:
    return Customer(
        guid=o["guid"],
        number=o["id"],
        name=o["name"],
        notes=o["notes"],
        active=o["active"],
        currency=o["currency"],
        billing=_oracle_address(o["addr"]),
        shipping=_oracle_address(o["shipaddr"]),
    )


def _oracle_vendor(o: dict[str, Any]) -> Vendor:
    return Vendor(
        guid=o["guid"],
        number=o["id"],
        name=o["name"],
        notes=o["notes"],
        active=o["active"],
        currency=o["currency"],
        address=_oracle_address(o["addr"]),
    )


def _plain_xml(book_dir: Path) -> Path:
    plain = book_dir / "Harbor Lane.gnucash"
    with gzip.open(SAMPLE_BOOKS["xml-gzip"], "rb") as src, plain.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return plain


@requires_gnucash
@pytest.mark.parametrize("book_format", ["sqlite", "xml-gzip", "xml"])
def test_reader_agrees_with_the_engine(book_format: str, book_dir: Path, workdir: Path) -> None:
    live = _plain_xml(book_dir) if book_format == "xml" else place_sample(book_format, book_dir)

    book = read_book(live, workdir)
    truth = run_oracle(live)

    assert book.format == book_format
    # Guard against a vacuous comparison: the sample book is known to hold these.
    assert len(truth["accounts"]) == 27
    assert len(truth["customers"]) == 6
    assert len(truth["vendors"]) == 3

    ours = {a.guid: _account(a) for a in book.accounts}
    engine = {o["guid"]: _oracle_account(o) for o in truth["accounts"]}
    assert ours == engine

    assert {c.guid: c for c in book.customers} == {
        o["guid"]: _oracle_customer(o) for o in truth["customers"]
    }
    assert {v.guid: v for v in book.vendors} == {
        o["guid"]: _oracle_vendor(o) for o in truth["vendors"]
    }


# The sample's vendors are all active, with no notes, fax or fourth line; these edits give the
# engine something to disagree with: an archived vendor, notes, a full address, and none at all.
_VENDOR_EDITS_SQL = """
UPDATE vendors SET active = 0, notes = 'Lease renews' || char(10) || 'in June.' WHERE id = '000001';
UPDATE vendors SET addr_fax = '(207) 555-0185', addr_addr4 = 'USA' WHERE id = '000002';
UPDATE vendors SET addr_name = NULL, addr_addr1 = NULL, addr_addr2 = NULL, addr_addr3 = NULL
    WHERE id = '000003';
"""

# (anchor, old, new): ``old`` is replaced at its first place after ``anchor``, since the file's
# order of vendors follows their random GUIDs.
_VENDOR_EDITS_XML = [
    (
        b"",
        b"<vendor:id>000001</vendor:id>",
        b"<vendor:id>000001</vendor:id><vendor:notes>Lease renews\nin June.</vendor:notes>",
    ),
    (b"<vendor:id>000001</vendor:id>", b"<vendor:active>1", b"<vendor:active>0"),
    (
        b"",
        b"<addr:addr3>Westbrook, ME 04092</addr:addr3>",
        b"<addr:addr3>Westbrook, ME 04092</addr:addr3><addr:addr4>USA</addr:addr4>"
        b"<addr:fax>(207) 555-0185</addr:fax>",
    ),
    (
        b"",
        b"<addr:name>Billing</addr:name>\n"
        b"    <addr:addr1>Pixelform Software Inc.</addr:addr1>\n"
        b"    <addr:addr2>500 Market Street</addr:addr2>\n"
        b"    <addr:addr3>San Francisco, CA 94105</addr:addr3>",
        b"",
    ),
]


@requires_gnucash
@pytest.mark.parametrize("book_format", ["sqlite", "xml-gzip"])
def test_readers_agree_with_the_engine_on_edited_vendors(
    book_format: str, book_dir: Path, workdir: Path
) -> None:
    live = place_sample(book_format, book_dir)
    if book_format == "sqlite":
        with closing(sqlite3.connect(live)) as db, db:
            db.executescript(_VENDOR_EDITS_SQL)
    else:
        with gzip.open(live, "rb") as f:
            xml = f.read()
        for anchor, old, new in _VENDOR_EDITS_XML:
            start = xml.index(anchor)
            at = xml.index(old, start)
            xml = xml[:at] + new + xml[at + len(old) :]
        live.write_bytes(gzip.compress(xml))

    book = read_book(live, workdir)
    truth = run_oracle(live)

    vendors = {v.number: v for v in book.vendors}
    assert vendors["000001"].active is False
    assert vendors["000001"].notes == "Lease renews\nin June."
    assert vendors["000002"].address.fax == "(207) 555-0185"
    assert len(vendors["000002"].address.lines) == 4
    assert vendors["000003"].address == Address()
    assert {v.guid: v for v in book.vendors} == {
        o["guid"]: _oracle_vendor(o) for o in truth["vendors"]
    }


@requires_gnucash
def test_engine_balances_are_not_trivial(book_dir: Path) -> None:
    """The comparison above is only worth something if the book has real balances and flags."""
    truth = run_oracle(place_sample("sqlite", book_dir))
    by_name = {a["name"]: a for a in truth["accounts"]}
    assert Fraction(by_name["Checking Account"]["balance"]) == Fraction("10769.06")
    assert Fraction(by_name["Accounts Receivable"]["balance"]) == Fraction("2080.00")
    assert by_name["Printing"]["hidden"] is True
    assert by_name["Assets"]["placeholder"] is True
    customers = {c["id"]: c for c in truth["customers"]}
    assert customers["000005"]["active"] is False
    assert customers["000002"]["shipaddr"]["addr2"] == "27 Bayview Street"
    vendors = {v["id"]: v for v in truth["vendors"]}
    assert vendors["000002"]["name"] == "Casco Print Works"
    assert vendors["000002"]["addr"]["email"] == "orders@cascoprint.example"
    assert vendors["000003"]["addr"]["phone"] == ""
