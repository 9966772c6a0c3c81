"""Turn what a reader found in a book into a :class:`Book`, the same way for every format.

Readers only collect raw rows; the rules live here once: which accounts belong to the user's
tree (not the root, not the scheduled-transaction templates), how they are ordered, what a
balance is, and which currency is the book's own. That is what makes an SQLite book and its XML
twin produce equal records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from pathlib import Path

from agent.sources.gnucash.reading.parent_chains import first_loop
from agent.sources.gnucash.reading.records import (
    EMPTY_LEDGER,
    Account,
    Book,
    BookFormat,
    Company,
    Customer,
    DiscountHow,
    DiscountType,
    Document,
    DocumentEntry,
    Ledger,
    LotSplit,
    OwnerKind,
    OwnerLot,
    Price,
    TaxTable,
    Vendor,
)
from agent.sources.gnucash.reading.values import garbled

# Every type GnuCash can store (xaccAccountStringToType), legacy ones included.
ACCOUNT_TYPES = frozenset(
    {
        "NONE",
        "BANK",
        "CASH",
        "CREDIT",
        "ASSET",
        "LIABILITY",
        "STOCK",
        "MUTUAL",
        "CURRENCY",
        "INCOME",
        "EXPENSE",
        "EQUITY",
        "RECEIVABLE",
        "PAYABLE",
        "ROOT",
        "TRADING",
        "CHECKING",
        "SAVINGS",
        "MONEYMRKT",
        "CREDITLINE",
    }
)


@dataclass(frozen=True)
class RawAccount:
    """An account row as a reader found it, before the tree is known."""

    guid: str
    name: str
    account_type: str
    parent_guid: str | None
    code: str
    description: str
    hidden: bool
    placeholder: bool
    commodity: str | None  # mnemonic; only the root may have none


@dataclass(frozen=True)
class RawTaxTable:
    """A tax table row, before GnuCash's invisible per-document copies are set aside."""

    table: TaxTable
    invisible: bool


@dataclass(frozen=True)
class RawDocument:
    """An ``invoices`` row (or ``<gnc:GncInvoice>``), before its owner and lines are resolved."""

    guid: str
    number: str
    owner_type: str  # "customer", "job", "vendor", "employee" (readers translate the codes)
    owner_guid: str
    currency: str
    opened: datetime
    notes: str
    billing_id: str
    credit_note: bool
    posted: datetime | None
    post_txn: str | None
    post_lot: str | None
    post_acc: str | None


@dataclass(frozen=True)
class RawEntry:
    """An entry with both of GnuCash's price sides; the document's owner picks one."""

    document_guid: str
    date: datetime
    entered: datetime
    customer_side: DocumentEntry
    vendor_side: DocumentEntry


@dataclass(frozen=True)
class Posting:
    """What a document's posting transaction says about it beyond its splits."""

    due: datetime | None
    voided: bool


# The book options (``options/Business/<name>`` slots) that describe the business.
COMPANY_OPTIONS: dict[str, str] = {
    "Company Name": "name",
    "Company Address": "address",
    "Company ID": "company_id",
    "Company Phone Number": "phone",
    "Company Fax Number": "fax",
    "Company Email Address": "email",
    "Company Website URL": "website",
    "Company Contact Person": "contact",
}


@dataclass(frozen=True)
class BookParts:
    """Everything a reader collects from one book."""

    accounts: Iterable[RawAccount]
    root_guid: str | None  # None only for a book without any account
    template_root_guid: str | None  # the scheduled-transaction templates, if the format has one
    balances: Mapping[str, Fraction]  # account GUID -> sum of split quantities
    customers: Iterable[Customer]
    vendors: Iterable[Vendor]
    transaction_currencies: Counter[str]  # currency mnemonic -> number of transactions
    currencies: Collection[str]  # mnemonics in the book's CURRENCY namespace
    book_guid: str | None = None
    business: Mapping[str, str] = field(default_factory=dict)  # "Company Name" -> value
    tax_tables: Iterable[RawTaxTable] = ()
    ledger: Ledger = EMPTY_LEDGER  # empty unless the caller asked for the transactions
    # The rest stay empty unless the caller asked for documents.
    documents: Iterable[RawDocument] = ()
    entries: Iterable[RawEntry] = ()
    jobs: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # guid -> (type, owner)
    lot_splits: Mapping[str, list[LotSplit]] = field(default_factory=dict)  # lot GUID -> splits
    postings: Mapping[str, Posting] = field(default_factory=dict)  # transaction GUID -> posting
    # lot GUID -> (owner type, owner GUID) for the lots GnuCash tagged with an owner (gncOwner).
    owner_lots: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    prices: Iterable[Price] = ()
    trading_accounts: bool = False  # the book option "Use Trading Accounts"


