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
(closing entries move it into an equity account).

Figures are what GnuCash's own Balance Sheet and Income Statement show with their default
options, in the book's currency: an account in another commodity (a foreign currency, a stock)
is valued at the price database's price nearest to the report's date
(agent/sources/gnucash/mapping/valuation.py), a month's income and expense at the price nearest to
the month's end. What that valuation adds to or takes from the sheet is one equity line, as in
GnuCash: "Trading Gains"/"Trading Losses" (the trading accounts' balance) in a book that uses
trading accounts, else "Unrealized Gains"/"Unrealized Losses" (assets and liabilities at price less
what they cost).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from agent.sources.base import Record
from agent.sources.gnucash.mapping.amounts import to_amount
from agent.sources.gnucash.mapping.document_totals import currency_places
from agent.sources.gnucash.mapping.valuation import Collector, Prices, Valuer, add_to, report_time
from agent.sources.gnucash.reading.records import Account, Book

ASSET_TYPES = frozenset({"BANK", "CASH", "ASSET", "RECEIVABLE", "STOCK", "MUTUAL"})
LIABILITY_TYPES = frozenset({"CREDIT", "LIABILITY", "PAYABLE"})
EQUITY_TYPES = frozenset({"EQUITY"})
TRADING_TYPES = frozenset({"TRADING"})
INCOME_TYPES = frozenset({"INCOME"})
EXPENSE_TYPES = frozenset({"EXPENSE"})

RETAINED_EARNINGS = "Retained Earnings"
# GnuCash's labels for the line that balances a sheet valued at prices (balance-sheet.scm).
TRADING_LABELS = ("Trading Gains", "Trading Losses")
UNREALIZED_LABELS = ("Unrealized Gains", "Unrealized Losses")

Month = tuple[int, int]  # (year, month)


def _monthly_changes(book: Book, closing: bool = True) -> dict[Month, dict[str, Fraction]]:
    """(year, month) -> account GUID -> the change of its balance in that month, in the
    account's own commodity (split quantities, as GnuCash's balances). ``closing=False`` leaves
    out the closing entries of Tools > Close Book, as GnuCash's income statement does; their
    months are still there."""
    changes: dict[Month, dict[str, Fraction]] = {}
    for txn in book.transactions:
        month = changes.setdefault((txn.posted.year, txn.posted.month), {})
        if txn.closing and not closing:
            continue
        for split in txn.splits:
            month[split.account_guid] = month.get(split.account_guid, Fraction(0)) + split.quantity
    return changes


def _monthly_costs(book: Book) -> dict[Month, dict[str, Fraction]]:
    """(year, month) -> transaction currency -> what the asset and liability splits of the
    month cost (their values): the basis GnuCash measures unrealized gains against
    (``gnc:account-get-comm-value-at-date``)."""
    types = {a.guid: a.account_type for a in book.accounts}
    held = ASSET_TYPES | LIABILITY_TYPES
    costs: dict[Month, dict[str, Fraction]] = {}
    for txn in book.transactions:
        month = costs.setdefault((txn.posted.year, txn.posted.month), {})
        for split in txn.splits:
            if types.get(split.account_guid) in held:
                add_to(month, txn.currency, split.value)
    return costs


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
        self.commodity = {a.guid: a.commodity for a in self.accounts}
        self.types = {a.guid: a.account_type for a in self.accounts}
        self.children: dict[str | None, list[Account]] = {}
        for account in self.accounts:
            self.children.setdefault(account.parent_guid, []).append(account)

    def collect(self, types: frozenset[str], balances: dict[str, Fraction]) -> dict[str, Fraction]:
        """The balances of every account of ``types``, by commodity."""
        found: dict[str, Fraction] = {}
        for guid, amount in balances.items():
            if self.types.get(guid) in types:
                add_to(found, self.commodity[guid], amount)
        return found

    def line(
        self,
        name: str,
        types: frozenset[str],
        balances: dict[str, Fraction],
        sign: int,
        valuer: Valuer,
    ) -> tuple[dict[str, Any], Fraction]:
        """The ReportLine for the accounts of ``types``, and its exact value.

        As GnuCash's reports: an account's line is its own and its children's amounts valued
        commodity by commodity, and so is the section's total.
        """
        members = {a.guid for a in self.accounts if a.account_type in types}
        tops = [a for a in self.accounts if a.guid in members and a.parent_guid not in members]
        items = []
        for top in tops:
            item, _ = self._item(top, members, balances, sign, valuer)
            if item is not None:
                items.append(item)
        total = sign * valuer.value(self.collect(types, balances))
        return {"name": name, "value": to_amount(total, self.places), "items": items}, total

    def _item(
        self,
        account: Account,
        members: set[str],
        balances: dict[str, Fraction],
        sign: int,
        valuer: Valuer,
    ) -> tuple[dict[str, Any] | None, dict[str, Fraction]]:
        held: dict[str, Fraction] = {}
        add_to(held, account.commodity, balances.get(account.guid, Fraction(0)))
        items = []
        for child in self.children.get(account.guid, ()):
            if child.guid not in members:
                continue
            item, child_held = self._item(child, members, balances, sign, valuer)
            for commodity, amount in child_held.items():
                add_to(held, commodity, amount)
            if item is not None:
                items.append(item)
        value = sign * valuer.value(held)
        if not items and value == 0:
            return None, held  # nothing to show: an account that never moved in the period
        line: dict[str, Any] = {
            "name": account.name,
            "accountId": account.guid,
            "value": to_amount(value, self.places),
        }
        if items:
            line["items"] = items
        return line, held


def _emitted(months: list[Month], count: int | None) -> set[Month]:
    """The last ``count`` of ``months`` (all when ``count`` is None)."""
    if count is None:
        return set(months)
    if count < 1:
        raise ValueError(f"report months must be at least 1, not {count}")
    return set(months[-count:])


def _month_end(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def map_profit_and_loss(book: Book, months: int | None = None) -> list[Record]:
    places = currency_places(book.default_currency)
    tree = _Tree(book.accounts, places)
    prices = Prices(book.prices)
    # A month's profit is what was earned in it: closing entries only move it into equity.
    changes = _monthly_changes(book, closing=False)
    records = []
    every = _months(changes)
    emitted = _emitted(every, months)
    for year, month in every:
        if (year, month) not in emitted:
            continue
        last_day = _month_end(year, month)
        # income-statement.scm values the period's amounts at the price nearest its end.
        valuer = Valuer(prices, book.default_currency, places, report_time(year, month, last_day))
        moved = changes.get((year, month), {})
        income, income_total = tree.line("Income", INCOME_TYPES, moved, -1, valuer)
        expenses, _ = tree.line("Expenses", EXPENSE_TYPES, moved, 1, valuer)
        # GnuCash's net income: income less expenses, valued commodity by commodity.
        profit = to_amount(-valuer.value(tree.collect(INCOME_TYPES | EXPENSE_TYPES, moved)), places)
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
    currency = book.default_currency
    places = currency_places(currency)
    tree = _Tree(book.accounts, places)
    prices = Prices(book.prices)
    changes = _monthly_changes(book)
    # Only a book with something in another commodity can have gains from valuing it.
    foreign = any(a.commodity not in ("", currency) for a in book.accounts)
    costs = _monthly_costs(book) if foreign and not book.trading_accounts else {}
    balances: dict[str, Fraction] = {}
    cost: dict[str, Fraction] = {}
    records = []
    every = _months(changes)
    emitted = _emitted(every, months)
    for year, month in every:
        for guid, amount in changes.get((year, month), {}).items():
            balances[guid] = balances.get(guid, Fraction(0)) + amount
        for paid_in, amount in costs.get((year, month), {}).items():
            add_to(cost, paid_in, amount)
        if (year, month) not in emitted:
            continue  # still counted: a balance sheet holds everything to its date
        last_day = _month_end(year, month)
        valuer = Valuer(prices, currency, places, report_time(year, month, last_day))
        assets, asset_total = tree.line("Assets", ASSET_TYPES, balances, 1, valuer)
        liabilities, liability_total = tree.line(
            "Liabilities", LIABILITY_TYPES, balances, -1, valuer
        )
        # A book with nothing to value keeps any trading account under equity, as it always did.
        equity_types = EQUITY_TYPES if foreign else EQUITY_TYPES | TRADING_TYPES
        equity, equity_total = tree.line("Equity", equity_types, balances, -1, valuer)
        # Income (credit, negative raw) minus expenses (debit) to date.
        retained = -valuer.value(tree.collect(INCOME_TYPES | EXPENSE_TYPES, balances))
        equity_total += retained
        equity["items"].append(
            {"name": RETAINED_EARNINGS, "accountId": None, "value": to_amount(retained, places)}
        )
        if foreign:
            gains, labels = _gains(tree, valuer, balances, cost, book.trading_accounts)
            # Each commodity is rounded on its own, so the sections can miss each other by a
            # cent; GnuCash prints that, a balance sheet must balance: the gains line takes it.
            gains += _off_by(asset_total, liability_total, equity_total + gains, places)
            if gains:
                equity_total += gains
                equity["items"].append(
                    {
                        "name": labels[0] if gains >= 0 else labels[1],
                        "accountId": None,
                        "value": to_amount(gains, places),
                    }
                )
        equity["value"] = to_amount(equity_total, places)
        records.append(
            {
                "id": f"{year:04d}-{month:02d}",
                "date": f"{year:04d}-{month:02d}-{last_day:02d}T00:00:00",
                "currency": currency,
                "reportBasis": "Accrual",
                "assets": assets,
                "liabilities": liabilities,
                "equity": equity,
                "netAssets": to_amount(asset_total - liability_total, places),
            }
        )
    return records


def _gains(
    tree: _Tree,
    valuer: Valuer,
    balances: dict[str, Fraction],
    cost: Collector,
    trading_accounts: bool,
) -> tuple[Fraction, tuple[str, str]]:
    """The line that balances a sheet valued at prices, as balance-sheet.scm computes it.

    With trading accounts: their balance, negated ("Trading Gains"). Without: assets and
    liabilities at price less what they cost in their transactions' currencies ("Unrealized
    Gains"); trading accounts left over from when the option was on are then not shown at all.
    """
    if trading_accounts:
        return -valuer.value(tree.collect(TRADING_TYPES, balances)), TRADING_LABELS
    held = valuer.value(tree.collect(ASSET_TYPES | LIABILITY_TYPES, balances))
    return held - valuer.value(cost), UNREALIZED_LABELS


def _off_by(assets: Fraction, liabilities: Fraction, equity: Fraction, places: int) -> Fraction:
    """What the rounded figures miss: assets less liabilities and equity, as sent."""
    rounded = (Decimal(str(to_amount(v, places))) for v in (assets, liabilities, equity))
    a, li, e = rounded
    return Fraction(a - li - e)
