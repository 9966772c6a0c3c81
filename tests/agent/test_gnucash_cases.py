"""The "cases" fixture book (tests/fixtures/make_books.py), mapped, against the GnuCash engine.

The book holds what the sample book does not: discounts of both types and every placement,
tax-included prices, a job's invoice, a voided invoice, a credit note, a taxed bill, an inactive
customer, placeholder and hidden accounts, a second currency with trading accounts, and books
closed with closing entries. Each case is compared, in both formats, with the engine's figures;
the business documents are the rows of tests/fixtures/book_cases.py, each tested on its own.
Its payments (unallocated, overpaid, credit notes applied) are tested in
test_gnucash_case_payments.py.
"""

from __future__ import annotations

import gzip
import hashlib
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from agent.errors import BookUnreadable, DatasetFailed, RecordsInvalid
from agent.sources.base import Record
from protocol.states import DatasetStatus
from tests.fixtures.book_cases import DOCUMENTS, OWNERS, Document, customer_of, owner_of
from tests.support.gnucash_books import CASES_BOOKS, cents, place_case, synced
from tests.support.gnucash_engine import requires_gnucash, run_oracle
from tests.support.gnucash_reports import run_reports

FORMATS = sorted(CASES_BOOKS)

ASSETS = {"BANK", "CASH", "ASSET", "RECEIVABLE", "STOCK", "MUTUAL"}
LIABILITIES = {"CREDIT", "LIABILITY", "PAYABLE"}
EQUITY = {"EQUITY", "TRADING"}
PROFIT = {"INCOME", "EXPENSE"}


def _sum(balances: dict[str, str], types: dict[str, str], wanted: set[str]) -> Fraction:
    return sum((Fraction(v) for g, v in balances.items() if types[g] in wanted), Fraction(0))


def _engine_docs(truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in truth["invoices"]}


def _voided_postings(truth: dict[str, Any]) -> set[str]:
    return {t["guid"] for t in truth["transactions"] if t["voided"]}


def _posting(doc: dict[str, Any]) -> str | None:
    """The engine's posting transaction of a document, None for a draft."""
    return next((s["txn"] for s in doc["lot_splits"] if s["type"] == "I"), None)


@dataclass(frozen=True)
class Shape:
    """Where one data type's records keep what the engine says of a document."""

    number: str  # the document's own number
    owner: str  # the reference to its customer or supplier
    tax: str  # its total tax
    owed: str  # what is left to pay, or of the credit to use
    sign: int  # ``owed`` is the engine's raw lot balance (debit positive) times this
    unpaid: str  # the status of a posted document nothing has been paid or used of


# (vendor's, credit note) -> the data type a document is synced as.
DATA_TYPES = {
    (False, False): "invoices",
    (True, False): "bills",
    (False, True): "creditNotes",
    (True, True): "billCreditNotes",
}
SHAPES = {
    "invoices": Shape(
        "invoiceNumber", "customerRef", "totalTaxAmount", "amountDue", 1, "Submitted"
    ),
    "bills": Shape("reference", "supplierRef", "taxAmount", "amountDue", -1, "Open"),
    "creditNotes": Shape(
        "creditNoteNumber", "customerRef", "totalTaxAmount", "remainingCredit", -1, "Submitted"
    ),
    # A supplier's credit note debits A/P: its raw lot balance is the credit still to use.
    "billCreditNotes": Shape(
        "billCreditNoteNumber", "supplierRef", "totalTaxAmount", "remainingCredit", 1, "Submitted"
    ),
}
CASES = [pytest.param(case, id=case.id) for case in DOCUMENTS]


def _data_type(case: Document) -> str:
    return DATA_TYPES[owner_of(case).kind == "vendor", case.credit_note]


