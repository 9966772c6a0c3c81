"""Invoices and bills, mapped, against what the GnuCash engine computes for the same book."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from agent.errors import RecordsInvalid
from agent.sources.base import Record
from agent.standard.validation import validate
from tests.support.gnucash_books import cents, place_sample, synced
from tests.support.gnucash_engine import requires_gnucash, run_oracle

FORMATS = ["sqlite", "xml-gzip"]


def _expected_status(doc: dict[str, Any], open_word: str) -> str:
    if not doc["posted"]:
        return "Draft"
    if doc["paid"]:
        return "Paid"
    sign = 1 if doc["owner_type"] == "customer" else -1
    if sign * Fraction(doc["lot_balance"]) == Fraction(doc["total"]):
        return open_word
    return "PartiallyPaid"


def _check(records: list[Record], engine: list[dict[str, Any]], kind: str) -> None:
    by_id = {r["id"]: r for r in records}
    assert set(by_id) == {d["guid"] for d in engine}
    tax_field = "totalTaxAmount" if kind == "customer" else "taxAmount"
    ref_field = "customerRef" if kind == "customer" else "supplierRef"
    for doc in engine:
        record = by_id[doc["guid"]]
        assert record["totalAmount"] == cents(doc["total"]), doc["id"]
        assert record[tax_field] == cents(doc["tax"]), doc["id"]
        assert record["subTotal"] == cents(doc["subtotal"]), doc["id"]
        assert record[ref_field]["id"] == doc["owner"]
        open_word = "Submitted" if kind == "customer" else "Open"
        assert record["status"] == _expected_status(doc, open_word), doc["id"]
        if doc["posted"]:
            sign = 1 if kind == "customer" else -1
            assert record["amountDue"] == cents(str(sign * Fraction(doc["lot_balance"])))


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_invoices_match_the_engine(book_format: str, book_dir: Path, workdir: Path) -> None:
    live = place_sample(book_format, book_dir)
    engine = [d for d in run_oracle(live)["invoices"] if d["owner_type"] == "customer"]
    assert len(engine) == 4  # paid, part-paid, unpaid, draft: not vacuous

    invoices = synced(live, workdir, "invoices")

    _check(invoices, engine, "customer")
    by_number = {i["invoiceNumber"]: i for i in invoices}
    assert {n: i["status"] for n, i in by_number.items()} == {
        "000001": "Paid",
        "000002": "PartiallyPaid",
        "000003": "Submitted",
        "000004": "Draft",
    }
    assert by_number["000001"]["totalTaxAmount"] == 4.68
    assert by_number["000001"]["paidOnDate"].startswith("2026-02-18")
    assert by_number["000001"]["dueDate"].startswith("2026-02-19")
    assert by_number["000002"]["amountDue"] == 830.0
    assert "paidOnDate" not in by_number["000002"]
    taxed = [line for line in by_number["000001"]["lineItems"] if line["taxAmount"]]
    [table] = [t for t in run_oracle(live)["tax_tables"] if not t["invisible"]]
    assert [line["taxRateRef"]["id"] for line in taxed] == [table["guid"]]


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_bills_match_the_engine(book_format: str, book_dir: Path, workdir: Path) -> None:
    live = place_sample(book_format, book_dir)
    engine = [d for d in run_oracle(live)["invoices"] if d["owner_type"] == "vendor"]
    assert len(engine) == 1

    bills = synced(live, workdir, "bills")

    _check(bills, engine, "vendor")
    [bill] = bills
    assert (bill["reference"], bill["status"], bill["totalAmount"]) == ("B-0001", "Paid", 61.25)


def test_validation_names_a_document_whose_lines_do_not_add_up() -> None:
    record: Record = {
        "id": "inv-1",
        "issueDate": "2026-01-01T00:00:00Z",
        "status": "Submitted",
        "subTotal": 10.0,
        "totalTaxAmount": 0.0,
        "totalAmount": 10.0,
        "amountDue": 10.0,
        "lineItems": [{"quantity": 1, "unitAmount": 9, "subTotal": 9.0, "taxAmount": 0.0}],
    }
    with pytest.raises(RecordsInvalid, match=r"'inv-1'.*sum to 9\.0.*subTotal is 10\.0"):
        validate("invoices", [record])
