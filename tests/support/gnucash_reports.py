"""GnuCash's own Balance Sheet and Income Statement reports, run headless, for tests.

``gnucash-cli --report run --name NAME BOOK`` renders a report with its default options to HTML.
To date it, each report is first saved as a custom report template (what GnuCash's "Save Report
Configuration" writes into ``saved-reports-2.8``) whose options set only the date(s); every
other option keeps GnuCash's default, the price source ``pricedb-nearest`` among them. GnuCash
runs with a private HOME (it writes its settings and ``.log`` files) on a private copy of the
book, never the book it was given. The figures are then read off the HTML.
"""

from __future__ import annotations

import calendar
import html
import os
import re
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

from tests.support.system import require_commands

BALANCE_SHEET = "c4173ac99b2b448289bf4d11c731af13"  # balance-sheet.scm's report-guid
INCOME_STATEMENT = "0b81a3bdfd504aff849ec2e8630524bc"  # income-statement.scm's report-guid

_TEMPLATE = """
(let ()
  (define (options-gen)
    (let ((options (gnc:report-template-new-options/report-guid "{parent}" "{parent_name}")))
{settings}
      options))
  (gnc:define-report
    'version 1
    'name "{name}"
    'report-guid "{guid}"
    'parent-type "{parent}"
    'options-generator options-gen
    'menu-path (list gnc:menuname-custom)
    'renderer (gnc:report-template-renderer/report-guid "{parent}" "{parent_name}")))
"""

_SETTING = """      (let ((option (gnc:lookup-option options "General" "{option}")))
        ((gnc:option-setter option) '(absolute . {when})))"""

_MONEY = r"(\(?-?\$?-?[\d,]+\.\d\d\)?)"


def require_gnucash_cli() -> None:
    require_commands("gnucash", "gnucash-cli")


def _noon(month: str, day: int | None = None) -> int:
    year, number = int(month[:4]), int(month[5:7])
    day = day or calendar.monthrange(year, number)[1]
    return calendar.timegm((year, number, day, 12, 0, 0))


def _amount(text: str) -> Decimal:
    negative = "-" in text or text.startswith("(")
    digits = re.sub(r"[^\d.]", "", text)
    return -Decimal(digits) if negative else Decimal(digits)


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _figure(text: str, labels: tuple[str, ...]) -> Decimal | None:
    """The amount after the first of ``labels`` found (a Losses label's amount negated)."""
    for label in labels:
        found = re.search(re.escape(label) + r" " + _MONEY, text)
        if found:
            amount = _amount(found.group(1))
            return -amount if "loss" in label.lower() else amount
    return None


def run_reports(book: Path, months: list[str]) -> dict[str, dict[str, dict[str, Decimal | None]]]:
    """``{"balanceSheet": {month: figures}, "profitAndLoss": {month: figures}}`` as GnuCash's
    reports show them for each "YYYY-MM" of ``months`` (sheets at the month's end)."""
    require_gnucash_cli()
    with tempfile.TemporaryDirectory(prefix="gnucash-reports-") as tmp:
        home = Path(tmp)
        copy = Path(shutil.copy2(book, home / "book.gnucash"))
        data = home / "data"
        (data / "gnucash").mkdir(parents=True)
        templates = []
        jobs = []
        for number, month in enumerate(months):
            sheet = f"Connector oracle sheet {month}"
            pnl = f"Connector oracle pnl {month}"
            templates.append(
                _TEMPLATE.format(
                    parent=BALANCE_SHEET,
                    parent_name="Balance Sheet",
                    name=sheet,
                    guid=f"{number:016x}{'a' * 16}",
                    settings=_SETTING.format(option="Balance Sheet Date", when=_noon(month)),
                )
            )
            templates.append(
                _TEMPLATE.format(
                    parent=INCOME_STATEMENT,
                    parent_name="Income Statement",
                    name=pnl,
                    guid=f"{number:016x}{'b' * 16}",
                    settings="\n".join(
                        (
                            _SETTING.format(option="Start Date", when=_noon(month, 1)),
                            _SETTING.format(option="End Date", when=_noon(month)),
                        )
                    ),
                )
            )
            jobs.append(("balanceSheet", month, sheet))
            jobs.append(("profitAndLoss", month, pnl))
        (data / "gnucash" / "saved-reports-2.8").write_text("".join(templates))
        env = {
            **os.environ,
            "HOME": str(home),
            "XDG_DATA_HOME": str(data),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "TZ": "UTC",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }
        found: dict[str, dict[str, dict[str, Decimal | None]]] = {
            "balanceSheet": {},
            "profitAndLoss": {},
        }
        for kind, month, name in jobs:
            done = subprocess.run(
                ["gnucash-cli", "--report", "run", "--name", name, str(copy)],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )
            text = _text(done.stdout)
            if done.returncode != 0 or "Total" not in text:
                raise AssertionError(f"GnuCash's report {name!r} failed:\n{done.stderr}")
            found[kind][month] = _figures(kind, text)
        return found


def _figures(kind: str, text: str) -> dict[str, Decimal | None]:
    if kind == "balanceSheet":
        return {
            "assets": _figure(text, ("Total Assets",)),
            "liabilities": _figure(text, ("Total Liabilities",)),
            "equity": _figure(text, ("Total Equity",)),
            "trading": _figure(text, ("Trading Gains", "Trading Losses")),
            "unrealized": _figure(text, ("Unrealized Gains", "Unrealized Losses")),
        }
    return {
        "income": _figure(text, ("Total Revenue",)),
        "expenses": _figure(text, ("Total Expenses",)),
        "net": _figure(text, ("Net income for Period", "Net loss for Period")),
    }
