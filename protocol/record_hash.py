"""One way to say whether a record changed, shared by the agent and the cloud.

A record's canonical form is its JSON with sorted keys and no spaces, without the fields the
cloud's cache owns (``modifiedDate``, ``metadata.isDeleted``); its hash is the SHA-256 of that.
The agent compares its freshly mapped records with the hashes of what the cloud holds, and
uploads only what differs.

The JSON is orjson's: UTF-8 as it is (no ``\\uXXXX`` escapes), floats in their shortest form
(``1e-7``, not ``1e-07``). Both sides call this one function, so they always agree; a cloud that
stored records canonicalised by the earlier ``json.dumps`` form re-canonicalises them when it
upgrades its database (``cloud/store/migrations.py``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def canonical_json(record: dict[str, Any]) -> str:
    return canonical_bytes(record).decode()


def canonical_bytes(record: dict[str, Any]) -> bytes:
    """The canonical form, UTF-8 encoded: what is hashed."""
    body = record
    if "modifiedDate" in record or "metadata" in record:
        body = {k: v for k, v in record.items() if k not in ("modifiedDate", "metadata")}
        kept = {k: v for k, v in (record.get("metadata") or {}).items() if k != "isDeleted"}
        if kept:
            body["metadata"] = kept
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(record)).hexdigest()
