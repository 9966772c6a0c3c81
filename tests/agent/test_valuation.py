"""The price rule of GnuCash's reports, case by case.

The rule is agent/sources/gnucash/mapping/valuation.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

from agent.sources.gnucash.mapping.valuation import Prices, Valuer, report_time, round_even
from agent.sources.gnucash.reading.records import Price


def _price(commodity: str, currency: str, day: int, value: str, month: int = 1) -> Price:
    return Price(
        guid=f"{commodity}{currency}{month:02d}{day:02d}",
        commodity=commodity,
        currency=currency,
        time=datetime(2026, month, day, 10, 59, tzinfo=UTC),
        value=Fraction(value),
    )


def test_the_nearest_price_wins_even_after_the_date() -> None:
    prices = Prices([_price("EUR", "USD", 1, "1.05"), _price("EUR", "USD", 20, "1.10")])

    assert prices.rate("EUR", "USD", report_time(2026, 1, 5)) == Fraction("1.05")
    assert prices.rate("EUR", "USD", report_time(2026, 1, 15)) == Fraction("1.10")
    assert prices.rate("EUR", "USD", report_time(2025, 12, 31)) == Fraction("1.05")
    assert prices.rate("EUR", "USD", report_time(2026, 6, 30)) == Fraction("1.10")


def test_a_tie_goes_to_the_older_price() -> None:
    older = _price("EUR", "USD", 10, "1.00")
    newer = _price("EUR", "USD", 12, "2.00")
    middle = datetime(2026, 1, 11, 10, 59, tzinfo=UTC)

    assert Prices([older, newer]).rate("EUR", "USD", middle) == 1


def test_a_price_stored_the_other_way_counts_inverted() -> None:
    prices = Prices([_price("USD", "EUR", 1, "0.8")])

    assert prices.rate("EUR", "USD", report_time(2026, 1, 31)) == Fraction(5, 4)


def test_without_a_direct_price_one_through_a_third_commodity() -> None:
    prices = Prices([_price("SHARE", "EUR", 1, "10"), _price("EUR", "USD", 2, "1.2")])

    assert prices.rate("SHARE", "USD", report_time(2026, 1, 31)) == 12


def test_without_any_price_an_amount_is_worth_nothing() -> None:
    valuer = Valuer(Prices([]), "USD", 2, report_time(2026, 1, 31))

    assert valuer.value({"EUR": Fraction(920), "USD": Fraction("10.5")}) == Fraction("10.5")


def test_each_commodity_is_rounded_on_its_own_to_even() -> None:
    prices = Prices([_price("EUR", "USD", 1, "0.5"), _price("GBP", "USD", 1, "0.5")])
    valuer = Valuer(prices, "USD", 2, report_time(2026, 1, 31))

    # 0.05 x 0.5 = 0.025 -> 0.02 (to even) for each, not 0.05 for their sum.
    assert valuer.value({"EUR": Fraction("0.05"), "GBP": Fraction("0.05")}) == Fraction("0.04")
    assert round_even(Fraction("0.035"), 2) == Fraction("0.04")
