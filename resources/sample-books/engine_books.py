"""Writing one book with the real GnuCash engine in both formats the agent reads.

Shared by the sample-book generator (``generate.py`` beside this file) and the test fixtures'
generator (``tests/fixtures/make_books.py``). Runs under Debian's ``/usr/bin/python3``, which
has the bindings (python3-gnucash); import it after pinning ``TZ``, as both generators do.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gnucash import Session, SessionOpenMode


def write_both(
    outdir: Path, sqlite_name: str, xml_name: str, build_book: Callable[[Any], None]
) -> None:
    """Build a book once, save it as SQLite and as gzip XML (same GUIDs), and tidy up."""
    outdir.mkdir(parents=True, exist_ok=True)
    sqlite_path = outdir / sqlite_name
    xml_path = outdir / xml_name
    for old in (sqlite_path, xml_path):
        old.unlink(missing_ok=True)

    # The GUI's "compress files" preference is on by default; the bindings start with it off.
    ctypes.CDLL("libgnc-core-utils.so").gnc_prefs_set_file_save_compressed(1)

    sql_session = Session()
    sql_session.begin(f"sqlite3://{sqlite_path.resolve()}", SessionOpenMode.SESSION_NEW_OVERWRITE)
    try:
        build_book(sql_session.book)
        sql_session.save()
        xml_session = Session()
        xml_session.begin(f"xml://{xml_path.resolve()}", SessionOpenMode.SESSION_NEW_OVERWRITE)
        try:
            xml_session.swap_data(sql_session)
            touch(xml_session.book)
            xml_session.save()
        finally:
            xml_session.end()
    finally:
        sql_session.end()
    # The engine leaves transaction logs (``<book>.<timestamp>.log``) beside each book.
    for name in (sqlite_name, xml_name):
        for log in outdir.glob(f"{name}.*.log"):
            log.unlink()
    if not xml_path.read_bytes().startswith(b"\x1f\x8b"):
        raise SystemExit(f"{xml_path} was not written compressed")


def touch(book: Any) -> None:
    """Mark the book dirty so that a session saves it.

    The bindings do not expose ``qof_book_mark_session_dirty``, which GnuCash's "Save As"
    calls after swapping a book into a new session; an edit that changes and restores a name
    has the same effect and leaves the data as it was.
    """
    root = book.get_root_account()
    name = root.GetName()
    root.BeginEdit()
    root.SetName(name + " ")
    root.SetName(name)
    root.CommitEdit()
