"""What the GnuCash readers produce: a book's records in GnuCash's own terms.

Both readers (SQLite and XML) fill the same frozen dataclasses, so that mapping to the standard
model is written once and never knows which format a book was in. Amounts stay exact rationals
(`Fraction`): GnuCash stores `num/denom` pairs and rounding belongs to the mapping, not the reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Literal

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
    # Read only when asked for (``read_book(..., transactions=True)``): a large book holds
    # millions of splits, which no other data type needs in memory.
    transactions: tuple[Transaction, ...] = ()
