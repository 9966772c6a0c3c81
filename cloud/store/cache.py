"""The data cache as read: published records with ``isDeleted`` and ``modifiedDate``, and
the baseline of hashes an agent diffs against.

Uploads get in through ``cloud/store/ingest.py`` (staged, then published at Complete).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, RowMapping, and_, exists, func, select

from cloud.errors import Conflict
from cloud.store.db import datasets, records
from protocol.states import DatasetStatus

BASELINE_PAGE = 10_000  # hashes a baseline page holds by default, and at most


def baseline(
    conn: Connection, dataset: RowMapping, *, after: str | None = None, limit: int = BASELINE_PAGE
) -> tuple[dict[str, str], str | None]:
    """One page of what the cache holds for this dataset's connection and data type: id ->
    record hash, for the records not flagged deleted, in record id order from just after
    ``after``. An agent diffs against it to upload only changes. Also returns the id to ask
    the next page after, or None when this page is the last."""
    query = select(records.c.record_id, records.c.hash).where(
        connection_key(dataset), records.c.is_deleted.is_(False)
    )
    if after is not None:
        query = query.where(records.c.record_id > after)
    # One more than asked for: whether another page follows, without a count.
    rows = conn.execute(query.order_by(records.c.record_id).limit(limit + 1)).all()
    page = {record_id: digest for record_id, digest in rows[:limit]}
    return page, rows[limit - 1][0] if len(rows) > limit else None


def connection_key(dataset: RowMapping) -> ColumnElement[bool]:
    """The records of the dataset's connection and data type."""
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
        record = orjson.loads(row["payload"])
        record["modifiedDate"] = row["modified_date"]
        record["metadata"] = {**record.get("metadata", {}), "isDeleted": bool(row["is_deleted"])}
        page.append(record)
    return page, total
