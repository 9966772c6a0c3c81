"""GnuCash business documents -> the standard ``Invoice`` (``invoices``), ``Bill`` (``bills``),
``CreditNote`` (``creditNotes``) and ``BillCreditNote`` (``billCreditNotes``).

GnuCash keeps customer invoices, vendor bills, credit notes and employee expense vouchers in
one table. A posted document's figures come from the ledger: its total is the posting
transaction's A/R (A/P) split in the document's lot, and what is still due is the sum of every
split in that lot (the posting, payments, links to other documents). A draft has no ledger
effect, so its figures are computed from its lines, as GnuCash does (``document_totals``).
Credit notes (slot ``credit-note``) are their own data types, never invoices or bills; their
entries store the quantity negated, and their figures here are positive: the credit given, and
what is left of it (``remainingCredit``, from the lot). Expense vouchers are left out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from agent.sources.base import Record
from agent.sources.gnucash.mapping.amounts import to_amount
from agent.sources.gnucash.mapping.document_totals import (
    DocumentAmounts,
    currency_places,
    document_amounts,
)
from agent.sources.gnucash.mapping.payments import allocations_of
from agent.sources.gnucash.reading.records import Book, Document, TaxTable
from agent.standard.validation import check_reference
from protocol.clock import to_iso

RATE_PLACES = 4
PRICE_PLACES = 4  # unit prices may carry more decimals than the currency


def map_invoices(book: Book) -> list[Record]:
    return _map(book, "customer", credit_notes=False)


def map_bills(book: Book) -> list[Record]:
    return _map(book, "vendor", credit_notes=False)


def map_credit_notes(book: Book) -> list[Record]:
    return _map(book, "customer", credit_notes=True)


def map_bill_credit_notes(book: Book) -> list[Record]:
    return _map(book, "vendor", credit_notes=True)


class _Context:
    """What every document of a book looks things up in."""

    def __init__(self, book: Book) -> None:
        self.accounts = {a.guid: a.name for a in book.accounts}
        self.tables = {t.guid: t for t in book.all_tax_tables}
        self.customers = {c.guid: c.name for c in book.customers}
        self.vendors = {v.guid: v.name for v in book.vendors}

    def user_table(self, guid: str | None) -> TaxTable | None:
        """The user's tax table behind GnuCash's invisible per-document copy ``guid``."""
        table = self.tables.get(guid or "")
        while table is not None and table.parent_guid and table.parent_guid in self.tables:
            table = self.tables[table.parent_guid]
        return table


def _map(book: Book, kind: str, *, credit_notes: bool) -> list[Record]:
    context = _Context(book)
    if credit_notes:
        data_type = "creditNotes" if kind == "customer" else "billCreditNotes"
    else:
        data_type = "invoices" if kind == "customer" else "bills"
    owners = context.customers if kind == "customer" else context.vendors
    records = []
    for document in book.documents:
        if document.owner_kind != kind or document.credit_note != credit_notes:
            continue
        check_reference(
            data_type,
            document.guid,
            "customerRef" if kind == "customer" else "supplierRef",
            document.owner_guid,
            owners,
        )
        records.append(_map_document(document, context, owners[document.owner_guid]))
    return records


def status_of(document: Document, total: Fraction, due: Fraction) -> str:
    """The standard status: Draft, Void, Paid, PartiallyPaid, or Submitted (Open for bills).

    A credit note is Paid once all its credit is used (refunded or set against documents)."""
    if document.posted is None:
        return "Draft"
    if document.voided:
        return "Void"
    if due <= 0:
        return "Paid"  # also a zero-total document: nothing is owed on it
    if due >= total:
        is_bill = document.owner_kind != "customer" and not document.credit_note
        return "Open" if is_bill else "Submitted"
    return "PartiallyPaid"


def _map_document(document: Document, context: _Context, owner_name: str) -> Record:
    places = currency_places(document.currency)
    is_customer = document.owner_kind == "customer"
    # GnuCash's sign for a document's lot: +1 for what customers owe, -1 for what we owe.
    sign = (1 if is_customer else -1) * (-1 if document.credit_note else 1)
    amounts = document_amounts(
        document.entries,
        context.tables,
        places=places,
        sign=-1 if document.credit_note else 1,
    )
    total, due = amounts.total, Fraction(0)
    paid_on: datetime | None = None
    if document.posted is not None and not document.voided:
        total = sign * sum(
            (s.value for s in document.lot_splits if s.txn_guid == document.post_txn_guid),
            Fraction(0),
        )
        due = sign * sum((s.value for s in document.lot_splits), Fraction(0))
        others = [s.posted for s in document.lot_splits if s.txn_guid != document.post_txn_guid]
        paid_on = max(others) if due <= 0 and others else None
    elif document.posted is None:
        due = total  # a draft is owed in full once it is sent
    status = status_of(document, total, due)
    issued = document.posted or document.opened
    record: Record = {
        "id": document.guid,
        "issueDate": to_iso(_calendar_day(issued)),
        "dueDate": to_iso(_calendar_day(document.due)) if document.due else None,
        "currency": document.currency,
        "lineItems": _lines(document, amounts, context, places),
        "subTotal": to_amount(total - amounts.tax, places),
        "totalAmount": to_amount(total, places),
        "amountDue": to_amount(due if status != "Draft" else total, places),
        "status": status,
        "note": document.notes or None,
    }
    if document.credit_note:
        # Nothing is due on a credit note: what is left of it is credit still to use.
        del record["dueDate"], record["amountDue"]
        _credit_note_fields(record, document, amounts, places, owner_name, due, paid_on)
    elif is_customer:
        record["invoiceNumber"] = document.number
        record["customerRef"] = {"id": document.owner_guid, "companyName": owner_name}
        record["totalTaxAmount"] = to_amount(amounts.tax, places)
        record["totalDiscount"] = to_amount(
            sum((line.discount for line in amounts.lines), Fraction(0)), places
        )
        if paid_on is not None:
            record["paidOnDate"] = to_iso(_calendar_day(paid_on))
    else:
        # A bill's number is the one the user gave it; the vendor's own is the billing ID.
        record["reference"] = document.number
        record["supplierRef"] = {"id": document.owner_guid, "supplierName": owner_name}
        record["taxAmount"] = to_amount(amounts.tax, places)
    extra: dict[str, Any] = {}
    if document.billing_id:
        extra["billingId"] = document.billing_id
    if document.job_guid:
        extra["jobId"] = document.job_guid
    if document.posted is not None and not document.voided:
        allocations = allocations_of(document)
        if allocations:
            record["paymentAllocations"] = allocations
    if document.posted is not None:
        extra["postingTransactionId"] = document.post_txn_guid
    if extra:
        record["supplementalData"] = {"content": {"gnucash": extra}}
    return record


def _credit_note_fields(
    record: Record,
    document: Document,
    amounts: DocumentAmounts,
    places: int,
    owner_name: str,
    remaining: Fraction,
    used_up_on: datetime | None,
) -> None:
    """A ``CreditNote`` or ``BillCreditNote``'s own fields (its number, owner, credit left)."""
    discount = sum((line.discount for line in amounts.lines), Fraction(0))
    if document.owner_kind == "customer":
        record["creditNoteNumber"] = document.number
        record["customerRef"] = {"id": document.owner_guid, "companyName": owner_name}
    else:
        record["billCreditNoteNumber"] = document.number
        record["supplierRef"] = {"id": document.owner_guid, "supplierName": owner_name}
    record["totalTaxAmount"] = to_amount(amounts.tax, places)
    record["totalDiscount"] = to_amount(discount, places)
    record["discountPercentage"] = 0.0  # GnuCash discounts are per line, never per document
    record["remainingCredit"] = to_amount(remaining, places)
    if used_up_on is not None:
        record["allocatedOnDate"] = to_iso(_calendar_day(used_up_on))


