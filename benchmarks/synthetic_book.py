"""Write large, valid GnuCash books quickly, without the GnuCash engine (which needs minutes).

    .venv/bin/python benchmarks/synthetic_book.py OUT.gnucash [--splits 100000] [--format sqlite]

A book holds exactly ``splits`` splits in balanced transactions of 2-4 splits: sales (A/R
against income), customer payments (bank against A/R), bills (expenses against A/P), vendor
payments (A/P against bank) and direct expenses (expenses against bank, cash or the credit
card), in one currency (USD), on a tree of about 60 accounts, with about one customer per 200
transactions and one vendor per 500. The same seed gives the same book, byte for byte in SQLite
content and in XML text, in either format.

SQLite books use GnuCash 4.x's schema (copied from ``resources/sample-books/sample.gnucash``,
``versions`` rows included) and are written with ``executemany`` in batches; gzip XML books are
written record by record to a gzip stream, in the order GnuCash writes them. Neither ever holds
more than one batch of transactions in memory. No invoices are written (the agent does not read
them yet, and a valid posted invoice needs lots, a posting transaction and slots).
"""

from __future__ import annotations

import argparse
import gzip
import io
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

SyntheticFormat = Literal["sqlite", "xml-gzip"]
FORMATS: tuple[SyntheticFormat, ...] = ("sqlite", "xml-gzip")

BATCH = 5_000  # transactions per executemany / per XML write
FIRST_DAY = date(2012, 1, 1)
DAYS = 365 * 10  # the book spans ten years, whatever its size

# Average splits per transaction with the mix in _Generator.transaction (see there): ~2.63.
SPLITS_PER_TRANSACTION = 2.63
TRANSACTIONS_PER_CUSTOMER = 200
TRANSACTIONS_PER_VENDOR = 500

# (path below the root, GnuCash type, code, placeholder)
ACCOUNT_TREE: tuple[tuple[str, str, str, bool], ...] = (
    ("Assets", "ASSET", "", True),
    ("Assets:Current Assets", "ASSET", "1000", True),
    ("Assets:Current Assets:Checking Account", "BANK", "1010", False),
    ("Assets:Current Assets:Savings Account", "BANK", "1020", False),
    ("Assets:Current Assets:Petty Cash", "CASH", "1030", False),
    ("Assets:Current Assets:Accounts Receivable", "RECEIVABLE", "1200", False),
    ("Assets:Current Assets:Prepaid Expenses", "ASSET", "1300", False),
    ("Assets:Fixed Assets", "ASSET", "1500", True),
    ("Assets:Fixed Assets:Computer Equipment", "ASSET", "1510", False),
    ("Assets:Fixed Assets:Furniture", "ASSET", "1520", False),
    ("Assets:Fixed Assets:Vehicles", "ASSET", "1530", False),
    ("Liabilities", "LIABILITY", "", True),
    ("Liabilities:Accounts Payable", "PAYABLE", "2000", False),
    ("Liabilities:Credit Card", "CREDIT", "2100", False),
    ("Liabilities:Sales Tax Payable", "LIABILITY", "2200", False),
    ("Liabilities:Payroll Liabilities", "LIABILITY", "2300", False),
    ("Liabilities:Bank Loan", "LIABILITY", "2500", False),
    ("Equity", "EQUITY", "", True),
    ("Equity:Opening Balances", "EQUITY", "3000", False),
    ("Equity:Owner Contributions", "EQUITY", "3100", False),
    ("Equity:Owner Draws", "EQUITY", "3200", False),
    ("Income", "INCOME", "", True),
    ("Income:Design Services", "INCOME", "4010", False),
    ("Income:Consulting", "INCOME", "4020", False),
    ("Income:Printing", "INCOME", "4030", False),
    ("Income:Web Development", "INCOME", "4040", False),
    ("Income:Photography", "INCOME", "4050", False),
    ("Income:Training", "INCOME", "4060", False),
    ("Income:Licensing", "INCOME", "4070", False),
    ("Income:Maintenance Contracts", "INCOME", "4080", False),
    ("Income:Reimbursed Expenses", "INCOME", "4090", False),
    ("Income:Interest Income", "INCOME", "4900", False),
    ("Expenses", "EXPENSE", "", True),
    ("Expenses:Office", "EXPENSE", "6000", True),
    ("Expenses:Office:Rent", "EXPENSE", "6010", False),
    ("Expenses:Office:Utilities", "EXPENSE", "6020", False),
    ("Expenses:Office:Supplies", "EXPENSE", "6030", False),
    ("Expenses:Office:Cleaning", "EXPENSE", "6040", False),
    ("Expenses:Office:Repairs", "EXPENSE", "6050", False),
    ("Expenses:Technology", "EXPENSE", "6100", True),
    ("Expenses:Technology:Software Subscriptions", "EXPENSE", "6110", False),
    ("Expenses:Technology:Hosting", "EXPENSE", "6120", False),
    ("Expenses:Technology:Hardware", "EXPENSE", "6130", False),
    ("Expenses:Technology:Internet and Phone", "EXPENSE", "6140", False),
    ("Expenses:Marketing", "EXPENSE", "6200", True),
    ("Expenses:Marketing:Advertising", "EXPENSE", "6210", False),
    ("Expenses:Marketing:Events", "EXPENSE", "6220", False),
    ("Expenses:Marketing:Printing", "EXPENSE", "6230", False),
    ("Expenses:Professional Fees", "EXPENSE", "6300", True),
    ("Expenses:Professional Fees:Accounting", "EXPENSE", "6310", False),
    ("Expenses:Professional Fees:Legal", "EXPENSE", "6320", False),
    ("Expenses:Professional Fees:Subcontractors", "EXPENSE", "6330", False),
    ("Expenses:Travel", "EXPENSE", "6400", True),
    ("Expenses:Travel:Airfare", "EXPENSE", "6410", False),
    ("Expenses:Travel:Lodging", "EXPENSE", "6420", False),
    ("Expenses:Travel:Meals", "EXPENSE", "6430", False),
    ("Expenses:Travel:Mileage", "EXPENSE", "6440", False),
    ("Expenses:Insurance", "EXPENSE", "6500", False),
    ("Expenses:Bank Charges", "EXPENSE", "6600", False),
    ("Expenses:Payroll", "EXPENSE", "6700", True),
    ("Expenses:Payroll:Wages", "EXPENSE", "6710", False),
    ("Expenses:Payroll:Payroll Taxes", "EXPENSE", "6720", False),
    ("Expenses:Depreciation", "EXPENSE", "6800", False),
    ("Expenses:Taxes and Licenses", "EXPENSE", "6900", False),
)

