"""Read a GnuCash book safely: snapshot the live file, parse the copy, delete the copy."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from agent.sources.gnucash.records import Book
from agent.sources.gnucash.snapshot import take_snapshot
from agent.sources.gnucash.sqlite_reader import read_sqlite_snapshot
from agent.sources.gnucash.xml_reader import read_xml_snapshot


def read_book(
    path: Path,
    workdir: Path,
    *,
    sleep: Callable[[float], None] = time.sleep,
    transactions: bool = False,
    documents: bool = False,
) -> Book:
    """Read the book at ``path`` without writing to it, locking it or touching its folder.

    ``workdir`` is a folder Connector owns; the snapshot copy lives there only while it is
    parsed. The format is told from the file's first bytes, whatever its name. Raises
    :class:`agent.errors.BookUnreadable` with a message a person can act on. The book's
    transactions are only kept when ``transactions`` is true, its invoices and bills (with
    their lots) when ``documents`` is: most data types need neither.
    """
    snapshot = take_snapshot(path, workdir, sleep=sleep)
    try:
        if snapshot.format == "sqlite":
            return read_sqlite_snapshot(snapshot, transactions=transactions, documents=documents)
        return read_xml_snapshot(snapshot, transactions=transactions, documents=documents)
    finally:
        snapshot.copy.unlink(missing_ok=True)