def _by_id(records: list[Record]) -> dict[str, Record]:
    return {r["id"]: r for r in records}


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_the_book_covers_every_case(
    book_format: str, cases_truth: dict[str, dict[str, Any]]
) -> None:
    truth = cases_truth[book_format]
    assert sorted(d["id"] for d in truth["invoices"]) == sorted(c.id for c in DOCUMENTS)
    for kind in ("customer", "vendor"):
        assert {o["id"]: (o["name"], o["active"]) for o in truth[f"{kind}s"]} == {
            o.id: (o.name, o.active) for o in OWNERS if o.kind == kind
        }
    by_name = {a["name"]: a for a in truth["accounts"]}
    assert by_name["Old Sales"]["hidden"] and by_name["Assets"]["placeholder"]
    assert by_name["Euro Account"]["commodity"] == "EUR"
    assert {a["name"] for a in truth["accounts"] if a["type"] == "TRADING"} >= {"EUR", "USD"}
    assert sum(t["closing"] for t in truth["transactions"]) == 2
    assert len(_voided_postings(truth)) == sum(c.void is not None for c in DOCUMENTS)
    # Both formats hold the very same book.
    other = cases_truth[next(f for f in FORMATS if f != book_format)]
    assert truth["invoices"] == other["invoices"] and truth["accounts"] == other["accounts"]


@requires_gnucash
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("book_format", FORMATS)
def test_the_engine_holds_the_case(
    book_format: str, case: Document, cases_truth: dict[str, dict[str, Any]]
) -> None:
    """The book holds each row as the table has it, so the other tests test what they say."""
    truth = cases_truth[book_format]
    doc = _engine_docs(truth)[case.id]
    owner = owner_of(case)
    held_by = customer_of(owner)  # a job's document belongs, for the engine, to its customer
    owner_ids = {o["guid"]: o["id"] for o in truth["customers"] + truth["vendors"]}

    assert (doc["owner_type"], owner_ids[doc["owner"]]) == (held_by.kind, held_by.id)
    assert (doc["job"] is not None) == (owner.kind == "job")
    assert (doc["credit_note"], doc["posted"]) == (case.credit_note, case.due is not None)
    assert (_posting(doc) in _voided_postings(truth)) == (case.void is not None)
    # The engine's figures are positive, a credit note's too; taxed lines make tax.
    assert Fraction(doc["total"]) > 0
    assert (Fraction(doc["tax"]) > 0) == any(line.tax for line in case.lines)


@requires_gnucash
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("book_format", FORMATS)
def test_the_document_matches_the_engine(
    book_format: str,
    case: Document,
    cases_truth: dict[str, dict[str, Any]],
    cases_synced: Callable[[str, str], list[Record]],
) -> None:
    truth = cases_truth[book_format]
    doc = _engine_docs(truth)[case.id]
    shape = SHAPES[_data_type(case)]

    records = cases_synced(book_format, _data_type(case))

    [record] = [r for r in records if r[shape.number] == case.id]
    assert record["id"] == doc["guid"]
    # A job's document belongs to the job's customer (the engine's end owner).
    assert record[shape.owner]["id"] == doc["owner"]
    assert record["totalAmount"] == cents(doc["total"])
    assert record[shape.tax] == cents(doc["tax"])
    assert record["subTotal"] == cents(doc["subtotal"])
    gnucash = record.get("supplementalData", {}).get("content", {}).get("gnucash", {})
    assert gnucash.get("jobId") == doc["job"]
    if not doc["posted"]:
        expected = "Draft"
    elif _posting(doc) in _voided_postings(truth):
        expected = "Void"
        assert record[shape.owed] == 0.0
    else:
        owed = shape.sign * Fraction(doc["lot_balance"])
        assert record[shape.owed] == cents(owed)
        expected = (
            "Paid"
            if doc["paid"]
            else shape.unpaid
            if owed == Fraction(doc["total"])
            else "PartiallyPaid"
        )
    assert record["status"] == expected == case.status
    # The lines in any order; a credit note's quantities as its document shows them, positive.
    items = record["lineItems"]
    assert sorted((li["description"], li["quantity"]) for li in items) == sorted(
        (line.description, float(line.quantity)) for line in case.lines
    )
    # A price that includes tax is shown net of it; any other as entered.
    prices = {li["description"]: li["unitAmount"] for li in items}
    for line in case.lines:
        if not line.included:
            assert prices[line.description] == float(line.price), line.description


