"""Payments of the "cases" book, mapped, against the GnuCash engine, in both formats.

The rows of ``PAYMENTS`` (tests/fixtures/book_cases.py) are made by the engine's own
``gncOwnerApplyPaymentSecs``, as GnuCash's payment dialog makes them: a payment nothing is applied
to, one bigger than the invoice it pays, a credit note refunded, and credit notes set against an
invoice and a bill (a lot link). The engine's view comes from the oracle: each document's lot,
the owners' payment lots (unallocated money) and the owners' balances.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pytest

from agent.sources.base import Record
from tests.fixtures.book_cases import DOCUMENTS, OWNERS, PAYMENTS, OwnerPayment
from tests.support.gnucash_books import CASES_BOOKS, cents
from tests.support.gnucash_engine import requires_gnucash

FORMATS = sorted(CASES_BOOKS)
KINDS = {"customer": "payments", "vendor": "billPayments"}
OWNER_ACCOUNTS = {"RECEIVABLE", "PAYABLE"}
ROWS = [pytest.param(payment, id=payment.id) for payment in PAYMENTS]


@dataclass
class EnginePayment:
    """What the engine holds of one payment (or lot link) transaction."""

    owner: str
    kind: str  # "customer" or "vendor"
    # (document GUID, raw value of the transaction's split in the document's lot, txn type)
    documents: list[tuple[str, Fraction, str]] = field(default_factory=list)
    unallocated: Fraction = Fraction(0)  # raw value in the owner's payment lots


def _engine_payments(truth: dict[str, Any]) -> dict[str, EnginePayment]:
    """Transaction GUID -> what the engine's lots say it pays, offsets or leaves unallocated."""
    found: dict[str, EnginePayment] = {}
    for doc in truth["invoices"]:
        for split in doc["lot_splits"]:
            if split["type"] in ("P", "L"):
                payment = found.setdefault(
                    split["txn"], EnginePayment(doc["owner"], doc["owner_type"])
                )
                payment.documents.append((doc["guid"], Fraction(split["value"]), split["type"]))
    for lot in truth["owner_lots"]:
        for split in lot["splits"]:
            payment = found.setdefault(split["txn"], EnginePayment(lot["owner"], lot["owner_type"]))
            payment.unallocated += Fraction(split["value"])
    return found


def _docs_by_id(truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in truth["invoices"]}


def _transaction_of(truth: dict[str, Any], row: OwnerPayment) -> str:
    """The engine's transaction for ``row``: by its number, or for a lot link the one
    transaction of type L in both documents' lots."""
    if row.amount != "0":
        [txn] = [str(t["guid"]) for t in truth["transactions"] if t["num"] == row.id]
        return txn
    docs = _docs_by_id(truth)
    shared = set.intersection(
        *({s["txn"] for s in docs[d]["lot_splits"] if s["type"] == "L"} for d in row.documents)
    )
    [txn] = shared
    return str(txn)


def _bank_total(truth: dict[str, Any], txn_guid: str) -> Fraction:
    """The raw value the transaction moves through accounts other than A/R and A/P."""
    types = {a["guid"]: a["type"] for a in truth["accounts"]}
    [txn] = [t for t in truth["transactions"] if t["guid"] == txn_guid]
    return sum(
        (Fraction(s["value"]) for s in txn["splits"] if types[s["account"]] not in OWNER_ACCOUNTS),
        Fraction(0),
    )


