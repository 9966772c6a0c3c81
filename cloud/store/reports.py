"""Financial reports assembled from the monthly figures an agent uploads.

An agent uploads a ``balanceSheet`` or ``profitAndLoss`` dataset as one record per calendar
month, with ``id`` ``"YYYY-MM"``: a balance sheet at the month's end (``date``, ``assets``,
``liabilities``, ``equity``, ``netAssets``) or a month's profit and loss (``fromDate``,
``toDate``, ``income``, ``costOfSales``, ``expenses``, ``otherIncome``, ``otherExpenses`` and the
derived totals), each in the public model's shapes, plus ``currency`` (and ``reportBasis``).
A request then picks ``periodsToCompare`` periods of ``periodLength`` months: a balance sheet
shows each period's last month (carrying the latest earlier month forward when one is missing);
a profit and loss adds up the months of each period, line by line. ``startMonth`` is the first
month of the earliest period; without it the latest period ends with the latest month synced.
Reports are listed most recent first.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date
from typing import Any

from cloud.errors import BadRequest, shown

PROFIT_AND_LOSS_LINES = ("income", "costOfSales", "expenses", "otherIncome", "otherExpenses")
PROFIT_AND_LOSS_TOTALS = ("grossProfit", "netOperatingProfit", "netOtherIncome", "netProfit")

Month = int  # months since year 0: year * 12 + (month - 1)
_FIRST_MONTH: Month = 1 * 12  # January of the year 1, and December of 9999: what dates hold
_LAST_MONTH: Month = 9999 * 12 + 11


def balance_sheet(
    monthly: Sequence[dict[str, Any]],
    *,
    period_length: int,
    periods: int,
    start_month: str | None,
) -> dict[str, Any]:
    by_month = _by_month(monthly)
    reports: list[dict[str, Any]] = []
    for _first, last in _periods(by_month, period_length, periods, start_month):
        available = [m for m in by_month if m <= last]
        if not available:
            continue
        record = by_month[max(available)]
        report: dict[str, Any] = {"date": _iso(_month_end(last))}
        report.update({k: record[k] for k in ("assets", "liabilities", "equity") if k in record})
        report["netAssets"] = record.get("netAssets", 0)
        reports.append(report)
    return {**_envelope(by_month), "reports": reports}


def profit_and_loss(
    monthly: Sequence[dict[str, Any]],
    *,
    period_length: int,
    periods: int,
    start_month: str | None,
) -> dict[str, Any]:
    by_month = _by_month(monthly)
    reports = []
    for first, last in _periods(by_month, period_length, periods, start_month):
        months = [by_month[m] for m in range(first, last + 1) if m in by_month]
        report: dict[str, Any] = {
            "fromDate": _iso(_month_start(first)),
            "toDate": _iso(_month_end(last)),
        }
        for key in PROFIT_AND_LOSS_LINES:
            lines = [m[key] for m in months if key in m]
            if lines:
                report[key] = _sum_lines(lines)
        for key in PROFIT_AND_LOSS_TOTALS:
            report[key] = round(sum(m.get(key, 0) for m in months), 2)
        reports.append(report)
    basis = next((m["reportBasis"] for m in by_month.values() if "reportBasis" in m), "Accrual")
    return {**_envelope(by_month), "reportBasis": basis, "reports": reports}


def _periods(
    by_month: dict[Month, dict[str, Any]], length: int, count: int, start_month: str | None
) -> list[tuple[Month, Month]]:
    if not 1 <= length <= 12:
        raise BadRequest("periodLength must be a number of months from 1 to 12.")
    if not 1 <= count <= 60:
        raise BadRequest("periodsToCompare must be from 1 to 60.")
    if start_month is not None:
        first = _parse_month(start_month)
        spans = [(first + i * length, first + (i + 1) * length - 1) for i in range(count)]
    else:
        if not by_month:
            return []
        last = max(by_month)
        spans = [(last - (i + 1) * length + 1, last - i * length) for i in range(count)][::-1]
    if spans[0][0] < _FIRST_MONTH or spans[-1][1] > _LAST_MONTH:
        raise BadRequest("The periods asked for run outside the years 1 to 9999.")
    return spans[::-1]  # most recent first


def _sum_lines(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up report lines of the same shape, matching sub-lines by account and name."""
    total: dict[str, Any] = {k: v for k, v in lines[0].items() if k not in ("value", "items")}
    total["value"] = round(sum(line.get("value", 0) for line in lines), 2)
    children: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for line in lines:
        for item in line.get("items") or []:
            children.setdefault((item.get("accountId"), item.get("name")), []).append(item)
    if children:
        total["items"] = [_sum_lines(group) for group in children.values()]
    return total


def _by_month(monthly: Sequence[dict[str, Any]]) -> dict[Month, dict[str, Any]]:
    return {
        _parse_month(record["id"]): record
        for record in monthly
        if not record.get("metadata", {}).get("isDeleted")
    }


def _envelope(by_month: dict[Month, dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "currency": next((m["currency"] for m in by_month.values() if "currency" in m), "")
    }
    if by_month:
        body["earliestAvailableMonth"] = _iso(_month_start(min(by_month)))
        body["mostRecentAvailableMonth"] = _iso(_month_start(max(by_month)))
    return body


def _parse_month(text: str) -> Month:
    try:
        year, month = int(text[0:4]), int(text[5:7])
    except ValueError as exc:
        raise BadRequest(f"{shown(text)} is not a month (YYYY-MM or YYYY-MM-DD).") from exc
    if not 1 <= month <= 12 or not 1 <= year <= 9999 or text[4:5] != "-":
        raise BadRequest(f"{shown(text)} is not a month (YYYY-MM or YYYY-MM-DD).")
    return year * 12 + month - 1


def _month_start(month: Month) -> date:
    return date(month // 12, month % 12 + 1, 1)


def _month_end(month: Month) -> date:
    year, number = month // 12, month % 12 + 1
    return date(year, number, calendar.monthrange(year, number)[1])


def _iso(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"