@requires_gnucash
@pytest.mark.parametrize("data_type", sorted(SHAPES))
@pytest.mark.parametrize("book_format", FORMATS)
def test_each_data_type_holds_its_own_documents(
    book_format: str,
    data_type: str,
    cases_truth: dict[str, dict[str, Any]],
    cases_synced: Callable[[str, str], list[Record]],
) -> None:
    """Invoices and bills leave credit notes out; each credit note is in its own data type."""
    engine = [
        d["guid"]
        for d in cases_truth[book_format]["invoices"]
        if DATA_TYPES[d["owner_type"] == "vendor", d["credit_note"]] == data_type
    ]

    records = cases_synced(book_format, data_type)

    assert sorted(r["id"] for r in records) == sorted(engine)
    assert sorted(r[SHAPES[data_type].number] for r in records) == sorted(
        c.id for c in DOCUMENTS if _data_type(c) == data_type
    )


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_customers_archived_and_accounts_flagged(
    book_format: str,
    cases_truth: dict[str, dict[str, Any]],
    cases_synced: Callable[[str, str], list[Record]],
) -> None:
    truth = cases_truth[book_format]

    customers = _by_id(cases_synced(book_format, "customers"))
    accounts = _by_id(cases_synced(book_format, "chartOfAccounts"))

    for customer in truth["customers"]:
        expected = "Active" if customer["active"] else "Archived"
        assert customers[customer["guid"]]["status"] == expected, customer["name"]
    assert set(accounts) == {a["guid"] for a in truth["accounts"]}
    for account in truth["accounts"]:
        record = accounts[account["guid"]]
        # currentBalance keeps GnuCash's raw sign (debit positive), in the account's commodity.
        assert record["currentBalance"] == cents(account["balance"]), account["name"]
        if account["commodity"]:
            assert record["currency"] == account["commodity"], account["name"]


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_balance_sheets_match_the_engine(
    book_format: str,
    cases_truth: dict[str, dict[str, Any]],
    cases_synced: Callable[[str, str], list[Record]],
) -> None:
    truth = cases_truth[book_format]
    types = {a["guid"]: a["type"] for a in truth["accounts"]}
    months = truth["month_end_balances"]

    sheets = _by_id(cases_synced(book_format, "balanceSheet"))

    assert set(sheets) == set(months)
    for month, raw in months.items():
        # Report in USD: the EUR account and its trading account at the engine's price.
        balances = {**raw, **truth["month_end_converted"][month]}
        sheet = sheets[month]
        assets = _sum(balances, types, ASSETS)
        liabilities = -_sum(balances, types, LIABILITIES)
        equity = -_sum(balances, types, EQUITY) - _sum(balances, types, PROFIT)
        assert sheet["assets"]["value"] == cents(assets), month
        assert sheet["liabilities"]["value"] == cents(liabilities), month
        assert sheet["equity"]["value"] == cents(equity), month
        assert sheet["netAssets"] == cents(assets - liabilities), month
    # After the close, Retained Earnings holds 2025's profit and is on the sheet.
    december = sheets["2025-12"]
    retained = [
        line for line in _walk(december["equity"]) if line.get("name") == "Retained Earnings"
    ]
    assert any(line["value"] == 900.0 for line in retained), retained


@pytest.fixture(scope="session")
def cases_reports(
    cases_books: dict[str, Path], cases_truth: dict[str, dict[str, Any]]
) -> dict[str, dict[str, dict[str, dict[str, Decimal | None]]]]:
    """GnuCash's own Balance Sheet and Income Statement of each month, for each format."""
    return {
        name: run_reports(path, sorted(cases_truth[name]["month_end_balances"]))
        for name, path in cases_books.items()
    }


