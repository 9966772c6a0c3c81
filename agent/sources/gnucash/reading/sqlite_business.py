"""Read GnuCash's business features from an SQLite book: the book's Business options,
customers and vendors, tax tables, and (when asked) invoices, bills and credit notes with their
lines, jobs, and the lots and transactions that carry their posted figures and payments.

A book saved without business features lacks these tables; each query checks first and then
finds nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.sources.gnucash.reading.book_builder import (
    OWNER_TYPE_CODES,
    BookParts,
    Posting,
    RawDocument,
    RawEntry,
    RawTaxTable,
    discount_terms,
)
from agent.sources.gnucash.reading.records import (
    Address,
    Customer,
    DocumentEntry,
    LotSplit,
    OwnerFields,
    TaxTable,
    TaxTableEntry,
    Vendor,
)
from agent.sources.gnucash.reading.sqlite_ledger import text
from agent.sources.gnucash.reading.values import garbled, parse_timestamp, rational

# The book's options are a tree of frames below the book's own slots.
_BUSINESS_OPTIONS = """
WITH RECURSIVE frame(guid) AS (
    SELECT guid FROM books
    UNION
    SELECT s.guid_val FROM slots AS s JOIN frame AS f ON s.obj_guid = f.guid
    WHERE s.slot_type = 9 AND s.guid_val IS NOT NULL
)
SELECT s.name, s.string_val FROM slots AS s JOIN frame AS f ON s.obj_guid = f.guid
WHERE s.slot_type = 4 AND s.name LIKE 'options/Business/%'
"""

# GncAmountType: how a tax table entry's amount reads.
_TAX_AMOUNT_TYPES = {1: "VALUE", 2: "PERCENT"}

_ADDRESS_FIELDS = ("name", "addr1", "addr2", "addr3", "addr4", "phone", "fax", "email")


def business_options_of(db: sqlite3.Connection, tables: set[str]) -> dict[str, str]:
    """``Company Name`` -> value, from the book's ``options/Business/...`` slots."""
    if "slots" not in tables:
        return {}
    prefix = "options/Business/"
    return {name[len(prefix) :]: text(value) for name, value in db.execute(_BUSINESS_OPTIONS)}


def tax_tables_of(db: sqlite3.Connection, tables: set[str], source: Path) -> Iterator[RawTaxTable]:
    if not {"taxtables", "taxtable_entries"} <= tables:
        return  # no business features, no tax tables
    entries: dict[str, list[TaxTableEntry]] = {}
    for table, account, num, denom, kind in db.execute(
        "SELECT taxtable, account, amount_num, amount_denom, type FROM taxtable_entries ORDER BY id"
    ):
        label = f"a tax table entry of the tax table {table}"
        if kind not in _TAX_AMOUNT_TYPES:
            raise garbled(source, label, f"its type {kind!r} is neither a percent nor a value")
        entries.setdefault(table, []).append(
            TaxTableEntry(
                account_guid=text(account),
                amount=rational(num, denom, book=source, record=label),
                kind="PERCENT" if _TAX_AMOUNT_TYPES[kind] == "PERCENT" else "VALUE",
            )
        )
    for guid, name, invisible, parent in db.execute(
        "SELECT guid, name, invisible, parent FROM taxtables"
    ):
        yield RawTaxTable(
            table=TaxTable(
                guid=guid,
                name=text(name),
                entries=tuple(entries.get(guid, ())),
                parent_guid=parent or None,
            ),
            invisible=bool(invisible),
        )


def customers_of(
    db: sqlite3.Connection,
    tables: set[str],
    commodities: dict[str, tuple[str, str]],
    source: Path,
) -> Iterator[Customer]:
    if "customers" not in tables:
        return  # a book saved without GnuCash's business features has no customers
    for fields, (billing, shipping) in _owners(
        db, "customers", ("addr", "shipaddr"), commodities, source
    ):
        yield Customer(**fields, billing=billing, shipping=shipping)


def vendors_of(
    db: sqlite3.Connection,
    tables: set[str],
    commodities: dict[str, tuple[str, str]],
    source: Path,
) -> Iterator[Vendor]:
    if "vendors" not in tables:
        return  # as for customers: no business features, no vendors
    for fields, (address,) in _owners(db, "vendors", ("addr",), commodities, source):
        yield Vendor(**fields, address=address)


