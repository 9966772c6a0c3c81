"""One way to say whether a record changed, shared by the agent and the cloud.

A record's canonical form is its JSON with sorted keys and no spaces, without the fields the
cloud's cache owns (``modifiedDate``, ``metadata.isDeleted``); its hash is the SHA-256 of that.
The agent compares its freshly mapped records with the hashes of what the cloud holds, and
uploads only what differs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "modifiedDate"}
    kept = {k: v for k, v in (body.pop("metadata", None) or {}).items() if k != "isDeleted"}
    if kept:
        body["metadata"] = kept
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(record).encode()).hexdigest()
