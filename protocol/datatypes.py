"""Data type keys of the public API, which of them are fetched when a company first links, and
how people say them.

Shared by the cloud (what may be queued, what dataStatus lists) and the agent (what it reads).
"""

from __future__ import annotations

import re

ACCOUNTING_DATA_TYPES: tuple[str, ...] = (
    "accountTransactions",
    "balanceSheet",
    "bankAccounts",
    "bankTransactions",
    "billCreditNotes",
    "billPayments",
    "bills",
    "cashFlowStatement",
    "chartOfAccounts",
    "company",
    "creditNotes",
    "customers",
    "directCosts",
    "directIncomes",
    "invoices",
    "itemReceipts",
    "items",
    "journalEntries",
    "journals",
    "paymentMethods",
    "payments",
    "profitAndLoss",
    "purchaseOrders",
    "salesOrders",
    "suppliers",
    "taxRates",
    "trackingCategories",
    "transfers",
)
"""Every accounting data type key, in the public API's (alphabetical) order."""

FETCH_ON_FIRST_LINK: tuple[str, ...] = (
    "company",
    "chartOfAccounts",
    "customers",
    "suppliers",
    "invoices",
    "bills",
)
"""Queued, in this order, when a connection is first linked (the defaults of the sync settings)."""

# Where splitting the key at its capitals would not say what a bookkeeper calls it.
_WORDS = {"company": "company details"}


def data_type_words(data_type: str) -> str:
    """A data type key as people say it: ``chartOfAccounts`` -> "chart of accounts"."""
    if data_type in _WORDS:
        return _WORDS[data_type]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", data_type).lower()