_WORDS_A = (
    "Harbor", "Pine", "Granite", "Bluewater", "Northern", "Lighthouse", "Cedar", "Maple",
    "Riverside", "Summit", "Coastal", "Iron", "Silver", "Golden", "Meadow", "Oak", "Bay",
    "Highland", "Old Port", "Seaside",
)  # fmt: skip
_WORDS_B = (
    "Coffee", "Outfitters", "Legal", "Print", "Landscaping", "Bakery", "Software", "Studio",
    "Builders", "Dental", "Marine", "Books", "Brewing", "Florists", "Logistics", "Media",
    "Farms", "Optics", "Textiles", "Analytics",
)  # fmt: skip
_SUFFIXES = ("LLC", "Inc.", "Co.", "& Sons", "Partners", "Group", "Ltd.")
_TOWNS = (
    "Portland, ME 04101", "Rockland, ME 04841", "Brunswick, ME 04011", "Bath, ME 04530",
    "Bangor, ME 04401", "Camden, ME 04843", "Westbrook, ME 04092", "Boston, MA 02110",
)  # fmt: skip
_STREETS = ("Wharf Street", "Commercial Street", "Fore Street", "Main Street", "Congress Street")


@dataclass(frozen=True)
class SyntheticAccount:
    guid: str
    name: str
    account_type: str
    parent_guid: str
    code: str
    placeholder: bool


@dataclass(frozen=True)
class Owner:
    """A customer or a vendor."""

    guid: str
    number: str
    name: str
    contact: str
    street: str
    town: str
    phone: str
    email: str
    active: bool


@dataclass(frozen=True)
class Transaction:
    guid: str
    num: str
    posted: date
    description: str
    splits: tuple[tuple[str, str, int], ...]  # (split GUID, account GUID, amount in cents)


@dataclass
class BookSummary:
    """What was written: the counts and balances a reader of the book must find."""

    path: Path
    book_format: SyntheticFormat
    accounts: int  # without the root
    customers: int
    vendors: int
    transactions: int = 0
    splits: int = 0
    balances: dict[str, int] = field(default_factory=dict)  # account GUID -> cents
    seconds: float = 0.0
    size_bytes: int = 0


