"""Read a snapshot of an SQLite GnuCash book with the standard library alone.

Only the private copy is opened, read-only. Sums run inside SQLite, grouped by denominator so
that they stay exact integers; Python adds the few resulting fractions.

Here: the book, its commodities, accounts and balances; the business features (owners, tax
tables, documents) are read in ``sqlite_business``, the transactions in ``sqlite_ledger``.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from agent.errors import BookUnreadable
from agent.sources.gnucash.reading.book_builder import (
    BookParts,
    RawAccount,
    account_label,
    build_book,
)
from agent.sources.gnucash.reading.book_limits import value_too_long
from agent.sources.gnucash.reading.prices import sqlite_prices, sqlite_trading_accounts
from agent.sources.gnucash.reading.records import Book
from agent.sources.gnucash.reading.snapshot import Snapshot
from agent.sources.gnucash.reading.sqlite_access import check_ledger, is_too_long, open_copy
from agent.sources.gnucash.reading.sqlite_business import (
    business_options_of,
    customers_of,
    tax_tables_of,
    vendors_of,
    with_documents,
)
from agent.sources.gnucash.reading.sqlite_ledger import TEMPLATE_TRANSACTIONS, SqliteLedger, text
from agent.sources.gnucash.reading.values import garbled, rational

_GNUCASH_TABLES = frozenset({"books", "accounts", "commodities", "transactions", "splits"})

_REAL_TRANSACTION_CURRENCIES = f"""{TEMPLATE_TRANSACTIONS}
SELECT currency_guid, COUNT(*) FROM transactions
WHERE guid NOT IN template_transactions
GROUP BY currency_guid
"""  # noqa: S608 - constants only

# The first split in an account the book lacks, or with an impossible amount, named by its
# transaction: run only once the balances showed there is one.
_FIRST_BAD_SPLIT = """
SELECT t.guid, t.description, s.account_guid, s.value_num, s.value_denom
FROM splits AS s JOIN transactions AS t ON s.tx_guid = t.guid
WHERE s.account_guid NOT IN (SELECT guid FROM accounts) OR s.value_denom <= 0
LIMIT 1
"""


def read_sqlite_snapshot(
    snapshot: Snapshot, *, transactions: bool = False, documents: bool = False
) -> Book:
    """Parse an SQLite book's snapshot into a :class:`Book` (with documents if asked).

    With ``transactions``, the book's ledger streams them from the snapshot, which must then
    stay in place until the book is no longer used.
    """
    source = snapshot.source
    try:
        with closing(open_copy(snapshot.copy)) as db:
            parts = _read_parts(db, source)
            if transactions:
                check_ledger(db, _tables(db), source)
            parts = replace(
                parts,
                prices=sqlite_prices(db, commodities_of(db), source),
                trading_accounts=sqlite_trading_accounts(db),
            )
            if documents:
                parts = with_documents(db, parts, commodities_of(db), source)
    except sqlite3.Error as e:
        if is_too_long(e):
            raise value_too_long(source, "a value in one of its records") from None
        raise BookUnreadable(
            f"The book {source} is an SQLite database whose tables are not the ones GnuCash "
            f"writes ({e}). Open it in GnuCash and save it again, or choose the .gnucash file "
            "you open in GnuCash."
        ) from None
    if transactions:
        parts = replace(parts, ledger=SqliteLedger(snapshot.copy, source))
    return build_book(
        parts,
        source=source,
        book_format="sqlite",
        taken_at=snapshot.taken_at,
        open_in_gnucash=snapshot.open_in_gnucash,
    )


def _tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _read_parts(db: sqlite3.Connection, source: Path) -> BookParts:
    tables = _tables(db)
    missing = sorted(_GNUCASH_TABLES - tables)
    if missing:
        raise BookUnreadable(
            f"The book {source} is an SQLite database but not a GnuCash book (it lacks "
            f"GnuCash's tables {', '.join(missing)}). Choose the .gnucash file you open in "
            "GnuCash."
        )
    books = db.execute("SELECT guid, root_account_guid, root_template_guid FROM books").fetchall()
    if len(books) != 1:
        raise garbled(source, "a books table", f"it holds {len(books)} books instead of one")
    book_guid, root_guid, template_root_guid = books[0]

    commodities = commodities_of(db)
    accounts = list(_accounts(db, commodities, source))
    names = {a.guid: a.name for a in accounts}
    return BookParts(
        accounts=accounts,
        root_guid=root_guid,
        template_root_guid=template_root_guid,
        balances=_balances(db, names, source),
        customers=list(customers_of(db, tables, commodities, source)),
        vendors=list(vendors_of(db, tables, commodities, source)),
        transaction_currencies=_transaction_currencies(db, commodities, source),
        currencies={m for ns, m in commodities.values() if ns == "CURRENCY"},
        book_guid=book_guid,
        business=business_options_of(db, tables),
        tax_tables=list(tax_tables_of(db, tables, source)),
    )


def commodities_of(db: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    return {
        guid: (namespace, mnemonic)
        for guid, namespace, mnemonic in db.execute(
            "SELECT guid, namespace, mnemonic FROM commodities"
        )
    }


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
            name=text(name),
            account_type=text(account_type),
            parent_guid=parent or None,
            code=text(code),
            description=text(description),
            hidden=bool(hidden),
            placeholder=bool(placeholder),
            commodity=commodity,
        )


def _balances(db: sqlite3.Connection, names: dict[str, str], source: Path) -> dict[str, Fraction]:
    """Account GUID -> the sum of its splits' quantities; also where every split is checked
    before the ledger is streamed: each in an account of the book, each value possible."""
    try:
        rows = db.execute(
            "SELECT account_guid, quantity_denom, SUM(quantity_num), MIN(value_denom) "
            "FROM splits GROUP BY account_guid, quantity_denom"
        ).fetchall()
    except sqlite3.OperationalError as e:
        if "overflow" not in str(e):
            raise
        # SQLite's SUM stops at 64 bits; Python's integers do not.
        totals: dict[tuple[str, int], tuple[int, int]] = {}
        for account, denom, num, value_denom in db.execute(
            "SELECT account_guid, quantity_denom, quantity_num, value_denom FROM splits"
        ):
            total, lowest = totals.get((account, denom), (0, value_denom))
            totals[(account, denom)] = (total + num, min(lowest, value_denom))
        rows = [(account, denom, num, low) for (account, denom), (num, low) in totals.items()]
    if any(account not in names or value_denom <= 0 for account, _, _, value_denom in rows):
        _raise_bad_split(db, source)
    balances: dict[str, Fraction] = {}
    for account, denom, num, _ in rows:
        # A split of no transaction in an unknown account is left to the book's own check.
        record = f"a split in {account_label(names.get(account, '?'), account)}"
        balances[account] = balances.get(account, Fraction(0)) + rational(
            num, denom, book=source, record=record
        )
    return balances


def _raise_bad_split(db: sqlite3.Connection, source: Path) -> None:
    """Name the first bad split by its transaction; a split of no transaction is not found
    here (the join leaves it out) and is named by its account later, as before."""
    row = db.execute(_FIRST_BAD_SPLIT).fetchone()
    if row is None:
        return
    guid, description, account, value_num, value_denom = row
    label = f'the transaction "{text(description)}" ({guid})'
    if value_denom <= 0:
        raise garbled(
            source, label, f"the amount {value_num}/{value_denom} has no valid denominator"
        )
    raise garbled(source, label, f"a split is in the account {account}, which does not exist")


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
