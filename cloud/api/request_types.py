"""What the fields of a request may hold, for the request models of the public API.

The bounded types both APIs share (names, texts, record ids, data type keys, timestamps; text
the databases can store) are the agent API's too, so they live in ``protocol/fields.py`` and are
named here again for the public routers; what only the public API takes (URLs, 32-bit numbers)
is here. Every number fits the database's columns (PostgreSQL's INTEGER is 32 bits).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, WithJsonSchema

from protocol.fields import MAX_LIST as MAX_LIST
from protocol.fields import DataTypeKey as DataTypeKey
from protocol.fields import Name as Name
from protocol.fields import RecordId as RecordId
from protocol.fields import Storable
from protocol.fields import Text as Text
from protocol.fields import Timestamp as Timestamp
from protocol.fields import storable as storable

MAX_INT32 = 2**31 - 1

Url = Annotated[
    str,
    StringConstraints(max_length=2048),
    Storable,
    WithJsonSchema({"type": "string", "format": "uri", "maxLength": 2048}),
]

Int32 = Annotated[int, Field(ge=-MAX_INT32, le=MAX_INT32)]
