"""Amounts in other commodities valued in the report's currency, as GnuCash's reports do.

GnuCash 4.13's Balance Sheet and Income Statement default to the price source
``pricedb-nearest`` (balance-sheet.scm and income-statement.scm, option "Price Source"): each
commodity's total is multiplied by the price database's price *nearest in time* to noon of the
report's date (``time64CanonicalDayTime``), before or after it, an older price winning a tie; a
price stored the other way round (USD in EUR) counts, inverted; with no price between the two,
one through a third commodity both have a price in; with none at all, the amount is worth 0
(commodity-utilities.scm ``gnc:exchange-by-pricedb-nearest``, gnc-pricedb.c
``gnc_pricedb_convert_balance_nearest_price_t64``). Each commodity's converted total is rounded to
the currency's smallest unit with banker's rounding (``GNC_HOW_RND_ROUND``).

The agent has no time zone of the user's: like the rest of the mapping it takes dates in UTC, so
"noon" is 12:00 UTC.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from agent.sources.gnucash.reading.records import Price

Collector = Mapping[str, Fraction]  # commodity mnemonic -> amount, as GnuCash's collectors


def report_time(year: int, month: int, day: int) -> datetime:
    """The moment GnuCash looks prices up at for a report dated that day: its noon."""
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def add_to(collector: dict[str, Fraction], commodity: str, amount: Fraction) -> None:
    collector[commodity] = collector.get(commodity, Fraction(0)) + amount


class Prices:
    """The book's price database, to look rates up as GnuCash's ``pricedb-nearest`` does."""

    def __init__(self, prices: Iterable[Price]) -> None:
        # (a, b) -> [(time, guid, rate of one a in b)], ascending; both directions of each price.
        pairs: dict[tuple[str, str], list[tuple[datetime, str, Fraction]]] = {}
        for price in prices:
            if price.value == 0 or price.commodity == price.currency:
                continue
            pairs.setdefault((price.commodity, price.currency), []).append(
                (price.time, price.guid, price.value)
            )
            pairs.setdefault((price.currency, price.commodity), []).append(
                (price.time, price.guid, 1 / price.value)
            )
        for entries in pairs.values():
            entries.sort(key=lambda e: (e[0], e[1]))
        self._pairs = pairs
        self._times = {pair: [e[0] for e in entries] for pair, entries in pairs.items()}
        self._partners: dict[str, set[str]] = {}
        for a, b in pairs:
            self._partners.setdefault(a, set()).add(b)

    def _nearest(self, source: str, target: str, at: datetime) -> tuple[datetime, Fraction] | None:
        """The price of ``source`` in ``target`` nearest to ``at``; a tie goes to the older."""
        entries = self._pairs.get((source, target))
        if not entries:
            return None
        times = self._times[(source, target)]
        after = bisect_right(times, at)  # entries[after:] are later than ``at``
        before = entries[after - 1] if after else None
        later = entries[after] if after < len(entries) else None
        if before is None or (later is not None and later[0] - at < at - before[0]):
            assert later is not None
            return later[0], later[2]
        return before[0], before[2]

    def rate(self, source: str, target: str, at: datetime) -> Fraction:
        """What one ``source`` is worth in ``target`` at ``at``; 0 when no price says."""
        if source == target:
            return Fraction(1)
        direct = self._nearest(source, target, at)
        if direct is not None:
            return direct[1]
        # Through a third commodity: GnuCash takes, of each side's nearest prices, the newest
        # pair that shares one (gnc-pricedb.c indirect_price_conversion).
        best: tuple[datetime, datetime, Fraction] | None = None
        for middle in sorted(self._partners.get(source, set()) & self._partners.get(target, set())):
            first = self._nearest(source, middle, at)
            second = self._nearest(target, middle, at)
            if first is None or second is None:
                continue
            candidate = (first[0], second[0], first[1] / second[1])
            if best is None or candidate[:2] > best[:2]:
                best = candidate
        return best[2] if best is not None else Fraction(0)


class Valuer:
    """Values collectors in one report currency at one moment, with GnuCash's rounding."""

    def __init__(self, prices: Prices, currency: str, places: int, at: datetime) -> None:
        self.prices = prices
        self.currency = currency
        self.places = places
        self.at = at
        self._rates: dict[str, Fraction] = {}

    def rate(self, commodity: str) -> Fraction:
        if commodity not in self._rates:
            self._rates[commodity] = self.prices.rate(commodity, self.currency, self.at)
        return self._rates[commodity]

    def value(self, collector: Collector) -> Fraction:
        """The sum of each commodity's amount converted and rounded; the report currency's own
        amounts are kept exact, as the single-currency mapping always did."""
        total = Fraction(0)
        for commodity, amount in collector.items():
            if commodity == self.currency or not commodity:
                total += amount
            elif amount:
                total += round_even(amount * self.rate(commodity), self.places)
        return total


def round_even(value: Fraction, places: int) -> Fraction:
    """``value`` rounded to ``places`` decimals, a tie to the even digit (GNC_HOW_RND_ROUND)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return Fraction(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))
