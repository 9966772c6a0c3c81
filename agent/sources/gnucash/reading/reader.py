"""Read a GnuCash book safely: snapshot the live file, parse the copy, delete the copy."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import TracebackType

from agent.sources.gnucash.reading.records import Book, MemoryLedger
from agent.sources.gnucash.reading.snapshot import Snapshot, take_snapshot
from agent.sources.gnucash.reading.sqlite_reader import read_sqlite_snapshot
from agent.sources.gnucash.reading.xml_reader import read_xml_snapshot
from agent.support.own_files import remove_inside


class BookReading:
    """One snapshot of a book, parsed when first asked; its ledger streams from files that
    :meth:`close` deletes.

    Several data types can be read from one reading, so that a sync reads the book once and
    every data type sees the same moment of it.
    """

    def __init__(self, snapshot: Snapshot, *, transactions: bool, documents: bool) -> None:
        self.snapshot = snapshot
        self._transactions = transactions
        self._documents = documents
        self._spool = snapshot.copy.with_name(snapshot.copy.name + ".ledger")
        self._book: Book | None = None

    @property
    def book(self) -> Book:
        """The parsed snapshot; raises :class:`agent.errors.BookUnreadable` for a bad book."""
        if self._book is None:
            snapshot = self.snapshot
            if snapshot.format == "sqlite":
                self._book = read_sqlite_snapshot(
                    snapshot, transactions=self._transactions, documents=self._documents
                )
            else:
                ledger = self._spool if self._transactions else None
                self._book = read_xml_snapshot(snapshot, ledger=ledger, documents=self._documents)
        return self._book

    def close(self) -> None:
        workdir = self.snapshot.copy.parent
        remove_inside(workdir, self.snapshot.copy)
        remove_inside(workdir, self._spool)

    def __enter__(self) -> BookReading:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def open_book(
    path: Path,
    workdir: Path,
    *,
    sleep: Callable[[float], None] = time.sleep,
    transactions: bool = True,
    documents: bool = True,
) -> BookReading:
    """Snapshot the book at ``path`` into ``workdir`` (a folder Connector owns) to parse.

    The book itself is never written, locked or touched: only its private copy is read. The
    format is told from the file's first bytes, whatever its name. Raises
    :class:`agent.errors.BookUnreadable` with a message a person can act on. The caller closes
    the reading, which deletes the copy.
    """
    return BookReading(
        take_snapshot(path, workdir, sleep=sleep), transactions=transactions, documents=documents
    )


def read_book(
    path: Path,
    workdir: Path,
    *,
    sleep: Callable[[float], None] = time.sleep,
    transactions: bool = False,
    documents: bool = False,
) -> Book:
    """Read the whole book into memory and delete the copy (see :func:`open_book`).

    The transactions are only kept when ``transactions`` is true, its invoices and bills (with
    their lots) when ``documents`` is: most uses need neither, and a large book's transactions
    take hundreds of megabytes; syncing streams them instead.
    """
    with open_book(
        path, workdir, sleep=sleep, transactions=transactions, documents=documents
    ) as reading:
        book = reading.book
        if transactions:
            book = replace(book, transactions=MemoryLedger(tuple(book.transactions)))
        return book
