"""Money as the standard model carries it: JSON numbers rounded half-up to the currency's cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


def to_amount(value: Fraction, places: int = 2) -> float:
    """Round an exact rational half-up to ``places`` decimals.

    A float carries every such amount exactly enough to print back the same decimal, up to
    about 15 significant digits, i.e. amounts below a trillion in a 2-decimal currency.
    """
    scale: int = 10**places
    if scale % value.denominator == 0:
        # Already in whole cents (GnuCash's usual denominator): no rounding to do, and a correctly
        # rounded int / int gives the same float as the decimal would, far faster.
        cents: int = value.numerator * (scale // value.denominator)
        return cents / scale
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