def account_label(name: str, guid: str) -> str:
    return f'the account "{name}" ({guid})'


def build_book(
    parts: BookParts,
    *,
    source: Path,
    book_format: BookFormat,
    taken_at: datetime,
    open_in_gnucash: bool,
) -> Book:
    """Check the parts for consistency and assemble the book's records."""
    by_guid: dict[str, RawAccount] = {}
    for raw in parts.accounts:
        if raw.guid in by_guid:
            raise garbled(source, account_label(raw.name, raw.guid), "its GUID is used twice")
        by_guid[raw.guid] = raw

    loop = first_loop({guid: raw.parent_guid for guid, raw in by_guid.items()})
    if loop is not None:
        first = by_guid[loop[0]]
        names = " -> ".join(f'"{by_guid[guid].name}"' for guid in [*loop, loop[0]])
        problem = f"its parent accounts lead back to it ({names})"
        raise garbled(source, account_label(first.name, first.guid), problem)
    root = _find_root(parts.root_guid, by_guid, source)
    children: dict[str | None, list[RawAccount]] = {}
    for raw in by_guid.values():
        children.setdefault(raw.parent_guid, []).append(raw)
    for siblings in children.values():
        siblings.sort(key=lambda a: (a.name, a.guid))

    in_tree = _walk(root, children)
    templates = _walk(parts.template_root_guid, children)
    templates |= {parts.template_root_guid} if parts.template_root_guid else set()
    for raw in by_guid.values():
        if raw.guid != root and raw.guid not in in_tree and raw.guid not in templates:
            raise garbled(
                source,
                account_label(raw.name, raw.guid),
                "it is not in the account tree (its parent account does not exist)",
            )
    for guid in parts.balances:
        if guid not in by_guid:
            raise garbled(source, f"a split in the account {guid}", "that account does not exist")

    accounts = tuple(
        _account(by_guid[guid], root, parts.balances, source) for guid in _ordered(root, children)
    )
    customers = tuple(sorted(parts.customers, key=lambda c: (c.number, c.name, c.guid)))
    vendors = tuple(sorted(parts.vendors, key=lambda v: (v.number, v.name, v.guid)))
    root_commodity = by_guid[root].commodity if root is not None else None
    currency, notes = _default_currency(root_commodity, accounts, parts)
    accounts = tuple(a if a.commodity else replace(a, commodity=currency) for a in accounts)
    tax_tables = [raw.table for raw in parts.tax_tables]
    _check_tax_table_parents(tax_tables, source)
    return Book(
        format=book_format,
        default_currency=currency,
        accounts=accounts,
        customers=customers,
        vendors=vendors,
        snapshot_taken=taken_at,
        open_in_gnucash=open_in_gnucash,
        notes=notes,
        company=_company(parts),
        # Documents point at invisible copies of a table; the user's list is the visible ones.
        tax_tables=tuple(
            sorted(
                (raw.table for raw in parts.tax_tables if not raw.invisible),
                key=lambda t: (t.name, t.guid),
            )
        ),
        transactions=parts.ledger,
        documents=_documents(parts, source),
        all_tax_tables=tuple(sorted(tax_tables, key=lambda t: t.guid)),
        owner_lots=_owner_lots(parts),
        prices=tuple(sorted(parts.prices, key=lambda p: (p.time, p.guid))),
        trading_accounts=parts.trading_accounts,
    )


