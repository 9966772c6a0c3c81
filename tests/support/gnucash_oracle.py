"""What the GnuCash engine itself says a book holds: the truth the readers are tested against.

Run with Debian's interpreter, which has the engine's bindings (package python3-gnucash)::

    /usr/bin/python3 tests/support/gnucash_oracle.py BOOK_PATH

Prints one JSON object: ``{"book": {...}, "accounts": [...], "customers": [...], "vendors": [...],
"tax_tables": [...], "transactions": [...], "invoices": [...], "owner_lots": [...]}`` (``invoices``
holds every business document: invoices, bills, credit notes, vouchers; ``owner_lots`` the payment
lots that hold what is paid but not applied to any document); every value comes from the engine's
own getters (balances from ``xaccAccountGetBalance``), never from reading the file. Where the 4.13
bindings lack a getter (book options, tax tables, lots), the engine's C function is called through
ctypes.

The engine writes ``.log`` files beside any book it opens and may take a lock, so it only ever
opens a private copy in a temporary folder, never the book it was given.
"""

from __future__ import annotations

import calendar
import ctypes
import datetime
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Dates come back from the bindings in local time: make that UTC before the engine loads.
os.environ["TZ"] = "UTC"
time.tzset()

from gnucash import GncNumeric, Query, Session, SessionOpenMode, Transaction  # noqa: E402
from gnucash import gnucash_core_c as core  # noqa: E402
from gnucash.gnucash_business import Customer, Invoice, TaxTable, Vendor  # noqa: E402

_ENGINE = ctypes.CDLL("libgnc-engine.so")


class _Numeric(ctypes.Structure):
    _fields_ = [("num", ctypes.c_int64), ("denom", ctypes.c_int64)]


class _GList(ctypes.Structure):
    pass


_GList._fields_ = [
    ("data", ctypes.c_void_p),
    ("next", ctypes.POINTER(_GList)),
    ("prev", ctypes.POINTER(_GList)),
]


def _c(name: str, restype: Any, *argtypes: Any) -> Any:
    function = getattr(_ENGINE, name)
    function.restype = restype
    function.argtypes = list(argtypes)
    return function


_P = ctypes.c_void_p
_instance_guid = _c("qof_instance_get_guid", ctypes.POINTER(ctypes.c_ubyte * 16), _P)
_book_option = _c("qof_book_get_string_option", ctypes.c_char_p, _P, ctypes.c_char_p)
_table_name = _c("gncTaxTableGetName", ctypes.c_char_p, _P)
_table_invisible = _c("gncTaxTableGetInvisible", ctypes.c_int, _P)
_table_entries = _c("gncTaxTableGetEntries", ctypes.POINTER(_GList), _P)
_entry_account = _c("gncTaxTableEntryGetAccount", _P, _P)
_entry_amount = _c("gncTaxTableEntryGetAmount", _Numeric, _P)
_entry_type = _c("gncTaxTableEntryGetType", ctypes.c_int, _P)
_invoice_id = _c("gncInvoiceGetID", ctypes.c_char_p, _P)
_invoice_total = _c("gncInvoiceGetTotal", _Numeric, _P)
_invoice_tax = _c("gncInvoiceGetTotalTax", _Numeric, _P)
_invoice_subtotal = _c("gncInvoiceGetTotalSubtotal", _Numeric, _P)
_invoice_posted = _c("gncInvoiceIsPosted", ctypes.c_int, _P)
_invoice_paid = _c("gncInvoiceIsPaid", ctypes.c_int, _P)
_invoice_credit_note = _c("gncInvoiceGetIsCreditNote", ctypes.c_int, _P)
_invoice_lot = _c("gncInvoiceGetPostedLot", _P, _P)
_invoice_owner = _c("gncInvoiceGetOwner", _P, _P)
_lot_balance = _c("gnc_lot_get_balance", _Numeric, _P)
_lot_splits = _c("gnc_lot_get_split_list", ctypes.POINTER(_GList), _P)
_split_value = _c("xaccSplitGetValue", _Numeric, _P)
_split_parent = _c("xaccSplitGetParent", _P, _P)
_txn_type = _c("xaccTransGetTxnType", ctypes.c_char, _P)
_balance_as_of = _c("xaccAccountGetBalanceAsOfDate", _Numeric, _P, ctypes.c_int64)
_end_owner = _c("gncOwnerGetEndOwner", _P, _P)
_owner_type = _c("gncOwnerGetType", ctypes.c_int, _P)
_owner_guid = _c("gncOwnerGetGUID", ctypes.POINTER(ctypes.c_ubyte * 16), _P)
_owner_new = _c("gncOwnerNew", _P)
_owner_free = _c("gncOwnerFree", None, _P)
_owner_from_lot = _c("gncOwnerGetOwnerFromLot", ctypes.c_int, _P, _P)
_invoice_from_lot = _c("gncInvoiceGetInvoiceFromLot", _P, _P)
_lot_count = _c("gnc_lot_count_splits", ctypes.c_int, _P)
_account_lots = _c("xaccAccountGetLotList", ctypes.POINTER(_GList), _P)

