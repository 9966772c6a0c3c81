"""GnuCash bank and credit card accounts -> the standard ``BankAccount`` (``bankAccounts``)."""

from __future__ import annotations

from agent.sources.base import Record
from agent.sources.gnucash.mapping.accounts import BANK_ACCOUNT_TYPES
from agent.sources.gnucash.mapping.amounts import to_amount
from agent.sources.gnucash.reading.records import Account, Book

# Debit accounts hold money (positive = asset); credit accounts owe it (positive = liability).
ACCOUNT_TYPES = {"BANK": "Debit", "CREDIT": "Credit"}


def map_bank_accounts(book: Book) -> list[Record]:
    return [_map(a) for a in book.accounts if a.account_type in BANK_ACCOUNT_TYPES]


def _map(account: Account) -> Record:
    kind = ACCOUNT_TYPES[account.account_type]
    # GnuCash's balance is debit positive; the standard model shows what a credit card owes as
    # a positive balance, so a credit account's sign flips.
    balance = account.balance if kind == "Debit" else -account.balance
    return {
        "id": account.guid,
        "accountName": account.name,
        "accountType": kind,
        "nominalCode": account.code or None,
        "currency": account.commodity,
        "balance": to_amount(balance),
        "status": "Archived" if account.hidden else "Active",
    }
