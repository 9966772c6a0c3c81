"""Read a snapshot of an SQLite GnuCash book with the standard library alone.

Only the private copy is opened, read-only. Sums run inside SQLite, grouped by denominator so
that they stay exact integers; Python adds the few resulting fractions.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from fractions import Fraction
from pathlib import Path

from agent.errors import BookUnreadable
from agent.sources.gnucash.book_builder import BookParts, RawAccount, account_label, build_book
from agent.sources.gnucash.records import Address, Book, Customer, Vendor
from agent.sources.gnucash.snapshot import Snapshot
from agent.sources.gnucash.values import garbled, rational

_GNUCASH_TABLES = frozenset({"books", "accounts", "commodities", "transactions", "splits"})

# Transactions of scheduled-transaction templates are stored beside real ones; they sit in the
# accounts below the template root, and are no part of the user's ledger.
_REAL_TRANSACTION_CURRENCIES = """
WITH RECURSIVE template(guid) AS (
    SELECT root_template_guid FROM books WHERE root_template_guid IS NOT NULL
    UNION
    SELECT a.guid FROM accounts AS a JOIN template AS t ON a.parent_guid = t.guid
)
SELECT currency_guid, COUNT(*) FROM transactions
WHERE guid NOT IN (
    SELECT s.tx_guid FROM splits AS s JOIN template AS t ON s.account_guid = t.guid
)
GROUP BY currency_guid
"""

_ADDRESS_FIELDS = ("name", "addr1", "addr2", "addr3", "addr4", "phone", "fax", "email")


def read_sqlite_snapshot(snapshot: Snapshot) -> Book:
    """Parse an SQLite book's snapshot into a :class:`Book`."""
    source = snapshot.source
    uri = f"{snapshot.copy.resolve().as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            parts = _read_parts(db, source)
    except sqlite3.Error as e:
        raise BookUnreadable(
            f"The book {source} is an SQLite database whose tables are not the ones GnuCash "
            f"writes ({e}). Open it in GnuCash and save it again, or choose the .gnucash file "
            "you open in GnuCash."
        ) from None
    return build_book(
        parts,
        source=source,
        book_format="sqlite",
        taken_at=snapshot.taken_at,
        open_in_gnucash=snapshot.open_in_gnucash,
    )


