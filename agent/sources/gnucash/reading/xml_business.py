"""Parse the records of GnuCash's business features in an XML book.

Customers and vendors (with their addresses), tax tables, invoices and bills with their lines,
and the owner a job or a document points at. Each function reads one finished record element;
the reader decides which records it wants.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from xml.etree.ElementTree import Element

from agent.sources.gnucash.reading.book_builder import (
    RawDocument,
    RawEntry,
    RawTaxTable,
    discount_terms,
)
from agent.sources.gnucash.reading.records import (
    Address,
    Customer,
    DocumentEntry,
    OwnerFields,
    TaxTable,
    TaxTableEntry,
    Vendor,
)
from agent.sources.gnucash.reading.values import garbled, parse_flag, parse_num_denom, rational
from agent.sources.gnucash.reading.xml_elements import (
    child_text,
    commodity,
    optional_text,
    q,
    slot_text,
    timestamp,
    typed_slots,
)

_TAX_KINDS = frozenset({"PERCENT", "VALUE"})


def parse_tax_table(record: Element, source: Path) -> RawTaxTable:
    name = child_text(record, q("taxtable", "name"))
    guid = child_text(record, q("taxtable", "guid"))
    label = f'the tax table "{name}" ({guid})'
    if not guid:
        raise garbled(source, f'the tax table "{name}"', "it has no GUID")
    entries: list[TaxTableEntry] = []
    container = record.find(q("taxtable", "entries"))
    for entry in container if container is not None else ():
        kind = child_text(entry, q("tte", "type")).strip()
        if kind not in _TAX_KINDS:
            raise garbled(source, label, f"an entry's type {kind!r} is neither PERCENT nor VALUE")
        amount = parse_num_denom(
            optional_text(entry, q("tte", "amount")), book=source, record=label
        )
        entries.append(
            TaxTableEntry(
                account_guid=child_text(entry, q("tte", "acct")),
                amount=rational(*amount, book=source, record=label),
                kind="PERCENT" if kind == "PERCENT" else "VALUE",
            )
        )
    return RawTaxTable(
        table=TaxTable(
            guid=guid,
            name=name,
            entries=tuple(entries),
            parent_guid=optional_text(record, q("taxtable", "parent")) or None,
        ),
        invisible=parse_flag(
            optional_text(record, q("taxtable", "invisible")),
            default=False,
            book=source,
            record=label,
            field="invisible flag",
        ),
    )


def parse_customer(record: Element, source: Path) -> Customer:
    return Customer(
        **_owner(record, "cust", "customer", source),
        billing=_address(record.find(q("cust", "addr"))),
        shipping=_address(record.find(q("cust", "shipaddr"))),
    )


def parse_vendor(record: Element, source: Path) -> Vendor:
    return Vendor(
        **_owner(record, "vendor", "vendor", source),
        address=_address(record.find(q("vendor", "addr"))),
    )


def _owner(record: Element, prefix: str, kind: str, source: Path) -> OwnerFields:
    """Read ``<prefix:guid>``, ``<prefix:name>``, ... of a ``kind`` ("customer", "vendor")."""
    name = child_text(record, q(prefix, "name"))
    number = child_text(record, q(prefix, "id"))
    label = f'the {kind} "{name}" (ID {number})'
    guid = child_text(record, q(prefix, "guid"))
    if not guid:
        raise garbled(source, label, "it has no GUID")
    currency = record.find(q(prefix, "currency"))
    if currency is None:
        raise garbled(source, label, "it has no currency")
    return OwnerFields(
        guid=guid,
        number=number,
        name=name,
        notes=child_text(record, q(prefix, "notes")),
        # Active unless the file says otherwise, as in GnuCash.
        active=parse_flag(
            optional_text(record, q(prefix, "active")),
            default=True,
            book=source,
            record=label,
            field="active flag",
        ),
        currency=commodity(currency)[1],
    )


def _address(element: Element | None) -> Address:
    if element is None:
        return Address()
    lines = (child_text(element, q("addr", f"addr{i}")) for i in range(1, 5))
    return Address(
        name=child_text(element, q("addr", "name")),
        lines=tuple(line for line in lines if line),
        phone=child_text(element, q("addr", "phone")),
        fax=child_text(element, q("addr", "fax")),
        email=child_text(element, q("addr", "email")),
    )


# <owner:type> as the XML backend spells GncOwnerType.
_OWNER_TYPES = {
    "gncCustomer": "customer",
    "gncJob": "job",
    "gncVendor": "vendor",
    "gncEmployee": "employee",
}


def owner_ref(element: Element | None) -> tuple[str, str]:
    """(type, GUID) of an ``<invoice:owner>`` or ``<job:owner>``."""
    if element is None:
        return "", ""
    kind = child_text(element, q("owner", "type")).strip()
    return _OWNER_TYPES.get(kind, kind), child_text(element, q("owner", "id")).strip()


def parse_document(record: Element, source: Path) -> RawDocument:
    guid = child_text(record, q("invoice", "guid"))
    number = child_text(record, q("invoice", "id"))
    label = f'the document "{number}" ({guid})'
    if not guid:
        raise garbled(source, label, "it has no GUID")
    owner_type, owner = owner_ref(record.find(q("invoice", "owner")))
    currency = record.find(q("invoice", "currency"))
    if currency is None:
        raise garbled(source, label, "it has no currency")
    slots = typed_slots(record.find(q("invoice", "slots")))
    return RawDocument(
        guid=guid,
        number=number,
        owner_type=owner_type,
        owner_guid=owner,
        currency=commodity(currency)[1],
        opened=timestamp(record, q("invoice", "opened"), source, label, "opening date"),
        notes=child_text(record, q("invoice", "notes")),
        billing_id=child_text(record, q("invoice", "billing_id")),
        credit_note=slot_text(slots.get("credit-note")) == "1",
        posted=timestamp(record, q("invoice", "posted"), source, label, "posting date")
        if record.find(q("invoice", "posted")) is not None
        else None,
        post_txn=optional_text(record, q("invoice", "posttxn")) or None,
        post_lot=optional_text(record, q("invoice", "postlot")) or None,
        post_acc=optional_text(record, q("invoice", "postacc")) or None,
    )


def parse_entry(record: Element, source: Path) -> RawEntry:
    guid = child_text(record, q("entry", "guid"))
    description = child_text(record, q("entry", "description"))
    label = f'the document line "{description}" ({guid})'

    def amount(name: str) -> Fraction:
        text = optional_text(record, q("entry", name))
        if text is None:
            return Fraction(0)  # GnuCash leaves zero amounts out
        return rational(
            *parse_num_denom(text, book=source, record=label), book=source, record=label
        )

    def flag(name: str, default: bool = False) -> bool:
        return parse_flag(
            optional_text(record, q("entry", name)),
            default=default,
            book=source,
            record=label,
            field=name,
        )

    kind, how = discount_terms(
        optional_text(record, q("entry", "i-disc-type")),
        optional_text(record, q("entry", "i-disc-how")),
        source=source,
        label=label,
    )
    quantity = amount("qty")
    date = timestamp(record, q("entry", "date"), source, label, "date")
    entered = (
        timestamp(record, q("entry", "entered"), source, label, "entry date")
        if record.find(q("entry", "entered")) is not None
        else date
    )
    document = child_text(record, q("entry", "invoice")) or child_text(record, q("entry", "bill"))

    def side(prefix: str) -> DocumentEntry:
        """The line as an invoice (``i-``) or a bill (``b-``) prices it."""
        return DocumentEntry(
            guid=guid,
            description=description,
            quantity=quantity,
            price=amount(f"{prefix}-price"),
            account_guid=child_text(record, q("entry", f"{prefix}-acct")),
            # GnuCash writes i-taxable only for an invoice's line and b-taxable only for a
            # bill's; when absent, the engine keeps gncEntryCreate's default: taxable.
            taxable=flag(f"{prefix}-taxable", default=True),
            tax_included=flag(f"{prefix}-taxincluded"),
            tax_table_guid=optional_text(record, q("entry", f"{prefix}-taxtable")) or None,
        )

    return RawEntry(
        document_guid=document,
        date=date,
        entered=entered,
        # Only customer documents have discounts.
        customer_side=replace(
            side("i"), discount=amount("i-discount"), discount_type=kind, discount_how=how
        ),
        vendor_side=side("b"),
    )
