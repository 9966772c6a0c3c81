"""The Validating phase: checks a data type's records before any of them leaves the machine."""

from __future__ import annotations

from agent.errors import RecordsInvalid
from agent.model import ENUMS, REQUIRED_FIELDS
from agent.sources.base import Record


def validate(data_type: str, records: list[Record]) -> None:
    """Raise :class:`RecordsInvalid` naming the first record and field that break a rule."""
    seen: set[str] = set()
    required = REQUIRED_FIELDS.get(data_type, ("id",))
    enums = ENUMS.get(data_type, {})
    for position, record in enumerate(records):
        record_id = record.get("id")
        where = f"{data_type} record {record_id!r}" if record_id else f"{data_type} #{position + 1}"
        for name in required:
            if record.get(name) in (None, ""):
                raise RecordsInvalid(f"{where} has no {name}.")
        if not isinstance(record_id, str):
            raise RecordsInvalid(f"{where}: its id must be text, not {type(record_id).__name__}.")
        if record_id in seen:
            raise RecordsInvalid(f"{where} appears twice: ids must be unique.")
        seen.add(record_id)
        for name, allowed in enums.items():
            value = record.get(name)
            if value is not None and value not in allowed:
                choices = ", ".join(sorted(allowed))
                raise RecordsInvalid(f"{where}: {name} '{value}' is not one of {choices}.")
