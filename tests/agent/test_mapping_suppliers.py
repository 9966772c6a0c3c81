"""GnuCash vendors become standard suppliers that pass the Validating phase."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from agent.errors import RecordsInvalid
from agent.sources.gnucash.mapping.suppliers import map_suppliers
from agent.sources.gnucash.reading.reader import read_book
from agent.sources.gnucash.reading.records import Address
from agent.sources.gnucash.source import GnuCashSource
from agent.standard.validation import validate


def test_a_sample_vendor_maps_field_for_field(live_book: Path, workdir: Path) -> None:
    book = read_book(live_book, workdir)

    suppliers = {
        s["supplementalData"]["content"]["gnucash"]["vendorNumber"]: s for s in map_suppliers(book)
    }
    landlord = next(v for v in book.vendors if v.number == "000001")

    assert suppliers["000001"] == {
        "id": landlord.guid,
        "supplierName": "Portside Properties LLC",
        "contactName": "Leasing Office",
        "emailAddress": "leasing@portside.example",
        "phone": "(207) 555-0130",
        "defaultCurrency": "USD",
        "addresses": [
            {
                "type": "Billing",
                "line1": "Portside Properties LLC",
                "line2": "300 Fore Street, Portland, ME 04101",
            }
        ],
        "status": "Active",
        "supplementalData": {"content": {"gnucash": {"vendorNumber": "000001"}}},
    }
    # Details GnuCash leaves blank are absent, not empty strings.
    assert suppliers["000003"]["phone"] is None
    assert suppliers["000003"]["emailAddress"] is None
    validate("suppliers", list(suppliers.values()))


def test_an_inactive_vendor_without_an_address_is_archived_with_no_addresses(
    live_book: Path, workdir: Path
) -> None:
    book = read_book(live_book, workdir)
    vendor = replace(book.vendors[0], active=False, address=Address())

    (supplier,) = map_suppliers(replace(book, vendors=(vendor,)))

    assert supplier["status"] == "Archived"
    assert supplier["addresses"] == []
    assert supplier["contactName"] is None
    validate("suppliers", [supplier])


def test_one_address_line_leaves_line2_empty(live_book: Path, workdir: Path) -> None:
    book = read_book(live_book, workdir)
    vendor = replace(book.vendors[0], address=Address(lines=("PO Box 9",)))

    (supplier,) = map_suppliers(replace(book, vendors=(vendor,)))

    assert supplier["addresses"] == [{"type": "Billing", "line1": "PO Box 9", "line2": None}]


def test_a_supplier_without_a_name_fails_validation() -> None:
    with pytest.raises(RecordsInvalid, match="'v1' has no supplierName"):
        validate("suppliers", [{"id": "v1", "supplierName": "", "status": "Active"}])
    with pytest.raises(RecordsInvalid, match="status 'Closed'"):
        validate("suppliers", [{"id": "v1", "supplierName": "Paper Co", "status": "Closed"}])


def test_gnucash_now_reads_suppliers(tmp_path: Path) -> None:
    source = GnuCashSource(tmp_path / "book.gnucash", tmp_path / "work")

    assert source.unsupported_reason("suppliers") is None
    reason = source.unsupported_reason("items")
    assert reason is not None and "suppliers" in reason