def _owners(
    db: sqlite3.Connection,
    table: str,
    address_prefixes: tuple[str, ...],
    commodities: dict[str, tuple[str, str]],
    source: Path,
) -> Iterator[tuple[OwnerFields, list[Address]]]:
    """What customers and vendors share, from their table: the fields both records have, and
    the addresses in the order of ``address_prefixes``."""
    columns = _address_columns(*address_prefixes)
    kind = table.removesuffix("s")
    rows = db.execute(f"SELECT guid, id, name, notes, active, currency, {columns} FROM {table}")  # noqa: S608 - constants only
    for guid, number, name, notes, active, currency, *addresses in rows:
        label = f'the {kind} "{name}" (ID {number})'
        fields = OwnerFields(
            guid=guid,
            number=text(number),
            name=text(name),
            notes=text(notes),
            active=bool(active),
            currency=_currency(currency, commodities, source, label),
        )
        size = len(_ADDRESS_FIELDS)
        yield fields, [_address(addresses[at : at + size]) for at in range(0, len(addresses), size)]


def _address_columns(*prefixes: str) -> str:
    return ", ".join(f"{prefix}_{field}" for prefix in prefixes for field in _ADDRESS_FIELDS)


def _currency(
    guid: object, commodities: dict[str, tuple[str, str]], source: Path, label: str
) -> str:
    """The mnemonic of a customer's or vendor's currency, which must exist in the book."""
    if not isinstance(guid, str) or guid not in commodities:
        raise garbled(source, label, f"its currency {guid} does not exist")
    return commodities[guid][1]


def _address(values: list[object]) -> Address:
    name, *lines, phone, fax, email = (text(v) for v in values)
    return Address(
        name=name,
        lines=tuple(line for line in lines if line),
        phone=phone,
        fax=fax,
        email=email,
    )


_DOCUMENT_TABLES = frozenset({"invoices", "entries", "slots", "lots"})

# The lots GnuCash tagged with an owner (payment lots): lot GUID, owner type code, owner GUID.
_OWNER_LOTS = """
SELECT l.guid,
       (SELECT int64_val FROM slots WHERE obj_guid = f.guid_val AND name = 'gncOwner/owner-type'),
       (SELECT guid_val FROM slots WHERE obj_guid = f.guid_val AND name = 'gncOwner/owner-guid')
FROM lots AS l JOIN slots AS f ON f.obj_guid = l.guid AND f.name = 'gncOwner'
"""

# Every split in a posted document's lot (the posting itself, payments and lot links), and in
# an owner's payment lot (payments not yet allocated).
_LOT_SPLITS = """
SELECT s.lot_guid, s.value_num, s.value_denom, t.guid, t.post_date,
       (SELECT string_val FROM slots WHERE obj_guid = t.guid AND name = 'trans-txn-type')
FROM splits AS s JOIN transactions AS t ON s.tx_guid = t.guid
WHERE s.lot_guid IN (SELECT post_lot FROM invoices WHERE post_lot IS NOT NULL)
   OR s.lot_guid IN (SELECT obj_guid FROM slots WHERE name = 'gncOwner')
"""

_POSTINGS = """
SELECT t.guid,
       (SELECT timespec_val FROM slots WHERE obj_guid = t.guid AND name = 'trans-date-due'),
       EXISTS (SELECT 1 FROM slots WHERE obj_guid = t.guid AND name = 'void-reason')
FROM transactions AS t WHERE t.guid IN (SELECT post_txn FROM invoices)
"""

_ENTRIES = """
SELECT guid, date, date_entered, description, quantity_num, quantity_denom, invoice, bill,
       i_acct, i_price_num, i_price_denom, i_discount_num, i_discount_denom, i_disc_type,
       i_disc_how, i_taxable, i_taxincluded, i_taxtable,
       b_acct, b_price_num, b_price_denom, b_taxable, b_taxincluded, b_taxtable
FROM entries
"""


