"""An XML book's transactions, spooled to a scratch SQLite file by the book's one parse.

An XML book can only be read from start to end, and its transactions sit between the accounts
and the customers. Rather than parse the file again for every data type that walks them, the
parse writes each transaction as one row here, and every later pass streams the rows back in
ledger order, sorted by SQLite on disk. The spool lives in Connector's own folder beside the
snapshot, and goes with it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson

from agent.sources.gnucash.reading.records import Split, Transaction
from agent.support.own_files import remove_inside
from agent.support.scratch_db import open_scratch

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_BATCH = 5000

# One split as spooled: guid, account, memo, value num/denom, quantity num/denom.
SpooledSplit = tuple[str, str, str, int, int, int, int]

_COLUMNS = "guid, currency, num, description, posted, entered, closing, splits"
_ORDER = "ORDER BY posted, entered, guid"


class LedgerSpool:
    """Collects transactions while the parse runs; :meth:`finish` makes the ledger."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db = open_scratch(path)
        self._db.execute(
            "CREATE TABLE txn (guid TEXT, currency TEXT, num TEXT, description TEXT, "
            "posted INTEGER, entered INTEGER, closing INTEGER, splits TEXT)"
        )
        self._pending: list[tuple[object, ...]] = []

    def add(
        self,
        *,
        guid: str,
        currency: str,
        num: str,
        description: str,
        posted: datetime,
        entered: datetime,
        closing: bool,
        splits: list[SpooledSplit],
    ) -> None:
        splits.sort(key=spooled_split_order)
        self._pending.append(
            (
                guid,
                currency,
                num,
                description,
                (posted - _EPOCH) // _MICROSECOND,
                (entered - _EPOCH) // _MICROSECOND,
                int(closing),
                orjson.dumps(splits).decode(),
            )
        )
        if len(self._pending) >= _BATCH:
            self._flush()

    def finish(self) -> SpooledLedger:
        self._flush()
        self._db.close()
        return SpooledLedger(self._path)

    def discard(self) -> None:
        self._db.close()
        remove_inside(self._path.parent, self._path)

    def _flush(self) -> None:
        with self._db:
            self._db.executemany(
                f"INSERT INTO txn ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                self._pending,
            )
        self._pending = []


class SpooledLedger:
    """The :class:`~agent.sources.gnucash.reading.records.Ledger` a :class:`LedgerSpool` wrote."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[Transaction]:
        return self._stream(f"SELECT {_COLUMNS} FROM txn {_ORDER}", ())  # noqa: S608

    def select(self, guids: Collection[str]) -> Iterator[Transaction]:
        query = (
            f"SELECT {_COLUMNS} FROM txn "  # noqa: S608 - constants only
            f"WHERE guid IN (SELECT value FROM json_each(?)) {_ORDER}"
        )
        return self._stream(query, (json.dumps(sorted(guids)),))

    def latest_posted(self) -> datetime | None:
        with closing(self._connect()) as db:
            (posted,) = db.execute("SELECT MAX(posted) FROM txn").fetchone()
        return None if posted is None else _EPOCH + posted * _MICROSECOND

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)

    def _stream(self, query: str, parameters: tuple[str, ...]) -> Iterator[Transaction]:
        with closing(self._connect()) as db:
            for (
                guid,
                currency,
                num,
                description,
                posted,
                entered,
                closing_entry,
                splits,
            ) in db.execute(query, parameters):
                yield Transaction(
                    guid=guid,
                    currency=currency,
                    num=num,
                    description=description,
                    posted=_EPOCH + posted * _MICROSECOND,
                    entered=_EPOCH + entered * _MICROSECOND,
                    splits=tuple(spooled_split(*split) for split in json.loads(splits)),
                    closing=bool(closing_entry),
                )


def spooled_split_order(split: SpooledSplit | list[Any]) -> tuple[bool, str]:
    """Debits before credits, as a journal lists them, then by GUID (neither format keeps the
    user's order), on the raw fields: the order every ledger hands splits out in."""
    return (split[3] < 0, split[0])


def spooled_split(
    guid: str,
    account: str | None,
    memo: str | None,
    value_num: int,
    value_denom: int,
    qty_num: int,
    qty_denom: int,
) -> Split:
    """A split from its fields as a JSON array, as spooled here or as SQLite's JSON functions
    write them (where NULL is null); the denominators were checked before."""
    return Split(
        guid=guid,
        account_guid=account or "",
        memo=memo or "",
        value=Fraction(value_num, value_denom),
        quantity=Fraction(qty_num, qty_denom),
    )