def _lines(
    document: Document, amounts: DocumentAmounts, context: _Context, places: int
) -> list[dict[str, Any]]:
    sign = -1 if document.credit_note else 1
    lines = []
    for entry, line, tax in zip(document.entries, amounts.lines, amounts.line_taxes, strict=True):
        item: dict[str, Any] = {
            "description": entry.description or None,
            "quantity": to_amount(sign * entry.quantity, RATE_PLACES),
            "unitAmount": to_amount(line.unit_price, PRICE_PLACES),
            "discountAmount": to_amount(line.discount, places),
            "subTotal": to_amount(line.net, places),
            "taxAmount": to_amount(tax, places),
            "totalAmount": to_amount(line.net + tax, places),
        }
        if entry.discount and entry.discount_type == "PERCENT":
            item["discountPercentage"] = to_amount(entry.discount, RATE_PLACES)
        if entry.account_guid:
            item["accountRef"] = {
                "id": entry.account_guid,
                "name": context.accounts.get(entry.account_guid),
            }
        table = context.user_table(entry.tax_table_guid) if entry.taxable else None
        if table is not None:
            item["taxRateRef"] = {"id": table.guid, "name": table.name}
        lines.append(item)
    return lines


def _calendar_day(moment: datetime) -> datetime:
    """GnuCash keeps document dates as a day (at 10:59 UTC or local midnight): keep the day."""
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
