"""What the fields of a request may hold, for the request models of both APIs.

Every string is bounded and is text the databases can store: valid Unicode (JSON can spell a
lone surrogate, which no UTF-8 encoder takes) without NUL (which PostgreSQL's text refuses).
Every number fits the database's columns (PostgreSQL's INTEGER is 32 bits). A request that
breaks one of these is refused with 400 by the model, before anything is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema

from protocol.clock import from_iso
from protocol.datatypes import ACCOUNTING_DATA_TYPES
from protocol.limits import MAX_ERROR_MESSAGE_LENGTH, MAX_RECORD_ID_LENGTH

MAX_INT32 = 2**31 - 1
MAX_LIST = 100  # items in a list of names (capabilities, event types, tags)


def storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it holds a lone surrogate)") from None
    return value


_Storable = AfterValidator(storable)

Name = Annotated[str, StringConstraints(max_length=256), _Storable]
"""A name, a key, a tag, a code, a version, a hostname."""

Text = Annotated[str, StringConstraints(max_length=MAX_ERROR_MESSAGE_LENGTH), _Storable]
"""A sentence or a few: a description, an error message, a reason."""

Url = Annotated[
    str,
    StringConstraints(max_length=2048),
    _Storable,
    WithJsonSchema({"type": "string", "format": "uri", "maxLength": 2048}),
]

RecordId = Annotated[str, StringConstraints(max_length=MAX_RECORD_ID_LENGTH), _Storable]

Int32 = Annotated[int, Field(ge=-MAX_INT32, le=MAX_INT32)]


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
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("must be an ISO 8601 timestamp, e.g. 2026-01-31T09:00:00Z")
    try:
        return from_iso(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 timestamp, e.g. 2026-01-31T09:00:00Z") from None


Timestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp),
    WithJsonSchema({"type": "string", "format": "date-time", "maxLength": 64}),
]
"""An ISO 8601 timestamp as both sides write it (``protocol/clock.py``); naive means UTC."""