def _owner_lots(parts: BookParts) -> tuple[OwnerLot, ...]:
    """The owners' payment lots that still hold splits (a job's lot belongs to the job's owner)."""
    found = []
    for lot, (kind, owner) in parts.owner_lots.items():
        splits = parts.lot_splits.get(lot)
        if not splits:
            continue
        if kind == "job" and owner in parts.jobs:
            kind, owner = parts.jobs[owner]
        found.append(
            OwnerLot(guid=lot, owner_guid=owner, splits=tuple(sorted(splits, key=_lot_split_order)))
        )
    return tuple(sorted(found, key=lambda lot: lot.guid))


_OWNER_KINDS: dict[str, OwnerKind] = {k: k for k in ("customer", "vendor", "employee")}


def _documents(parts: BookParts, source: Path) -> tuple[Document, ...]:
    entries: dict[str, list[RawEntry]] = {}
    for entry in parts.entries:
        entries.setdefault(entry.document_guid, []).append(entry)
    documents = []
    for raw in parts.documents:
        label = f'the document "{raw.number}" ({raw.guid})'
        kind, owner, job = _owner(raw, parts.jobs, source, label)
        # As gncEntryCompare: by date, then by when entered, then by GUID.
        lines = sorted(
            entries.get(raw.guid, ()), key=lambda e: (e.date, e.entered, e.customer_side.guid)
        )
        side = [e.customer_side if kind == "customer" else e.vendor_side for e in lines]
        document = Document(
            guid=raw.guid,
            number=raw.number,
            owner_kind=kind,
            owner_guid=owner,
            job_guid=job,
            currency=raw.currency,
            opened=raw.opened,
            notes=raw.notes,
            billing_id=raw.billing_id,
            credit_note=raw.credit_note,
            entries=tuple(side),
        )
        if raw.posted and raw.post_txn and raw.post_lot and raw.post_acc:
            posting = parts.postings.get(raw.post_txn)
            if posting is None:
                raise garbled(source, label, f"its posting transaction {raw.post_txn} is missing")
            document = replace(
                document,
                posted=raw.posted,
                post_txn_guid=raw.post_txn,
                post_lot_guid=raw.post_lot,
                post_account_guid=raw.post_acc,
                due=posting.due,
                voided=posting.voided,
                lot_splits=tuple(
                    sorted(parts.lot_splits.get(raw.post_lot, ()), key=_lot_split_order)
                ),
            )
        documents.append(document)
    return tuple(sorted(documents, key=lambda d: (d.number, d.guid)))


def _owner(
    raw: RawDocument, jobs: Mapping[str, tuple[str, str]], source: Path, label: str
) -> tuple[OwnerKind, str, str | None]:
    """(kind, owner GUID, job GUID): a job's document belongs to the job's owner."""
    kind, owner, job = raw.owner_type, raw.owner_guid, None
    if kind == "job":
        if owner not in jobs:
            raise garbled(source, label, f"its job {owner} does not exist")
        job = owner
        kind, owner = jobs[owner]
    if kind not in _OWNER_KINDS or not owner:
        raise garbled(source, label, f"its owner ({kind or 'none'}) is not a customer or vendor")
    return _OWNER_KINDS[kind], owner, job


def _lot_split_order(split: LotSplit) -> tuple[object, ...]:
    return (split.posted, split.txn_guid, split.value)


def _company(parts: BookParts) -> Company | None:
    if parts.book_guid is None:
        return None
    known = {
        attribute: parts.business[option].strip()
        for option, attribute in COMPANY_OPTIONS.items()
        if option in parts.business
    }
    return Company(guid=parts.book_guid, **known)


def _find_root(
    root_guid: str | None, by_guid: Mapping[str, RawAccount], source: Path
) -> str | None:
    if root_guid is None:
        if by_guid:
            raise garbled(source, "an account tree", "it has no root account")
        return None
    if root_guid not in by_guid:
        raise garbled(source, "an account tree", f"its root account {root_guid} does not exist")
    return root_guid


