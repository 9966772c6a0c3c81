"""What the GnuCash readers produce: a book's records in GnuCash's own terms.

Both readers (SQLite and XML) fill the same frozen dataclasses, so that mapping to the standard
model is written once and never knows which format a book was in. Amounts stay exact rationals
(`Fraction`): GnuCash stores `num/denom` pairs and rounding belongs to the mapping, not the reader.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Literal, Protocol, TypedDict

BookFormat = Literal["sqlite", "xml-gzip", "xml"]


@dataclass(frozen=True)
class Address:
    """A GnuCash owner address: a name, four free-form lines, and contact details."""

    name: str = ""
    lines: tuple[str, ...] = ()
    phone: str = ""
    fax: str = ""
    email: str = ""


@dataclass(frozen=True)
class Account:
    """One account of the book's tree (the root and template accounts are never included)."""

    guid: str
    name: str
    account_type: str  # GnuCash's own code: BANK, CASH, ASSET, RECEIVABLE, INCOME, ...
    parent_guid: str | None  # None for a top-level account (child of the root)
    code: str
    description: str
    hidden: bool
    placeholder: bool
    commodity: str  # mnemonic, e.g. "USD"
    balance: Fraction  # sum of split quantities, debit positive, in the account's commodity


class OwnerFields(TypedDict):
    """The fields a customer and a vendor share, which both readers parse the same way."""

    guid: str
    number: str  # the user-visible ID, e.g. "000001"
    name: str
    notes: str
    active: bool
    currency: str  # mnemonic


@dataclass(frozen=True)
class Customer:
    """A customer as GnuCash stores it."""

    guid: str
    number: str  # the user-visible customer ID, e.g. "000001"
    name: str
    notes: str
    active: bool
    currency: str  # mnemonic
    billing: Address
    shipping: Address


@dataclass(frozen=True)
class Vendor:
    """A vendor (a supplier) as GnuCash stores it: like a customer, but with one address."""

    guid: str
    number: str  # the user-visible vendor ID, e.g. "000001"
    name: str
    notes: str
    active: bool
    currency: str  # mnemonic
    address: Address


@dataclass(frozen=True)
class Company:
    """The business the book belongs to: File > Properties > Business in GnuCash.

    GnuCash keeps these as the book's ``options/Business/...`` slots; any may be empty.
    """

    guid: str  # the book's own GUID
    name: str = ""
    address: str = ""  # one free-form text, lines separated by newlines
    company_id: str = ""  # "Company ID": the tax or registration number the user typed
    phone: str = ""
    fax: str = ""
    email: str = ""
    website: str = ""
    contact: str = ""


@dataclass(frozen=True)
class TaxTableEntry:
    """One line of a tax table: a percentage or a fixed amount, posted to an account."""

    account_guid: str
    amount: Fraction  # percent (5.5 means 5.5%) or a value in the document's currency
    kind: Literal["PERCENT", "VALUE"]


@dataclass(frozen=True)
class TaxTable:
    """A tax table the user made (never GnuCash's invisible per-document copies)."""

    guid: str
    name: str
    entries: tuple[TaxTableEntry, ...]
    # Set on GnuCash's invisible per-document copies: the user's table the copy was made from.
    parent_guid: str | None = None


@dataclass(frozen=True)
class Split:
    """One line of a transaction."""

    guid: str
    account_guid: str
    memo: str
    value: Fraction  # in the transaction's currency, debit positive
    quantity: Fraction  # in the account's commodity


@dataclass(frozen=True)
class Transaction:
    """A ledger transaction (never a scheduled-transaction template)."""

    guid: str
    currency: str  # mnemonic
    num: str
    description: str
    posted: datetime  # aware UTC; a date-only value sits at 10:59 UTC
    entered: datetime  # aware UTC
    splits: tuple[Split, ...]
    # One of the closing entries Tools > Close Book writes (slot ``book_closing``): it moves
    # income and expense into equity, and GnuCash's income statement leaves it out.
    closing: bool = False


class Ledger(Protocol):
    """The book's real transactions (never scheduled-transaction templates), as a stream.

    A book of a million splits holds about 400,000 transactions, about 700 MB as Python
    objects; the data types that need them each walk them once. So a ledger hands them out one
    at a time, in ledger order (posting date, entry date, GUID), from a file: the SQLite
    snapshot itself, or the spool an XML book's one parse wrote.
    """

    def __iter__(self) -> Iterator[Transaction]:
        """Every transaction in ledger order; each call starts a new pass."""
        ...

    def select(self, guids: Collection[str]) -> Iterator[Transaction]:
        """Only the transactions with these GUIDs (unknown ones are skipped), in ledger order."""
        ...

    def latest_posted(self) -> datetime | None:
        """The posting date of the newest transaction; None for a book without any."""
        ...


