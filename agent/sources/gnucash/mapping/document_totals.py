"""A document's line and total amounts, computed the way GnuCash's engine computes them.

GnuCash stores no totals on invoices or bills. For each line, ``gncEntryComputeValue`` takes
quantity x price, backs tax out of a tax-included price, applies the discount (a percentage or a
value; before tax, at the same time as tax, or after tax), and then rounds the line's net value
half-up to the currency's fraction. Tax is different: ``gncInvoiceGetTotalTax`` adds each tax
account's unrounded amounts over all lines and rounds once per account (measured on GnuCash
4.13: three lines of 0.10 at 5.5% give 0.02 of tax, not 3 x 0.01). Line tax amounts are that
document tax shared out over the lines, so that lines always add up to the document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from agent.sources.gnucash.reading.records import DocumentEntry, TaxTable

# ISO 4217 currencies without two decimals; every other currency has cents.
_MINOR_UNITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def currency_places(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def round_half_up(value: Fraction, places: int) -> Fraction:
    """``value`` rounded half-up (away from zero on a tie) to ``places`` decimals, exactly."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return Fraction(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class LineAmounts:
    """One line's figures, before document rounding of tax."""

    net: Fraction  # after discount, without tax; rounded to the currency
    discount: Fraction  # rounded to the currency
    unit_price: Fraction  # the price without tax (backed out of a tax-included price)
    taxes: dict[str, Fraction]  # tax account GUID -> exact, unrounded tax


def line_amounts(
    quantity: Fraction,
    price: Fraction,
    *,
    tax_table: TaxTable | None,
    tax_included: bool = False,
    discount: Fraction = Fraction(0),
    discount_type: str = "PERCENT",
    discount_how: str = "PRETAX",
    places: int = 2,
) -> LineAmounts:
    """``gncEntryComputeValue`` for one line; ``tax_table`` is None for an untaxed line."""
    aggregate = quantity * price
    entries = tax_table.entries if tax_table is not None else ()
    tax_value = sum((e.amount for e in entries if e.kind == "VALUE"), Fraction(0))
    tax_percent = sum((e.amount for e in entries if e.kind == "PERCENT"), Fraction(0)) / 100

    if tax_table is not None and tax_included:
        pretax = (aggregate - tax_value) / (1 + tax_percent)
        unit_price = pretax / quantity if quantity else price
    else:
        pretax, unit_price = aggregate, price

    if discount_how == "POSTTAX":
        # The discount applies to the price with tax; tax is still on the undiscounted amount.
        if discount_type == "PERCENT":
            discount = (pretax + pretax * tax_percent + tax_value) * discount / 100
        net, taxable = pretax - discount, pretax
    else:
        if discount_type == "PERCENT":
            discount = pretax * discount / 100
        net = pretax - discount
        # SAMETIME: tax and discount both on the undiscounted amount; PRETAX: tax after discount.
        taxable = net if discount_how == "PRETAX" else pretax

    taxes: dict[str, Fraction] = {}
    for entry in entries:
        amount = entry.amount if entry.kind == "VALUE" else entry.amount / 100 * taxable
        taxes[entry.account_guid] = taxes.get(entry.account_guid, Fraction(0)) + amount
    return LineAmounts(
        net=round_half_up(net, places),
        discount=round_half_up(discount, places),
        unit_price=unit_price,
        taxes=taxes,
    )


@dataclass(frozen=True)
class DocumentAmounts:
    lines: tuple[LineAmounts, ...]
    line_taxes: tuple[Fraction, ...]  # each line's share of the document's rounded tax
    sub_total: Fraction
    tax: Fraction

    @property
    def total(self) -> Fraction:
        return self.sub_total + self.tax


def document_amounts(
    entries: Sequence[DocumentEntry],
    tax_tables: Mapping[str, TaxTable],
    *,
    places: int,
    sign: int = 1,
) -> DocumentAmounts:
    """All lines of a document and its totals, as ``gncInvoiceGetTotal``/``GetTotalTax``.

    ``sign`` is -1 for credit notes, whose entries GnuCash stores negated.
    """
    lines = tuple(
        line_amounts(
            sign * e.quantity,
            e.price,
            tax_table=tax_tables.get(e.tax_table_guid or "") if e.taxable else None,
            tax_included=e.tax_included,
            discount=e.discount,
            discount_type=e.discount_type,
            discount_how=e.discount_how,
            places=places,
        )
        for e in entries
    )
    by_account: dict[str, Fraction] = {}
    for line in lines:
        for account, amount in line.taxes.items():
            by_account[account] = by_account.get(account, Fraction(0)) + amount
    tax = sum((round_half_up(v, places) for v in by_account.values()), Fraction(0))
    exact = [sum(line.taxes.values(), Fraction(0)) for line in lines]
    return DocumentAmounts(
        lines=lines,
        line_taxes=share_out(tax, exact, places),
        sub_total=sum((line.net for line in lines), Fraction(0)),
        tax=tax,
    )


def share_out(total: Fraction, exact: Sequence[Fraction], places: int) -> tuple[Fraction, ...]:
    """Round each of ``exact`` so that they add up to ``total`` (largest remainder first)."""
    unit = Fraction(1, 10**places)
    rounded = [round_half_up(value, places) for value in exact]
    steps = int((total - sum(rounded, Fraction(0))) / unit)
    if steps and exact:
        direction = 1 if steps > 0 else -1
        # The lines that rounding moved furthest from their exact value absorb the difference.
        order = sorted(range(len(exact)), key=lambda i: direction * (rounded[i] - exact[i]))
        for i in range(abs(steps)):
            rounded[order[i % len(order)]] += direction * unit
    return tuple(rounded)