def _read_parts(db: sqlite3.Connection, source: Path) -> BookParts:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = sorted(_GNUCASH_TABLES - tables)
    if missing:
        raise BookUnreadable(
            f"The book {source} is an SQLite database but not a GnuCash book (it lacks "
            f"GnuCash's tables {', '.join(missing)}). Choose the .gnucash file you open in "
            "GnuCash."
        )
    books = db.execute("SELECT root_account_guid, root_template_guid FROM books").fetchall()
    if len(books) != 1:
        raise garbled(source, "a books table", f"it holds {len(books)} books instead of one")
    root_guid, template_root_guid = books[0]

    commodities: dict[str, tuple[str, str]] = {
        guid: (namespace, mnemonic)
        for guid, namespace, mnemonic in db.execute(
            "SELECT guid, namespace, mnemonic FROM commodities"
        )
    }
    accounts = list(_accounts(db, commodities, source))
    names = {a.guid: a.name for a in accounts}
    return BookParts(
        accounts=accounts,
        root_guid=root_guid,
        template_root_guid=template_root_guid,
        balances=_balances(db, names, source),
        customers=list(_customers(db, tables, commodities, source)),
        vendors=list(_vendors(db, tables, commodities, source)),
        transaction_currencies=_transaction_currencies(db, commodities, source),
        currencies={m for ns, m in commodities.values() if ns == "CURRENCY"},
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _accounts(
    db: sqlite3.Connection, commodities: dict[str, tuple[str, str]], source: Path
) -> Iterator[RawAccount]:
    rows = db.execute(
        "SELECT guid, name, account_type, parent_guid, code, description, hidden, placeholder, "
        "commodity_guid FROM accounts"
    )
    for guid, name, account_type, parent, code, description, hidden, placeholder, cmdty in rows:
        commodity = None
        if cmdty:
            if cmdty not in commodities:
                raise garbled(
                    source, account_label(name, guid), f"its commodity {cmdty} does not exist"
                )
            commodity = commodities[cmdty][1]
        yield RawAccount(
            guid=guid,
            name=_text(name),
            account_type=_text(account_type),
            parent_guid=parent or None,
            code=_text(code),
            description=_text(description),
            hidden=bool(hidden),
            placeholder=bool(placeholder),
            commodity=commodity,
        )


def _balances(db: sqlite3.Connection, names: dict[str, str], source: Path) -> dict[str, Fraction]:
    try:
        rows = db.execute(
            "SELECT account_guid, quantity_denom, SUM(quantity_num) FROM splits "
            "GROUP BY account_guid, quantity_denom"
        ).fetchall()
    except sqlite3.OperationalError as e:
        if "overflow" not in str(e):
            raise
        # SQLite's SUM stops at 64 bits; Python's integers do not.
        totals: dict[tuple[str, int], int] = {}
        for account, denom, num in db.execute(
            "SELECT account_guid, quantity_denom, quantity_num FROM splits"
        ):
            totals[(account, denom)] = totals.get((account, denom), 0) + num
        rows = [(account, denom, num) for (account, denom), num in totals.items()]
    balances: dict[str, Fraction] = {}
    for account, denom, num in rows:
        record = f"a split in {account_label(names.get(account, '?'), account)}"
        balances[account] = balances.get(account, Fraction(0)) + rational(
            num, denom, book=source, record=record
        )
    return balances


def _transaction_currencies(
    db: sqlite3.Connection, commodities: dict[str, tuple[str, str]], source: Path
) -> Counter[str]:
    counts: Counter[str] = Counter()
    for currency, count in db.execute(_REAL_TRANSACTION_CURRENCIES):
        if currency not in commodities:
            raise garbled(
                source, f"{count} transaction(s)", f"their currency {currency} does not exist"
            )
        counts[commodities[currency][1]] += count
    return counts


def _customers(
    db: sqlite3.Connection,
    tables: set[str],
    commodities: dict[str, tuple[str, str]],
    source: Path,
) -> Iterator[Customer]:
    if "customers" not in tables:
        return  # a book saved without GnuCash's business features has no customers
    columns = _address_columns("addr", "shipaddr")
    rows = db.execute(f"SELECT guid, id, name, notes, active, currency, {columns} FROM customers")  # noqa: S608 - columns are constants
    for guid, number, name, notes, active, currency, *addresses in rows:
        label = f'the customer "{name}" (ID {number})'
        yield Customer(
            guid=guid,
            number=_text(number),
            name=_text(name),
            notes=_text(notes),
            active=bool(active),
            currency=_currency(currency, commodities, source, label),
            billing=_address(addresses[:8]),
            shipping=_address(addresses[8:]),
        )


def _vendors(
    db: sqlite3.Connection,
    tables: set[str],
    commodities: dict[str, tuple[str, str]],
    source: Path,
) -> Iterator[Vendor]:
    if "vendors" not in tables:
        return  # as for customers: no business features, no vendors
    columns = _address_columns("addr")
    rows = db.execute(f"SELECT guid, id, name, notes, active, currency, {columns} FROM vendors")  # noqa: S608 - columns are constants
    for guid, number, name, notes, active, currency, *address in rows:
        label = f'the vendor "{name}" (ID {number})'
        yield Vendor(
            guid=guid,
            number=_text(number),
            name=_text(name),
            notes=_text(notes),
            active=bool(active),
            currency=_currency(currency, commodities, source, label),
            address=_address(address),
        )


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
    name, *lines, phone, fax, email = (_text(v) for v in values)
    return Address(
        name=name,
        lines=tuple(line for line in lines if line),
        phone=phone,
        fax=fax,
        email=email,
    )
