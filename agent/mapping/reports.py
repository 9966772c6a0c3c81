"""A GnuCash book's ledger -> monthly ``profitAndLoss`` and ``balanceSheet`` records (accrual).

One record per calendar month, ``id`` ``"YYYY-MM"``, from the month of the first transaction to
the month of the last (docs/PROTOCOL.md, "Reports"): a month's profit and loss, or the balance
sheet at the month's end. ``months`` (the agent's ``report_months`` setting) keeps only that many
calendar months, up to the month of the last transaction; a balance sheet still counts everything
before its month. Lines are ``ReportLine`` trees that follow the book's account tree.

GnuCash has no cost-of-sales or other-income classification: every INCOME account is under
``income`` and every EXPENSE account under ``expenses``, so ``costOfSales``, ``otherIncome`` and
``otherExpenses`` are absent and ``grossProfit`` equals total income. Figures are positive for an
account's normal balance (credit for income, liabilities and equity; debit for the rest).
Equity includes "Retained Earnings": income minus expenses to date, which is exactly the
undistributed profit when the books were never closed and nets to what is left when they were
(closing entries move it into an equity account). Trading accounts (multi-currency books) are
shown under equity, as GnuCash's own balance sheet does.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from agent.mapping.amounts import to_amount
from agent.mapping.document_totals import currency_places
from agent.sources.base import Record
from agent.sources.gnucash.records import Account, Book

ASSET_TYPES = frozenset({"BANK", "CASH", "ASSET", "RECEIVABLE", "STOCK", "MUTUAL"})
LIABILITY_TYPES = frozenset({"CREDIT", "LIABILITY", "PAYABLE"})
EQUITY_TYPES = frozenset({"EQUITY", "TRADING"})
INCOME_TYPES = frozenset({"INCOME"})
EXPENSE_TYPES = frozenset({"EXPENSE"})

RETAINED_EARNINGS = "Retained Earnings"

Month = tuple[int, int]  # (year, month)


def _monthly_changes(book: Book, closing: bool = True) -> dict[Month, dict[str, Fraction]]:
    """(year, month) -> account GUID -> the change of its balance in that month.

    An account in the book's currency moves by its splits' quantities; an account in another
    commodity is reported by its splits' values when the transaction is in the book's currency
    (the cost in the report's currency), else by its quantities unconverted. ``closing=False``
    leaves out the closing entries of Tools > Close Book, as GnuCash's income statement does;
    their months are still there.
    """
    commodity = {a.guid: a.commodity for a in book.accounts}
    changes: dict[Month, dict[str, Fraction]] = {}
    for txn in book.transactions:
        month = changes.setdefault((txn.posted.year, txn.posted.month), {})
        if txn.closing and not closing:
            continue
        for split in txn.splits:
            amount = split.quantity
            if commodity.get(split.account_guid) != book.default_currency and (
                txn.currency == book.default_currency
            ):
                amount = split.value
            month[split.account_guid] = month.get(split.account_guid, Fraction(0)) + amount
    return changes


def _months(changes: dict[Month, dict[str, Fraction]]) -> list[Month]:
    """Every calendar month from the first transaction's to the last's."""
    if not changes:
        return []
    (year, month), last = min(changes), max(changes)
    months = []
    while (year, month) <= last:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


class _Tree:
    """The account tree, to build ``ReportLine`` items for one class of accounts."""

    def __init__(self, accounts: Iterable[Account], places: int) -> None:
        self.accounts = list(accounts)
        self.places = places
        self.children: dict[str | None, list[Account]] = {}
        for account in self.accounts:
            self.children.setdefault(account.parent_guid, []).append(account)

    def line(
        self, name: str, types: frozenset[str], balances: dict[str, Fraction], sign: int
    ) -> tuple[dict[str, Any], Fraction]:
        """The ReportLine for the accounts of ``types``, and its exact value."""
        members = {a.guid for a in self.accounts if a.account_type in types}
        tops = [a for a in self.accounts if a.guid in members and a.parent_guid not in members]
        items = []
        total = Fraction(0)
        for top in tops:
            item, value = self._item(top, members, balances, sign)
            total += value
            if item is not None:
                items.append(item)
        return {"name": name, "value": to_amount(total, self.places), "items": items}, total

    def _item(
        self, account: Account, members: set[str], balances: dict[str, Fraction], sign: int
    ) -> tuple[dict[str, Any] | None, Fraction]:
        value = sign * balances.get(account.guid, Fraction(0))
        items = []
        for child in self.children.get(account.guid, ()):
            if child.guid not in members:
                continue
            item, child_value = self._item(child, members, balances, sign)
            value += child_value
            if item is not None:
                items.append(item)
        if not items and value == 0:
            return None, value  # nothing to show: an account that never moved in the period
        line: dict[str, Any] = {
            "name": account.name,
            "accountId": account.guid,
            "value": to_amount(value, self.places),
        }
        if items:
            line["items"] = items
        return line, value


def _emitted(months: list[Month], count: int | None) -> set[Month]:
    """The last ``count`` of ``months`` (all when ``count`` is None)."""
    if count is None:
        return set(months)
    if count < 1:
        raise ValueError(f"report months must be at least 1, not {count}")
    return set(months[-count:])


def map_profit_and_loss(book: Book, months: int | None = None) -> list[Record]:
    places = currency_places(book.default_currency)
    tree = _Tree(book.accounts, places)
    # A month's profit is what was earned in it: closing entries only move it into equity.
    changes = _monthly_changes(book, closing=False)
    records = []
    every = _months(changes)
    emitted = _emitted(every, months)
    for year, month in every:
        if (year, month) not in emitted:
            continue
        moved = changes.get((year, month), {})
        income, income_total = tree.line("Income", INCOME_TYPES, moved, -1)
        expenses, expense_total = tree.line("Expenses", EXPENSE_TYPES, moved, 1)
        profit = to_amount(income_total - expense_total, places)
        last_day = calendar.monthrange(year, month)[1]
        records.append(
            {
                "id": f"{year:04d}-{month:02d}",
                "fromDate": f"{year:04d}-{month:02d}-01T00:00:00",
                "toDate": f"{year:04d}-{month:02d}-{last_day:02d}T00:00:00",
                "currency": book.default_currency,
                "reportBasis": "Accrual",
                "income": income,
                "expenses": expenses,
                "grossProfit": to_amount(income_total, places),
                "netOperatingProfit": profit,
                "netOtherIncome": 0.0,
                "netProfit": profit,
            }
        )
    return records


def map_balance_sheet(book: Book, months: int | None = None) -> list[Record]:
    places = currency_places(book.default_currency)
    tree = _Tree(book.accounts, places)
    changes = _monthly_changes(book)
    types = {a.guid: a.account_type for a in book.accounts}
    balances: dict[str, Fraction] = {}
    records = []
    every = _months(changes)
    emitted = _emitted(every, months)
    for year, month in every:
        for guid, amount in changes.get((year, month), {}).items():
            balances[guid] = balances.get(guid, Fraction(0)) + amount
        if (year, month) not in emitted:
            continue  # still counted: a balance sheet holds everything to its date
        assets, asset_total = tree.line("Assets", ASSET_TYPES, balances, 1)
        liabilities, liability_total = tree.line("Liabilities", LIABILITY_TYPES, balances, -1)
        equity, equity_total = tree.line("Equity", EQUITY_TYPES, balances, -1)
        # Income (credit, negative raw) minus expenses (debit) to date.
        retained = -sum(
            (v for g, v in balances.items() if types.get(g) in INCOME_TYPES | EXPENSE_TYPES),
            Fraction(0),
        )
        equity_total += retained
        equity["items"].append(
            {"name": RETAINED_EARNINGS, "accountId": None, "value": to_amount(retained, places)}
        )
        equity["value"] = to_amount(equity_total, places)
        last_day = calendar.monthrange(year, month)[1]
        records.append(
            {
                "id": f"{year:04d}-{month:02d}",
                "date": f"{year:04d}-{month:02d}-{last_day:02d}T00:00:00",
                "currency": book.default_currency,
                "reportBasis": "Accrual",
                "assets": assets,
                "liabilities": liabilities,
                "equity": equity,
                "netAssets": to_amount(asset_total - liability_total, places),
            }
        )
    return records
