"""The book's price database and its "Use Trading Accounts" option, in either format.

Reports value an account held in another commodity than the report's currency at a price from
this database (agent/sources/gnucash/mapping/valuation.py), as GnuCash's own reports do. A book
holds a few thousand prices at most, so they are read whole.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from xml.etree.ElementTree import Element

from agent.sources.gnucash.reading.records import Price
from agent.sources.gnucash.reading.values import garbled, parse_num_denom, parse_timestamp, rational
from agent.sources.gnucash.reading.xml_elements import q

PRICEDB_TAG = q("gnc", "pricedb")
PRICE_TAG = "price"  # GnuCash writes a price element without a namespace

# The book option as GnuCash stores it: a string slot "t" when on (qof_book_use_trading_accounts).
TRADING_OPTION = "options/Accounts/Use Trading Accounts"


def sqlite_prices(
    db: sqlite3.Connection, commodities: Mapping[str, tuple[str, str]], source: Path
) -> list[Price]:
    """Every row of the ``prices`` table (``commodities``: GUID -> (namespace, mnemonic))."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "prices" not in tables:
        return []
    found = []
    rows = db.execute(
        "SELECT guid, commodity_guid, currency_guid, date, value_num, value_denom FROM prices"
    )
    for guid, commodity, currency, date, num, denom in rows:
        label = f"the price {guid}"
        if commodity not in commodities or currency not in commodities:
            raise garbled(source, label, "its commodity or currency does not exist")
        found.append(
            Price(
                guid=guid,
                commodity=commodities[commodity][1],
                currency=commodities[currency][1],
                time=parse_timestamp(date, book=source, record=label, field="date"),
                value=rational(int(num), int(denom), book=source, record=label),
            )
        )
    return found


def sqlite_trading_accounts(db: sqlite3.Connection) -> bool:
    """Whether the book's option "Use Trading Accounts" is on."""
    try:
        rows = db.execute(
            "SELECT string_val FROM slots WHERE name = ? AND slot_type = 4", (TRADING_OPTION,)
        ).fetchall()
    except sqlite3.OperationalError:  # no slots table: no options either
        return False
    return any(value == "t" for (value,) in rows)


def xml_price(price: Element, source: Path) -> Price:
    """One ``<price>`` of a ``<gnc:pricedb>`` (the XML reader takes them one at a time)."""
    guid = (price.findtext(q("price", "id")) or "").strip()
    label = f"the price {guid or '(without an id)'}"
    value = parse_num_denom(price.findtext(q("price", "value")), book=source, record=label)
    return Price(
        guid=guid,
        commodity=_mnemonic(price.find(q("price", "commodity")), source, label),
        currency=_mnemonic(price.find(q("price", "currency")), source, label),
        time=parse_timestamp(
            price.findtext(f"{q('price', 'time')}/{q('ts', 'date')}"),
            book=source,
            record=label,
            field="date",
        ),
        value=rational(*value, book=source, record=label),
    )


def xml_trading_accounts(book_slots: Element) -> bool:
    """Whether a ``<book:slots>`` record turns the option "Use Trading Accounts" on."""
    current: Element | None = book_slots
    for key in TRADING_OPTION.split("/"):
        found = None
        for slot in current.findall("slot") if current is not None else ():
            if (slot.findtext(q("slot", "key")) or "") == key:
                found = slot.find(q("slot", "value"))
                break
        current = found
    return current is not None and (current.text or "").strip() == "t"


def _mnemonic(element: Element | None, source: Path, label: str) -> str:
    mnemonic = (element.findtext(q("cmdty", "id")) or "").strip() if element is not None else ""
    if not mnemonic:
        raise garbled(source, label, "it names no commodity or currency")
    return mnemonic
