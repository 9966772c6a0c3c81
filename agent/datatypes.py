"""Data type keys of the public API, and which of them are fetched when a company first links.

Shared by the cloud (what may be queued, what dataStatus lists) and the agent (what it reads).
"""

from __future__ import annotations

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
