"""GnuCash tax tables -> the standard ``TaxRate`` (data type ``taxRates``).

A tax table is a list of entries, each a percentage or a fixed amount posted to a tax account.
The rate of the table is the sum of its percentages; GnuCash applies every entry to the same
base, so none is compound. A fixed amount is no rate: it is listed as a component without one.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from agent.sources.base import Record
from agent.sources.gnucash.mapping.amounts import to_amount
from agent.sources.gnucash.reading.records import Book, TaxTable

RATE_PLACES = 4  # tax rates are percentages such as 5.5 or 8.875


def map_tax_rates(book: Book) -> list[Record]:
    names = {account.guid: account.name for account in book.accounts}
    return [_map_tax_rate(table, names) for table in book.tax_tables]


def _map_tax_rate(table: TaxTable, names: dict[str, str]) -> Record:
    total = sum((e.amount for e in table.entries if e.kind == "PERCENT"), Fraction(0))
    components: list[dict[str, Any]] = [
        {
            "name": names.get(entry.account_guid, entry.account_guid),
            "rate": to_amount(entry.amount, RATE_PLACES) if entry.kind == "PERCENT" else None,
            "isCompound": False,
        }
        for entry in table.entries
    ]
    record: Record = {
        "id": table.guid,
        "name": table.name,
        # GnuCash has no tax code: the table's name is what users pick it by.
        "code": table.name,
        "effectiveTaxRate": to_amount(total, RATE_PLACES),
        "totalTaxRate": to_amount(total, RATE_PLACES),
        "components": components,
        "status": "Active",
    }
    fixed = [
        {"account": names.get(e.account_guid, e.account_guid), "amount": to_amount(e.amount)}
        for e in table.entries
        if e.kind == "VALUE"
    ]
    if fixed:
        record["supplementalData"] = {"content": {"gnucash": {"fixedAmounts": fixed}}}
    return record
