"""GnuCash accounts -> the standard ``Account`` (data type ``chartOfAccounts``)."""

from __future__ import annotations

from agent.sources.base import Record
from agent.sources.gnucash.mapping.amounts import to_amount
from agent.sources.gnucash.reading.records import Account, Book

# GnuCash account type -> (standard type, the words GnuCash shows for it).
ACCOUNT_TYPES: dict[str, tuple[str, str]] = {
    "BANK": ("Asset", "Bank"),
    "CASH": ("Asset", "Cash"),
    "ASSET": ("Asset", "Asset"),
    "RECEIVABLE": ("Asset", "Accounts Receivable"),
    "STOCK": ("Asset", "Stock"),
    "MUTUAL": ("Asset", "Mutual Fund"),
    "CREDIT": ("Liability", "Credit Card"),
    "LIABILITY": ("Liability", "Liability"),
    "PAYABLE": ("Liability", "Accounts Payable"),
    "EQUITY": ("Equity", "Equity"),
    "INCOME": ("Income", "Income"),
    "EXPENSE": ("Expense", "Expense"),
    "TRADING": ("Equity", "Trading"),
}

BANK_ACCOUNT_TYPES = frozenset({"BANK", "CREDIT"})


def map_accounts(book: Book) -> list[Record]:
    by_guid = {account.guid: account for account in book.accounts}
    return [_map_account(account, by_guid) for account in book.accounts]


def _map_account(account: Account, by_guid: dict[str, Account]) -> Record:
    standard_type, type_label = ACCOUNT_TYPES.get(account.account_type, ("Unknown", "Unknown"))
    return {
        "id": account.guid,
        "name": account.name,
        "fullyQualifiedName": ".".join(_path(account, by_guid)),
        "fullyQualifiedCategory": f"{standard_type}.{type_label}",
        "nominalCode": account.code or None,
        "description": account.description or None,
        "type": standard_type,
        # Hidden accounts are ones the user retired from view: the nearest standard notion.
        "status": "Archived" if account.hidden else "Active",
        "currency": account.commodity,
        # GnuCash's raw sign: debit positive, so liability, equity and income are negative.
        "currentBalance": to_amount(account.balance),
        "isBankAccount": account.account_type in BANK_ACCOUNT_TYPES,
    }


def _path(account: Account, by_guid: dict[str, Account]) -> list[str]:
    names = [account.name]
    parent = by_guid.get(account.parent_guid) if account.parent_guid else None
    while parent is not None:
        names.append(parent.name)
        parent = by_guid.get(parent.parent_guid) if parent.parent_guid else None
    return names[::-1]
