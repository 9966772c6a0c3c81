"""GnuCash payments -> the standard ``Payment`` and ``BillPayment`` (payments, billPayments).

A GnuCash payment is a transaction of type 'P' (slot ``trans-txn-type``): money into (or out of)
a bank or cash account against the A/R (A/P) account, its A/R (A/P) splits sitting in the lots
of the documents it pays, and any rest in a payment lot tagged with the owner (unallocated).
A lot link ('L') moves no money: it offsets documents against each other (a credit note set
against an invoice or bill), and the model calls that a payment too, of zero.

Signs follow the public model: ``totalAmount`` and each line's ``amount`` are positive for money
received from a customer (paid to a supplier), and each line's links sum to minus its amount:
paying an invoice or a bill gives a negative link, refunding a credit note a positive one. A
credit note set against an invoice is one line of zero with the invoice's link negative and the
credit note's positive. The unallocated rest of a payment is a line whose one link is
``PaymentOnAccount``, to the customer (supplier).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from agent.sources.base import Record
from agent.sources.gnucash.mapping.amounts import to_amount
from agent.sources.gnucash.mapping.document_totals import currency_places
from agent.sources.gnucash.reading.records import Book, Document, LotSplit, Transaction
from agent.standard.validation import check_reference
from protocol.clock import to_iso

PAYMENT = "P"
LOT_LINK = "L"
# A document lot's splits that are payments in the model: money paid, or documents offset.
ALLOCATIONS = frozenset({PAYMENT, LOT_LINK})
# Accounts a payment's money moves through the owner's side of, not the bank's.
OWNER_ACCOUNT_TYPES = frozenset({"RECEIVABLE", "PAYABLE"})


def map_payments(book: Book) -> list[Record]:
    return _map(book, "customer")


def map_bill_payments(book: Book) -> list[Record]:
    return _map(book, "vendor")


@dataclass
class _Payment:
    owner_guid: str
    # (document, GnuCash's raw lot value of this payment in the document's lot)
    allocations: list[tuple[Document, Fraction]] = field(default_factory=list)
    unallocated: Fraction = Fraction(0)  # raw value in the owner's payment lot
    lot_link: bool = False  # documents offset against each other: no money moved


def payments_by_transaction(book: Book, kind: str) -> dict[str, _Payment]:
    """Transaction GUID -> what it pays, for the payments of one kind of owner."""
    found: dict[str, _Payment] = {}
    for document in book.documents:
        if document.owner_kind != kind or document.posted is None:
            continue
        for split in _allocation_splits(document.lot_splits):
            payment = found.setdefault(split.txn_guid, _Payment(document.owner_guid))
            payment.allocations.append((document, split.value))
            payment.lot_link = split.txn_type == LOT_LINK
    owners = _owner_names(book, kind)
    for lot in book.owner_lots:
        if lot.owner_guid not in owners:
            continue
        for split in _payment_splits(lot.splits):
            payment = found.setdefault(split.txn_guid, _Payment(lot.owner_guid))
            payment.unallocated += split.value
    return found


def _payment_splits(splits: Iterable[LotSplit]) -> Iterable[LotSplit]:
    return (s for s in splits if s.txn_type == PAYMENT)


def _allocation_splits(splits: Iterable[LotSplit]) -> Iterable[LotSplit]:
    return (s for s in splits if s.txn_type in ALLOCATIONS)


def _owner_names(book: Book, kind: str) -> dict[str, str]:
    if kind == "customer":
        return {c.guid: c.name for c in book.customers}
    return {v.guid: v.name for v in book.vendors}


def _map(book: Book, kind: str) -> list[Record]:
    data_type = "payments" if kind == "customer" else "billPayments"
    payments = payments_by_transaction(book, kind)
    owners = _owner_names(book, kind)
    accounts = {a.guid: a for a in book.accounts}
    records = []
    for txn in book.transactions.select(payments):
        payment = payments[txn.guid]
        check_reference(
            data_type,
            txn.guid,
            "customerRef" if kind == "customer" else "supplierRef",
            payment.owner_guid,
            owners,
        )
        records.append(_record(txn, payment, kind, owners[payment.owner_guid], accounts))
    return records


def _record(
    txn: Transaction, payment: _Payment, kind: str, owner_name: str, accounts: dict[str, Any]
) -> Record:
    places = currency_places(txn.currency)
    # GnuCash's raw sign for money received from a customer is a credit to A/R: -1 makes it
    # positive; paying a supplier debits A/P: +1.
    sign = -1 if kind == "customer" else 1
    day = to_iso(_calendar_day(txn.posted))
    lines: list[dict[str, Any]] = []
    # A link is the line's amount moved onto the document, so it is minus that amount.
    links = [
        {
            "type": _link_type(document, kind),
            "id": document.guid,
            "amount": to_amount(-sign * value, places),
        }
        for document, value in payment.allocations
    ]
    if payment.lot_link:
        # One line: the documents offset each other, so it comes to zero.
        total = sum((value for _, value in payment.allocations), Fraction(0))
        lines.append(
            {"amount": to_amount(sign * total, places), "allocatedOnDate": day, "links": links}
        )
    else:
        for (_, value), link in zip(payment.allocations, links, strict=True):
            lines.append(
                {"amount": to_amount(sign * value, places), "allocatedOnDate": day, "links": [link]}
            )
    if payment.unallocated:
        amount = sign * payment.unallocated
        lines.append(
            {
                "amount": to_amount(amount, places),
                "links": [
                    {
                        "type": "PaymentOnAccount",
                        "id": payment.owner_guid,
                        "amount": to_amount(-amount, places),
                    }
                ],
            }
        )
    bank = [
        s for s in txn.splits if accounts[s.account_guid].account_type not in OWNER_ACCOUNT_TYPES
    ]
    total = -sign * sum((s.value for s in bank), Fraction(0))
    record: Record = {
        "id": txn.guid,
        "date": day,
        "currency": txn.currency,
        "totalAmount": to_amount(total, places),
        "lines": lines,
        "note": txn.description or None,
        "reference": txn.num or None,
    }
    if bank:
        # The bank or cash account the money went through: the largest such split.
        main = max(bank, key=lambda s: abs(s.value))
        record["accountRef"] = {"id": main.account_guid, "name": accounts[main.account_guid].name}
    if kind == "customer":
        record["customerRef"] = {"id": payment.owner_guid, "companyName": owner_name}
    else:
        record["supplierRef"] = {"id": payment.owner_guid, "supplierName": owner_name}
    return record


def _link_type(document: Document, kind: str) -> str:
    if kind == "customer":
        return "CreditNote" if document.credit_note else "Invoice"
    return "CreditNote" if document.credit_note else "Bill"


def allocations_of(document: Document) -> list[dict[str, Any]]:
    """A posted document's ``paymentAllocations``: each payment in its lot, or document set
    against it, and how much of it applied there (read from the lot alone, so invoices and bills
    need no transactions)."""
    places = currency_places(document.currency)
    # A payment's raw lot value, turned into money received (paid) by the business; on a
    # credit note, into the credit refunded (positive) by the business (to it, for a supplier's).
    sign = (-1 if document.owner_kind == "customer" else 1) * (-1 if document.credit_note else 1)
    found = []
    for split in _allocation_splits(document.lot_splits):
        day = to_iso(_calendar_day(split.posted))
        found.append(
            {
                "payment": {"id": split.txn_guid, "currency": document.currency, "paidOnDate": day},
                "allocation": {
                    "currency": document.currency,
                    "allocatedOnDate": day,
                    "totalAmount": to_amount(sign * split.value, places),
                },
            }
        )
    return found


def _calendar_day(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
