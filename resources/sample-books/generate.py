"""Build the sample GnuCash books with the real GnuCash engine.

Run with Debian's interpreter, which has the engine's bindings (package python3-gnucash)::

    /usr/bin/python3 resources/sample-books/generate.py OUTDIR

It writes ``OUTDIR/sample.gnucash`` (SQLite) and ``OUTDIR/sample-xml.gnucash`` (gzip-compressed
XML, GnuCash's default format). Both hold the very same book, GUIDs included: the book is built
once in the SQLite session, then handed to an XML session the way GnuCash's own "Save As" does.
Names, amounts and dates are fixed, so only GUIDs change from one run to the next.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

# The bindings turn dates into times with the C library's local time zone, and GnuCash stores
# some of them (invoice opened/due dates, payment dates) at local midnight. Pinning the zone to UTC
# before the engine loads makes the stored times the same on every machine.
os.environ["TZ"] = "UTC"
time.tzset()

from engine_books import write_both  # noqa: E402 - beside this file; after TZ is pinned
from gnucash import (  # noqa: E402
    Account,
    GncNumeric,
    Query,
    Split,
    Transaction,
)
from gnucash import gnucash_core_c as core  # noqa: E402
from gnucash.gnucash_business import (  # noqa: E402
    Customer,
    Entry,
    Invoice,
    TaxTable,
    TaxTableEntry,
    Vendor,
)

SQLITE_NAME = "sample.gnucash"
XML_NAME = "sample-xml.gnucash"
CURRENCY = "USD"

ACCOUNT_TYPES = {
    "ASSET": core.ACCT_TYPE_ASSET,
    "BANK": core.ACCT_TYPE_BANK,
    "CASH": core.ACCT_TYPE_CASH,
    "RECEIVABLE": core.ACCT_TYPE_RECEIVABLE,
    "LIABILITY": core.ACCT_TYPE_LIABILITY,
    "PAYABLE": core.ACCT_TYPE_PAYABLE,
    "CREDIT": core.ACCT_TYPE_CREDIT,
    "EQUITY": core.ACCT_TYPE_EQUITY,
    "INCOME": core.ACCT_TYPE_INCOME,
    "EXPENSE": core.ACCT_TYPE_EXPENSE,
}

# (full name, type, code, description, placeholder, hidden); parents come before children.
ACCOUNTS: list[tuple[str, str, str, str, bool, bool]] = [
    ("Assets", "ASSET", "", "", True, False),
    ("Assets:Current Assets", "ASSET", "1000", "", True, False),
    (
        "Assets:Current Assets:Checking Account",
        "BANK",
        "1010",
        "Harbor Community Bank business checking",
        False,
        False,
    ),
    ("Assets:Current Assets:Savings", "BANK", "1020", "Tax reserve savings", False, False),
    ("Assets:Current Assets:Petty Cash", "CASH", "1030", "Studio cash box", False, False),
    ("Assets:Current Assets:Accounts Receivable", "RECEIVABLE", "1200", "", False, False),
    ("Assets:Fixed Assets", "ASSET", "1500", "", True, False),
    (
        "Assets:Fixed Assets:Computer Equipment",
        "ASSET",
        "1510",
        "Workstations, displays and a large-format printer",
        False,
        False,
    ),
    ("Liabilities", "LIABILITY", "", "", True, False),
    ("Liabilities:Accounts Payable", "PAYABLE", "2000", "", False, False),
    ("Liabilities:Credit Card", "CREDIT", "2100", "Business Visa ending 4417", False, False),
    (
        "Liabilities:Sales Tax Payable",
        "LIABILITY",
        "2200",
        "Maine sales tax on printed goods",
        False,
        False,
    ),
    ("Equity", "EQUITY", "", "", True, False),
    ("Equity:Opening Balances", "EQUITY", "3000", "", False, False),
    ("Equity:Owner's Draw", "EQUITY", "3100", "Money taken out by the owner", False, False),
    ("Income", "INCOME", "", "", True, False),
    ("Income:Design Services", "INCOME", "4000", "Branding, print and web design", False, False),
    ("Income:Consulting", "INCOME", "4100", "Workshops and strategy sessions", False, False),
    ("Income:Interest Income", "INCOME", "4900", "", False, False),
    ("Expenses", "EXPENSE", "", "", True, False),
    ("Expenses:Rent", "EXPENSE", "6000", "Studio at 18 Harbor Lane", False, False),
    ("Expenses:Software Subscriptions", "EXPENSE", "6100", "", False, False),
    ("Expenses:Travel", "EXPENSE", "6200", "", False, False),
    ("Expenses:Meals", "EXPENSE", "6250", "Client meals while travelling", False, False),
    ("Expenses:Office Supplies", "EXPENSE", "6300", "", False, False),
    ("Expenses:Printing", "EXPENSE", "6350", "Merged into Office Supplies in 2025", False, True),
    ("Expenses:Bank Fees", "EXPENSE", "6400", "", False, False),
]


# A customer: ID, name, notes, active, billing address, shipping address.
# An address: (name, lines, phone, fax, email).
Addr = tuple[str, tuple[str, ...], str, str, str]
NO_ADDR: Addr = ("", (), "", "", "")

CUSTOMERS: list[tuple[str, str, str, bool, Addr, Addr]] = [
    (
        "000001",
        "Bluewater Coffee Roasters",
        "Rebrand project started January 2026. Net 30.",
        True,
        (
            "Maria Chen",
            ("Bluewater Coffee Roasters", "412 Wharf Street, Suite 3", "Portland, ME 04101"),
            "(207) 555-0142",
            "",
            "maria.chen@bluewatercoffee.example",
        ),
        NO_ADDR,
    ),
    (
        "000002",
        "Café Lumière",
        "Menus and signage.\nPrefers invoices by email.",
        True,
        (
            "Accounts Payable",
            ("Café Lumière LLC", "PO Box 118", "Camden, ME 04843"),
            "(207) 555-0199",
            "",
            "ap@cafelumiere.example",
        ),
        (
            "Hélène Dubois",
            ("Café Lumière", "27 Bayview Street", "Camden, ME 04843"),
            "(207) 555-0190",
            "",
            "",
        ),
    ),
    (
        "000003",
        "Pine & Pier Outfitters",
        "",
        True,
        (
            "Sam Okafor",
            ("Pine & Pier Outfitters", "88 Commercial Street", "Rockland, ME 04841"),
            "(207) 555-0107",
            "",
            "sam@pineandpier.example",
        ),
        NO_ADDR,
    ),
    (
        "000004",
        "Northfield Dental Group",
        "Website UX audit, spring 2026.",
        True,
        (
            "Dr. Priya Raman",
            (
                "Northfield Dental Group",
                "1200 Forest Avenue",
                "Building B, 2nd Floor",
                "Portland, ME 04103",
            ),
            "(207) 555-0175",
            "(207) 555-0176",
            "office@northfielddental.example",
        ),
        NO_ADDR,
    ),
    (
        "000005",
        "Greenway Landscaping Co.",
        "Closed the business in 2025; kept for history.",
        False,
        (
            "Tom Greenway",
            ("Greenway Landscaping Co.", "5 Old County Road", "Brunswick, ME 04011"),
            "(207) 555-0111",
            "",
            "",
        ),
        NO_ADDR,
    ),
    (
        "000006",
        "Marlowe & Finch Legal LLP",
        "Annual report design every March.",
        True,
        (
            "Office Manager",
            ("Marlowe & Finch Legal LLP", "One Monument Square, 7th Floor", "Portland, ME 04101"),
            "(207) 555-0160",
            "(207) 555-0161",
            "billing@marlowefinch.example",
        ),
        NO_ADDR,
    ),
]

VENDORS: list[tuple[str, str, Addr]] = [
    (
        "000001",
        "Portside Properties LLC",
        (
            "Leasing Office",
            ("Portside Properties LLC", "300 Fore Street", "Portland, ME 04101"),
            "(207) 555-0130",
            "",
            "leasing@portside.example",
        ),
    ),
    (
        "000002",
        "Casco Print Works",
        (
            "Orders",
            ("Casco Print Works", "71 Industrial Way", "Westbrook, ME 04092"),
            "(207) 555-0184",
            "",
            "orders@cascoprint.example",
        ),
    ),
    (
        "000003",
        "Pixelform Software Inc.",
        (
            "Billing",
            ("Pixelform Software Inc.", "500 Market Street", "San Francisco, CA 94105"),
            "",
            "",
            "",
        ),
    ),
]

CHECKING = "Assets:Current Assets:Checking Account"
SAVINGS = "Assets:Current Assets:Savings"
PETTY = "Assets:Current Assets:Petty Cash"
RECEIVABLE = "Assets:Current Assets:Accounts Receivable"
PAYABLE = "Liabilities:Accounts Payable"
CARD = "Liabilities:Credit Card"

# Plain ledger transactions: (date, num, description, [(account, amount, memo)]); debit positive.
TRANSACTIONS: list[tuple[dt.date, str, str, list[tuple[str, str, str]]]] = [
    (
        dt.date(2026, 1, 1),
        "",
        "Opening balances",
        [
            (CHECKING, "18450.00", ""),
            (SAVINGS, "25000.00", ""),
            (PETTY, "150.00", ""),
            ("Assets:Fixed Assets:Computer Equipment", "6200.00", ""),
            (CARD, "-1284.37", "December statement"),
            ("Equity:Opening Balances", "-48515.63", ""),
        ],
    ),
    (
        dt.date(2026, 1, 2),
        "1001",
        "Portside Properties - January rent",
        [("Expenses:Rent", "2150.00", ""), (CHECKING, "-2150.00", "")],
    ),
    (
        dt.date(2026, 1, 5),
        "",
        "Pixelform Studio subscription",
        [("Expenses:Software Subscriptions", "89.99", "Monthly plan"), (CARD, "-89.99", "")],
    ),
    (
        dt.date(2026, 1, 8),
        "",
        "Figma Professional",
        [("Expenses:Software Subscriptions", "45.00", ""), (CARD, "-45.00", "")],
    ),
    (
        dt.date(2026, 1, 12),
        "",
        "Harbor Arts Council - brand strategy workshop",
        [(CHECKING, "1500.00", "Paid on the day"), ("Income:Consulting", "-1500.00", "")],
    ),
    (
        dt.date(2026, 1, 22),
        "",
        "Paper, pens and printer toner",
        [("Expenses:Office Supplies", "37.84", ""), (PETTY, "-37.84", "")],
    ),
    (
        dt.date(2026, 1, 28),
        "",
        "Transfer to tax reserve",
        [(SAVINGS, "3000.00", ""), (CHECKING, "-3000.00", "")],
    ),
    (
        dt.date(2026, 1, 31),
        "",
        "Interest",
        [(SAVINGS, "12.47", ""), ("Income:Interest Income", "-12.47", "")],
    ),
    (
        dt.date(2026, 1, 31),
        "",
        "Monthly account fee",
        [("Expenses:Bank Fees", "15.00", ""), (CHECKING, "-15.00", "")],
    ),
    (
        dt.date(2026, 2, 2),
        "1002",
        "Portside Properties - February rent",
        [("Expenses:Rent", "2150.00", ""), (CHECKING, "-2150.00", "")],
    ),
    (
        dt.date(2026, 2, 5),
        "",
        "Pixelform Studio subscription",
        [("Expenses:Software Subscriptions", "89.99", "Monthly plan"), (CARD, "-89.99", "")],
    ),
    (
        dt.date(2026, 2, 9),
        "",
        "Amtrak to Boston - client meeting",
        [
            ("Expenses:Travel", "118.00", "Downeaster return"),
            ("Expenses:Meals", "28.50", "Lunch with Marlowe & Finch"),
            (CARD, "-146.50", ""),
        ],
    ),
    (
        dt.date(2026, 2, 14),
        "1003",
        "Credit card payment",
        [(CARD, "1284.37", ""), (CHECKING, "-1284.37", "")],
    ),
    (
        dt.date(2026, 2, 27),
        "",
        "Owner's draw",
        [("Equity:Owner's Draw", "2500.00", ""), (CHECKING, "-2500.00", "")],
    ),
    (
        dt.date(2026, 2, 28),
        "",
        "Interest",
        [(SAVINGS, "12.61", ""), ("Income:Interest Income", "-12.61", "")],
    ),
    (
        dt.date(2026, 3, 2),
        "1004",
        "Portside Properties - March rent",
        [("Expenses:Rent", "2150.00", ""), (CHECKING, "-2150.00", "")],
    ),
    (
        dt.date(2026, 3, 5),
        "",
        "Pixelform Studio subscription",
        [("Expenses:Software Subscriptions", "89.99", "Monthly plan"), (CARD, "-89.99", "")],
    ),
    (
        dt.date(2026, 3, 18),
        "",
        "Harborview Hotel, Boston - 2 nights",
        [("Expenses:Travel", "389.20", ""), (CARD, "-389.20", "")],
    ),
    (
        dt.date(2026, 3, 31),
        "",
        "Interest",
        [(SAVINGS, "13.02", ""), ("Income:Interest Income", "-13.02", "")],
    ),
]

# The book's own business details (File > Properties > Business), stored as book options.
COMPANY_OPTIONS: list[tuple[str, str]] = [
    ("options/Business/Company Name", "Harbor Lane Design Studio"),
    ("options/Business/Company Address", "18 Harbor Lane\nSuite 2\nPortland, ME 04101"),
    ("options/Business/Company ID", "EIN 84-2917365"),
    ("options/Business/Company Phone Number", "(207) 555-0100"),
    ("options/Business/Company Fax Number", "(207) 555-0101"),
    ("options/Business/Company Email Address", "hello@harborlane.example"),
    ("options/Business/Company Website URL", "https://harborlane.example"),
    ("options/Business/Company Contact Person", "Jo Harbor"),
]

TAX_TABLE = "Maine Sales Tax"
TAX_PERCENT = "5.5"

# Customer invoices: (ID, customer ID, opened, posted, due, notes, lines, payments).
# A line: (description, account, quantity, price, taxable); a payment: (date, amount, num).
INVOICES: list[
    tuple[
        str,
        str,
        dt.date,
        dt.date | None,
        dt.date | None,
        str,
        list[tuple[str, str, str, str, bool]],
        list[tuple[dt.date, str, str]],
    ]
] = [
    (
        "000001",
        "000001",
        dt.date(2026, 1, 15),
        dt.date(2026, 1, 20),
        dt.date(2026, 2, 19),
        "Rebrand, phase 1",
        [
            ("Logo redesign", "Income:Design Services", "1", "2400.00", False),
            ("Brand guidelines (hours)", "Income:Design Services", "12", "95.00", False),
            ("Printed business cards, 500", "Income:Design Services", "2", "42.50", True),
        ],
        [(dt.date(2026, 2, 18), "3629.68", "ACH 20260218")],
    ),
    (
        "000002",
        "000002",
        dt.date(2026, 2, 6),
        dt.date(2026, 2, 10),
        dt.date(2026, 3, 12),
        "",
        [
            ("Menu design", "Income:Design Services", "1", "850.00", False),
            ("Signage plan (hours)", "Income:Consulting", "4", "120.00", False),
        ],
        [(dt.date(2026, 3, 5), "500.00", "Check 2207")],
    ),
    (
        "000003",
        "000004",
        dt.date(2026, 3, 10),
        dt.date(2026, 3, 12),
        dt.date(2026, 4, 11),
        "Website UX audit",
        [("UX audit (hours)", "Income:Consulting", "10", "125.00", False)],
        [],
    ),
    (
        "000004",
        "000003",
        dt.date(2026, 3, 25),
        None,
        None,
        "Draft: catalogue layout, not sent yet",
        [("Spring catalogue layout", "Income:Design Services", "1", "1800.00", False)],
        [],
    ),
]

# Vendor bills: (ID, vendor ID, opened/posted, due, lines, payments); paid from Checking.
BILLS: list[
    tuple[str, str, dt.date, dt.date, list[tuple[str, str, str, str]], list[tuple[dt.date, str]]]
] = [
    (
        "B-0001",
        "000002",
        dt.date(2026, 1, 18),
        dt.date(2026, 2, 17),
        [("Business cards for Bluewater, 1000", "Expenses:Office Supplies", "1", "61.25")],
        [(dt.date(2026, 2, 1), "61.25")],
    ),
]


def money(amount: str) -> GncNumeric:
    """An exact GncNumeric in cents from a decimal string."""
    cents = Decimal(amount) * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} has more than two decimals")
    return GncNumeric(int(cents), 100)


def quantity(amount: str) -> GncNumeric:
    return GncNumeric(int(Decimal(amount) * 1000), 1000)


def at(day: dt.date, hour: int = 17) -> dt.datetime:
    """A fixed time on ``day`` for "entered" stamps, which default to now (local time is UTC)."""
    return dt.datetime(day.year, day.month, day.day, hour)


def build_accounts(book: Any, usd: Any) -> dict[str, Any]:
    root = book.get_root_account()
    made: dict[str, Any] = {}
    for full_name, type_name, code, description, placeholder, hidden in ACCOUNTS:
        parent_name, _, name = full_name.rpartition(":")
        parent = made[parent_name] if parent_name else root
        account = Account(book)
        account.BeginEdit()
        account.SetName(name)
        account.SetType(ACCOUNT_TYPES[type_name])
        account.SetCommodity(usd)
        account.SetCode(code)
        account.SetDescription(description)
        account.SetPlaceholder(placeholder)
        account.SetHidden(hidden)
        parent.append_child(account)
        account.CommitEdit()
        made[full_name] = account
    made["Equity:Opening Balances"].BeginEdit()
    made["Equity:Opening Balances"].SetIsOpeningBalance(True)
    made["Equity:Opening Balances"].CommitEdit()
    return made


def fill_address(address: Any, addr: Addr) -> None:
    name, lines, phone, fax, email = addr
    address.BeginEdit()
    address.SetName(name)
    setters = (address.SetAddr1, address.SetAddr2, address.SetAddr3, address.SetAddr4)
    for setter, line in zip(setters, lines, strict=False):
        setter(line)
    address.SetPhone(phone)
    address.SetFax(fax)
    address.SetEmail(email)
    address.CommitEdit()


def build_customers(book: Any, usd: Any) -> dict[str, Any]:
    made: dict[str, Any] = {}
    for number, name, notes, active, billing, shipping in CUSTOMERS:
        customer = Customer(book, number, usd, name)
        customer.BeginEdit()
        customer.SetNotes(notes)
        customer.SetActive(active)
        fill_address(customer.GetAddr(), billing)
        if shipping != NO_ADDR:
            fill_address(customer.GetShipAddr(), shipping)
        customer.CommitEdit()
        made[number] = customer
    return made


def build_vendors(book: Any, usd: Any) -> dict[str, Any]:
    made: dict[str, Any] = {}
    for number, name, addr in VENDORS:
        vendor = Vendor(book, number, usd, name)
        vendor.BeginEdit()
        fill_address(vendor.GetAddr(), addr)
        vendor.CommitEdit()
        made[number] = vendor
    return made


def build_transactions(book: Any, usd: Any, accounts: dict[str, Any]) -> None:
    for day, num, description, splits in TRANSACTIONS:
        txn = Transaction(book)
        txn.BeginEdit()
        txn.SetCurrency(usd)
        txn.SetDatePostedSecsNormalized(dt.datetime(day.year, day.month, day.day))
        txn.SetNum(num)
        txn.SetDescription(description)
        for account_name, amount, memo in splits:
            split = Split(book)
            split.SetParent(txn)
            split.SetAccount(accounts[account_name])
            split.SetMemo(memo)
            split.SetValue(money(amount))
            split.SetAmount(money(amount))
        txn.CommitEdit()


def build_invoices(
    book: Any,
    usd: Any,
    accounts: dict[str, Any],
    customers: dict[str, Any],
    vendors: dict[str, Any],
) -> None:
    tax_table = TaxTable(
        book,
        TAX_TABLE,
        TaxTableEntry(
            accounts["Liabilities:Sales Tax Payable"],
            True,
            GncNumeric(int(Decimal(TAX_PERCENT) * 10), 10),
        ),
    )
    for number, customer_id, opened, posted, due, notes, lines, payments in INVOICES:
        invoice = Invoice(book, number, usd, customers[customer_id], opened)
        invoice.BeginEdit()
        invoice.SetNotes(notes)
        for description, account_name, qty, price, taxable in lines:
            entry = Entry(book, invoice, opened)
            entry.BeginEdit()
            entry.SetDateEntered(at(opened))
            entry.SetDescription(description)
            entry.SetQuantity(quantity(qty))
            entry.SetInvAccount(accounts[account_name])
            entry.SetInvPrice(money(price))
            entry.SetInvTaxIncluded(False)
            entry.SetInvTaxable(taxable)
            if taxable:
                entry.SetInvTaxTable(tax_table)
            entry.CommitEdit()
        invoice.CommitEdit()
        if posted is None:
            continue
        invoice.PostToAccount(accounts[RECEIVABLE], posted, due, notes, True, False)
        for day, amount, num in payments:
            invoice.ApplyPayment(
                None, accounts[CHECKING], money(amount), GncNumeric(1), day, "Payment received", num
            )

    for number, vendor_id, posted, due, lines, payments in BILLS:
        bill = Invoice(book, number, usd, vendors[vendor_id], posted)
        bill.BeginEdit()
        for description, account_name, qty, price in lines:
            entry = Entry(book, bill, posted)
            entry.BeginEdit()
            entry.SetDateEntered(at(posted))
            entry.SetDescription(description)
            entry.SetQuantity(quantity(qty))
            entry.SetBillAccount(accounts[account_name])
            entry.SetBillPrice(money(price))
            entry.SetBillTaxable(False)
            entry.CommitEdit()
        bill.CommitEdit()
        bill.PostToAccount(accounts[PAYABLE], posted, due, "", True, False)
        for day, amount in payments:
            # Payments to vendors go through the engine as negative amounts.
            bill.ApplyPayment(
                None, accounts[CHECKING], -money(amount), GncNumeric(1), day, "Paid by ACH", ""
            )


def fix_entered_dates(book: Any) -> None:
    """Stamp every transaction's "entered" time from its posted date, not the clock."""
    query = Query()
    query.search_for("Trans")
    query.set_book(book)
    for found in query.run():
        txn = Transaction(instance=found)
        posted = txn.GetDate()  # local time, which is UTC here (see the top of this file)
        txn.BeginEdit()
        txn.SetDateEnteredSecs(at(posted.date()))
        txn.CommitEdit()
    query.destroy()


def set_company_options(book: Any) -> None:
    """Fill File > Properties > Business as a user would.

    The 4.13 bindings expose no book options, so this calls the engine's own setter through
    ctypes with the book's C pointer; it writes the same ``options`` slots the dialog does.
    """
    engine = ctypes.CDLL("libgnc-engine.so")
    engine.qof_book_set_string_option.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    engine.qof_book_set_string_option.restype = None
    pointer = ctypes.c_void_p(int(book.instance))
    for name, value in COMPANY_OPTIONS:
        engine.qof_book_set_string_option(pointer, name.encode(), value.encode())


def build_book(book: Any) -> None:
    set_company_options(book)
    usd = book.get_table().lookup("CURRENCY", CURRENCY)
    accounts = build_accounts(book, usd)
    customers = build_customers(book, usd)
    vendors = build_vendors(book, usd)
    build_transactions(book, usd, accounts)
    build_invoices(book, usd, accounts, customers, vendors)
    fix_entered_dates(book)


def generate(outdir: Path) -> None:
    write_both(outdir, SQLITE_NAME, XML_NAME, build_book)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTDIR", file=sys.stderr)
        return 2
    generate(Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
