"""How an SQLite book's private copy is opened, and what in it is refused before it is read.

An SQLite file can carry SQL of its own that runs when it is read: a view named like one of
GnuCash's tables runs its query (a recursive one need never end), a generated column computes
its expression on every read, a virtual table runs a module's code on tables the file supplies.
GnuCash writes none of these, so a book holding one is refused (:func:`check_schema`, before
anything else reads the copy); and every connection also refuses, through SQLite's authorizer,
any access made for one of the book's views or triggers, and lets the schema call no function
that is not harmless (``trusted_schema = OFF``).

A value is never longer than ``MAX_VALUE_BYTES``: that is SQLite's own length limit on every
connection, so a longer one fails to load (SQLite's "string or blob too big") instead of filling
the memory. The ledger is only streamed once the dataset is mapping, so :func:`check_ledger`
reads every value the stream will read, and counts each transaction's splits, while the book is
fetched: a book that would fail later fails now, as a FetchError.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.errors import BookUnreadable
from agent.sources.gnucash.reading.book_limits import (
    MAX_SPLITS_PER_TRANSACTION,
    MAX_VALUE_BYTES,
    too_many_splits,
    value_too_long,
)

# The columns the ledger's stream reads (sqlite_ledger), by table, and how messages name them.
_STREAMED = {
    "transactions": (
        "a value in its transactions",
        ("guid", "currency_guid", "num", "description", "post_date", "enter_date"),
    ),
    "splits": (
        "a value in its splits",
        (
            "guid",
            "tx_guid",
            "account_guid",
            "memo",
            "value_num",
            "value_denom",
            "quantity_num",
            "quantity_denom",
        ),
    ),
    "slots": ("a value in its slots (the records' extra fields)", ("obj_guid", "name")),
}

_SPLIT_COUNTS = """
SELECT tx_guid, COUNT(*) FROM splits GROUP BY tx_guid HAVING COUNT(*) > ? LIMIT 1
"""

# sqlite_schema rows GnuCash never writes, and what to call them.
_FOREIGN_OBJECTS = """
SELECT type, name FROM sqlite_schema
WHERE type IN ('view', 'trigger')
   OR (type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%')
ORDER BY type, name LIMIT 1
"""


def open_copy(copy: Path) -> sqlite3.Connection:
    """A read-only connection to a book's private copy (never the live book) on which only
    Connector's own SQL runs, and no value longer than ``MAX_VALUE_BYTES`` loads."""
    db = sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True)
    try:
        db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        db.execute("PRAGMA trusted_schema = OFF")
        theirs = frozenset(
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_schema WHERE type IN ('view', 'trigger')"
            )
        )
    except BaseException:
        db.close()
        raise

    def only_our_sql(
        _action: int,
        _first: str | None,
        _second: str | None,
        _database: str | None,
        inside: str | None,
    ) -> int:
        # SQLite names the view, trigger or WITH clause an access is made for: the book's
        # views and triggers are SQL that came with the file (our WITH clauses are ours).
        return sqlite3.SQLITE_DENY if inside in theirs else sqlite3.SQLITE_OK

    db.set_authorizer(only_our_sql)
    return db


def check_schema(db: sqlite3.Connection, book: Path) -> None:
    """Refuse a book whose schema holds SQL that would run when it is read.

    Reads only ``sqlite_schema`` first: even asking a virtual table for its columns would run
    its module. Then each table's columns, for generated ones.
    """
    found = db.execute(_FOREIGN_OBJECTS).fetchone()
    if found is not None:
        kind, name = found
        kind = "virtual table" if kind == "table" else kind
        raise _foreign(book, f'a {kind} named "{name}"')
    tables = [name for (name,) in db.execute("SELECT name FROM sqlite_schema WHERE type='table'")]
    for table in tables:
        # table_xinfo's "hidden" is 2 or 3 for a generated column.
        columns = db.execute("SELECT name, hidden FROM pragma_table_xinfo(?)", (table,))
        for column, hidden in columns:
            if hidden in (2, 3):
                raise _foreign(book, f'a generated column "{column}" in its table "{table}"')


def _foreign(book: Path, what: str) -> BookUnreadable:
    return BookUnreadable(
        f"The book {book} is not a book GnuCash writes: it holds {what}, SQL that would run "
        "when the book is read. Connector runs only its own SQL on a book, so it does not read "
        "this one. Choose the .gnucash file you open in GnuCash, or restore this one from a "
        "backup."
    )


def check_ledger(db: sqlite3.Connection, tables: set[str], book: Path) -> None:
    """Refuse now what streaming the ledger would meet later: a value past the bound, or a
    transaction of more than ``MAX_SPLITS_PER_TRANSACTION`` splits."""
    for table, (what, columns) in _STREAMED.items():
        if table not in tables:
            continue
        # MAX loads every value (so SQLite's length limit meets each), and costs about a third
        # less than LENGTH, which turns every number into text.
        touched = ", ".join(f'MAX("{column}")' for column in columns)
        try:
            db.execute(f'SELECT {touched} FROM "{table}"').fetchone()  # noqa: S608 - constants
        except sqlite3.DataError:
            raise value_too_long(book, what) from None
    crowded = db.execute(_SPLIT_COUNTS, (MAX_SPLITS_PER_TRANSACTION,)).fetchone()
    if crowded is not None:
        guid, count = crowded
        row = db.execute("SELECT description FROM transactions WHERE guid = ?", (guid,)).fetchone()
        label = f'the transaction "{row[0] if row else ""}" ({guid})'
        raise too_many_splits(book, label, count)


def is_too_long(error: sqlite3.Error) -> bool:
    """Whether ``error`` is SQLite refusing a value past its length limit."""
    return isinstance(error, sqlite3.DataError) and "too big" in str(error)