@dataclass(frozen=True)
class MemoryLedger:
    """A ledger already in memory: a book read whole (``read_book``), and tests."""

    transactions: tuple[Transaction, ...] = ()

    def __iter__(self) -> Iterator[Transaction]:
        return iter(self.transactions)

    def __len__(self) -> int:
        return len(self.transactions)

    def select(self, guids: Collection[str]) -> Iterator[Transaction]:
        wanted = set(guids)
        return (txn for txn in self.transactions if txn.guid in wanted)

    def latest_posted(self) -> datetime | None:
        return max((txn.posted for txn in self.transactions), default=None)


EMPTY_LEDGER = MemoryLedger()


OwnerKind = Literal["customer", "vendor", "employee"]
DiscountType = Literal["PERCENT", "VALUE"]
DiscountHow = Literal["PRETAX", "SAMETIME", "POSTTAX"]


@dataclass(frozen=True)
class DocumentEntry:
    """One line of an invoice or bill, with the price side (customer or vendor) already chosen.

    GnuCash keeps both a customer side (``i_*``) and a vendor side (``b_*``) on every entry; the
    document's owner decides which one counts, as in ``gncEntryGetDocValue``.
    """

    guid: str
    description: str
    quantity: Fraction  # negated by GnuCash on credit notes
    price: Fraction
    account_guid: str  # "" when the line has no account yet (a draft)
    taxable: bool
    tax_included: bool
    tax_table_guid: str | None  # usually an invisible copy of the user's table
    discount: Fraction = Fraction(0)  # customer documents only: bills have no discount
    discount_type: DiscountType = "PERCENT"
    discount_how: DiscountHow = "PRETAX"


@dataclass(frozen=True)
class LotSplit:
    """A split in a document's lot: its posting, a payment, or a link to another document."""

    value: Fraction  # in the transaction's currency, debit positive
    txn_guid: str
    posted: datetime
    txn_type: str  # the transaction's ``trans-txn-type`` slot: I, P, L or ""


@dataclass(frozen=True)
class Document:
    """An invoice, bill, credit note or expense voucher: GnuCash keeps all in one table."""

    guid: str
    number: str  # the user-visible document ID, e.g. "000001"
    owner_kind: OwnerKind  # a job's documents already resolved to the job's owner
    owner_guid: str
    job_guid: str | None  # the job the document was raised for, if any
    currency: str  # mnemonic
    opened: datetime
    notes: str
    billing_id: str  # the owner's reference for the document (e.g. the vendor's bill number)
    credit_note: bool
    entries: tuple[DocumentEntry, ...]
    # Set only for posted documents (post_txn, post_lot, post_acc, date_posted all present).
    posted: datetime | None = None
    post_txn_guid: str | None = None
    post_lot_guid: str | None = None
    post_account_guid: str | None = None
    due: datetime | None = None  # the posting transaction's ``trans-date-due``
    voided: bool = False  # the posting transaction was voided
    lot_splits: tuple[LotSplit, ...] = ()


@dataclass(frozen=True)
class OwnerLot:
    """A payment lot GnuCash tagged with an owner: a payment (or its rest) not yet allocated to
    any document. Lots whose splits all moved to documents are empty and left out."""

    guid: str
    owner_guid: str  # a job's lot already resolved to the job's owner
    splits: tuple[LotSplit, ...]


@dataclass(frozen=True)
class Price:
    """One entry of the book's price database: one ``commodity`` costs ``value`` ``currency``."""

    guid: str
    commodity: str  # mnemonic of what is priced, e.g. "EUR" or "AAPL"
    currency: str  # mnemonic of what it is priced in
    time: datetime  # aware UTC
    value: Fraction


@dataclass(frozen=True)
class Book:
    """A parsed snapshot of one book."""

    format: BookFormat
    default_currency: str
    accounts: tuple[Account, ...]
    customers: tuple[Customer, ...]
    vendors: tuple[Vendor, ...]
    snapshot_taken: datetime
    open_in_gnucash: bool = False  # a lock was present: information for the user, not an error
    notes: tuple[str, ...] = field(default=())
    company: Company | None = None  # None only for a book without a book record
    tax_tables: tuple[TaxTable, ...] = ()
    # Empty unless asked for (``transactions=True``); streamed, never all in memory.
    transactions: Ledger = EMPTY_LEDGER
    # Read only when asked for (``read_book(..., documents=True)``), like transactions.
    documents: tuple[Document, ...] = ()
    # Every tax table, GnuCash's invisible per-document copies included: documents point at those.
    all_tax_tables: tuple[TaxTable, ...] = ()
    # Read with the documents: owners' payment lots that still hold (unallocated) payments.
    owner_lots: tuple[OwnerLot, ...] = ()
    # The price database (small: GnuCash books hold a few thousand prices at most), by time.
    prices: tuple[Price, ...] = ()
    # File > Properties > Accounts > "Use Trading Accounts" (book option ``trading-accts``).
    trading_accounts: bool = False