@requires_gnucash
@pytest.mark.parametrize("row", ROWS)
@pytest.mark.parametrize("book_format", FORMATS)
def test_the_engine_holds_the_payment(
    book_format: str, row: OwnerPayment, cases_truth: dict[str, dict[str, Any]]
) -> None:
    """Each row is in the book as the table says, so the tests below test what they claim."""
    truth = cases_truth[book_format]
    docs = _docs_by_id(truth)
    txn = _transaction_of(truth, row)
    payment = _engine_payments(truth)[txn]
    [owner] = [o for o in OWNERS if o.id == row.owner]
    owner_ids = {o["guid"]: o["id"] for o in truth["customers"] + truth["vendors"]}
    # Money from a customer is a debit to the bank; to a vendor, a credit.
    money = Fraction(row.amount) * (1 if owner.kind == "customer" else -1)

    assert (payment.kind, owner_ids[payment.owner]) == (owner.kind, owner.id)
    assert sorted(guid for guid, _, _ in payment.documents) == sorted(
        docs[d]["guid"] for d in row.documents
    )
    assert _bank_total(truth, txn) == money
    # What the bank moved is in the documents' lots and, for the rest, the owner's payment lot.
    applied = sum((value for _, value, _ in payment.documents), Fraction(0))
    assert applied + payment.unallocated == -money
    if row.amount == "0":
        # A lot link: each document's lot is offset by the credit note's whole total.
        assert {kind for _, _, kind in payment.documents} == {"L"}
        credit = [docs[d] for d in row.documents if docs[d]["credit_note"]]
        assert sorted(abs(v) for _, v, _ in payment.documents) == 2 * [Fraction(credit[0]["total"])]
        assert payment.unallocated == 0
    else:
        assert {kind for _, _, kind in payment.documents} <= {"P"}


def _link_type(doc: dict[str, Any]) -> str:
    if doc["credit_note"]:
        return "CreditNote"
    return "Invoice" if doc["owner_type"] == "customer" else "Bill"


def _check_record(truth: dict[str, Any], txn: str, payment: EnginePayment, record: Record) -> None:
    """``record`` says what the engine holds of the transaction ``txn``, in the model's signs:
    money received from a customer (paid to a supplier) positive, each line's links minus the
    line, the unallocated rest a ``PaymentOnAccount`` line to the owner."""
    docs = {d["guid"]: d for d in truth["invoices"]}
    # The engine's raw sign (debit positive) of money received (paid) on the A/R (A/P) side.
    sign = -1 if payment.kind == "customer" else 1
    ref = record["customerRef" if payment.kind == "customer" else "supplierRef"]
    assert (record["id"], ref["id"]) == (txn, payment.owner)
    assert record["totalAmount"] == cents(-sign * _bank_total(truth, txn))

    links = sorted(
        (link["type"], link["id"], link["amount"])
        for line in record["lines"]
        for link in line["links"]
    )
    expected = [(_link_type(docs[g]), g, cents(-sign * v)) for g, v, _ in payment.documents]
    if payment.unallocated:
        expected.append(("PaymentOnAccount", payment.owner, cents(-sign * payment.unallocated)))
    assert links == sorted(expected)
    for line in record["lines"]:
        assert line["amount"] + sum(link["amount"] for link in line["links"]) == 0, line
    unallocated = [
        line["amount"]
        for line in record["lines"]
        if any(link["type"] == "PaymentOnAccount" for link in line["links"])
    ]
    assert unallocated == ([cents(sign * payment.unallocated)] if payment.unallocated else [])
    assert sum(line["amount"] for line in record["lines"]) == pytest.approx(record["totalAmount"])
    if {kind for _, _, kind in payment.documents} == {"L"}:
        # Documents offset against each other: one line of zero, no money, no bank account.
        assert [line["amount"] for line in record["lines"]] == [0.0]
        assert record["totalAmount"] == 0.0 and "accountRef" not in record


@requires_gnucash
@pytest.mark.parametrize("row", ROWS)
@pytest.mark.parametrize("book_format", FORMATS)
def test_the_payment_matches_the_engine(
    book_format: str,
    row: OwnerPayment,
    cases_truth: dict[str, dict[str, Any]],
    cases_synced: Callable[[str, str], list[Record]],
) -> None:
    truth = cases_truth[book_format]
    txn = _transaction_of(truth, row)
    payment = _engine_payments(truth)[txn]

    records = {r["id"]: r for r in cases_synced(book_format, KINDS[payment.kind])}

    _check_record(truth, txn, payment, records[txn])


@requires_gnucash
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("book_format", FORMATS)
def test_every_payment_matches_the_engine(
    book_format: str,
    kind: str,
    cases_truth: dict[str, dict[str, Any]],
    cases_synced: Callable[[str, str], list[Record]],
) -> None:
    """The payments of each kind are the engine's, no more, each as the engine holds it: those
    the documents' own rows make (gncInvoiceApplyPayment) as well as the table's."""
    truth = cases_truth[book_format]
    engine = {t: p for t, p in _engine_payments(truth).items() if p.kind == kind}

    records = {r["id"]: r for r in cases_synced(book_format, KINDS[kind])}

    assert set(records) == set(engine)
    for txn, payment in engine.items():
        _check_record(truth, txn, payment, records[txn])


