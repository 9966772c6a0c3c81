"""The Validating phase: checks a data type's records before any of them leaves the machine."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from agent.errors import RecordsInvalid
from agent.model import ENUMS, REQUIRED_FIELDS, REQUIRED_LINE_FIELDS
from agent.sources.base import Record


def validate(data_type: str, records: list[Record]) -> None:
    """Raise :class:`RecordsInvalid` naming the first record and field that break a rule."""
    seen: set[str] = set()
    required = REQUIRED_FIELDS.get(data_type, ("id",))
    line_fields = REQUIRED_LINE_FIELDS.get(data_type, {})
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
        for list_name, names in line_fields.items():
            _check_lines(where, record, list_name, names)
        if data_type == "journalEntries":
            _check_balanced(where, record)


def _check_lines(where: str, record: Record, list_name: str, names: tuple[str, ...]) -> None:
    for number, line in enumerate(record.get(list_name) or (), start=1):
        for name in names:
            if line.get(name) in (None, ""):
                raise RecordsInvalid(f"{where}: line {number} of {list_name} has no {name}.")


def _check_balanced(where: str, record: Record) -> None:
    """A journal entry's lines must sum to zero: debits equal credits, to the cent."""
    debits = credits = Decimal(0)
    for number, line in enumerate(record.get("journalLines") or (), start=1):
        try:
            # str() first: a float's shortest repr is the decimal the mapping rounded to.
            amount = Decimal(str(line["netAmount"]))
        except (InvalidOperation, TypeError, ValueError):
            raise RecordsInvalid(
                f"{where}: line {number}'s netAmount {line['netAmount']!r} is not a number."
            ) from None
        if amount > 0:
            debits += amount
        else:
            credits += amount
    if debits + credits != 0:
        raise RecordsInvalid(
            f"{where} does not balance: its lines sum to {debits + credits} "
            f"(debits {debits}, credits {credits}); they must sum to zero."
        )
