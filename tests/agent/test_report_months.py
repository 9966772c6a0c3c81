"""The ``report_months`` setting: only the last N calendar months of the monthly reports."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from agent.sources.gnucash.mapping.reports import map_balance_sheet, map_profit_and_loss
from agent.sources.gnucash.reading.records import Account, Book, Split, Transaction
from agent.sources.gnucash.source import GnuCashSource
from agent.standard.validation import validate
from agent.support.config import AgentConfig, Paths, load_config, save_config
from tests.support.gnucash_books import place_sample

BANK, SALES, EQUITY = "bank", "sales", "equity"


class LedgerInMemory:
    """The readers' Ledger over a few transactions held here, in the order given (the readers
    stream theirs from a file)."""

    def __init__(self, *transactions: Transaction) -> None:
        self._transactions = transactions

    def __iter__(self) -> Iterator[Transaction]:
        return iter(self._transactions)

    def select(self, guids: Collection[str]) -> Iterator[Transaction]:
        return (t for t in self._transactions if t.guid in guids)

    def latest_posted(self) -> datetime | None:
        return max((t.posted for t in self._transactions), default=None)


def _account(guid: str, kind: str) -> Account:
    return Account(guid, guid.title(), kind, None, "", "", False, False, "USD", Fraction(0))


def _sale(number: int, when: datetime, amount: int) -> Transaction:
    value = Fraction(amount)
    return Transaction(
        guid=f"t{number}",
        currency="USD",
        num="",
        description="Sale",
        posted=when,
        entered=when,
        splits=(
            Split(f"s{number}a", BANK, "", value, value),
            Split(f"s{number}b", SALES, "", -value, -value),
        ),
    )


def _book() -> Book:
    """Sales in January, March and April 2026 (none in February), and an opening balance in
    November 2025: six calendar months in all."""
    opening = Transaction(
        guid="t0",
        currency="USD",
        num="",
        description="Opening balance",
        posted=datetime(2025, 11, 3, 10, 59, tzinfo=UTC),
        entered=datetime(2025, 11, 3, 10, 59, tzinfo=UTC),
        splits=(
            Split("s0a", BANK, "", Fraction(1000), Fraction(1000)),
            Split("s0b", EQUITY, "", Fraction(-1000), Fraction(-1000)),
        ),
    )
    return Book(
        format="sqlite",
        default_currency="USD",
        accounts=(_account(BANK, "BANK"), _account(SALES, "INCOME"), _account(EQUITY, "EQUITY")),
        customers=(),
        vendors=(),
        snapshot_taken=datetime(2026, 5, 1, tzinfo=UTC),
        transactions=LedgerInMemory(
            opening,
            _sale(1, datetime(2026, 1, 10, 10, 59, tzinfo=UTC), 100),
            _sale(2, datetime(2026, 3, 10, 10, 59, tzinfo=UTC), 40),
            _sale(3, datetime(2026, 4, 30, 10, 59, tzinfo=UTC), 5),
        ),
    )


def test_all_months_by_default() -> None:
    ids = ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]
    assert [r["id"] for r in map_profit_and_loss(_book())] == ids
    assert [r["id"] for r in map_balance_sheet(_book())] == ids


def test_two_months_are_the_last_two_calendar_months() -> None:
    profit = map_profit_and_loss(_book(), months=2)
    sheets = map_balance_sheet(_book(), months=2)

    assert [r["id"] for r in profit] == ["2026-03", "2026-04"]
    assert [r["netProfit"] for r in profit] == [40.0, 5.0]
    assert [r["id"] for r in sheets] == ["2026-03", "2026-04"]
    # The earliest emitted balance sheet still holds everything before it.
    march = sheets[0]
    assert march["assets"]["value"] == 1140.0  # 1000 opening + 100 in January + 40 in March
    assert march["equity"]["value"] == 1140.0  # 1000 opening + 140 retained earnings
    assert sheets[1]["netAssets"] == 1145.0
    validate("balanceSheet", sheets)
    validate("profitAndLoss", profit)


def test_a_month_without_transactions_still_counts() -> None:
    # February has no transaction but is one of the last three calendar months.
    assert [r["id"] for r in map_profit_and_loss(_book(), months=3)] == [
        "2026-02",
        "2026-03",
        "2026-04",
    ]


def test_more_months_than_the_book_spans_gives_them_all() -> None:
    assert len(map_balance_sheet(_book(), months=24)) == 6


def test_zero_months_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        map_profit_and_loss(_book(), months=0)


def test_the_source_passes_its_setting_to_the_reports(tmp_path: Path) -> None:
    source = GnuCashSource(tmp_path / "Book.gnucash", tmp_path / "work", report_months=1)

    assert [r["id"] for r in source.map("profitAndLoss", _book())] == ["2026-04"]
    assert [r["id"] for r in source.map("balanceSheet", _book())] == ["2026-04"]
    assert (
        len(list(GnuCashSource(tmp_path / "B", tmp_path / "w").map("balanceSheet", _book()))) == 6
    )


def test_the_setting_changes_the_fingerprint(tmp_path: Path) -> None:
    book = place_sample("sqlite", tmp_path)
    everything = GnuCashSource(book, tmp_path / "work").fingerprint()
    twelve = GnuCashSource(book, tmp_path / "work", report_months=12).fingerprint()

    assert everything and twelve and everything != twelve


def test_report_months_is_saved_and_loaded(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "logs")
    assert load_config(paths).report_months is None

    save_config(paths, AgentConfig(report_months=12))

    assert load_config(paths).report_months == 12
    assert json.loads(paths.config_file.read_text())["report_months"] == 12


@pytest.mark.parametrize("stored", [0, -3, "12", 1.5, True, None])
def test_a_report_months_that_is_not_a_positive_whole_number_means_all(
    tmp_path: Path, stored: object
) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "logs")
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(json.dumps({"schema_version": 1, "report_months": stored}))

    assert load_config(paths).report_months is None
