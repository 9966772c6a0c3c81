"""Payments, bill payments and the monthly reports, mapped, against the GnuCash engine."""

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

ASSETS = {"BANK", "CASH", "ASSET", "RECEIVABLE", "STOCK", "MUTUAL"}
LIABILITIES = {"CREDIT", "LIABILITY", "PAYABLE"}
EQUITY = {"EQUITY", "TRADING"}
PROFIT = {"INCOME", "EXPENSE"}


def _engine_payments(truth: dict[str, Any], kind: str) -> dict[str, list[tuple[str, Fraction]]]:
    """Payment transaction -> [(document, raw lot value)], from the engine's document lots."""
    found: dict[str, list[tuple[str, Fraction]]] = {}
    for doc in truth["invoices"]:
        if doc["owner_type"] != kind:
            continue
        for split in doc["lot_splits"]:
            if split["type"] == "P":
                found.setdefault(split["txn"], []).append((doc["guid"], Fraction(split["value"])))
    return found


def _check_payments(truth: dict[str, Any], records: list[Record], kind: str) -> None:
    engine = _engine_payments(truth, kind)
    assert engine  # not vacuous
    types = {a["guid"]: a["type"] for a in truth["accounts"]}
    transactions = {t["guid"]: t for t in truth["transactions"]}
    by_id = {r["id"]: r for r in records}
    assert set(by_id) == set(engine)
    doc_sign = 1 if kind == "customer" else -1
    money_sign = -1 if kind == "customer" else 1
    for txn_guid, allocations in engine.items():
        record = by_id[txn_guid]
        links = sorted(
            (link["id"], link["amount"]) for line in record["lines"] for link in line["links"]
        )
        assert links == sorted((doc, cents(doc_sign * value)) for doc, value in allocations)
        assert sum(line["amount"] for line in record["lines"]) == pytest.approx(
            cents(money_sign * sum(value for _, value in allocations))
        )
        bank = [
            s
            for s in transactions[txn_guid]["splits"]
            if types[s["account"]] in ASSETS - {"RECEIVABLE"}
        ]
        assert record["totalAmount"] == cents(
            -money_sign * sum((Fraction(s["value"]) for s in bank), Fraction(0))
        )
        assert record["accountRef"]["id"] == bank[0]["account"]
        owner = {d["guid"]: d["owner"] for d in truth["invoices"]}[allocations[0][0]]
        ref = record["customerRef" if kind == "customer" else "supplierRef"]
        assert ref["id"] == owner


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_payments_match_the_engine(book_format: str, book_dir: Path, workdir: Path) -> None:
    live = place_sample(book_format, book_dir)
    truth = run_oracle(live)

    payments = synced(live, workdir, "payments")

    _check_payments(truth, payments, "customer")
    assert len(payments) == 2  # invoice 000001 paid, 000002 part-paid
    amounts = sorted(p["totalAmount"] for p in payments)
    assert amounts == [500.0, 3629.68]


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_bill_payments_match_the_engine(book_format: str, book_dir: Path, workdir: Path) -> None:
    live = place_sample(book_format, book_dir)
    truth = run_oracle(live)

    bill_payments = synced(live, workdir, "billPayments")

    _check_payments(truth, bill_payments, "vendor")
    [payment] = bill_payments
    assert payment["totalAmount"] == 61.25
    assert payment["lines"][0]["links"][0]["type"] == "Bill"


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_invoices_carry_their_payment_allocations(
    book_format: str, book_dir: Path, workdir: Path
) -> None:
    live = place_sample(book_format, book_dir)
    engine = _engine_payments(run_oracle(live), "customer")

    invoices = synced(live, workdir, "invoices")

    allocated = {
        (item["payment"]["id"], invoice["id"]): item["allocation"]["totalAmount"]
        for invoice in invoices
        for item in invoice.get("paymentAllocations", [])
    }
    expected = {(txn, doc): cents(-value) for txn, found in engine.items() for doc, value in found}
    assert allocated == expected


def _sum(balances: dict[str, str], types: dict[str, str], wanted: set[str]) -> Fraction:
    return sum((Fraction(v) for g, v in balances.items() if types[g] in wanted), Fraction(0))


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_balance_sheets_match_the_engine(book_format: str, book_dir: Path, workdir: Path) -> None:
    live = place_sample(book_format, book_dir)
    truth = run_oracle(live)
    types = {a["guid"]: a["type"] for a in truth["accounts"]}
    months = truth["month_end_balances"]
    assert len(months) >= 3

    sheets = {r["id"]: r for r in synced(live, workdir, "balanceSheet")}

    assert set(sheets) == set(months)
    for month, balances in months.items():
        sheet = sheets[month]
        assets = _sum(balances, types, ASSETS)
        liabilities = -_sum(balances, types, LIABILITIES)
        equity = -_sum(balances, types, EQUITY) - _sum(balances, types, PROFIT)
        assert sheet["assets"]["value"] == cents(assets), month
        assert sheet["liabilities"]["value"] == cents(liabilities), month
        assert sheet["equity"]["value"] == cents(equity), month
        assert sheet["netAssets"] == cents(assets - liabilities), month
        for line in _walk(sheet["assets"]):
            if line.get("accountId"):
                subtree = _subtree(truth["accounts"], line["accountId"])
                expected = sum((Fraction(balances[g]) for g in subtree), Fraction(0))
                assert line["value"] == cents(expected), (month, line["name"])


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_profit_and_loss_matches_the_engine(
    book_format: str, book_dir: Path, workdir: Path
) -> None:
    live = place_sample(book_format, book_dir)
    truth = run_oracle(live)
    types = {a["guid"]: a["type"] for a in truth["accounts"]}
    months = truth["month_end_balances"]

    reports = {r["id"]: r for r in synced(live, workdir, "profitAndLoss")}

    assert set(reports) == set(months)
    previous: dict[str, str] = {}
    for month in sorted(months):
        balances = months[month]
        moved = {g: str(Fraction(v) - Fraction(previous.get(g, "0"))) for g, v in balances.items()}
        income = -_sum(moved, types, {"INCOME"})
        expenses = _sum(moved, types, {"EXPENSE"})
        report = reports[month]
        assert report["income"]["value"] == cents(income), month
        assert report["expenses"]["value"] == cents(expenses), month
        assert report["grossProfit"] == cents(income), month
        assert report["netProfit"] == cents(income - expenses), month
        assert report["reportBasis"] == "Accrual"
        previous = balances
    assert any(r["netProfit"] for r in reports.values())  # not vacuous


def _walk(line: dict[str, Any]) -> list[dict[str, Any]]:
    found = [line]
    for item in line.get("items") or []:
        found.extend(_walk(item))
    return found


def _subtree(accounts: list[dict[str, Any]], top: str) -> set[str]:
    found = {top}
    changed = True
    while changed:
        more = {a["guid"] for a in accounts if a["parent_guid"] in found} - found
        changed = bool(more)
        found |= more
    return found


def test_validation_names_a_balance_sheet_that_does_not_balance() -> None:
    record: Record = {
        "id": "2026-03",
        "date": "2026-03-31T00:00:00",
        "currency": "USD",
        "assets": {"value": 100.0},
        "liabilities": {"value": 40.0},
        "equity": {"value": 50.0},
        "netAssets": 60.0,
    }
    with pytest.raises(RecordsInvalid, match=r"'2026-03' does not balance: assets 100\.0.*90\.0"):
        validate("balanceSheet", [record])
