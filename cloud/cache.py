"""The data cache: records staged while a dataset uploads, published when it completes.

Readers only ever see published records, and a dataset publishes in the same transaction that
marks it Complete, so a reader sees either all of a sync or none of it. A record that has
disappeared from the source stays, flagged ``metadata.isDeleted``; ``modifiedDate`` moves only
when a record's content changes in the cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)

from agent.clock import to_iso
from agent.record_hash import canonical_json
from agent.states import DatasetStatus
from cloud.db import datasets, records, staged_chunks
from cloud.errors import BadRequest, Conflict


def stage(conn: Connection, dataset_id: str, chunk: int, body: bytes, checksum: str | None) -> None:
    """Keep one chunk of a dataset's records; uploading the same chunk again replaces it.

    ``body`` is the request body as sent, ``{"records": [...]}``; ``checksum`` its SHA-256 in
    hex, which must match, so a page damaged on the way is refused rather than stored.
    """
    if chunk < 0:
        raise BadRequest("Chunk numbers start at 0.")
    if checksum is None:
        raise BadRequest("A chunk must carry the SHA-256 of its body (X-Content-SHA256).")
    if hashlib.sha256(body).hexdigest() != checksum.lower():
        raise BadRequest(f"Chunk {chunk} does not match its checksum: send it again.")
    try:
        payload = json.loads(body)["records"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequest(f'Chunk {chunk} is not {{"records": [...]}} JSON.') from exc
    if not isinstance(payload, list):
        raise BadRequest(f"Chunk {chunk}: records must be a list.")
    for record in payload:
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise BadRequest(f"Every record needs a string 'id' (chunk {chunk}).")
    where = (staged_chunks.c.dataset_id == dataset_id) & (staged_chunks.c.chunk == chunk)
    conn.execute(delete(staged_chunks).where(where))
    conn.execute(
        insert(staged_chunks).values(
            dataset_id=dataset_id, chunk=chunk, payload=json.dumps(payload)
        )
    )


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
    """
    staged = {
        row.chunk: row.payload
        for row in conn.execute(
            select(staged_chunks.c.chunk, staged_chunks.c.payload).where(
                staged_chunks.c.dataset_id == dataset["id"]
            )
        )
    }
    missing = sorted(set(range(chunks)) - staged.keys())
    if missing:
        raise Conflict(f"Cannot complete: record chunks {missing} of {chunks} never arrived.")
    incoming: dict[str, dict[str, Any]] = {}
    received = 0
    for chunk in range(chunks):
        for record in json.loads(staged[chunk]):
            incoming[record["id"]] = record
            received += 1
    if record_count is not None and record_count != received:
        raise Conflict(
            f"Cannot complete: {record_count} records were announced, {received} arrived."
        )

    # A company may sync several books: what one connection no longer has is deleted from
    # that connection's records only.
    key = _connection_key(dataset)
    existing = {row.record_id: row for row in conn.execute(select(records).where(key)).mappings()}
    stamp = to_iso(now)
    next_position = max((row["position"] for row in existing.values()), default=-1) + 1
    for order, (record_id, record) in enumerate(incoming.items()):
        payload = canonical_json(record)
        old = existing.get(record_id)
        if old is None:
            conn.execute(
                insert(records).values(
                    company_id=dataset["company_id"],
                    data_type=dataset["data_type"],
                    record_id=record_id,
                    connection_id=dataset["connection_id"],
                    payload=payload,
                    modified_date=stamp,
                    is_deleted=False,
                    position=next_position + order if delta else order,
                )
            )
            continue
        changed = old["payload"] != payload or old["is_deleted"]
        conn.execute(
            update(records)
            .where(key & (records.c.record_id == record_id))
            .values(
                payload=payload,
                position=old["position"] if delta else order,
                is_deleted=False,
                modified_date=stamp if changed else old["modified_date"],
            )
        )
    if delta:
        gone = [rid for rid in deleted_ids if rid in existing and not existing[rid]["is_deleted"]]
    else:
        gone = [
            rid for rid, row in existing.items() if rid not in incoming and not row["is_deleted"]
        ]
    if gone:
        conn.execute(
            update(records)
            .where(key & records.c.record_id.in_(gone))
            .values(is_deleted=True, modified_date=stamp)
        )
    conn.execute(delete(staged_chunks).where(staged_chunks.c.dataset_id == dataset["id"]))


def baseline(conn: Connection, dataset: RowMapping) -> dict[str, str]:
    """What the cache holds for this dataset's connection and data type: id -> record hash,
    for the records not flagged deleted. An agent diffs against it to upload only changes."""
    rows = conn.execute(
        select(records.c.record_id, records.c.payload).where(
            _connection_key(dataset), records.c.is_deleted.is_(False)
        )
    )
    return {rid: hashlib.sha256(payload.encode()).hexdigest() for rid, payload in rows}


def _connection_key(dataset: RowMapping) -> ColumnElement[bool]:
    return and_(
        records.c.company_id == dataset["company_id"],
        records.c.data_type == dataset["data_type"],
        records.c.connection_id == dataset["connection_id"],
    )


def has_synced(conn: Connection, company_id: str, data_type: str) -> bool:
    """True once a dataset of this type has completed for the company."""
    query = select(
        exists().where(
            datasets.c.company_id == company_id,
            datasets.c.data_type == data_type,
            datasets.c.status == DatasetStatus.COMPLETE,
        )
    )
    return bool(conn.execute(query).scalar())


def read(
    conn: Connection,
    company_id: str,
    data_type: str,
    *,
    offset: int,
    limit: int | None,
    connection_id: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of published records, each with ``modifiedDate`` and ``metadata.isDeleted``."""
    if not has_synced(conn, company_id, data_type):
        raise Conflict(
            f"The {data_type} of company {company_id} have not been synced yet. "
            f"Queue a {data_type} sync and read again once it is Complete."
        )
    key = (records.c.company_id == company_id) & (records.c.data_type == data_type)
    if connection_id is not None:
        key &= records.c.connection_id == connection_id
    total = int(conn.execute(select(func.count()).where(key)).scalar_one())
    query = (
        (select(records).where(key).order_by(records.c.position, records.c.record_id))
        .offset(offset)
        .limit(limit)
    )
    page = []
    for row in conn.execute(query).mappings():
        record = json.loads(row["payload"])
        record["modifiedDate"] = row["modified_date"]
        record["metadata"] = {**record.get("metadata", {}), "isDeleted": bool(row["is_deleted"])}
        page.append(record)
    return page, total
