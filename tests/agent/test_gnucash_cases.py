"""The "cases" fixture book (tests/fixtures/make_books.py), mapped, against the GnuCash engine.

The book holds what the sample book does not: discounts of both types and every placement,
tax-included prices, a job's invoice, a voided invoice, a credit note, a taxed bill, an inactive
customer, placeholder and hidden accounts, a second currency with trading accounts, and books
closed with closing entries. Each case is compared, in both formats, with the engine's figures.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from agent.errors import BookUnreadable, DatasetFailed, RecordsInvalid
from agent.states import DatasetStatus
from tests.agent.conftest import cents, synced
from tests.gnucash_engine import ENGINE_PYTHON, require_gnucash, requires_gnucash, run_oracle
from tests.gnucash_reports import run_reports

MAKE_BOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "make_books.py"
BOOKS = {"sqlite": "cases.gnucash", "xml-gzip": "cases-xml.gnucash"}
FORMATS = sorted(BOOKS)

ASSETS = {"BANK", "CASH", "ASSET", "RECEIVABLE", "STOCK", "MUTUAL"}
LIABILITIES = {"CREDIT", "LIABILITY", "PAYABLE"}
EQUITY = {"EQUITY", "TRADING"}
PROFIT = {"INCOME", "EXPENSE"}


@pytest.fixture(scope="session")
def cases_books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both formats of the cases book, built once per session by the real engine."""
    require_gnucash()
    outdir = tmp_path_factory.mktemp("cases-books")
    subprocess.run(
        [ENGINE_PYTHON, str(MAKE_BOOKS), str(outdir)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return {name: outdir / file for name, file in BOOKS.items()}


@pytest.fixture(scope="session")
def cases_truth(cases_books: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """What the engine says each format of the book holds."""
    return {name: run_oracle(path) for name, path in cases_books.items()}


def _place(cases_books: dict[str, Path], book_format: str, book_dir: Path) -> Path:
    return Path(shutil.copy2(cases_books[book_format], book_dir / "Cases.gnucash"))


def _sum(balances: dict[str, str], types: dict[str, str], wanted: set[str]) -> Fraction:
    return sum((Fraction(v) for g, v in balances.items() if types[g] in wanted), Fraction(0))


def _engine_docs(truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in truth["invoices"]}


def _voided_postings(truth: dict[str, Any]) -> set[str]:
    return {t["guid"] for t in truth["transactions"] if t["voided"]}


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_the_book_covers_every_case(
    book_format: str, cases_truth: dict[str, dict[str, Any]]
) -> None:
    truth = cases_truth[book_format]
    docs = _engine_docs(truth)
    assert set(docs) == {
        "INV-PCT",
        "INV-VAL",
        "INV-INC",
        "INV-JOB",
        "INV-VOID",
        "INV-OLD",
        "INV-DRAFT",
        "CN-001",
        "B-TAX",
        "BCN-001",
    }
    assert docs["CN-001"]["credit_note"] and docs["BCN-001"]["credit_note"]
    assert docs["B-TAX"]["owner_type"] == "vendor" and docs["B-TAX"]["tax"] != "0/1"
    assert {c["name"]: c["active"] for c in truth["customers"]} == {
        "Active Customer Co": True,
        "Dormant Customer Co": False,
    }
    by_name = {a["name"]: a for a in truth["accounts"]}
    assert by_name["Old Sales"]["hidden"] and by_name["Assets"]["placeholder"]
    assert by_name["Euro Account"]["commodity"] == "EUR"
    assert {a["name"] for a in truth["accounts"] if a["type"] == "TRADING"} >= {"EUR", "USD"}
    assert sum(t["closing"] for t in truth["transactions"]) == 2
    assert len(_voided_postings(truth)) == 1
    # Both formats hold the very same book.
    other = cases_truth[next(f for f in FORMATS if f != book_format)]
    assert truth["invoices"] == other["invoices"] and truth["accounts"] == other["accounts"]


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_invoices_match_the_engine(
    book_format: str,
    cases_books: dict[str, Path],
    cases_truth: dict[str, dict[str, Any]],
    book_dir: Path,
    workdir: Path,
) -> None:
    truth = cases_truth[book_format]
    engine = {
        d["guid"]: d
        for d in truth["invoices"]
        if d["owner_type"] == "customer" and not d["credit_note"]
    }
    voided = _voided_postings(truth)
    posting_of = {
        d["guid"]: next((s["txn"] for s in d["lot_splits"] if s["type"] == "I"), None)
        for d in truth["invoices"]
    }

    invoices = {
        r["id"]: r for r in synced(_place(cases_books, book_format, book_dir), workdir, "invoices")
    }

    assert set(invoices) == set(engine)  # the credit note is not an invoice
    for guid, doc in engine.items():
        record = invoices[guid]
        name = doc["id"]
        assert record["invoiceNumber"] == name
        assert record["totalAmount"] == cents(doc["total"]), name
        assert record["totalTaxAmount"] == cents(doc["tax"]), name
        assert record["subTotal"] == cents(doc["subtotal"]), name
        # A job's invoice belongs to the job's customer (the engine's end owner).
        assert record["customerRef"]["id"] == doc["owner"], name
        if not doc["posted"]:
            assert record["status"] == "Draft", name
        elif posting_of[guid] in voided:
            assert (record["status"], record["amountDue"]) == ("Void", 0.0), name
        else:
            assert record["amountDue"] == cents(doc["lot_balance"]), name
            expected = (
                "Paid"
                if doc["paid"]
                else "Submitted"
                if Fraction(doc["lot_balance"]) == Fraction(doc["total"])
                else "PartiallyPaid"
            )
            assert record["status"] == expected, name
    by_number = {r["invoiceNumber"]: r for r in invoices.values()}
    assert by_number["INV-VOID"]["status"] == "Void"
    assert by_number["INV-JOB"]["supplementalData"]["content"]["gnucash"]["jobId"]
    assert {n: r["status"] for n, r in by_number.items()} == {
        "INV-PCT": "Submitted",
        "INV-VAL": "PartiallyPaid",
        "INV-INC": "Paid",
        "INV-JOB": "Submitted",
        "INV-VOID": "Void",
        "INV-OLD": "Paid",
        "INV-DRAFT": "Draft",
    }


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_the_taxed_bill_matches_the_engine(
    book_format: str,
    cases_books: dict[str, Path],
    cases_truth: dict[str, dict[str, Any]],
    book_dir: Path,
    workdir: Path,
) -> None:
    doc = _engine_docs(cases_truth[book_format])["B-TAX"]

    [bill] = synced(_place(cases_books, book_format, book_dir), workdir, "bills")

    assert bill["id"] == doc["guid"]
    assert bill["totalAmount"] == cents(doc["total"])
    assert bill["taxAmount"] == cents(doc["tax"])
    assert bill["subTotal"] == cents(doc["subtotal"])
    assert bill["amountDue"] == cents(-Fraction(doc["lot_balance"]))
    assert bill["supplierRef"]["id"] == doc["owner"]
    assert bill["status"] == "PartiallyPaid"


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_the_credit_note_matches_the_engine(
    book_format: str,
    cases_books: dict[str, Path],
    cases_truth: dict[str, dict[str, Any]],
    book_dir: Path,
    workdir: Path,
) -> None:
    doc = _engine_docs(cases_truth[book_format])["CN-001"]

    [note] = synced(_place(cases_books, book_format, book_dir), workdir, "creditNotes")

    # The engine's document figures are positive for a credit note; its A/R lot is a credit.
    assert note["id"] == doc["guid"]
    assert note["creditNoteNumber"] == "CN-001"
    assert note["customerRef"]["id"] == doc["owner"]
    assert note["totalAmount"] == cents(doc["total"]) > 0
    assert note["totalTaxAmount"] == cents(doc["tax"]) > 0
    assert note["subTotal"] == cents(doc["subtotal"])
    assert note["remainingCredit"] == cents(-Fraction(doc["lot_balance"]))
    assert note["status"] == "Submitted"
    assert [(li["quantity"], li["unitAmount"]) for li in note["lineItems"]] == [(2.0, 19.99)]


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_the_bill_credit_note_matches_the_engine(
    book_format: str,
    cases_books: dict[str, Path],
    cases_truth: dict[str, dict[str, Any]],
    book_dir: Path,
    workdir: Path,
) -> None:
    doc = _engine_docs(cases_truth[book_format])["BCN-001"]

    [note] = synced(_place(cases_books, book_format, book_dir), workdir, "billCreditNotes")

    # A supplier's credit note debits A/P: its raw lot balance is the credit still to use.
    assert note["id"] == doc["guid"]
    assert note["billCreditNoteNumber"] == "BCN-001"
    assert note["supplierRef"]["id"] == doc["owner"]
    assert note["totalAmount"] == cents(doc["total"]) > 0
    assert note["totalTaxAmount"] == cents(doc["tax"]) > 0
    assert note["subTotal"] == cents(doc["subtotal"])
    assert note["remainingCredit"] == cents(Fraction(doc["lot_balance"]))
    assert note["status"] == "Submitted"
    assert [li["quantity"] for li in note["lineItems"]] == [1.0]


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_invoices_and_bills_leave_credit_notes_out(
    book_format: str, cases_books: dict[str, Path], book_dir: Path, workdir: Path
) -> None:
    book = _place(cases_books, book_format, book_dir)

    invoices = synced(book, workdir, "invoices")
    bills = synced(book, workdir, "bills")

    assert "CN-001" not in {r["invoiceNumber"] for r in invoices}
    assert [r["reference"] for r in bills] == ["B-TAX"]


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_customers_archived_and_accounts_flagged(
    book_format: str,
    cases_books: dict[str, Path],
    cases_truth: dict[str, dict[str, Any]],
    book_dir: Path,
    workdir: Path,
) -> None:
    truth = cases_truth[book_format]
    live = _place(cases_books, book_format, book_dir)

    customers = {c["id"]: c for c in synced(live, workdir, "customers")}
    accounts = {a["id"]: a for a in synced(live, workdir, "chartOfAccounts")}

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
    cases_books: dict[str, Path],
    cases_truth: dict[str, dict[str, Any]],
    book_dir: Path,
    workdir: Path,
) -> None:
    truth = cases_truth[book_format]
    types = {a["guid"]: a["type"] for a in truth["accounts"]}
    months = truth["month_end_balances"]

    sheets = {
        r["id"]: r
        for r in synced(_place(cases_books, book_format, book_dir), workdir, "balanceSheet")
    }

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
    cases_books: dict[str, Path],
    cases_truth: dict[str, dict[str, Any]],
    book_dir: Path,
    workdir: Path,
) -> None:
    """920 EUR at the price nearest in time to each month's end (pricedb-nearest): 1.087 at
    January's end, the later 1.10 at February's, as the engine converts them."""
    truth = cases_truth[book_format]
    types = {a["guid"]: a["type"] for a in truth["accounts"]}

    sheets = {
        r["id"]: r
        for r in synced(_place(cases_books, book_format, book_dir), workdir, "balanceSheet")
    }

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
    cases_books: dict[str, Path],
    cases_reports: dict[str, dict[str, dict[str, dict[str, Decimal | None]]]],
    book_dir: Path,
    workdir: Path,
) -> None:
    """Every month's sheet is what GnuCash's own Balance Sheet report prints for that date,
    its "Trading Gains" line included."""
    reports = cases_reports[book_format]["balanceSheet"]

    sheets = {
        r["id"]: r
        for r in synced(_place(cases_books, book_format, book_dir), workdir, "balanceSheet")
    }

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
    cases_books: dict[str, Path],
    cases_reports: dict[str, dict[str, dict[str, dict[str, Decimal | None]]]],
    book_dir: Path,
    workdir: Path,
) -> None:
    reports = cases_reports[book_format]["profitAndLoss"]

    records = {
        r["id"]: r
        for r in synced(_place(cases_books, book_format, book_dir), workdir, "profitAndLoss")
    }

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
    cases_books: dict[str, Path],
    cases_truth: dict[str, dict[str, Any]],
    book_dir: Path,
    workdir: Path,
) -> None:
    """Month by month, as GnuCash's Income Statement shows it: closing entries excluded, the
    euro expense at the engine's price nearest the month's end."""
    truth = cases_truth[book_format]
    types = {a["guid"]: a["type"] for a in truth["accounts"]}
    commodity = {a["guid"]: a["commodity"] for a in truth["accounts"]}

    reports = {
        r["id"]: r
        for r in synced(_place(cases_books, book_format, book_dir), workdir, "profitAndLoss")
    }

    moved: dict[str, dict[str, Fraction]] = {}
    for txn in truth["transactions"]:
        if txn["closing"]:
            continue
        month = moved.setdefault(txn["posted"][:7], {})
        for split in txn["splits"]:
            month[split["account"]] = month.get(split["account"], Fraction(0)) + Fraction(
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
    live = _place(cases_books, book_format, book_dir)
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
        lambda xml: xml.replace(b"<entry:b-taxable>1</entry:b-taxable>", b"", 1),
    )
    [doc] = [d for d in run_oracle(live)["invoices"] if d["id"] == "B-TAX"]
    assert doc["tax"] == "1500/100"  # the engine still taxes the line

    [bill] = synced(live, workdir, "bills")

    assert (bill["taxAmount"], bill["totalAmount"]) == (15.0, cents(doc["total"]))


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