# GncOwnerType, as the engine numbers it.
OWNER_TYPES = {2: "customer", 3: "job", 4: "vendor", 5: "employee"}

BUSINESS_OPTIONS = (
    "Company Name",
    "Company Address",
    "Company ID",
    "Company Phone Number",
    "Company Fax Number",
    "Company Email Address",
    "Company Website URL",
    "Company Contact Person",
)


def _uri(path: Path) -> str:
    # Sniff like the readers do: the extension says nothing about the format.
    with path.open("rb") as f:
        head = f.read(16)
    scheme = "sqlite3" if head.startswith(b"SQLite format 3\x00") else "xml"
    return f"{scheme}://{path.resolve()}"


def _fraction(value: Any) -> str:
    return f"{value.num()}/{value.denom()}"


def _account(account: Any, root_guid: str) -> dict[str, Any]:
    parent = account.get_parent()
    commodity = account.GetCommodity()
    parent_guid = parent.GetGUID().to_string() if parent is not None else None
    return {
        "guid": account.GetGUID().to_string(),
        "name": account.GetName(),
        "type": core.xaccAccountTypeEnumAsString(account.GetType()),
        "parent_guid": None if parent_guid == root_guid else parent_guid,
        "code": account.GetCode() or "",
        "description": account.GetDescription() or "",
        "hidden": bool(account.GetHidden()),
        "placeholder": bool(account.GetPlaceholder()),
        # The engine makes the "Trading" and "Trading:CURRENCY" placeholders with no commodity.
        "commodity": commodity.get_mnemonic() if commodity is not None else "",
        "balance": _fraction(account.GetBalance()),
    }


def _address(address: Any) -> dict[str, str]:
    return {
        "name": address.GetName() or "",
        "addr1": address.GetAddr1() or "",
        "addr2": address.GetAddr2() or "",
        "addr3": address.GetAddr3() or "",
        "addr4": address.GetAddr4() or "",
        "phone": address.GetPhone() or "",
        "fax": address.GetFax() or "",
        "email": address.GetEmail() or "",
    }


def _owner(owner: Any) -> dict[str, Any]:
    """What customers and vendors both have (the engine gives them the same getters)."""
    return {
        "guid": owner.GetGUID().to_string(),
        "id": owner.GetID(),
        "name": owner.GetName(),
        "notes": owner.GetNotes() or "",
        "active": bool(owner.GetActive()),
        "currency": owner.GetCurrency().get_mnemonic(),
    }


def _customer(customer: Any) -> dict[str, Any]:
    return {
        **_owner(customer),
        "addr": _address(customer.GetAddr()),
        "shipaddr": _address(customer.GetShipAddr()),
    }


def _vendor(vendor: Any) -> dict[str, Any]:
    # A vendor has one address: GnuCash keeps no shipping address for what the business buys.
    return {**_owner(vendor), "addr": _address(vendor.GetAddr())}


