"""The Validating phase: checks a data type's records before any of them leaves the machine."""

from __future__ import annotations

from collections.abc import Container, Iterable
from decimal import Decimal, InvalidOperation

from agent.errors import RecordsInvalid
from agent.standard.model import ENUMS, REQUIRED_FIELDS, REQUIRED_LINE_FIELDS, Record


def validate(data_type: str, records: Iterable[Record]) -> None:
    """Raise :class:`RecordsInvalid` naming the first record and field that break a rule."""
    checker = RecordChecker(data_type)
    seen: set[str] = set()
    for record in records:
        checker.check(record)
        if record["id"] in seen:
            raise RecordsInvalid(f"{checker.where(record)} appears twice: ids must be unique.")
        seen.add(record["id"])


class RecordChecker:
    """The rules for one data type, checked a record at a time as the records stream past.

    Whether ids are unique needs every record at once: the caller checks that (the runner does
    with SQL on its spool, :func:`validate` with a set).
    """

    def __init__(self, data_type: str) -> None:
        self.data_type = data_type
        self._required = REQUIRED_FIELDS.get(data_type, ("id",))
        self._line_fields = REQUIRED_LINE_FIELDS.get(data_type, {})
        self._enums = ENUMS.get(data_type, {})
        self._position = 0

    def where(self, record: Record) -> str:
        """How a message names the record: its id, else its position."""
        record_id = record.get("id")
        return (
            f"{self.data_type} record {record_id!r}"
            if record_id
            else (f"{self.data_type} #{self._position}")
        )

    def check(self, record: Record) -> None:
        self._position += 1
        where = self.where(record)
        for name in self._required:
            if record.get(name) in (None, ""):
                raise RecordsInvalid(f"{where} has no {name}.")
        record_id = record.get("id")
        if not isinstance(record_id, str):
            raise RecordsInvalid(f"{where}: its id must be text, not {type(record_id).__name__}.")
        for name, allowed in self._enums.items():
            value = record.get(name)
            if value is not None and value not in allowed:
                choices = ", ".join(sorted(allowed))
                raise RecordsInvalid(f"{where}: {name} '{value}' is not one of {choices}.")
        for list_name, names in self._line_fields.items():
            _check_lines(where, record, list_name, names)
        if self.data_type == "journalEntries":
            _check_balanced(where, record)
        if self.data_type == "balanceSheet":
            _check_balance_sheet(where, record)
        if self.data_type in DOCUMENT_TAX_FIELD:
            _check_document_sums(where, record, DOCUMENT_TAX_FIELD[self.data_type])


# The field holding a document's total tax, which the two models name differently.
DOCUMENT_TAX_FIELD = {
    "invoices": "totalTaxAmount",
    "bills": "taxAmount",
    "creditNotes": "totalTaxAmount",
    "billCreditNotes": "totalTaxAmount",
}


def check_reference(
    data_type: str, record_id: str, field: str, target: str, known: Container[str]
) -> None:
    """A record's reference (``customerRef``, ...) must name a record of the same book."""
    if target not in known:
        raise RecordsInvalid(
            f"{data_type} record {record_id!r}: its {field} {target!r} is not a record of the "
            "book; every reference must resolve."
        )


def _number(where: str, name: str, value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise RecordsInvalid(f"{where}: {name} {value!r} is not a number.") from None


def _check_document_sums(where: str, record: Record, tax_field: str) -> None:
    """Lines add up to the document: sub-totals, tax, and sub-total plus tax to the total."""
    lines = record.get("lineItems") or []
    sub_total = _number(where, "subTotal", record.get("subTotal"))
    tax = _number(where, tax_field, record.get(tax_field))
    total = _number(where, "totalAmount", record.get("totalAmount"))
    line_sub = sum(
        (_number(where, "a line's subTotal", x.get("subTotal")) for x in lines), Decimal(0)
    )
    line_tax = sum(
        (_number(where, "a line's taxAmount", x.get("taxAmount")) for x in lines), Decimal(0)
    )
    if line_sub != sub_total:
        raise RecordsInvalid(
            f"{where}: its lines' subTotals sum to {line_sub}, but its subTotal is {sub_total}."
        )
    if line_tax != tax:
        raise RecordsInvalid(
            f"{where}: its lines' taxAmounts sum to {line_tax}, but its {tax_field} is {tax}."
        )
    if sub_total + tax != total:
        raise RecordsInvalid(
            f"{where}: subTotal {sub_total} plus {tax_field} {tax} is {sub_total + tax}, "
            f"but its totalAmount is {total}."
        )


def _check_balance_sheet(where: str, record: Record) -> None:
    """Assets equal liabilities plus equity, and net assets are assets less liabilities."""
    assets, liabilities, equity = (
        _number(where, f"{name}'s value", (record.get(name) or {}).get("value", 0))
        for name in ("assets", "liabilities", "equity")
    )
    net = _number(where, "netAssets", record.get("netAssets"))
    if assets != liabilities + equity:
        raise RecordsInvalid(
            f"{where} does not balance: assets {assets} but liabilities {liabilities} plus "
            f"equity {equity} make {liabilities + equity} (a difference of "
            f"{assets - liabilities - equity})."
        )
    if net != assets - liabilities:
        raise RecordsInvalid(
            f"{where}: netAssets is {net}, but assets {assets} less liabilities {liabilities} "
            f"is {assets - liabilities}."
        )


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
