"""Do to a book what a GnuCash user does: open and close it, save it, change one thing.

Run with Debian's interpreter, which has the engine's bindings (package python3-gnucash)::

    /usr/bin/python3 tests/support/gnucash_session.py ACTION BOOK [--copy-while-open DEST]

ACTION is one of:

- ``open-close``: open the book as GnuCash does (``SESSION_NORMAL_OPEN``, which takes the lock:
  a ``gnclock`` row in SQLite, a ``.LCK`` file beside XML), load it, and close it unchanged;
- ``resave``: open it, make an edit and undo it (so the session is dirty, as after a user's
  undone edit), save it and close it: for XML, the whole file is written again;
- ``add-customer``: open it, add a customer, save and close;
- ``change-memo``: open it, change the memo of one split, save and close.

``--copy-while-open DEST`` copies the book's bytes to DEST while the session still holds it.
XML books are saved compressed unless ``--plain`` is given. Unlike the oracle, this works on the
book it is given: callers pass their own temporary copy. The engine writes ``.log`` files (and,
for XML, a backup) beside it.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

os.environ["TZ"] = "UTC"
time.tzset()

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources" / "sample-books"))
from engine_books import touch  # noqa: E402
from gnucash import Session, SessionOpenMode  # noqa: E402
from gnucash.gnucash_business import Customer  # noqa: E402

ACTIONS = ("open-close", "resave", "add-customer", "change-memo")


def _uri(book: Path) -> str:
    scheme = "sqlite3" if book.read_bytes()[:16] == b"SQLite format 3\x00" else "xml"
    return f"{scheme}://{book.resolve()}"


def _add_customer(book: Any) -> None:
    currency = book.get_table().lookup("CURRENCY", "USD")
    customer = Customer(book, "FP-0001", currency, "Fingerprint Test Customer")
    customer.BeginEdit()
    customer.SetNotes("added by tests/support/gnucash_session.py")
    customer.CommitEdit()


def _change_memo(book: Any) -> None:
    for account in book.get_root_account().get_descendants():
        splits = account.GetSplitList()
        if splits:
            split = splits[0]
            transaction = split.GetParent()
            transaction.BeginEdit()
            split.SetMemo(split.GetMemo() + " (changed)")
            transaction.CommitEdit()
            return
    raise SystemExit("the book has no split to change")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("book", type=Path)
    parser.add_argument("--copy-while-open", type=Path)
    parser.add_argument("--plain", action="store_true", help="save XML uncompressed")
    args = parser.parse_args(argv)
    ctypes.CDLL("libgnc-core-utils.so").gnc_prefs_set_file_save_compressed(int(not args.plain))

    # The engine backs up an XML book to ``<book>.<YYYYMMDDHHMMSS>.gnucash`` before it saves and
    # refuses to save when that name is taken: two saves in one second. Old backups go first.
    for backup in args.book.parent.glob(f"{glob.escape(args.book.name)}.*.gnucash"):
        backup.unlink()
    session = Session()
    session.begin(_uri(args.book), SessionOpenMode.SESSION_NORMAL_OPEN)
    try:
        session.load()
        if args.copy_while_open:
            shutil.copyfile(args.book, args.copy_while_open)
        if args.action == "resave":
            touch(session.book)
        elif args.action == "add-customer":
            _add_customer(session.book)
        elif args.action == "change-memo":
            _change_memo(session.book)
        if args.action != "open-close":
            session.save()
    finally:
        session.end()
        session.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