def with_documents(
    db: sqlite3.Connection,
    parts: BookParts,
    commodities: dict[str, tuple[str, str]],
    source: Path,
) -> BookParts:
    """``parts`` with the book's invoices, bills and credit notes, and what they point at."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables >= _DOCUMENT_TABLES:
        return parts  # a book saved without business features has no documents
    credit_notes = {
        guid
        for (guid,) in db.execute(
            "SELECT obj_guid FROM slots WHERE name = 'credit-note' AND int64_val = 1"
        )
    }
    documents = []
    for row in db.execute(
        "SELECT guid, id, date_opened, date_posted, notes, currency, owner_type, owner_guid, "
        "billing_id, post_txn, post_lot, post_acc FROM invoices"
    ):
        guid, number, opened, posted, notes, currency, owner_type, owner, billing_id = row[:9]
        label = f'the document "{text(number)}" ({guid})'
        documents.append(
            RawDocument(
                guid=guid,
                number=text(number),
                owner_type=OWNER_TYPE_CODES.get(owner_type, str(owner_type)),
                owner_guid=text(owner),
                currency=_currency(currency, commodities, source, label),
                opened=parse_timestamp(opened, book=source, record=label, field="opening date"),
                notes=text(notes),
                billing_id=text(billing_id),
                credit_note=guid in credit_notes,
                posted=parse_timestamp(posted, book=source, record=label, field="posting date")
                if posted
                else None,
                post_txn=row[9] or None,
                post_lot=row[10] or None,
                post_acc=row[11] or None,
            )
        )
    jobs: dict[str, tuple[str, str]] = {}
    if "jobs" in tables:
        for guid, owner_type, owner in db.execute("SELECT guid, owner_type, owner_guid FROM jobs"):
            jobs[guid] = (OWNER_TYPE_CODES.get(owner_type, str(owner_type)), text(owner))
    lot_splits: dict[str, list[LotSplit]] = {}
    for lot, num, denom, txn, posted, txn_type in db.execute(_LOT_SPLITS):
        label = f"a split of the transaction {txn}"
        lot_splits.setdefault(lot, []).append(
            LotSplit(
                value=rational(num, denom, book=source, record=label),
                txn_guid=txn,
                posted=parse_timestamp(posted, book=source, record=label, field="posting date"),
                txn_type=text(txn_type),
            )
        )
    postings = {
        txn: Posting(
            due=parse_timestamp(due, book=source, record=f"the transaction {txn}", field="due date")
            if due
            else None,
            voided=bool(voided),
        )
        for txn, due, voided in db.execute(_POSTINGS)
    }
    owner_lots = {
        lot: (OWNER_TYPE_CODES.get(owner_type, str(owner_type)), text(owner))
        for lot, owner_type, owner in db.execute(_OWNER_LOTS)
        if owner
    }
    return replace(
        parts,
        owner_lots=owner_lots,
        documents=documents,
        entries=[_entry(row, source) for row in db.execute(_ENTRIES)],
        jobs=jobs,
        lot_splits=lot_splits,
        postings=postings,
    )


def _entry(row: tuple[Any, ...], source: Path) -> RawEntry:
    guid, date, entered, description, qty_num, qty_denom, invoice, bill = row[:8]
    i_acct, i_num, i_denom, d_num, d_denom, d_type, d_how, i_taxable, i_incl, i_table = row[8:18]
    b_acct, b_num, b_denom, b_taxable, b_incl, b_table = row[18:]
    label = f'the document line "{text(description)}" ({guid})'
    quantity = rational(qty_num or 0, qty_denom or 1, book=source, record=label)
    kind, how = discount_terms(d_type, d_how, source=source, label=label)

    def side(
        account: object,
        num: int | None,
        denom: int | None,
        taxable: object,
        incl: object,
        table: object,
    ) -> DocumentEntry:
        """The line as an invoice (``i_`` columns) or a bill (``b_``) prices it."""
        return DocumentEntry(
            guid=guid,
            description=text(description),
            quantity=quantity,
            price=rational(num or 0, denom or 1, book=source, record=label),
            account_guid=text(account),
            taxable=bool(taxable),
            tax_included=bool(incl),
            tax_table_guid=text(table) or None,
        )

    return RawEntry(
        document_guid=text(invoice or bill),
        date=parse_timestamp(date, book=source, record=label, field="date"),
        entered=parse_timestamp(entered or date, book=source, record=label, field="entry date"),
        # Only customer documents have discounts.
        customer_side=replace(
            side(i_acct, i_num, i_denom, i_taxable, i_incl, i_table),
            discount=rational(d_num or 0, d_denom or 1, book=source, record=label),
            discount_type=kind,
            discount_how=how,
        ),
        vendor_side=side(b_acct, b_num, b_denom, b_taxable, b_incl, b_table),
    )
