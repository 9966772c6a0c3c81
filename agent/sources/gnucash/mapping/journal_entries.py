"""GnuCash transactions -> the standard ``JournalEntry`` (data type ``journalEntries``).

Every ledger transaction is a journal entry, its splits the lines: GnuCash's value (in the
transaction's currency, debit positive) is exactly the standard ``netAmount``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from agent.sources.base import Record
from agent.sources.gnucash.mapping.amounts import to_amount
from agent.sources.gnucash.reading.records import Book, Transaction
from protocol.clock import to_iso


def map_journal_entries(book: Book) -> Iterator[Record]:
    """One entry per transaction, as the book's ledger streams them."""
    names = {account.guid: account.name for account in book.accounts}
    return (_map_entry(txn, names) for txn in book.transactions)


def _map_entry(txn: Transaction, names: dict[str, str]) -> Record:
    record: Record = {
        "id": txn.guid,
        "description": txn.description or None,
        "postedOn": to_iso(_calendar_day(txn.posted)),
        "createdOn": to_iso(txn.entered),
        "journalLines": [
            {
                "netAmount": to_amount(split.value),
                "currency": txn.currency,
                "accountRef": {"id": split.account_guid, "name": names[split.account_guid]},
                "description": split.memo or None,
            }
            for split in txn.splits
        ],
    }
    if txn.num:
        # The cheque or reference number, which the standard model has no field for.
        record["supplementalData"] = {"content": {"gnucash": {"num": txn.num}}}
    return record


def _calendar_day(posted: datetime) -> datetime:
    """GnuCash posts on a day, stored at 10:59 UTC so it is the same day in nearly every zone."""
    return datetime(posted.year, posted.month, posted.day, tzinfo=UTC)