def _decimal(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_foreign_currency_balances_valued_at_the_engine_price(
    book_format: str,
    cases_truth: dict[str, dict[str, Any]],
    cases_synced: Callable[[str, str], list[Record]],
) -> None:
    """920 EUR at the price nearest in time to each month's end (pricedb-nearest): 1.087 at
    January's end, the later 1.10 at February's, as the engine converts them."""
    truth = cases_truth[book_format]
    types = {a["guid"]: a["type"] for a in truth["accounts"]}

    sheets = _by_id(cases_synced(book_format, "balanceSheet"))

    for month, converted in truth["month_end_converted"].items():
        balances = {**truth["month_end_balances"][month], **converted}
        assert sheets[month]["assets"]["value"] == cents(_sum(balances, types, ASSETS)), month
    euro = {a["name"]: a["guid"] for a in truth["accounts"]}["Euro Account"]
    assert truth["month_end_converted"]["2026-01"][euro] == "100004/100"
    assert truth["month_end_converted"]["2026-02"][euro] == "100100/100"  # 910 EUR left


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_balance_sheets_equal_gnucash_balance_sheet_report(
    book_format: str,
    cases_reports: dict[str, dict[str, dict[str, dict[str, Decimal | None]]]],
    cases_synced: Callable[[str, str], list[Record]],
) -> None:
    """Every month's sheet is what GnuCash's own Balance Sheet report prints for that date,
    its "Trading Gains" line included."""
    reports = cases_reports[book_format]["balanceSheet"]

    sheets = _by_id(cases_synced(book_format, "balanceSheet"))

    assert set(sheets) == set(reports)
    for month, report in reports.items():
        sheet = sheets[month]
        assert _decimal(sheet["assets"]["value"]) == report["assets"], month
        assert _decimal(sheet["liabilities"]["value"]) == report["liabilities"], month
        assert _decimal(sheet["equity"]["value"]) == report["equity"], month
        gains = [
            line["value"]
            for line in sheet["equity"]["items"]
            if line["name"] in ("Trading Gains", "Trading Losses")
        ]
        assert [_decimal(v) for v in gains] == (
            [report["trading"]] if report["trading"] is not None else []
        ), month
        assert report["unrealized"] is None  # a book with trading accounts shows none
    assert reports["2026-02"]["trading"] == Decimal("12.00")  # 920 x 1.10 less the 1000 paid


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_without_trading_accounts_unrealized_gains_balance_the_sheet_as_gnucash(
    book_format: str, cases_books: dict[str, Path], book_dir: Path, workdir: Path
) -> None:
    """With "Use Trading Accounts" off, GnuCash leaves the trading accounts out and shows the
    euros' gain over their cost as "Unrealized Gains"; so must the agent."""
    live = _broken_book(
        cases_books,
        book_format,
        book_dir,
        "UPDATE slots SET string_val = 'f' WHERE name = 'options/Accounts/Use Trading Accounts'",
        lambda xml: _replace_after(
            xml,
            b"<slot:key>Use Trading Accounts</slot:key>",
            b'<slot:value type="string">',
            b"</slot:value>",
            b"f",
        ),
    )
    reports = run_reports(live, ["2026-01", "2026-02"])["balanceSheet"]

    sheets = {r["id"]: r for r in synced(live, workdir, "balanceSheet")}

    for month, report in reports.items():
        sheet = sheets[month]
        assert report["trading"] is None, month
        assert _decimal(sheet["assets"]["value"]) == report["assets"], month
        assert _decimal(sheet["liabilities"]["value"]) == report["liabilities"], month
        assert _decimal(sheet["equity"]["value"]) == report["equity"], month
        [gains] = [line for line in sheet["equity"]["items"] if "Unrealized" in line["name"]]
        assert _decimal(gains["value"]) == report["unrealized"], month
    assert reports["2026-02"]["unrealized"] == Decimal("12.00")


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_profit_and_loss_equals_gnucash_income_statement_report(
    book_format: str,
    cases_reports: dict[str, dict[str, dict[str, dict[str, Decimal | None]]]],
    cases_synced: Callable[[str, str], list[Record]],
) -> None:
    reports = cases_reports[book_format]["profitAndLoss"]

    records = _by_id(cases_synced(book_format, "profitAndLoss"))

    assert set(records) == set(reports)
    for month, report in reports.items():
        record = records[month]
        assert _decimal(record["income"]["value"]) == report["income"], month
        assert _decimal(record["expenses"]["value"]) == report["expenses"], month
        assert _decimal(record["netProfit"]) == report["net"], month


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_profit_and_loss_matches_the_engine(
    book_format: str,
    cases_truth: dict[str, dict[str, Any]],
    cases_synced: Callable[[str, str], list[Record]],
) -> None:
    """Month by month, as GnuCash's Income Statement shows it: closing entries excluded, the
    euro expense at the engine's price nearest the month's end."""
    truth = cases_truth[book_format]
    types = {a["guid"]: a["type"] for a in truth["accounts"]}
    commodity = {a["guid"]: a["commodity"] for a in truth["accounts"]}

    reports = _by_id(cases_synced(book_format, "profitAndLoss"))

    moved: dict[str, dict[str, Fraction]] = {}
    for txn in truth["transactions"]:
        if txn["closing"]:
            continue
        in_month = moved.setdefault(txn["posted"][:7], {})
        for split in txn["splits"]:
            in_month[split["account"]] = in_month.get(split["account"], Fraction(0)) + Fraction(
                split["quantity"]
            )
    assert set(reports) == set(truth["month_end_balances"])
    for month, report in reports.items():
        rates = {c: Fraction(r) for c, r in truth["month_end_rates"][month].items()}
        changes = {
            g: str(v * rates.get(commodity[g], Fraction(1)))
            for g, v in moved.get(month, {}).items()
        }
        income = -_sum(changes, types, {"INCOME"})
        expenses = _sum(changes, types, {"EXPENSE"})
        assert report["income"]["value"] == cents(income), month
        assert report["expenses"]["value"] == cents(expenses), month
        assert report["netProfit"] == cents(income - expenses), month
    assert reports["2025-12"]["netProfit"] == -300.0  # the paper, not the closing entries
    assert reports["2026-02"]["expenses"]["value"] == 23.34  # stamps, and 10 EUR x 1.10


def _walk(line: dict[str, Any]) -> list[dict[str, Any]]:
    found = [line]
    for item in line.get("items") or []:
        found.extend(_walk(item))
    return found


# Bad input in the new data: each ends in a precise error naming the record, and the user's
# book is byte for byte what it was.


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _xml_block(xml: bytes, marker: bytes, start: bytes, end: bytes) -> tuple[int, int]:
    """Where the ``start``...``end`` element holding ``marker`` sits in ``xml``."""
    at = xml.index(marker)
    first = xml.rindex(start, 0, at)
    return first, xml.index(end, at) + len(end)


def _replace_after(
    xml: bytes, marker: bytes, old_start: bytes, old_end: bytes, new: bytes
) -> bytes:
    """Replace what lies between ``old_start`` and ``old_end`` first found after ``marker``."""
    at = xml.index(old_start, xml.index(marker)) + len(old_start)
    stop = xml.index(old_end, at)
    return xml[:at] + new + xml[stop:]


def _broken_book(
    cases_books: dict[str, Path],
    book_format: str,
    book_dir: Path,
    sql: str,
    xml_edit: Callable[[bytes], bytes],
) -> Path:
    live = place_case(cases_books, book_format, book_dir)
    if book_format == "sqlite":
        with closing(sqlite3.connect(live)) as db, db:
            assert db.execute(sql).rowcount == 1
    else:
        with gzip.open(live, "rb") as f:
            original = f.read()
        edited = xml_edit(original)
        assert edited != original
        live.write_bytes(gzip.compress(edited))
    return live


def _fails(
    live: Path, workdir: Path, data_type: str, error: type[DatasetFailed], status: DatasetStatus
) -> str:
    before = _hash(live)
    with pytest.raises(error) as caught:
        synced(live, workdir, data_type)
    assert caught.value.status is status
    assert _hash(live) == before  # the user's book is untouched
    return caught.value.message


def _stamps(truth: dict[str, Any]) -> dict[str, Any]:
    found: list[dict[str, Any]] = [t for t in truth["transactions"] if t["description"] == "Stamps"]
    [txn] = found
    return txn


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_a_document_whose_posting_transaction_is_missing(
    book_format: str,
    cases_books: dict[str, Path],
    cases_truth: dict[str, dict[str, Any]],
    book_dir: Path,
    workdir: Path,
) -> None:
    doc = _engine_docs(cases_truth[book_format])["INV-PCT"]
    [posting] = {s["txn"] for s in doc["lot_splits"] if s["type"] == "I"}

    def drop(xml: bytes) -> bytes:
        first, last = _xml_block(
            xml,
            f'<trn:id type="guid">{posting}</trn:id>'.encode(),
            b"<gnc:transaction ",
            b"</gnc:transaction>",
        )
        return xml[:first] + xml[last:]

    live = _broken_book(
        cases_books,
        book_format,
        book_dir,
        f"DELETE FROM transactions WHERE guid = '{posting}'",
        drop,
    )

    message = _fails(live, workdir, "invoices", BookUnreadable, DatasetStatus.FETCH_ERROR)

    assert '"INV-PCT"' in message and doc["guid"] in message
    assert f"its posting transaction {posting} is missing" in message


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_a_split_in_an_unknown_account(
    book_format: str,
    cases_books: dict[str, Path],
    cases_truth: dict[str, dict[str, Any]],
    book_dir: Path,
    workdir: Path,
) -> None:
    txn = _stamps(cases_truth[book_format])
    split = txn["splits"][0]
    nowhere = "f" * 32

    live = _broken_book(
        cases_books,
        book_format,
        book_dir,
        f"UPDATE splits SET account_guid = '{nowhere}' WHERE guid = '{split['guid']}'",
        lambda xml: _replace_after(
            xml,
            f'<split:id type="guid">{split["guid"]}</split:id>'.encode(),
            b'<split:account type="guid">',
            b"</split:account>",
            nowhere.encode(),
        ),
    )

    message = _fails(live, workdir, "journalEntries", BookUnreadable, DatasetStatus.FETCH_ERROR)

    assert f'the transaction "Stamps" ({txn["guid"]})' in message
    assert f"a split is in the account {nowhere}, which does not exist" in message


@requires_gnucash
def test_a_bill_line_without_b_taxable_in_xml_is_taxable_as_the_engine_reads_it(
    cases_books: dict[str, Path], book_dir: Path, workdir: Path
) -> None:
    """GnuCash's XML writer leaves ``b-taxable`` out of a line it holds as an invoice line; the
    engine then keeps ``gncEntryCreate``'s default, taxable, and so must the reader."""
    live = _broken_book(
        cases_books,
        "xml-gzip",
        book_dir,
        "",
        lambda xml: xml.replace(b"<entry:b-taxable>1</entry:b-taxable>", b""),
    )
    engine = {
        d["guid"]: d
        for d in run_oracle(live)["invoices"]
        if d["owner_type"] == "vendor" and not d["credit_note"]
    }
    [taxed] = [d for d in engine.values() if d["id"] == "B-TAX"]
    assert taxed["tax"] == "1500/100"  # the engine still taxes the line

    bills = synced(live, workdir, "bills")

    assert {b["id"]: (b["taxAmount"], b["totalAmount"]) for b in bills} == {
        guid: (cents(d["tax"]), cents(d["total"])) for guid, d in engine.items()
    }


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_an_unbalanced_transaction(
    book_format: str,
    cases_books: dict[str, Path],
    cases_truth: dict[str, dict[str, Any]],
    book_dir: Path,
    workdir: Path,
) -> None:
    txn = _stamps(cases_truth[book_format])
    [debit] = [s for s in txn["splits"] if Fraction(s["value"]) > 0]

    live = _broken_book(
        cases_books,
        book_format,
        book_dir,
        f"UPDATE splits SET value_num = 1300, value_denom = 100, quantity_num = 1300, "
        f"quantity_denom = 100 WHERE guid = '{debit['guid']}'",
        lambda xml: _replace_after(
            _replace_after(
                xml,
                f'<split:id type="guid">{debit["guid"]}</split:id>'.encode(),
                b"<split:value>",
                b"</split:value>",
                b"1300/100",
            ),
            f'<split:id type="guid">{debit["guid"]}</split:id>'.encode(),
            b"<split:quantity>",
            b"</split:quantity>",
            b"1300/100",
        ),
    )

    message = _fails(
        live, workdir, "journalEntries", RecordsInvalid, DatasetStatus.VALIDATION_ERROR
    )

    assert f"journalEntries record {txn['guid']!r} does not balance" in message
    assert "its lines sum to 0.66" in message
