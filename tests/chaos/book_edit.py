"""Make the next version of a book with the real GnuCash engine, as a user's edit would.

Run with Debian's interpreter, which has the engine's bindings (package python3-gnucash)::

    /usr/bin/python3 tests/chaos/book_edit.py SOURCE DEST STEP

Copies SOURCE to DEST and, in DEST, with STEP = k: adds the customer ``CHAOS-k``, renames the
first vendor (by id) to end in ``#k``, and posts a transaction moving k x 10.00 from the first bank
account to the first expense account, so that customers, suppliers and account balances all
differ from SOURCE. The chaos episodes swap these versions under the agent while it reads.
The engine writes ``.log`` files, a lock and (for XML) a backup beside DEST: DEST's folder is
the caller's scratch folder, and only DEST is kept.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

os.environ["TZ"] = "UTC"  # the engine reads dates in local time: make that UTC first
time.tzset()

from gnucash import GncNumeric, Session, SessionOpenMode, Split, Transaction  # noqa: E402
from gnucash.gnucash_business import Customer, Vendor  # noqa: E402


def _uri(book: Path) -> str:
    scheme = "sqlite3" if book.read_bytes()[:16] == b"SQLite format 3\x00" else "xml"
    return f"{scheme}://{book.resolve()}"


def _accounts(book: Any) -> list[Any]:
    accounts = [a for a in book.get_root_account().get_descendants() if not a.GetPlaceholder()]
    return sorted(accounts, key=lambda a: a.get_full_name())


def _first_of_type(book: Any, type_name: str) -> Any:
    wanted = getattr(__import__("gnucash"), f"ACCT_TYPE_{type_name}")
    for account in _accounts(book):
        if account.GetType() == wanted:
            return account
    raise SystemExit(f"the book has no {type_name} account to post to")


def _add_customer(book: Any, step: int, currency: Any) -> None:
    customer = Customer(book, f"CHAOS-{step}", currency, f"Chaos Customer {step}")
    customer.BeginEdit()
    customer.SetNotes(f"added by tests/chaos/book_edit.py, step {step}")
    customer.CommitEdit()


def _rename_first_vendor(book: Any, step: int) -> None:
    from gnucash import Query

    query = Query()
    query.search_for("gncVendor")
    query.set_book(book)
    vendors = [Vendor(instance=found) for found in query.run()]
    query.destroy()
    if not vendors:
        raise SystemExit("the book has no vendor to rename")
    vendor = min(vendors, key=lambda v: v.GetID())
    name = vendor.GetName().split(" #", 1)[0]
    vendor.BeginEdit()
    vendor.SetName(f"{name} #{step}")
    vendor.CommitEdit()


def _post_transfer(book: Any, step: int, currency: Any) -> None:
    bank = _first_of_type(book, "BANK")
    expense = _first_of_type(book, "EXPENSE")
    amount = GncNumeric(step * 1000, 100)
    txn = Transaction(book)
    txn.BeginEdit()
    txn.SetCurrency(currency)
    when = dt.datetime(2026, 1, min(step, 28), 12, 0)
    txn.SetDatePostedSecsNormalized(when)
    txn.SetDateEnteredSecs(when)
    txn.SetDescription(f"Chaos transfer {step}")
    for account, value in ((expense, amount), (bank, amount.neg())):
        split = Split(book)
        split.SetParent(txn)
        split.SetAccount(account)
        split.SetValue(value)
        split.SetAmount(value)
    txn.CommitEdit()


def main(argv: list[str]) -> int:
    source, dest, step = Path(argv[1]), Path(argv[2]), int(argv[3])
    shutil.copyfile(source, dest)
    compressed = dest.read_bytes()[:2] == b"\x1f\x8b"
    ctypes.CDLL("libgnc-core-utils.so").gnc_prefs_set_file_save_compressed(int(compressed))
    session = Session()
    session.begin(_uri(dest), SessionOpenMode.SESSION_NORMAL_OPEN)
    try:
        session.load()
        book = session.book
        currency = book.get_table().lookup("CURRENCY", "USD")
        _add_customer(book, step, currency)
        _rename_first_vendor(book, step)
        _post_transfer(book, step, currency)
        session.save()
    finally:
        session.end()
        session.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