class _Generator:
    """The book's content, drawn from one seeded random stream in a fixed order."""

    def __init__(self, splits: int, seed: int) -> None:
        if splits < 2:
            raise ValueError("a book needs at least 2 splits (one balanced transaction)")
        self.rng = random.Random(seed)  # noqa: S311 - test data, not cryptography
        self.splits = splits
        self.seed = seed
        self.book_guid = self.guid()
        self.root_guid = self.guid()
        self.template_root_guid = self.guid()
        self.usd_guid = self.guid()
        self.accounts = self._accounts()
        by_name = {a.name: a.guid for a in self.accounts}
        self.bank = [by_name["Checking Account"], by_name["Savings Account"]]
        self.cash = by_name["Petty Cash"]
        self.credit_card = by_name["Credit Card"]
        self.receivable = by_name["Accounts Receivable"]
        self.payable = by_name["Accounts Payable"]
        self.income = [a.guid for a in self.accounts if a.account_type == "INCOME"]
        self.income = [g for g in self.income if g not in self._placeholders()]
        self.expenses = [
            a.guid for a in self.accounts if a.account_type == "EXPENSE" and not a.placeholder
        ]
        transactions = splits / SPLITS_PER_TRANSACTION
        self.customers = self._owners(max(1, round(transactions / TRANSACTIONS_PER_CUSTOMER)))
        self.vendors = self._owners(max(1, round(transactions / TRANSACTIONS_PER_VENDOR)))
        self.per_day = max(1, round(transactions / DAYS))

    def guid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def _placeholders(self) -> set[str]:
        return {a.guid for a in self.accounts if a.placeholder}

    def _accounts(self) -> list[SyntheticAccount]:
        guids: dict[str, str] = {}
        accounts = []
        for path, account_type, code, placeholder in ACCOUNT_TREE:
            parent_path, _, name = path.rpartition(":")
            guids[path] = self.guid()
            parent = guids[parent_path] if parent_path else self.root_guid
            accounts.append(
                SyntheticAccount(guids[path], name, account_type, parent, code, placeholder)
            )
        return accounts

    def _owners(self, count: int) -> list[Owner]:
        rng = self.rng
        owners = []
        for i in range(count):
            name = f"{rng.choice(_WORDS_A)} {rng.choice(_WORDS_B)} {rng.choice(_SUFFIXES)}"
            if i >= len(_WORDS_A) * len(_WORDS_B):
                name = f"{name} #{i + 1}"
            first = rng.choice(("Maria", "Sam", "Tom", "Ada", "Lee", "Noor", "Jo", "Kim"))
            owners.append(
                Owner(
                    guid=self.guid(),
                    number=f"{i + 1:06d}",
                    name=name,
                    contact=f"{first} {rng.choice(_WORDS_A)}",
                    street=f"{rng.randint(1, 999)} {rng.choice(_STREETS)}",
                    town=rng.choice(_TOWNS),
                    phone=f"(207) 555-{rng.randint(0, 9999):04d}",
                    email=f"billing{i + 1}@example.com" if rng.random() < 0.7 else "",
                    active=rng.random() < 0.95,
                )
            )
        return owners

    def transactions(self) -> Iterator[Transaction]:
        """Balanced transactions of 2-4 splits, exactly ``self.splits`` splits in all."""
        rng = self.rng
        for index, (kind, size) in enumerate(_shapes(self.splits, self.seed)):
            posted = FIRST_DAY + timedelta(days=index // self.per_day)
            amounts = [rng.randint(500, 250_000) for _ in range(size - 1)]
            total = sum(amounts)
            num = ""
            if kind < 0.30:  # a sale on credit: A/R debit, income credits
                customer = rng.choice(self.customers)
                num = str(100_000 + index)
                description = f"Invoice {num} - {customer.name}"
                legs = [(self.receivable, total)]
                legs += [(rng.choice(self.income), -a) for a in amounts]
            elif kind < 0.55:  # a customer pays
                customer = rng.choice(self.customers)
                description = f"Payment - {customer.name}"
                legs = [(rng.choice(self.bank), total), (self.receivable, -total)]
            elif kind < 0.75:  # a bill: expense debits, A/P credit
                vendor = rng.choice(self.vendors)
                description = f"Bill - {vendor.name}"
                legs = [(rng.choice(self.expenses), a) for a in amounts]
                legs.append((self.payable, -total))
            elif kind < 0.87:  # a vendor is paid
                vendor = rng.choice(self.vendors)
                num = str(5_000 + index)
                description = f"Payment to {vendor.name}"
                legs = [(self.payable, total), (rng.choice(self.bank), -total)]
            else:  # paid at once, by bank, cash or card
                description = rng.choice(("Card purchase", "Bank debit", "Cash purchase"))
                paid_from = rng.choice((self.bank[0], self.cash, self.credit_card))
                legs = [(rng.choice(self.expenses), a) for a in amounts]
                legs.append((paid_from, -total))
            yield Transaction(
                guid=self.guid(),
                num=num,
                posted=posted,
                description=description,
                splits=tuple((self.guid(), account, cents) for account, cents in legs),
            )


def _is_payment(kind: float) -> bool:
    return 0.30 <= kind < 0.55 or 0.75 <= kind < 0.87


def _shapes(splits: int, seed: int) -> Iterator[tuple[float, int]]:
    """(kind, number of splits) of each transaction, from a stream of their own.

    Kept apart from the content's stream so that the XML writer can count the transactions
    (``count-data`` comes first in the file) by replaying only this cheap part.
    """
    rng = random.Random(seed + 1)  # noqa: S311 - test data, not cryptography
    remaining = splits
    while remaining:
        kind = rng.random()
        lines = rng.choice((1, 1, 2, 2, 3))  # debit (or credit) lines against one total
        size = 2 if _is_payment(kind) else 1 + lines
        if remaining - size == 1:  # never leave a single split for the end
            size = size + 1 if size < 4 else size - 1
        size = min(size, remaining)
        if size != 2 and _is_payment(kind):
            kind = 0.0  # a payment has 2 splits; make it a sale instead
        yield kind, size
        remaining -= size


def write_book(
    path: Path, splits: int, book_format: SyntheticFormat, *, seed: int = 20261129
) -> BookSummary:
    """Write a book of exactly ``splits`` splits at ``path`` (replaced if it exists)."""
    started = time.perf_counter()
    generator = _Generator(splits, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    summary = BookSummary(
        path=path,
        book_format=book_format,
        accounts=len(generator.accounts),
        customers=len(generator.customers),
        vendors=len(generator.vendors),
    )
    if book_format == "sqlite":
        _write_sqlite(path, generator, summary)
    else:
        _write_xml_gzip(path, generator, summary)
    summary.seconds = time.perf_counter() - started
    summary.size_bytes = path.stat().st_size
    return summary


def _tally(summary: BookSummary, transaction: Transaction) -> None:
    summary.transactions += 1
    summary.splits += len(transaction.splits)
    for _, account, cents in transaction.splits:
        summary.balances[account] = summary.balances.get(account, 0) + cents


def _batches(generator: _Generator) -> Iterator[list[Transaction]]:
    batch: list[Transaction] = []
    for transaction in generator.transactions():
        batch.append(transaction)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


# SQLite ----------------------------------------------------------------------------------------

# GnuCash 4.13's own tables and indexes, as in resources/sample-books/sample.gnucash.
SQLITE_SCHEMA = """
CREATE TABLE gnclock ( Hostname varchar(255), PID int );
CREATE TABLE versions(table_name text(50) PRIMARY KEY NOT NULL, table_version integer NOT NULL);
CREATE TABLE books(guid text(32) PRIMARY KEY NOT NULL, root_account_guid text(32) NOT NULL, root_template_guid text(32) NOT NULL);
CREATE TABLE commodities(guid text(32) PRIMARY KEY NOT NULL, namespace text(2048) NOT NULL, mnemonic text(2048) NOT NULL, fullname text(2048), cusip text(2048), fraction integer NOT NULL, quote_flag integer NOT NULL, quote_source text(2048), quote_tz text(2048));
CREATE TABLE accounts(guid text(32) PRIMARY KEY NOT NULL, name text(2048) NOT NULL, account_type text(2048) NOT NULL, commodity_guid text(32), commodity_scu integer NOT NULL, non_std_scu integer NOT NULL, parent_guid text(32), code text(2048), description text(2048), hidden integer, placeholder integer);
CREATE TABLE budgets(guid text(32) PRIMARY KEY NOT NULL, name text(2048) NOT NULL, description text(2048), num_periods integer NOT NULL);
CREATE TABLE budget_amounts(id integer PRIMARY KEY AUTOINCREMENT NOT NULL, budget_guid text(32) NOT NULL, account_guid text(32) NOT NULL, period_num integer NOT NULL, amount_num bigint NOT NULL, amount_denom bigint NOT NULL);
CREATE TABLE prices(guid text(32) PRIMARY KEY NOT NULL, commodity_guid text(32) NOT NULL, currency_guid text(32) NOT NULL, date text(19) NOT NULL, source text(2048), type text(2048), value_num bigint NOT NULL, value_denom bigint NOT NULL);
CREATE TABLE transactions(guid text(32) PRIMARY KEY NOT NULL, currency_guid text(32) NOT NULL, num text(2048) NOT NULL, post_date text(19), enter_date text(19), description text(2048));
CREATE INDEX tx_post_date_index ON transactions(post_date);
CREATE TABLE splits(guid text(32) PRIMARY KEY NOT NULL, tx_guid text(32) NOT NULL, account_guid text(32) NOT NULL, memo text(2048) NOT NULL, action text(2048) NOT NULL, reconcile_state text(1) NOT NULL, reconcile_date text(19), value_num bigint NOT NULL, value_denom bigint NOT NULL, quantity_num bigint NOT NULL, quantity_denom bigint NOT NULL, lot_guid text(32));
CREATE INDEX splits_tx_guid_index ON splits(tx_guid);
CREATE INDEX splits_account_guid_index ON splits(account_guid);
CREATE TABLE slots(id integer PRIMARY KEY AUTOINCREMENT NOT NULL, obj_guid text(32) NOT NULL, name text(4096) NOT NULL, slot_type integer NOT NULL, int64_val bigint, string_val text(4096), double_val float8, timespec_val text(19), guid_val text(32), numeric_val_num bigint, numeric_val_denom bigint, gdate_val text(8));
CREATE INDEX slots_guid_index ON slots(obj_guid);
CREATE TABLE recurrences(id integer PRIMARY KEY AUTOINCREMENT NOT NULL, obj_guid text(32) NOT NULL, recurrence_mult integer NOT NULL, recurrence_period_type text(2048) NOT NULL, recurrence_period_start text(8) NOT NULL, recurrence_weekend_adjust text(2048) NOT NULL);
CREATE TABLE schedxactions(guid text(32) PRIMARY KEY NOT NULL, name text(2048), enabled integer NOT NULL, start_date text(8), end_date text(8), last_occur text(8), num_occur integer NOT NULL, rem_occur integer NOT NULL, auto_create integer NOT NULL, auto_notify integer NOT NULL, adv_creation integer NOT NULL, adv_notify integer NOT NULL, instance_count integer NOT NULL, template_act_guid text(32) NOT NULL);
CREATE TABLE lots(guid text(32) PRIMARY KEY NOT NULL, account_guid text(32), is_closed integer NOT NULL);
CREATE TABLE billterms(guid text(32) PRIMARY KEY NOT NULL, name text(2048) NOT NULL, description text(2048) NOT NULL, refcount integer NOT NULL, invisible integer NOT NULL, parent text(32), type text(2048) NOT NULL, duedays integer, discountdays integer, discount_num bigint, discount_denom bigint, cutoff integer);
CREATE TABLE customers(guid text(32) PRIMARY KEY NOT NULL, name text(2048) NOT NULL, id text(2048) NOT NULL, notes text(2048) NOT NULL, active integer NOT NULL, discount_num bigint NOT NULL, discount_denom bigint NOT NULL, credit_num bigint NOT NULL, credit_denom bigint NOT NULL, currency text(32) NOT NULL, tax_override integer NOT NULL, addr_name text(1024), addr_addr1 text(1024), addr_addr2 text(1024), addr_addr3 text(1024), addr_addr4 text(1024), addr_phone text(128), addr_fax text(128), addr_email text(256), shipaddr_name text(1024), shipaddr_addr1 text(1024), shipaddr_addr2 text(1024), shipaddr_addr3 text(1024), shipaddr_addr4 text(1024), shipaddr_phone text(128), shipaddr_fax text(128), shipaddr_email text(256), terms text(32), tax_included integer, taxtable text(32));
CREATE TABLE employees(guid text(32) PRIMARY KEY NOT NULL, username text(2048) NOT NULL, id text(2048) NOT NULL, language text(2048) NOT NULL, acl text(2048) NOT NULL, active integer NOT NULL, currency text(32) NOT NULL, ccard_guid text(32), workday_num bigint NOT NULL, workday_denom bigint NOT NULL, rate_num bigint NOT NULL, rate_denom bigint NOT NULL, addr_name text(1024), addr_addr1 text(1024), addr_addr2 text(1024), addr_addr3 text(1024), addr_addr4 text(1024), addr_phone text(128), addr_fax text(128), addr_email text(256));
CREATE TABLE entries(guid text(32) PRIMARY KEY NOT NULL, date text(19) NOT NULL, date_entered text(19), description text(2048), action text(2048), notes text(2048), quantity_num bigint, quantity_denom bigint, i_acct text(32), i_price_num bigint, i_price_denom bigint, i_discount_num bigint, i_discount_denom bigint, invoice text(32), i_disc_type text(2048), i_disc_how text(2048), i_taxable integer, i_taxincluded integer, i_taxtable text(32), b_acct text(32), b_price_num bigint, b_price_denom bigint, bill text(32), b_taxable integer, b_taxincluded integer, b_taxtable text(32), b_paytype integer, billable integer, billto_type integer, billto_guid text(32), order_guid text(32));
CREATE TABLE invoices(guid text(32) PRIMARY KEY NOT NULL, id text(2048) NOT NULL, date_opened text(19), date_posted text(19), notes text(2048) NOT NULL, active integer NOT NULL, currency text(32) NOT NULL, owner_type integer, owner_guid text(32), terms text(32), billing_id text(2048), post_txn text(32), post_lot text(32), post_acc text(32), billto_type integer, billto_guid text(32), charge_amt_num bigint, charge_amt_denom bigint);
CREATE TABLE jobs(guid text(32) PRIMARY KEY NOT NULL, id text(2048) NOT NULL, name text(2048) NOT NULL, reference text(2048) NOT NULL, active integer NOT NULL, owner_type integer, owner_guid text(32));
CREATE TABLE orders(guid text(32) PRIMARY KEY NOT NULL, id text(2048) NOT NULL, notes text(2048) NOT NULL, reference text(2048) NOT NULL, active integer NOT NULL, date_opened text(19) NOT NULL, date_closed text(19) NOT NULL, owner_type integer NOT NULL, owner_guid text(32) NOT NULL);
CREATE TABLE taxtables(guid text(32) PRIMARY KEY NOT NULL, name text(50) NOT NULL, refcount bigint NOT NULL, invisible integer NOT NULL, parent text(32));
CREATE TABLE taxtable_entries(id integer PRIMARY KEY AUTOINCREMENT NOT NULL, taxtable text(32) NOT NULL, account text(32) NOT NULL, amount_num bigint NOT NULL, amount_denom bigint NOT NULL, type integer NOT NULL);
CREATE TABLE vendors(guid text(32) PRIMARY KEY NOT NULL, name text(2048) NOT NULL, id text(2048) NOT NULL, notes text(2048) NOT NULL, currency text(32) NOT NULL, active integer NOT NULL, tax_override integer NOT NULL, addr_name text(1024), addr_addr1 text(1024), addr_addr2 text(1024), addr_addr3 text(1024), addr_addr4 text(1024), addr_phone text(128), addr_fax text(128), addr_email text(256), terms text(32), tax_inc text(2048), tax_table text(32));
"""  # noqa: E501 - GnuCash's DDL, verbatim

# The versions table GnuCash 4.13 writes: the engine refuses a book without it.
SQLITE_VERSIONS = (
    ("Gnucash", 4000013), ("Gnucash-Resave", 19920), ("books", 1), ("commodities", 1),
    ("accounts", 1), ("budgets", 1), ("budget_amounts", 1), ("prices", 3), ("transactions", 4),
    ("splits", 5), ("slots", 4), ("recurrences", 2), ("schedxactions", 1), ("lots", 2),
    ("billterms", 2), ("customers", 2), ("employees", 2), ("entries", 4), ("invoices", 4),
    ("jobs", 1), ("orders", 1), ("taxtables", 2), ("taxtable_entries", 3), ("vendors", 1),
)  # fmt: skip

_NO_RECONCILE = "1970-01-01 00:00:00"
_SLOT_COLUMNS = (
    "obj_guid, name, slot_type, int64_val, string_val, double_val, timespec_val, guid_val, "
    "numeric_val_num, numeric_val_denom, gdate_val"
)
_SLOT_STRING = 4  # KvpValue types as GnuCash's SQL backend stores them
_SLOT_GDATE = 10


def _write_sqlite(path: Path, gen: _Generator, summary: BookSummary) -> None:
    with closing(sqlite3.connect(path)) as db:
        # A new file nobody else has open: no journal, no fsync (GnuCash would use both).
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(SQLITE_SCHEMA)
        db.executemany("INSERT INTO versions VALUES (?, ?)", SQLITE_VERSIONS)
        db.execute(
            "INSERT INTO books VALUES (?, ?, ?)",
            (gen.book_guid, gen.root_guid, gen.template_root_guid),
        )
        db.execute(
            "INSERT INTO commodities VALUES (?, 'CURRENCY', 'USD', 'US Dollar', '840', 100, 1, "
            "'currency', '')",
            (gen.usd_guid,),
        )
        account_rows: list[tuple[object, ...]] = [
            (gen.root_guid, "Root Account", "ROOT", None, 0, 0, None, "", "", 0, 0),
            (gen.template_root_guid, "Template Root", "ROOT", None, 0, 0, None, "", "", 0, 0),
        ]
        account_rows += [
            (a.guid, a.name, a.account_type, gen.usd_guid, 100, 0, a.parent_guid, a.code, "", 0,
             int(a.placeholder))
            for a in gen.accounts
        ]  # fmt: skip
        db.executemany(_insert("accounts", 11), account_rows)
        db.executemany(
            _insert("slots", 11, _SLOT_COLUMNS),
            [
                (a.guid, "placeholder", _SLOT_STRING, 0, "true", None, _NO_RECONCILE, None, 0, 1,
                 None)
                for a in gen.accounts
                if a.placeholder
            ],
        )  # fmt: skip
        db.executemany(
            _insert("customers", 30),
            [
                (c.guid, c.name, c.number, "", int(c.active), 0, 1, 0, 1, gen.usd_guid, 0,
                 c.contact, c.name, c.street, c.town, "", c.phone, "", c.email,
                 "", "", "", "", "", "", "", "", None, 3, None)
                for c in gen.customers
            ],
        )  # fmt: skip
        db.executemany(
            _insert("vendors", 18),
            [
                (v.guid, v.name, v.number, "", gen.usd_guid, int(v.active), 0,
                 v.contact, v.name, v.street, v.town, "", v.phone, "", v.email,
                 None, "USEGLOBAL", None)
                for v in gen.vendors
            ],
        )  # fmt: skip
        for batch in _batches(gen):
            db.executemany(
                _insert("transactions", 6),
                [
                    (t.guid, gen.usd_guid, t.num, f"{t.posted} 10:59:00", f"{t.posted} 17:00:00",
                     t.description)
                    for t in batch
                ],
            )  # fmt: skip
            db.executemany(
                _insert("slots", 11, _SLOT_COLUMNS),
                [
                    (t.guid, "date-posted", _SLOT_GDATE, 0, None, None, _NO_RECONCILE, None, 0, 1,
                     t.posted.strftime("%Y%m%d"))
                    for t in batch
                ],
            )  # fmt: skip
            db.executemany(
                _insert("splits", 12),
                [
                    (guid, t.guid, account, "", "", "n", _NO_RECONCILE, cents, 100, cents, 100,
                     None)
                    for t in batch
                    for guid, account, cents in t.splits
                ],
            )  # fmt: skip
            for transaction in batch:
                _tally(summary, transaction)
        db.commit()


def _insert(table: str, count: int, columns: str = "") -> str:
    """``INSERT INTO table [(columns)] VALUES (?, ...)``; every argument is a constant here."""
    names = f" ({columns})" if columns else ""
    return f"INSERT INTO {table}{names} VALUES ({', '.join('?' * count)})"  # noqa: S608


# Gzip XML --------------------------------------------------------------------------------------

_XML_NAMESPACES = (
    "gnc", "act", "book", "cd", "cmdty", "price", "slot", "split", "sx", "trn", "ts", "fs", "bgt",
    "recurrence", "lot", "addr", "billterm", "bt-days", "bt-prox", "cust", "employee", "entry",
    "invoice", "job", "order", "owner", "taxtable", "tte", "vendor",
)  # fmt: skip
_USD = "<cmdty:space>CURRENCY</cmdty:space>\n    <cmdty:id>USD</cmdty:id>"


def _write_xml_gzip(path: Path, gen: _Generator, summary: BookSummary) -> None:
    # GnuCash compresses with zlib's default level (6); so do we. No name and no time in the
    # gzip header, so that the same seed gives the same bytes.
    with (
        path.open("wb") as file,
        gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=file, mtime=0) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as out,
    ):
        namespaces = "".join(
            f'\n     xmlns:{ns}="http://www.gnucash.org/XML/{ns}"' for ns in _XML_NAMESPACES
        )
        out.write(f'<?xml version="1.0" encoding="utf-8" ?>\n<gnc-v2{namespaces}>\n')
        # The transaction count comes first, before a transaction is drawn: _shapes replays
        # the part of the random stream that decides how many there are.
        counts = (
            ("commodity", 1),
            ("account", len(gen.accounts) + 1),
            ("transaction", sum(1 for _ in _shapes(gen.splits, gen.seed))),
            ("gnc:GncCustomer", len(gen.customers)),
            ("gnc:GncVendor", len(gen.vendors)),
        )
        out.write('<gnc:count-data cd:type="book">1</gnc:count-data>\n')
        out.write('<gnc:book version="2.0.0">\n')
        out.write(f'<book:id type="guid">{gen.book_guid}</book:id>\n')
        for kind, count in counts:
            out.write(f'<gnc:count-data cd:type="{kind}">{count}</gnc:count-data>\n')
        out.write(
            '<gnc:commodity version="2.0.0">\n'
            "  <cmdty:space>CURRENCY</cmdty:space>\n  <cmdty:id>USD</cmdty:id>\n"
            "  <cmdty:get_quotes/>\n  <cmdty:quote_source>currency</cmdty:quote_source>\n"
            "  <cmdty:quote_tz/>\n</gnc:commodity>\n"
            '<gnc:commodity version="2.0.0">\n'
            "  <cmdty:space>template</cmdty:space>\n  <cmdty:id>template</cmdty:id>\n"
            "  <cmdty:name>template</cmdty:name>\n  <cmdty:xcode>template</cmdty:xcode>\n"
            "  <cmdty:fraction>1</cmdty:fraction>\n</gnc:commodity>\n"
        )
        out.write(
            '<gnc:account version="2.0.0">\n  <act:name>Root Account</act:name>\n'
            f'  <act:id type="guid">{gen.root_guid}</act:id>\n  <act:type>ROOT</act:type>\n'
            "</gnc:account>\n"
        )
        out.write("".join(_xml_account(a) for a in gen.accounts))
        for batch in _batches(gen):
            out.write("".join(_xml_transaction(t) for t in batch))
            for transaction in batch:
                _tally(summary, transaction)
        out.write("".join(_xml_owner(c, "cust", "GncCustomer") for c in gen.customers))
        out.write("".join(_xml_owner(v, "vendor", "GncVendor") for v in gen.vendors))
        out.write("</gnc:book>\n</gnc-v2>\n\n")


def _xml_account(a: SyntheticAccount) -> str:
    code = f"  <act:code>{a.code}</act:code>\n" if a.code else ""
    slots = (
        "  <act:slots>\n    <slot>\n      <slot:key>placeholder</slot:key>\n"
        '      <slot:value type="string">true</slot:value>\n    </slot>\n  </act:slots>\n'
        if a.placeholder
        else ""
    )
    return (
        f'<gnc:account version="2.0.0">\n  <act:name>{escape(a.name)}</act:name>\n'
        f'  <act:id type="guid">{a.guid}</act:id>\n  <act:type>{a.account_type}</act:type>\n'
        f"  <act:commodity>\n    {_USD}\n  </act:commodity>\n"
        f"  <act:commodity-scu>100</act:commodity-scu>\n{code}{slots}"
        f'  <act:parent type="guid">{a.parent_guid}</act:parent>\n</gnc:account>\n'
    )


def _xml_transaction(t: Transaction) -> str:
    num = f"  <trn:num>{t.num}</trn:num>\n" if t.num else ""
    splits = "".join(
        "    <trn:split>\n"
        f'      <split:id type="guid">{guid}</split:id>\n'
        "      <split:reconciled-state>n</split:reconciled-state>\n"
        f"      <split:value>{cents}/100</split:value>\n"
        f"      <split:quantity>{cents}/100</split:quantity>\n"
        f'      <split:account type="guid">{account}</split:account>\n'
        "    </trn:split>\n"
        for guid, account, cents in t.splits
    )
    return (
        f'<gnc:transaction version="2.0.0">\n  <trn:id type="guid">{t.guid}</trn:id>\n'
        f"  <trn:currency>\n    {_USD}\n  </trn:currency>\n{num}"
        f"  <trn:date-posted>\n    <ts:date>{t.posted} 10:59:00 +0000</ts:date>\n"
        f"  </trn:date-posted>\n"
        f"  <trn:date-entered>\n    <ts:date>{t.posted} 17:00:00 +0000</ts:date>\n"
        f"  </trn:date-entered>\n"
        f"  <trn:description>{escape(t.description)}</trn:description>\n"
        "  <trn:slots>\n    <slot>\n      <slot:key>date-posted</slot:key>\n"
        f'      <slot:value type="gdate">\n        <gdate>{t.posted}</gdate>\n'
        "      </slot:value>\n    </slot>\n  </trn:slots>\n"
        f"  <trn:splits>\n{splits}  </trn:splits>\n</gnc:transaction>\n"
    )


def _xml_address(o: Owner, tag: str) -> str:
    email = f"    <addr:email>{escape(o.email)}</addr:email>\n" if o.email else ""
    return (
        f'  <{tag} version="2.0.0">\n'
        f"    <addr:name>{escape(o.contact)}</addr:name>\n"
        f"    <addr:addr1>{escape(o.name)}</addr:addr1>\n"
        f"    <addr:addr2>{escape(o.street)}</addr:addr2>\n"
        f"    <addr:addr3>{escape(o.town)}</addr:addr3>\n"
        f"    <addr:phone>{escape(o.phone)}</addr:phone>\n{email}"
        f"  </{tag}>\n"
    )


def _xml_owner(o: Owner, prefix: str, element: str) -> str:
    shipping = f'  <{prefix}:shipaddr version="2.0.0"/>\n' if prefix == "cust" else ""
    money = f"  <{prefix}:discount>0/1</{prefix}:discount>\n" if prefix == "cust" else ""
    money += f"  <{prefix}:credit>0/1</{prefix}:credit>\n" if prefix == "cust" else ""
    return (
        f'<gnc:{element} version="2.0.0">\n'
        f'  <{prefix}:guid type="guid">{o.guid}</{prefix}:guid>\n'
        f"  <{prefix}:name>{escape(o.name)}</{prefix}:name>\n"
        f"  <{prefix}:id>{o.number}</{prefix}:id>\n"
        f"{_xml_address(o, f'{prefix}:addr')}{shipping}"
        f"  <{prefix}:taxincluded>USEGLOBAL</{prefix}:taxincluded>\n"
        f"  <{prefix}:active>{int(o.active)}</{prefix}:active>\n{money}"
        f"  <{prefix}:currency>\n    {_USD}\n  </{prefix}:currency>\n"
        f"  <{prefix}:use-tt>0</{prefix}:use-tt>\n"
        f"</gnc:{element}>\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--splits", type=int, default=100_000)
    parser.add_argument("--format", choices=FORMATS, default="sqlite")
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args(argv)
    summary = write_book(args.out, args.splits, args.format, seed=args.seed)
    print(
        f"{summary.path}: {summary.book_format}, {summary.splits:,} splits in "
        f"{summary.transactions:,} transactions, {summary.accounts} accounts, "
        f"{summary.customers} customers, {summary.vendors} vendors, "
        f"{summary.size_bytes / 1e6:.1f} MB, written in {summary.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
