"""The transactions of an SQLite book's snapshot, streamed from the copy on each pass.

Each pass opens the private copy read-only and lets SQLite sort the rows on its side, so Python
holds one transaction at a time however large the book.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

from agent.sources.gnucash.book_builder import split_order
from agent.sources.gnucash.records import Split, Transaction
from agent.sources.gnucash.values import garbled, parse_timestamp, rational

# Transactions of scheduled-transaction templates are stored beside real ones; they sit in the
# accounts below the template root, and are no part of the user's ledger.
TEMPLATE_TRANSACTIONS = """
WITH RECURSIVE template(guid) AS (
    SELECT root_template_guid FROM books WHERE root_template_guid IS NOT NULL
    UNION
    SELECT a.guid FROM accounts AS a JOIN template AS t ON a.parent_guid = t.guid
), template_transactions(guid) AS (
    SELECT s.tx_guid FROM splits AS s JOIN template AS t ON s.account_guid = t.guid
)
"""

# One row per split, a transaction's splits together, so that transactions can be built one at a
# time while SQLite streams the rows (it sorts on its side, not in Python's memory). The second
# form keeps only the GUIDs of a JSON array.
_SPLITS = f"""{TEMPLATE_TRANSACTIONS}
SELECT t.guid, t.currency_guid, t.num, t.description, t.post_date, t.enter_date,
       s.guid, s.account_guid, s.memo, s.value_num, s.value_denom, s.quantity_num, s.quantity_denom
FROM transactions AS t LEFT JOIN splits AS s ON s.tx_guid = t.guid
WHERE t.guid NOT IN template_transactions {{only}}
ORDER BY t.post_date, t.enter_date, t.guid
"""  # noqa: S608 - constants only
_ALL_SPLITS = _SPLITS.format(only="")
_SELECTED_SPLITS = _SPLITS.format(only="AND t.guid IN (SELECT value FROM json_each(?))")

_LATEST_POSTED = f"""{TEMPLATE_TRANSACTIONS}
SELECT MAX(post_date) FROM transactions WHERE guid NOT IN template_transactions
"""  # noqa: S608 - constants only

# Closing entries (Tools > Close Book) carry the slot ``book_closing`` = 1.
_CLOSING_TRANSACTIONS = (
    "SELECT obj_guid FROM slots WHERE name = 'book_closing' AND slot_type = 1 AND int64_val <> 0"
)


class SqliteLedger:
    """The :class:`~agent.sources.gnucash.ledger.Ledger` of an SQLite snapshot ``copy``."""

    def __init__(self, copy: Path, source: Path) -> None:
        self._uri = f"{copy.resolve().as_uri()}?mode=ro"
        self._source = source  # the user's book, which messages name

    def __iter__(self) -> Iterator[Transaction]:
        return self._stream(_ALL_SPLITS, ())

    def select(self, guids: Collection[str]) -> Iterator[Transaction]:
        return self._stream(_SELECTED_SPLITS, (json.dumps(sorted(guids)),))

    def latest_posted(self) -> datetime | None:
        with closing(sqlite3.connect(self._uri, uri=True)) as db:
            (posted,) = db.execute(_LATEST_POSTED).fetchone()
        if posted is None:
            return None
        return parse_timestamp(
            posted, book=self._source, record="the newest transaction", field="posting date"
        )

    def _stream(self, query: str, parameters: tuple[str, ...]) -> Iterator[Transaction]:
        with closing(sqlite3.connect(self._uri, uri=True)) as db:
            currencies = {
                guid: mnemonic
                for guid, mnemonic in db.execute("SELECT guid, mnemonic FROM commodities")
            }
            closing_guids = {guid for (guid,) in db.execute(_CLOSING_TRANSACTIONS)}
            head: tuple[object, ...] | None = None
            splits: list[Split] = []
            for row in db.execute(query, parameters):
                if head is not None and row[0] != head[0]:
                    yield self._transaction(head, splits, currencies, closing_guids)
                    splits = []
                head = row[:6]
                split_guid, account, memo, value_num, value_denom, qty_num, qty_denom = row[6:]
                if split_guid is None:
                    continue  # a transaction without splits (LEFT JOIN)
                label = f'a split of the transaction "{text(row[3])}" ({row[0]})'
                splits.append(
                    Split(
                        guid=split_guid,
                        account_guid=text(account),
                        memo=text(memo),
                        value=rational(value_num, value_denom, book=self._source, record=label),
                        quantity=rational(qty_num, qty_denom, book=self._source, record=label),
                    )
                )
            if head is not None:
                yield self._transaction(head, splits, currencies, closing_guids)

    def _transaction(
        self,
        head: tuple[object, ...],
        splits: list[Split],
        currencies: dict[str, str],
        closing_guids: set[str],
    ) -> Transaction:
        guid, currency, num, description, posted, entered = head
        label = f'the transaction "{text(description)}" ({guid})'
        if not isinstance(currency, str) or currency not in currencies:
            raise garbled(self._source, label, f"its currency {currency} does not exist")
        return Transaction(
            guid=text(guid),
            currency=currencies[currency],
            num=text(num),
            description=text(description),
            posted=parse_timestamp(posted, book=self._source, record=label, field="posting date"),
            entered=parse_timestamp(entered, book=self._source, record=label, field="entry date"),
            splits=tuple(sorted(splits, key=split_order)),
            closing=guid in closing_guids,
        )


def text(value: object) -> str:
    """SQLite's NULL as GnuCash means it: an empty field."""
    return "" if value is None else str(value)