# (vendor's, credit note) -> the data type a document is synced as, and the field of what is
# left to pay (or of the credit to use).
DOCUMENT_TYPES = {
    (False, False): ("invoices", "amountDue"),
    (True, False): ("bills", "amountDue"),
    (False, True): ("creditNotes", "remainingCredit"),
    (True, True): ("billCreditNotes", "remainingCredit"),
}


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_owner_balances_match_the_engine(
    book_format: str,
    cases_truth: dict[str, dict[str, Any]],
    cases_synced: Callable[[str, str], list[Record]],
) -> None:
    """What each customer owes (the business owes each vendor) by the agent's documents is the
    engine's owner balance (gncOwnerGetBalanceInCurrency): what is due on invoices (bills) less
    the credit left on credit notes. As on 4.13, unallocated payments are not in it."""
    truth = cases_truth[book_format]
    owed: dict[str, Fraction] = {}
    for (vendor, credit_note), (data_type, field_name) in DOCUMENT_TYPES.items():
        ref = "supplierRef" if vendor else "customerRef"
        for record in cases_synced(book_format, data_type):
            if record["status"] == "Draft":
                continue  # no ledger effect
            amount = Fraction(str(record[field_name]))
            # Raw sign: what a customer owes is a debit, what the business owes a vendor a credit.
            raw = (-amount if credit_note else amount) * (-1 if vendor else 1)
            owed[record[ref]["id"]] = owed.get(record[ref]["id"], Fraction(0)) + raw

    for owner in truth["customers"] + truth["vendors"]:
        assert owed.get(owner["guid"], Fraction(0)) == Fraction(owner["balance"]), owner["id"]
    by_id = {o["id"]: o for o in truth["customers"] + truth["vendors"]}
    assert Fraction(by_id["C001"]["balance"]) > 0 and Fraction(by_id["V001"]["balance"]) < 0


@requires_gnucash
@pytest.mark.parametrize("data_type", sorted(t for t, _ in DOCUMENT_TYPES.values()))
@pytest.mark.parametrize("book_format", FORMATS)
def test_documents_carry_their_allocations(
    book_format: str,
    data_type: str,
    cases_truth: dict[str, dict[str, Any]],
    cases_synced: Callable[[str, str], list[Record]],
) -> None:
    """Each posted document lists every payment and lot link in its lot: money received (paid)
    on an invoice (bill) and credit used on a credit note, positive."""
    truth = cases_truth[book_format]
    docs = {d["guid"]: d for d in truth["invoices"]}
    expected: dict[tuple[str, str], float] = {}
    for txn, payment in _engine_payments(truth).items():
        for guid, value, _ in payment.documents:
            doc = docs[guid]
            vendor = doc["owner_type"] == "vendor"
            if DOCUMENT_TYPES[vendor, doc["credit_note"]][0] != data_type:
                continue
            sign = (1 if vendor else -1) * (-1 if doc["credit_note"] else 1)
            expected[txn, guid] = cents(sign * value)
    assert expected  # not vacuous

    records = cases_synced(book_format, data_type)

    allocated = {
        (item["payment"]["id"], record["id"]): item["allocation"]["totalAmount"]
        for record in records
        for item in record.get("paymentAllocations", [])
    }
    assert allocated == expected
    assert all(amount > 0 for amount in allocated.values())


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_both_kinds_of_owner_have_unallocated_payments(
    book_format: str, cases_truth: dict[str, dict[str, Any]]
) -> None:
    kinds = {lot["owner_type"] for lot in cases_truth[book_format]["owner_lots"]}
    assert kinds == {"customer", "vendor"}


def test_every_document_a_payment_names_is_in_the_table() -> None:
    numbers = {d.id for d in DOCUMENTS}
    for row in PAYMENTS:
        assert set(row.documents) <= numbers, row.id
        assert row.amount != "0" or len(row.documents) == 2, row.id