def _check_tax_table_parents(tables: Iterable[TaxTable], source: Path) -> None:
    by_guid = {table.guid: table for table in tables}
    loop = first_loop({guid: table.parent_guid for guid, table in by_guid.items()})
    if loop is not None:
        first = by_guid[loop[0]]
        names = " -> ".join(f'"{by_guid[guid].name}" ({guid})' for guid in [*loop, loop[0]])
        raise garbled(
            source,
            f'the tax table "{first.name}" ({first.guid})',
            f"its parent tax tables lead back to it ({names})",
        )


def _walk(top: str | None, children: Mapping[str | None, list[RawAccount]]) -> set[str]:
    """Every GUID below ``top`` (not ``top`` itself); safe against cycles."""
    seen: set[str] = set()
    if top is None:
        return seen
    stack = [top]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child.guid not in seen:
                seen.add(child.guid)
                stack.append(child.guid)
    return seen


def _ordered(root: str | None, children: Mapping[str | None, list[RawAccount]]) -> list[str]:
    """The tree depth first, parents before children, siblings by name as GnuCash shows them."""
    order: list[str] = []
    if root is None:
        return order
    stack = [a.guid for a in reversed(children.get(root, []))]
    while stack:
        guid = stack.pop()
        order.append(guid)
        stack.extend(a.guid for a in reversed(children.get(guid, [])))
    return order


def _account(
    raw: RawAccount, root: str | None, balances: Mapping[str, Fraction], source: Path
) -> Account:
    label = account_label(raw.name, raw.guid)
    if raw.account_type not in ACCOUNT_TYPES or raw.account_type == "ROOT":
        raise garbled(source, label, f"its type {raw.account_type!r} is not a GnuCash type")
    # GnuCash itself makes the "Trading" and "Trading:CURRENCY" grouping placeholders of a book
    # with trading accounts without a commodity; they hold nothing, and take the book's currency.
    grouping = raw.account_type == "TRADING" and raw.placeholder and not balances.get(raw.guid)
    if not raw.commodity and not grouping:
        raise garbled(source, label, "it has no currency or commodity")
    return Account(
        guid=raw.guid,
        name=raw.name,
        account_type=raw.account_type,
        parent_guid=None if raw.parent_guid == root else raw.parent_guid,
        code=raw.code,
        description=raw.description,
        hidden=raw.hidden,
        placeholder=raw.placeholder,
        commodity=raw.commodity or "",
        balance=balances.get(raw.guid, Fraction(0)),
    )


def _default_currency(
    root_commodity: str | None, accounts: tuple[Account, ...], parts: BookParts
) -> tuple[str, tuple[str, ...]]:
    """The root account's currency when set, else the one most transactions use.

    GnuCash leaves the root's commodity empty in most books, so usage decides; ties go to the
    alphabetically first mnemonic so that the answer never depends on reading order.
    """
    if root_commodity:
        return root_commodity, ()
    for counts in (
        parts.transaction_currencies,
        Counter(a.commodity for a in accounts if a.commodity in parts.currencies),
    ):
        if counts:
            return min(counts, key=lambda c: (-counts[c], c)), ()
    return "", ("The book has no accounts or transactions in any currency yet.",)


_DISCOUNT_TYPES: dict[str, DiscountType] = {"PERCENT": "PERCENT", "VALUE": "VALUE"}
_DISCOUNT_HOWS: dict[str, DiscountHow] = {k: k for k in ("PRETAX", "SAMETIME", "POSTTAX")}
# GnuCash's owner types as the SQLite backend numbers them (GncOwnerType).
OWNER_TYPE_CODES = {2: "customer", 3: "job", 4: "vendor", 5: "employee"}


def discount_terms(
    kind: str | None, how: str | None, *, source: Path, label: str
) -> tuple[DiscountType, DiscountHow]:
    """An entry's discount type and placement, as both formats spell them (empty = default)."""
    kind, how = (kind or "PERCENT").strip(), (how or "PRETAX").strip()
    if kind not in _DISCOUNT_TYPES:
        raise garbled(source, label, f"its discount type {kind!r} is neither PERCENT nor VALUE")
    if how not in _DISCOUNT_HOWS:
        raise garbled(source, label, f"its discount placement {how!r} is not one GnuCash knows")
    return _DISCOUNT_TYPES[kind], _DISCOUNT_HOWS[how]
