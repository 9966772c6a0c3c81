"""What the GnuCash engine itself says a book holds: the truth the readers are tested against.

Run with Debian's interpreter, which has the engine's bindings (package python3-gnucash)::

    /usr/bin/python3 tests/gnucash_oracle.py BOOK_PATH

Prints one JSON object: ``{"accounts": [...], "customers": [...], "vendors": [...]}``; every value
comes from the engine's own getters (balances from ``xaccAccountGetBalance``), never from reading
the file.

The engine writes ``.log`` files beside any book it opens and may take a lock, so it only ever
opens a private copy in a temporary folder, never the book it was given.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gnucash import Query, Session, SessionOpenMode
from gnucash import gnucash_core_c as core
from gnucash.gnucash_business import Customer, Vendor


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
        "commodity": account.GetCommodity().get_mnemonic(),
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
            customers = _business(book, core.GNC_ID_CUSTOMER, Customer, _customer)
            vendors = _business(book, core.GNC_ID_VENDOR, Vendor, _vendor)
        finally:
            session.end()
    accounts.sort(key=lambda a: a["guid"])
    customers.sort(key=lambda c: c["guid"])
    vendors.sort(key=lambda v: v["guid"])
    return {"accounts": accounts, "customers": customers, "vendors": vendors}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} BOOK_PATH", file=sys.stderr)
        return 2
    json.dump(describe(Path(argv[1])), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
