"""Uploads into the data cache: pages staged while a dataset uploads, published at Complete.

Readers only ever see published records, and a dataset publishes in the same transaction that
marks it Complete, so a reader sees either all of a sync or none of it. A record that has
disappeared from the source stays, flagged ``metadata.isDeleted``; ``modifiedDate`` moves only
when a record's content changes in the cache.

The work is bounded: a page is decoded once, when it arrives, and staged already in canonical
form with each record's hash; publishing reads the staged pages one at a time and writes in
batches (one ``executemany`` per batch and kind of change, nothing written for a record that
did not change). What it keeps in memory for a whole upload is one entry per record id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from cloud.errors import BadRequest, Conflict, TooLarge, shown
from cloud.store.cache import connection_key
from cloud.store.db import records, staged_chunks
from protocol.agent_requests import PAGE_RECORDS
from protocol.clock import to_iso
from protocol.limits import MAX_RECORD_ID_LENGTH
from protocol.record_hash import canonical_bytes

BATCH = 2_000  # records written a statement; also the ids looked up at once
MISSING_SHOWN = 5  # pages named when some never arrived: the answer stays small


@dataclass(frozen=True)
class UploadLimits:
    """How large one dataset's upload may be (``CloudSettings``: ``max_pages``,
    ``max_page_records``); the bytes of one page are bounded before it is read."""

    max_pages: int = 100_000
    max_page_records: int = 5_000

    def check_page_number(self, chunk: int) -> None:
        if chunk < 0:
            raise BadRequest("Chunk numbers start at 0.")
        if chunk >= self.max_pages:
            raise TooLarge(self._too_many_pages(f"page {chunk:,} is past that"))

    def check_page_count(self, chunks: int) -> None:
        if chunks > self.max_pages:
            raise TooLarge(self._too_many_pages(f"Complete announced {chunks:,}"))

    def _too_many_pages(self, what: str) -> str:
        return (
            f"A dataset's upload holds at most {self.max_pages:,} pages of records, and "
            f"{what}. Send fuller pages; an operator can raise the limit "
            "(connector-cloud serve --max-pages)."
        )


Staged = tuple[str, str, str]  # record id, hash, canonical JSON


def stage(
    conn: Connection,
    dataset_id: str,
    chunk: int,
    body: bytes,
    checksum: str | None,
    limits: UploadLimits,
) -> None:
    """Keep one chunk of a dataset's records; uploading the same chunk again replaces it.

    ``body`` is the request body as sent, ``{"records": [...]}``; ``checksum`` its SHA-256 in
    hex, which must match, so a page damaged on the way is refused rather than stored.
    """
    limits.check_page_number(chunk)
    if checksum is None:
        raise BadRequest("A chunk must carry the SHA-256 of its body (X-Content-SHA256).")
    if hashlib.sha256(body).hexdigest() != checksum.lower():
        raise BadRequest(f"Chunk {chunk} does not match its checksum: send it again.")
    try:
        payload = orjson.loads(body)[PAGE_RECORDS]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise BadRequest(f'Chunk {chunk} is not {{"records": [...]}} JSON.') from exc
    if not isinstance(payload, list):
        raise BadRequest(f"Chunk {chunk}: records must be a list.")
    if len(payload) > limits.max_page_records:
        raise TooLarge(
            f"Chunk {chunk} holds {len(payload):,} records; a page holds at most "
            f"{limits.max_page_records:,}. Send smaller pages; an operator can raise the limit "
            "(connector-cloud serve --max-page-records)."
        )
    staged: list[Staged] = []
    for record in payload:
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise BadRequest(f"Every record needs a string 'id' (chunk {chunk}).")
        if len(record["id"]) > MAX_RECORD_ID_LENGTH:
            raise BadRequest(
                f"Record id {shown(record['id'])} (chunk {chunk}) is longer than an id may be "
                f"({MAX_RECORD_ID_LENGTH} characters)."
            )
        if "\x00" in record["id"]:  # PostgreSQL's text cannot hold it
            raise BadRequest(f"Record id {shown(record['id'])} (chunk {chunk}) holds NUL.")
        if not isinstance(record.get("metadata", {}), dict):  # readers add isDeleted to it
            raise BadRequest(
                f"Record {shown(record['id'])} (chunk {chunk}): metadata must be an object."
            )
        try:
            canonical = canonical_bytes(record)
        except orjson.JSONEncodeError as exc:  # e.g. nested deeper than orjson writes (254)
            raise BadRequest(f"Record {shown(record['id'])} (chunk {chunk}): {exc}.") from exc
        staged.append((record["id"], hashlib.sha256(canonical).hexdigest(), canonical.decode()))
    where = (staged_chunks.c.dataset_id == dataset_id) & (staged_chunks.c.chunk == chunk)
    conn.execute(delete(staged_chunks).where(where))
    conn.execute(
        insert(staged_chunks).values(
            dataset_id=dataset_id, chunk=chunk, payload=orjson.dumps(staged).decode()
        )
    )


def _staged_records(payload: str) -> Iterator[Staged]:
    for item in orjson.loads(payload):
        if isinstance(item, dict):
            # Staged by an earlier version of the cloud, as the records themselves.
            canonical = canonical_bytes(item)
            yield item["id"], hashlib.sha256(canonical).hexdigest(), canonical.decode()
        else:
            yield item[0], item[1], item[2]


def publish(
    conn: Connection,
    dataset: RowMapping,
    *,
    chunks: int,
    record_count: int | None,
    now: datetime,
    delta: bool = False,
    deleted_ids: Sequence[str] = (),
) -> None:
    """Put the dataset's staged records into the cache.

    A full upload replaces the connection's records of that data type: what is not in it is
    flagged deleted. A delta upload (the agent sent only what changed since the cloud's
    baseline) changes only the records it carries, and flags ``deleted_ids``.

    Raises :class:`Conflict` (and the caller's transaction undoes whatever was written) when a
    page never arrived, when the number of records is not the one announced, or when a record
    id comes twice.
    """
    mine = staged_chunks.c.dataset_id == dataset["id"]
    # What arrived is bounded (page numbers are), whatever number Complete announces.
    present = list(
        conn.execute(
            select(staged_chunks.c.chunk)
            .where(mine, staged_chunks.c.chunk < chunks)
            .order_by(staged_chunks.c.chunk)
        ).scalars()
    )
    if len(present) < chunks:
        missing = _first_missing(present, chunks)
        more = ", ..." if chunks - len(present) > len(missing) else ""
        raise Conflict(
            f"Cannot complete: {chunks - len(present):,} of the {chunks:,} record pages never "
            f"arrived (pages {', '.join(str(n) for n in missing)}{more})."
        )

    writer = _Writer(conn, dataset, to_iso(now), delta)
    orders: dict[str, int] = {}  # every id uploaded -> its place in the upload
    batch: list[Staged] = []
    for chunk in range(chunks):
        query = select(staged_chunks.c.payload).where(mine, staged_chunks.c.chunk == chunk)
        for item in _staged_records(conn.execute(query).scalar_one()):
            if item[0] in orders:
                raise Conflict(
                    f"Cannot complete: record {shown(item[0])} was uploaded twice (chunk {chunk}). "
                    "Record ids must be unique within a dataset."
                )
            orders[item[0]] = len(orders)
            batch.append(item)
            if len(batch) == BATCH:
                writer.write(batch, orders)
                batch = []
    writer.write(batch, orders)
    if record_count is not None and record_count != len(orders):
        raise Conflict(
            f"Cannot complete: {record_count} records were announced, {len(orders)} arrived."
        )
    if delta:
        writer.flag_deleted([rid for rid in deleted_ids if rid not in orders])
    else:
        live = select(records.c.record_id).where(writer.key, records.c.is_deleted.is_(False))
        # Every record uploaded is live now: more live records than that means some are gone.
        held = conn.execute(select(func.count()).select_from(live.subquery())).scalar_one()
        if held > len(orders):
            writer.flag_deleted([rid for rid in conn.execute(live).scalars() if rid not in orders])
    conn.execute(delete(staged_chunks).where(mine))


def _first_missing(present: list[int], chunks: int) -> list[int]:
    """The lowest page numbers below ``chunks`` that are not in ``present`` (sorted), at most
    ``MISSING_SHOWN`` of them."""
    missing: list[int] = []
    expected = 0
    for number in [*present, chunks]:
        while expected < number and len(missing) < MISSING_SHOWN:
            missing.append(expected)
            expected += 1
        expected = number + 1
    return missing


class _Held(NamedTuple):
    hash: str
    is_deleted: bool
    position: int


class _Writer:
    """Writes one publication's records in batches: inserts, content changes, moves."""

    def __init__(self, conn: Connection, dataset: RowMapping, stamp: str, delta: bool) -> None:
        self.conn = conn
        self.dataset = dataset
        self.stamp = stamp
        self.delta = delta
        # A company may sync several books: a publication touches its connection's records only.
        self.key: ColumnElement[bool] = connection_key(dataset)
        highest = conn.execute(select(func.max(records.c.position)).where(self.key)).scalar()
        # Nothing held yet (a first sync): every record is new, none need looking up.
        self.first = highest is None
        # New records of a delta go after everything held, in the order they came.
        self.next_position = 0 if highest is None or not delta else int(highest) + 1
        one = records.c.record_id == bindparam("k_id")
        self.rewrite = (
            update(records)
            .where(self.key & one)
            .values(
                payload=bindparam("v_payload"),
                hash=bindparam("v_hash"),
                position=bindparam("v_position"),
                is_deleted=False,
                modified_date=stamp,
            )
        )
        self.move = update(records).where(self.key & one).values(position=bindparam("v_position"))

    def write(self, batch: list[Staged], orders: dict[str, int]) -> None:
        if not batch:
            return
        held = self._held([item[0] for item in batch])
        new: list[dict[str, Any]] = []
        rewritten: list[dict[str, Any]] = []
        moved: list[dict[str, Any]] = []
        for record_id, digest, canonical in batch:
            order = orders[record_id]
            old = held.get(record_id)
            if old is None:
                new.append(
                    {
                        "company_id": self.dataset["company_id"],
                        "data_type": self.dataset["data_type"],
                        "record_id": record_id,
                        "connection_id": self.dataset["connection_id"],
                        "payload": canonical,
                        "hash": digest,
                        "modified_date": self.stamp,
                        "is_deleted": False,
                        "position": self.next_position + order if self.delta else order,
                    }
                )
                continue
            position = old.position if self.delta else order
            if old.hash != digest or old.is_deleted:
                rewritten.append(
                    {
                        "k_id": record_id,
                        "v_payload": canonical,
                        "v_hash": digest,
                        "v_position": position,
                    }
                )
            elif position != old.position:
                moved.append({"k_id": record_id, "v_position": position})
        if new:
            self.conn.execute(insert(records), new)
        if rewritten:
            self.conn.execute(self.rewrite, rewritten)
        if moved:
            self.conn.execute(self.move, moved)

    def _held(self, record_ids: list[str]) -> dict[str, _Held]:
        """What the cache holds of these records (none to look up on a first sync)."""
        if self.first:
            return {}
        query = select(
            records.c.record_id, records.c.hash, records.c.is_deleted, records.c.position
        ).where(self.key, records.c.record_id.in_(record_ids))
        return {
            row[0]: _Held(row[1], bool(row[2]), int(row[3])) for row in self.conn.execute(query)
        }

    def flag_deleted(self, record_ids: list[str]) -> None:
        """Flag these records deleted, those not flagged already (their modifiedDate moves)."""
        for start in range(0, len(record_ids), BATCH):
            self.conn.execute(
                update(records)
                .where(
                    self.key,
                    records.c.is_deleted.is_(False),
                    records.c.record_id.in_(record_ids[start : start + BATCH]),
                )
                .values(is_deleted=True, modified_date=self.stamp)
            )