def _with_balance(owner: Any) -> dict[str, Any]:
    """``gncOwnerGetBalanceInCurrency`` in the owner's currency: on 4.13 the sum of the balances
    of its documents' open lots (debit positive), its unallocated payments left out."""
    return {"balance": _fraction(owner.GetBalanceInCurrency(owner.GetCurrency()))}


def _business(
    book: Any, id_type: str, wrap: Callable[..., Any], describe: Callable[[Any], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every business object of one type (``GNC_ID_CUSTOMER``, ...) in the engine's book."""
    query = Query()
    query.search_for(id_type)
    query.set_book(book)
    try:
        return [describe(wrap(instance=found)) for found in query.run()]
    finally:
        query.destroy()


def _pointer(wrapped: Any) -> int:
    return int(wrapped.instance)


def _guid_of(pointer: int | None) -> str:
    return bytes(_instance_guid(pointer).contents).hex()


def _book(book: Any) -> dict[str, Any]:
    pointer = _pointer(book)
    options = {}
    for name in BUSINESS_OPTIONS:
        value = _book_option(pointer, f"options/Business/{name}".encode())
        if value is not None:
            options[name] = value.decode()
    return {"guid": _guid_of(pointer), "business": options}


def _tax_table(table: Any) -> dict[str, Any]:
    pointer = _pointer(table)
    entries = []
    node = _table_entries(pointer)
    while node:
        entry = node.contents.data
        amount = _entry_amount(entry)
        entries.append(
            {
                "account": _guid_of(_entry_account(entry)),
                "amount": f"{amount.num}/{amount.denom}",
                # GncAmountType: 1 is a value, 2 a percentage.
                "type": {1: "VALUE", 2: "PERCENT"}[_entry_type(entry)],
            }
        )
        node = node.contents.next
    return {
        "guid": _guid_of(pointer),
        "name": (_table_name(pointer) or b"").decode(),
        "invisible": bool(_table_invisible(pointer)),
        "entries": entries,
    }


def _numeric(value: _Numeric) -> str:
    return f"{value.num}/{value.denom}"


def _invoice(invoice: Any) -> dict[str, Any]:
    """The engine's own figures for a document: totals, tax, lot balance, owner, job."""
    pointer = _pointer(invoice)
    direct = _invoice_owner(pointer)
    owner = _end_owner(direct)  # a job's document: the job's owner
    lot = _invoice_lot(pointer)
    return {
        "guid": _guid_of(pointer),
        "id": (_invoice_id(pointer) or b"").decode(),
        "owner_type": OWNER_TYPES.get(_owner_type(owner), "unknown"),
        "owner": bytes(_owner_guid(owner).contents).hex(),
        "job": (  # the job's GUID when the document is a job's
            bytes(_owner_guid(direct).contents).hex()
            if OWNER_TYPES.get(_owner_type(direct)) == "job"
            else None
        ),
        "posted": bool(_invoice_posted(pointer)),
        "paid": bool(_invoice_paid(pointer)),
        "credit_note": bool(_invoice_credit_note(pointer)),
        "total": _numeric(_invoice_total(pointer)),
        "tax": _numeric(_invoice_tax(pointer)),
        "subtotal": _numeric(_invoice_subtotal(pointer)),
        # Raw lot balance, debit positive: what is still owed, before GnuCash's document sign.
        "lot_balance": _numeric(_lot_balance(lot)) if lot else None,
        # Every split in the document's lot: its transaction, raw value and type (I, P, L).
        "lot_splits": _splits_of_lot(lot) if lot else [],
    }


def _splits_of_lot(lot: int) -> list[dict[str, str]]:
    found = []
    node = _lot_splits(lot)
    while node:
        split = node.contents.data
        txn = _split_parent(split)
        found.append(
            {
                "txn": _guid_of(txn),
                "value": _numeric(_split_value(split)),
                "type": _txn_type(txn).decode(),
            }
        )
        node = node.contents.next
    return found


def _owner_lots(root: Any) -> list[dict[str, Any]]:
    """The payment lots of A/R and A/P accounts that still hold splits: lots GnuCash tagged with
    an owner (``gncOwnerGetOwnerFromLot``) and no document, where a payment, or what is left of
    it, waits unallocated."""
    found = []
    for account in root.get_descendants():
        if core.xaccAccountTypeEnumAsString(account.GetType()) not in ("RECEIVABLE", "PAYABLE"):
            continue
        node = _account_lots(_pointer(account))
        while node:
            lot = node.contents.data
            node = node.contents.next
            if _invoice_from_lot(lot) or not _lot_count(lot):
                continue
            owner = _owner_new()
            try:
                if not _owner_from_lot(lot, owner):
                    continue
                end = _end_owner(owner)
                found.append(
                    {
                        "guid": _guid_of(lot),
                        "owner_type": OWNER_TYPES.get(_owner_type(end), "unknown"),
                        "owner": bytes(_owner_guid(end).contents).hex(),
                        "balance": _numeric(_lot_balance(lot)),
                        "splits": _splits_of_lot(lot),
                    }
                )
            finally:
                _owner_free(owner)
    return sorted(found, key=lambda lot: lot["guid"])


def _month_end_balances(root: Any, transactions: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """ "YYYY-MM" -> account GUID -> the engine's balance at the month's last second, for every
    month from the first transaction's to the last's."""
    if not transactions:
        return {}
    days = sorted(t["posted"][:7] for t in transactions)
    year, month = int(days[0][:4]), int(days[0][5:7])
    last = (int(days[-1][:4]), int(days[-1][5:7]))
    found: dict[str, dict[str, str]] = {}
    accounts = root.get_descendants()
    while (year, month) <= last:
        following = (year + 1, 1) if month == 12 else (year, month + 1)
        end = int(calendar.timegm((*following, 1, 0, 0, 0))) - 1
        found[f"{year:04d}-{month:02d}"] = {
            a.GetGUID().to_string(): _numeric(_balance_as_of(_pointer(a), end)) for a in accounts
        }
        year, month = following
    return found


def _converted_month_ends(
    book: Any, root: Any, accounts: list[dict[str, Any]], month_ends: dict[str, dict[str, str]]
) -> dict[str, dict[str, str]]:
    """Month -> account GUID -> the month-end balance of each account in another commodity than
    the book's currency, converted as GnuCash's Balance Sheet does by default (price source
    ``pricedb-nearest``): by ``gnc_pricedb_convert_balance_nearest_price_t64`` at noon of the
    month's last day (``time64CanonicalDayTime`` of the report date; TZ is UTC here)."""
    table = book.get_table()
    usd = table.lookup("CURRENCY", book.get_book_currency_name() or "USD")
    prices = book.get_price_db()
    by_guid = {a.GetGUID().to_string(): a for a in root.get_descendants()}
    foreign = [a["guid"] for a in accounts if a["commodity"] not in ("", usd.get_mnemonic())]
    found: dict[str, dict[str, str]] = {}
    for month in month_ends:
        year, number = int(month[:4]), int(month[5:7])
        last_day = calendar.monthrange(year, number)[1]
        end = datetime.datetime(year, number, last_day, 23, 59, 59)
        noon = datetime.datetime(year, number, last_day, 12, 0, 0)
        found[month] = {}
        for guid in foreign:
            balance = _balance_as_of(_pointer(by_guid[guid]), int(calendar.timegm(end.timetuple())))
            value = prices.convert_balance_nearest_price_t64(
                GncNumeric(balance.num, balance.denom),
                by_guid[guid].GetCommodity(),
                usd,
                noon,
            )
            # This binding already wraps its answer; some others hand back the bare numeric.
            numeric = value if isinstance(value, GncNumeric) else GncNumeric(instance=value)
            found[month][guid] = _fraction(numeric)
    return found


def _month_end_rates(book: Any, accounts: list[dict[str, Any]], months: list[str]) -> Any:
    """Month -> commodity -> what one unit is worth in the book's currency at noon of the
    month's last day by the engine's ``gnc_pricedb_get_nearest_price``: the rate GnuCash's
    reports (price source ``pricedb-nearest``) use for a period ending that day."""
    table = book.get_table()
    usd = table.lookup("CURRENCY", book.get_book_currency_name() or "USD")
    prices = book.get_price_db()
    names = {a["commodity"] for a in accounts} - {"", usd.get_mnemonic()}
    found: dict[str, dict[str, str]] = {}
    for month in months:
        year, number = int(month[:4]), int(month[5:7])
        noon = datetime.datetime(year, number, calendar.monthrange(year, number)[1], 12)
        found[month] = {}
        for name in sorted(names):
            rate = prices.get_nearest_price(table.lookup("CURRENCY", name), usd, noon)
            numeric = rate if isinstance(rate, GncNumeric) else GncNumeric(instance=rate)
            found[month][name] = _fraction(numeric)
    return found


def _transaction(txn: Any) -> dict[str, Any]:
    return {
        "guid": txn.GetGUID().to_string(),
        "currency": txn.GetCurrency().get_mnemonic(),
        "num": txn.GetNum() or "",
        "description": txn.GetDescription() or "",
        "posted": txn.GetDate().isoformat(),  # UTC (see TZ above), naive
        "entered": txn.GetDateEntered().isoformat(),
        "closing": bool(txn.GetIsClosingTxn()),  # Tools > Close Book's closing entries
        "voided": bool(txn.GetVoidStatus()),
        "splits": [
            {
                "guid": split.GetGUID().to_string(),
                "account": split.GetAccount().GetGUID().to_string(),
                "memo": split.GetMemo() or "",
                "value": _fraction(split.GetValue()),
                "quantity": _fraction(split.GetAmount()),
            }
            for split in txn.GetSplitList()
        ],
    }


def _transactions(book: Any, real_accounts: set[str]) -> list[dict[str, Any]]:
    """The ledger's transactions: not the templates of scheduled transactions."""
    found = _business(book, "Trans", Transaction, _transaction)
    return [t for t in found if all(s["account"] in real_accounts for s in t["splits"])]


def describe(book_path: Path) -> dict[str, Any]:
    """Open a copy of ``book_path`` with the engine and return what it holds."""
    with tempfile.TemporaryDirectory(prefix="gnucash-oracle-") as tmp:
        copy = Path(tmp) / "book.gnucash"
        shutil.copyfile(book_path, copy)
        # Read-only: no lock taken, and nothing saved back even to the copy.
        session = Session(_uri(copy), SessionOpenMode.SESSION_READ_ONLY)
        try:
            book = session.book
            root = book.get_root_account()
            root_guid = root.GetGUID().to_string()
            accounts = [_account(a, root_guid) for a in root.get_descendants()]
            customers = _business(
                book, core.GNC_ID_CUSTOMER, Customer, lambda c: {**_customer(c), **_with_balance(c)}
            )
            vendors = _business(
                book, core.GNC_ID_VENDOR, Vendor, lambda v: {**_vendor(v), **_with_balance(v)}
            )
            owner_lots = _owner_lots(root)
            about = _book(book)
            tax_tables = _business(book, core.GNC_ID_TAXTABLE, TaxTable, _tax_table)
            transactions = _transactions(book, {a["guid"] for a in accounts})
            invoices = _business(book, core.GNC_ID_INVOICE, Invoice, _invoice)
            month_ends = _month_end_balances(root, transactions)
            converted = _converted_month_ends(book, root, accounts, month_ends)
            rates = _month_end_rates(book, accounts, sorted(month_ends))
        finally:
            session.end()
    accounts.sort(key=lambda a: a["guid"])
    customers.sort(key=lambda c: c["guid"])
    vendors.sort(key=lambda v: v["guid"])
    tax_tables.sort(key=lambda t: t["guid"])
    transactions.sort(key=lambda t: t["guid"])
    invoices.sort(key=lambda i: i["guid"])
    return {
        "invoices": invoices,
        "owner_lots": owner_lots,
        "book": about,
        "accounts": accounts,
        "customers": customers,
        "vendors": vendors,
        "tax_tables": tax_tables,
        "transactions": transactions,
        "month_end_balances": month_ends,
        "month_end_converted": converted,
        "month_end_rates": rates,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} BOOK_PATH", file=sys.stderr)
        return 2
    json.dump(describe(Path(argv[1])), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
