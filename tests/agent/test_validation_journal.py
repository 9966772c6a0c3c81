"""The Validating phase's rules for journal entries: lines present, and balanced."""

from __future__ import annotations

from typing import Any

import pytest

from agent.errors import RecordsInvalid
from agent.standard.validation import validate


def _entry(*amounts: Any) -> dict[str, Any]:
    return {
        "id": "txn-1",
        "postedOn": "2026-01-02T00:00:00.000000Z",
        "journalLines": [{"netAmount": a, "currency": "USD"} for a in amounts],
    }


def test_a_balanced_entry_passes() -> None:
    validate("journalEntries", [_entry(118.0, 28.5, -146.5), _entry(0.1, 0.2, -0.3) | {"id": "2"}])


def test_an_unbalanced_entry_names_itself_and_its_sums() -> None:
    with pytest.raises(RecordsInvalid) as raised:
        validate("journalEntries", [_entry(100.0, -99.99)])

    message = str(raised.value)
    assert "'txn-1'" in message
    assert "sum to 0.01" in message
    assert "debits 100.0" in message
    assert "credits -99.99" in message


def test_a_line_without_an_amount_is_invalid() -> None:
    entry = _entry(1.0, -1.0)
    del entry["journalLines"][1]["netAmount"]

    with pytest.raises(RecordsInvalid, match="line 2 of journalLines has no netAmount"):
        validate("journalEntries", [entry])


def test_bank_account_type_must_be_debit_or_credit() -> None:
    record = {"id": "a", "accountName": "Checking", "accountType": "Savings", "currency": "USD"}

    with pytest.raises(RecordsInvalid, match="accountType 'Savings'"):
        validate("bankAccounts", [record])
