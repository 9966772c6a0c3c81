"""The standard data model's rules that the agent checks before uploading.

Only what the public model insists on: required fields and closed enums. Field names and values
are exactly the public API's (``../shared/reference/codat-accounting-fields.txt``).
"""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]
"""One record in the standard data model, ready to be validated and uploaded as JSON."""

# A customer's credit note and a supplier's are the same shape in the model.
_CREDIT_NOTE_FIELDS = (
    "id",
    "status",
    "subTotal",
    "totalTaxAmount",
    "totalAmount",
    "totalDiscount",
    "discountPercentage",
    "remainingCredit",
)

REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "chartOfAccounts": ("id", "name", "type", "status"),
    "customers": ("id", "customerName", "status"),
    "suppliers": ("id", "supplierName", "status"),
    "company": ("id",),
    "taxRates": ("id", "name", "status"),
    "journalEntries": ("id", "postedOn", "journalLines"),
    "bankAccounts": ("id", "accountName", "accountType", "currency"),
    "invoices": ("id", "issueDate", "status", "totalAmount", "totalTaxAmount", "amountDue"),
    "bills": ("id", "issueDate", "status", "subTotal", "taxAmount", "totalAmount"),
    "creditNotes": _CREDIT_NOTE_FIELDS,
    "billCreditNotes": _CREDIT_NOTE_FIELDS,
    "payments": ("id", "date"),
    "billPayments": ("id", "date"),
    "balanceSheet": ("id", "date", "currency", "netAssets"),
    "profitAndLoss": (
        "id",
        "fromDate",
        "toDate",
        "currency",
        "reportBasis",
        "grossProfit",
        "netOperatingProfit",
        "netOtherIncome",
        "netProfit",
    ),
}

# Fields of each line of a list field, by data type and list: JournalLine.netAmount is required.
REQUIRED_LINE_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "journalEntries": {"journalLines": ("netAmount",)},
    "invoices": {"lineItems": ("quantity", "unitAmount")},
    "bills": {"lineItems": ("quantity", "unitAmount")},
    "creditNotes": {"lineItems": ("quantity", "unitAmount")},
    "billCreditNotes": {"lineItems": ("quantity", "unitAmount")},
    "payments": {"lines": ("amount",)},
    "billPayments": {"lines": ("amount",)},
}

ENUMS: dict[str, dict[str, frozenset[str]]] = {
    "chartOfAccounts": {
        "type": frozenset({"Unknown", "Asset", "Expense", "Income", "Liability", "Equity"}),
        "status": frozenset({"Unknown", "Active", "Archived", "Pending"}),
    },
    "customers": {
        "status": frozenset({"Unknown", "Active", "Archived"}),
    },
    "suppliers": {
        "status": frozenset({"Unknown", "Active", "Archived"}),
    },
    "taxRates": {
        "status": frozenset({"Unknown", "Active", "Archived"}),
    },
    "bankAccounts": {
        "accountType": frozenset({"Unknown", "Credit", "Debit"}),
        "status": frozenset({"Unknown", "Active", "Archived", "Pending"}),
    },
    "invoices": {
        "status": frozenset({"Unknown", "Draft", "Submitted", "PartiallyPaid", "Paid", "Void"}),
    },
    "bills": {
        "status": frozenset({"Unknown", "Open", "PartiallyPaid", "Paid", "Void", "Draft"}),
    },
    "creditNotes": {
        "status": frozenset({"Unknown", "Draft", "Submitted", "Void", "Paid", "PartiallyPaid"}),
    },
    "billCreditNotes": {
        "status": frozenset({"Unknown", "Draft", "Submitted", "Void", "Paid", "PartiallyPaid"}),
    },
    "profitAndLoss": {
        "reportBasis": frozenset({"Unknown", "Accrual", "Cash"}),
    },
    "balanceSheet": {
        "reportBasis": frozenset({"Unknown", "Accrual", "Cash"}),
    },
}
