"""Document figures as GnuCash computes them: each case's expected numbers were measured with the
GnuCash 4.13 engine (``gncInvoiceGetTotal`` / ``gncInvoiceGetTotalTax``) on the same entry.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from agent.sources.gnucash.mapping.document_totals import document_amounts, line_amounts, share_out
from agent.sources.gnucash.reading.records import DocumentEntry, TaxTable, TaxTableEntry

TEN_PERCENT = TaxTable(
    guid="t", name="Ten", entries=(TaxTableEntry("tax-acct", Fraction(10), "PERCENT"),)
)


@pytest.mark.parametrize(
    ("discount", "kind", "how", "net", "tax"),
    [
        ("0", "PERCENT", "PRETAX", "30", "3"),
        ("10", "PERCENT", "PRETAX", "27", "2.7"),  # tax on the discounted amount
        ("10", "PERCENT", "SAMETIME", "27", "3"),  # tax on the undiscounted amount
        ("10", "PERCENT", "POSTTAX", "26.7", "3"),  # 10% of price plus tax
        ("5", "VALUE", "PRETAX", "25", "2.5"),
        ("5", "VALUE", "SAMETIME", "25", "3"),
        ("5", "VALUE", "POSTTAX", "25", "3"),
    ],
)
def test_discounts_apply_as_gnucash_places_them(
    discount: str, kind: str, how: str, net: str, tax: str
) -> None:
    line = line_amounts(
        Fraction(3),
        Fraction(10),
        tax_table=TEN_PERCENT,
        discount=Fraction(discount),
        discount_type=kind,
        discount_how=how,
    )
    assert line.net == Fraction(net)
    assert sum(line.taxes.values()) == Fraction(tax)


def test_a_tax_included_price_has_its_tax_backed_out() -> None:
    line = line_amounts(Fraction(3), Fraction(11), tax_table=TEN_PERCENT, tax_included=True)
    assert (line.net, line.unit_price, line.taxes) == (
        Fraction(30),
        Fraction(10),
        {"tax-acct": Fraction(3)},
    )
    discounted = line_amounts(
        Fraction(3), Fraction(11), tax_table=TEN_PERCENT, tax_included=True, discount=Fraction(10)
    )
    assert (discounted.net, sum(discounted.taxes.values())) == (Fraction(27), Fraction("2.7"))


def test_a_line_rounds_half_up_to_the_cent() -> None:
    # 3 x 0.335 = 1.005: half-up gives 1.01 (banker's rounding would give 1.00), as GnuCash.
    assert line_amounts(Fraction(3), Fraction("0.335"), tax_table=None).net == Fraction("1.01")
    assert line_amounts(Fraction(-3), Fraction("0.335"), tax_table=None).net == Fraction("-1.01")


def _entry(price: str, *, taxable: bool = True, quantity: str = "1") -> DocumentEntry:
    return DocumentEntry(
        guid="e",
        description="",
        quantity=Fraction(quantity),
        price=Fraction(price),
        account_guid="income",
        taxable=taxable,
        tax_included=False,
        tax_table_guid="copy",
    )


def test_tax_is_rounded_once_per_tax_account_and_lines_share_it() -> None:
    # Measured: three lines of 0.10 at 5.5% carry 0.02 of tax in GnuCash, not 3 x 0.01.
    table = TaxTable("copy", "ME", (TaxTableEntry("tax-acct", Fraction("5.5"), "PERCENT"),))
    amounts = document_amounts([_entry("0.10")] * 3, {"copy": table}, places=2)
    assert amounts.tax == Fraction("0.02")
    assert amounts.sub_total == Fraction("0.30")
    assert sum(amounts.line_taxes) == amounts.tax
    assert sorted(amounts.line_taxes) == [Fraction("0"), Fraction("0.01"), Fraction("0.01")]


def test_an_untaxed_line_ignores_its_tax_table_and_a_credit_note_turns_positive() -> None:
    amounts = document_amounts(
        [_entry("10", taxable=False, quantity="-2")], {"copy": TEN_PERCENT}, places=2, sign=-1
    )
    assert (amounts.sub_total, amounts.tax, amounts.total) == (
        Fraction(20),
        Fraction(0),
        Fraction(20),
    )


def test_share_out_keeps_the_total() -> None:
    exact = [Fraction("0.004"), Fraction("0.004"), Fraction("0.004")]
    assert sum(share_out(Fraction("0.01"), exact, 2)) == Fraction("0.01")
    assert share_out(Fraction("0.01"), [], 2) == ()
