"""GnuCash as a :class:`~agent.sources.base.Source`: which data types it serves, and how."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from agent.sources.base import BookPreview, Record
from agent.sources.gnucash.mapping.accounts import map_accounts
from agent.sources.gnucash.mapping.bank_accounts import map_bank_accounts
from agent.sources.gnucash.mapping.company import map_company
from agent.sources.gnucash.mapping.customers import map_customers
from agent.sources.gnucash.mapping.documents import (
    map_bill_credit_notes,
    map_bills,
    map_credit_notes,
    map_invoices,
)
from agent.sources.gnucash.mapping.journal_entries import map_journal_entries
from agent.sources.gnucash.mapping.payments import map_bill_payments, map_payments
from agent.sources.gnucash.mapping.reports import map_balance_sheet, map_profit_and_loss
from agent.sources.gnucash.mapping.suppliers import map_suppliers
from agent.sources.gnucash.mapping.tax_rates import map_tax_rates
from agent.sources.gnucash.reading.fingerprint import content_digest
from agent.sources.gnucash.reading.reader import BookReading, open_book
from agent.sources.gnucash.reading.records import Book
from agent.support.config import write_atomically
from agent.support.private_files import make_private_dir
from protocol.version import __version__

MAPPERS: dict[str, Callable[[Book], Iterable[Record]]] = {
    "balanceSheet": map_balance_sheet,
    "bankAccounts": map_bank_accounts,
    "billCreditNotes": map_bill_credit_notes,
    "billPayments": map_bill_payments,
    "bills": map_bills,
    "chartOfAccounts": map_accounts,
    "company": map_company,
    "creditNotes": map_credit_notes,
    "customers": map_customers,
    "invoices": map_invoices,
    "journalEntries": map_journal_entries,
    "payments": map_payments,
    "profitAndLoss": map_profit_and_loss,
    "suppliers": map_suppliers,
    "taxRates": map_tax_rates,
}

# The reports, which take the number of months to emit (None: all).
REPORT_MAPPERS: dict[str, Callable[[Book, int | None], Iterable[Record]]] = {
    "balanceSheet": map_balance_sheet,
    "profitAndLoss": map_profit_and_loss,
}


class GnuCashSource:
    """Reads one GnuCash book, always through a snapshot copy in ``workdir``.

    One reading serves every data type of a sync: it is kept until the book's file changes or
    :meth:`release` is called (the agent does when no dataset is waiting), so a sync of many
    data types parses the book once, and every type sees the same moment of it.
    """

    def __init__(
        self,
        book_path: Path,
        workdir: Path,
        *,
        sleep: Callable[[float], None] = time.sleep,
        report_months: int | None = None,
    ) -> None:
        self.book_path = book_path
        self.workdir = workdir
        self._sleep = sleep  # between snapshot attempts; tests pass one that does not wait
        # The last N calendar months of balanceSheet and profitAndLoss; None: every month.
        self.report_months = report_months
        self._reading: BookReading | None = None
        self._reading_of: os.stat_result | None = None  # the file as it was when read
        # The file's size, modification time and inode when last digested, and the digest.
        self._digested: tuple[tuple[int, int, int], str] | None = None

    @staticmethod
    def data_types() -> list[str]:
        """What any GnuCash book can be read for, by this version."""
        return sorted(MAPPERS)

    @staticmethod
    def preview(
        book_path: Path, workdir: Path, *, sleep: Callable[[float], None] = time.sleep
    ) -> BookPreview:
        """What the book holds, read from a snapshot taken in ``workdir``."""
        book_file = book_path.expanduser().resolve()
        make_private_dir(workdir)
        with open_book(book_file, workdir, sleep=sleep) as reading:
            book = reading.book
            latest = book.transactions.latest_posted()
        name = book.company.name.strip() if book.company else ""
        return BookPreview(
            book_path=book_file,
            company_name=name or book_file.stem,
            last_transaction=latest.date() if latest else None,
            accounts=len(book.accounts),
            customers=len(book.customers),
            invoices=sum(
                1
                for document in book.documents
                if document.owner_kind == "customer" and not document.credit_note
            ),
            suppliers=len(book.vendors),
            open_in="GnuCash" if book.open_in_gnucash else None,
        )

    def readable_data_types(self) -> list[str]:
        return self.data_types()

    def fingerprint(self) -> str | None:
        """What the book holds (:func:`content_digest`), and this version (a newer Connector
        may map the same book differently). Opening a book in GnuCash, or saving it without a
        change, leaves it the same; any change to its data does not.

        While the file's size, modification time and inode stay as they were, the digest is not
        computed again (it is kept in the work folder, so across restarts too); otherwise a new
        snapshot is taken, which the next fetch then parses, so the digest always describes the
        data that is read (or older data: never newer).
        """
        seen = _stat(self.book_path)
        if seen is None:
            return None
        known = self._digested or self._remembered_digest()
        if known is not None and _file_key(seen) == known[0]:
            digest = known[1]
        else:
            digest = content_digest(self._reading_of_now(seen).snapshot)
            self._remember_digest(_file_key(seen), digest)
        self._digested = (_file_key(seen), digest)
        found = f"{__version__}:{digest}"
        # Another number of report months maps the same book to other records.
        return found if self.report_months is None else f"{found}:months={self.report_months}"

    def unsupported_reason(self, data_type: str) -> str | None:
        if data_type in MAPPERS:
            return None
        readable = ", ".join(sorted(MAPPERS))
        return f"This connector cannot read {data_type} from GnuCash yet; it reads {readable}."

    def fetch(self, data_type: str) -> Book:
        # A book that vanished gets a new snapshot attempt, which says so in its words.
        return self._reading_of_now(_stat(self.book_path)).book

    def map(self, data_type: str, fetched: object) -> Iterable[Record]:
        assert isinstance(fetched, Book)
        if data_type in REPORT_MAPPERS:
            return REPORT_MAPPERS[data_type](fetched, self.report_months)
        return MAPPERS[data_type](fetched)

    def release(self) -> None:
        """Delete the kept snapshot: the next fetch reads the book afresh."""
        if self._reading is not None:
            self._reading.close()
        self._reading = self._reading_of = None

    def _digest_file(self) -> Path:
        """Where the last digest of this book is kept, so that a restarted agent does not
        copy a large book only to find it unchanged (one file per book: links share the
        folder)."""
        key = hashlib.sha256(str(self.book_path).encode()).hexdigest()[:16]
        return self.workdir / f"digest-{key}.json"

    def _remembered_digest(self) -> tuple[tuple[int, int, int], str] | None:
        try:
            kept = json.loads(self._digest_file().read_text(encoding="utf-8"))
            size, mtime_ns, inode = kept["file"]
            return (int(size), int(mtime_ns), int(inode)), str(kept["digest"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none yet, or unreadable: the book is digested again

    def _remember_digest(self, file_key: tuple[int, int, int], digest: str) -> None:
        make_private_dir(self.workdir)
        text = json.dumps({"file": list(file_key), "digest": digest})
        write_atomically(self._digest_file(), text)

    def _reading_of_now(self, seen: os.stat_result | None) -> BookReading:
        """The kept reading while the file is as it was when it was taken, else a new one."""
        if (
            self._reading is not None
            and seen is not None
            and self._reading_of is not None
            and _file_key(seen) == _file_key(self._reading_of)
        ):
            return self._reading
        self.release()
        make_private_dir(self.workdir)
        # Everything at once: the next data type of the sync most likely needs the rest.
        self._reading = open_book(self.book_path, self.workdir, sleep=self._sleep)
        self._reading_of = seen
        return self._reading


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _file_key(found: os.stat_result) -> tuple[int, int, int]:
    """What changes whenever GnuCash writes the file (it replaces an XML book on save)."""
    return (found.st_size, found.st_mtime_ns, found.st_ino)
