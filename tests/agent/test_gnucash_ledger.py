"""Company, tax rates, journal entries and bank accounts, mapped, against the GnuCash engine."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from agent.sources.base import Record
from protocol.clock import from_iso
from tests.support.gnucash_books import cents, place_sample, synced
from tests.support.gnucash_engine import requires_gnucash, run_oracle

FORMATS = ["sqlite", "xml-gzip"]


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_company_is_the_books_business(book_format: str, book_dir: Path, workdir: Path) -> None:
    live = place_sample(book_format, book_dir)
    truth = run_oracle(live)["book"]
    business = truth["business"]
    assert business["Company Name"] == "Harbor Lane Design Studio"  # not vacuous

    [company] = synced(live, workdir, "company")

    address = business["Company Address"].split("\n")
    assert company == {
        "id": truth["guid"],
        "companyName": business["Company Name"],
        "addresses": [{"type": "Billing", "line1": address[0], "line2": ", ".join(address[1:])}],
        "phoneNumbers": [
            {"number": business["Company Phone Number"], "type": "Primary"},
            {"number": business["Company Fax Number"], "type": "Fax"},
        ],
        "webLinks": [{"type": "Website", "url": business["Company Website URL"]}],
        "taxNumber": business["Company ID"],
        "baseCurrency": "USD",
        "supplementalData": {
            "content": {
                "gnucash": {
                    "emailAddress": business["Company Email Address"],
                    "contactPerson": business["Company Contact Person"],
                }
            }
        },
    }


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_tax_rates_are_the_users_tax_tables(
    book_format: str, book_dir: Path, workdir: Path
) -> None:
    live = place_sample(book_format, book_dir)
    truth = run_oracle(live)
    names = {a["guid"]: a["name"] for a in truth["accounts"]}
    visible = [t for t in truth["tax_tables"] if not t["invisible"]]
    # The sample's one table, and the invisible copy GnuCash made for an invoice.
    assert len(truth["tax_tables"]) == 2
    assert len(visible) == 1

    rates = synced(live, workdir, "taxRates")

    expected = []
    for table in visible:
        percent = sum(
            (Fraction(e["amount"]) for e in table["entries"] if e["type"] == "PERCENT"),
            Fraction(0),
        )
        expected.append(
            {
                "id": table["guid"],
                "name": table["name"],
                "code": table["name"],
                "effectiveTaxRate": float(percent),
                "totalTaxRate": float(percent),
                "components": [
                    {
                        "name": names[e["account"]],
                        "rate": float(Fraction(e["amount"])) if e["type"] == "PERCENT" else None,
                        "isCompound": False,
                    }
                    for e in table["entries"]
                ],
                "status": "Active",
            }
        )
    assert rates == expected
    assert rates[0]["totalTaxRate"] == 5.5


def _lines_from_engine(txn: dict[str, Any]) -> Counter[tuple[str, float, str | None]]:
    return Counter((s["account"], cents(s["value"]), s["memo"] or None) for s in txn["splits"])


def _lines(entry: Record) -> Counter[tuple[str, float, str | None]]:
    return Counter(
        (line["accountRef"]["id"], line["netAmount"], line["description"])
        for line in entry["journalLines"]
    )


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_journal_entries_are_every_transaction(
    book_format: str, book_dir: Path, workdir: Path
) -> None:
    live = place_sample(book_format, book_dir)
    truth = run_oracle(live)
    names = {a["guid"]: a["name"] for a in truth["accounts"]}
    # 19 ledger transactions, 3 invoice and 1 bill postings, 2 receipts and 1 bill payment.
    assert len(truth["transactions"]) == 26

    entries = {e["id"]: e for e in synced(live, workdir, "journalEntries")}

    assert set(entries) == {t["guid"] for t in truth["transactions"]}
    for txn in truth["transactions"]:
        entry = entries[txn["guid"]]
        assert entry["description"] == (txn["description"] or None)
        posted = datetime.fromisoformat(txn["posted"])
        assert from_iso(entry["postedOn"]).date() == posted.date()
        assert from_iso(entry["createdOn"]).replace(tzinfo=None) == datetime.fromisoformat(
            txn["entered"]
        )
        assert _lines(entry) == _lines_from_engine(txn)
        for line in entry["journalLines"]:
            assert line["currency"] == txn["currency"]
            assert line["accountRef"]["name"] == names[line["accountRef"]["id"]]
    trip = next(
        e for e in entries.values() if e["description"] == "Amtrak to Boston - client meeting"
    )
    assert sorted(line["netAmount"] for line in trip["journalLines"]) == [-146.5, 28.5, 118.0]


@requires_gnucash
@pytest.mark.parametrize("book_format", FORMATS)
def test_bank_accounts_are_bank_and_card_accounts(
    book_format: str, book_dir: Path, workdir: Path
) -> None:
    live = place_sample(book_format, book_dir)
    truth = run_oracle(live)

    banks = {b["id"]: b for b in synced(live, workdir, "bankAccounts")}

    expected = {
        a["guid"]: {
            "id": a["guid"],
            "accountName": a["name"],
            "accountType": "Debit" if a["type"] == "BANK" else "Credit",
            "nominalCode": a["code"] or None,
            "currency": a["commodity"],
            # What a card owes is a positive balance on a Credit account.
            "balance": cents(a["balance"]) * (1 if a["type"] == "BANK" else -1),
            "status": "Archived" if a["hidden"] else "Active",
        }
        for a in truth["accounts"]
        if a["type"] in {"BANK", "CREDIT"}
    }
    assert banks == expected
    by_name = {b["accountName"]: b for b in banks.values()}
    assert set(by_name) == {"Checking Account", "Savings", "Credit Card"}
    assert by_name["Checking Account"]["balance"] == 10769.06
    assert by_name["Credit Card"]["balance"] > 0
