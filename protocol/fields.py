"""What the fields of a request may hold: the bounded types of both APIs' request models.

Every string is bounded and is text the databases can store: valid Unicode (JSON can spell a
lone surrogate, which no UTF-8 encoder takes) without NUL (which PostgreSQL's text refuses). A
request that breaks one of these is refused with 400 by the cloud's model, before anything is
stored. Here, beside the agent API's request models (``agent_requests.py``), so the agent builds
its requests from the types the cloud parses them with; the cloud's public API adds its own
(``cloud/api/request_types.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from protocol.clock import from_iso, to_iso
from protocol.datatypes import ACCOUNTING_DATA_TYPES
from protocol.limits import MAX_ERROR_MESSAGE_LENGTH, MAX_RECORD_ID_LENGTH

MAX_LIST = 100  # items in a list of names (capabilities, event types, tags)


def storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it holds a lone surrogate)") from None
    return value


Storable = AfterValidator(storable)  # text the databases can store

Name = Annotated[str, StringConstraints(max_length=256), Storable]
"""A name, a key, a tag, a code, a version, a hostname."""

Text = Annotated[str, StringConstraints(max_length=MAX_ERROR_MESSAGE_LENGTH), Storable]
"""A sentence or a few: a description, an error message, a reason."""

RecordId = Annotated[str, StringConstraints(max_length=MAX_RECORD_ID_LENGTH), Storable]


def _known_data_type(value: str) -> str:
    if value not in ACCOUNTING_DATA_TYPES:
        raise ValueError("is not a data type (see the keys of dataStatus)")
    return value


DataTypeKey = Annotated[
    str,
    AfterValidator(_known_data_type),
    WithJsonSchema({"type": "string", "enum": list(ACCOUNTING_DATA_TYPES)}),
]
"""One of the data type keys this cloud knows (``protocol/datatypes.py``)."""


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):  # built by the agent; JSON never holds one
        return value
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("must be an ISO 8601 timestamp, e.g. 2026-01-31T09:00:00Z")
    try:
        return from_iso(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 timestamp, e.g. 2026-01-31T09:00:00Z") from None


Timestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp),
    # Written as both sides write it (protocol/clock.py), not in pydantic's own ISO flavour.
    PlainSerializer(to_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "maxLength": 64}),
]
"""An ISO 8601 timestamp as both sides write it (``protocol/clock.py``); naive means UTC."""
