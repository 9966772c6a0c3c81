"""One dataset's mapped records on disk, so that a book of any size maps in flat memory.

The Mapping phase writes each record here as the source produces it, in its canonical JSON with
its hash (:mod:`protocol.record_hash`); the cloud's baseline (what it already holds) is loaded
beside them; the pages to upload, the records that changed, and the ids the book no longer has
are then read back with SQL, never all held in Python at once. A scratch file: it lives in the
dataset's staging folder until the pages are written, and is rebuilt from the book if lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from agent.support.own_files import remove_inside
from agent.support.scratch_db import open_scratch
from protocol.limits import MAX_PAGE_BYTES
from protocol.record_hash import canonical_json

_BATCH = 2000


class RecordSpool:
    def __init__(self, path: Path) -> None:
        remove_inside(path.parent, path)  # what a run interrupted earlier left is rebuilt
        self.path = path
        self._db = open_scratch(path)
        self._db.execute(
            "CREATE TABLE mapped (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, hash TEXT NOT NULL, "
            "body TEXT NOT NULL)"
        )
        self._db.execute("CREATE TABLE held (id TEXT PRIMARY KEY, hash TEXT NOT NULL)")
        self.count = 0

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        """Append records in their canonical form; call as often as needed."""
        rows = (_row(record) for record in records)
        while batch := list(islice(rows, _BATCH)):
            with self._db:
                self._db.executemany("INSERT INTO mapped (id, hash, body) VALUES (?, ?, ?)", batch)
            self.count += len(batch)

    def duplicate_id(self) -> str | None:
        """The first id that more than one record carries, if any."""
        self._index_ids()
        row = self._db.execute(
            "SELECT id FROM mapped GROUP BY id HAVING COUNT(*) > 1 ORDER BY MIN(seq) LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    def hold(self, baseline: Iterable[tuple[str, str]]) -> None:
        """Load what the cloud holds (id, record hash), so only the differences are sent."""
        pairs = iter(baseline)
        while batch := list(islice(pairs, _BATCH)):
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO held (id, hash) VALUES (?, ?)", batch)
        self._index_ids()

    def pages(
        self, size: int, *, changed_only: bool, max_bytes: int = MAX_PAGE_BYTES
    ) -> Iterator[list[str]]:
        """The records to send, in mapping order, as lists of JSON texts of up to ``size``,
        and of up to ``max_bytes`` (UTF-8) unless a record alone is larger."""
        query = "SELECT body FROM mapped ORDER BY seq"
        if changed_only:
            query = (
                "SELECT m.body FROM mapped AS m LEFT JOIN held AS h ON h.id = m.id "
                "WHERE h.hash IS NULL OR h.hash <> m.hash ORDER BY m.seq"
            )
        page: list[str] = []
        used = 0
        for (body,) in self._db.execute(query):
            length = len(body.encode()) + 1  # and its comma
            if page and (len(page) == size or used + length > max_bytes):
                yield page
                page, used = [], 0
            page.append(body)
            used += length
        if page:
            yield page

    def deleted_ids(self) -> list[str]:
        """The ids the cloud holds that no mapped record carries any more."""
        rows = self._db.execute(
            "SELECT id FROM held WHERE id NOT IN (SELECT id FROM mapped) ORDER BY id"
        )
        return [record_id for (record_id,) in rows]

    def _index_ids(self) -> None:
        """Once every record is in: built in one go, far cheaper than kept up while adding."""
        with self._db:
            self._db.execute("CREATE INDEX IF NOT EXISTS mapped_id ON mapped (id)")

    def close(self) -> None:
        self._db.close()
        remove_inside(self.path.parent, self.path)


def _row(record: dict[str, Any]) -> tuple[object, str, str]:
    body = canonical_json(record)
    return record.get("id"), hashlib.sha256(body.encode()).hexdigest(), body
