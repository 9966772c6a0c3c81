"""GnuCash as a :class:`~agent.sources.base.Source`: which data types it serves, and how."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from agent.mapping.accounts import map_accounts
from agent.mapping.bank_accounts import map_bank_accounts
from agent.mapping.company import map_company
from agent.mapping.customers import map_customers
from agent.mapping.journal_entries import map_journal_entries
from agent.mapping.suppliers import map_suppliers
from agent.mapping.tax_rates import map_tax_rates
from agent.sources.base import Record
from agent.sources.gnucash.reader import read_book
from agent.sources.gnucash.records import Book

MAPPERS: dict[str, Callable[[Book], list[Record]]] = {
    "bankAccounts": map_bank_accounts,
    "chartOfAccounts": map_accounts,
    "company": map_company,
    "customers": map_customers,
    "journalEntries": map_journal_entries,
    "suppliers": map_suppliers,
    "taxRates": map_tax_rates,
}

# Only these need the book's transactions kept in memory; the rest read balances alone.
NEEDS_TRANSACTIONS = frozenset({"journalEntries"})


class GnuCashSource:
    """Reads one GnuCash book, always through a snapshot copy in ``workdir``."""

    def __init__(
        self, book_path: Path, workdir: Path, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.book_path = book_path
        self.workdir = workdir
        self._sleep = sleep  # between snapshot attempts; tests pass one that does not wait

    @staticmethod
    def data_types() -> list[str]:
        """What any GnuCash book can be read for, by this version."""
        return sorted(MAPPERS)

    def readable_data_types(self) -> list[str]:
        return self.data_types()

    def unsupported_reason(self, data_type: str) -> str | None:
        if data_type in MAPPERS:
            return None
        readable = ", ".join(sorted(MAPPERS))
        return f"This connector cannot read {data_type} from GnuCash yet; it reads {readable}."

    def fetch(self, data_type: str) -> Book:
        self.workdir.mkdir(parents=True, exist_ok=True)
        return read_book(
            self.book_path,
            self.workdir,
            sleep=self._sleep,
            transactions=data_type in NEEDS_TRANSACTIONS,
        )

    def map(self, data_type: str, fetched: object) -> list[Record]:
        assert isinstance(fetched, Book)
        return MAPPERS[data_type](fetched)
