"""A private, consistent copy of the user's book, taken without disturbing GnuCash.

The live book is sacred: a reader holding an SQLite transaction on it made GnuCash lose an edit,
and opening it with any database engine may create journals beside it. So the live file is only
ever read as bytes, and everything else (integrity checks, parsing) happens on the copy in a
folder the caller owns. A copy is accepted only when nothing suggests GnuCash was writing while it
was taken; otherwise it is retried after a short wait, since GnuCash saves are brief.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.parsers import expat

from agent.errors import BookAccessDenied, BookUnreadable
from agent.sources.gnucash.reading.book_limits import xml_size_bound
from agent.sources.gnucash.reading.records import BookFormat
from agent.sources.gnucash.reading.sqlite_access import check_schema, open_copy
from agent.sources.gnucash.reading.xml_prolog import DoctypeDeclared, Prolog
from agent.sources.gnucash.reading.xml_stream import doctype_refusal, too_large_refusal
from agent.support.own_files import remove_inside

SQLITE_MAGIC = b"SQLite format 3\x00"
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
XML_START = b"<?xml"
XML_END = b"</gnc-v2>"

# Waits between attempts: GnuCash commits and XML saves take well under a second on a normal
# book, so a few short waits cover one save without holding a sync up for long.
DEFAULT_BACKOFF: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0)

_SNIFF_BYTES = 512
_CHUNK = 1024 * 1024
_TAIL_BYTES = 64
_HEAD_BYTES = 4096


@dataclass(frozen=True)
class Snapshot:
    """A private copy of a book, ready to parse."""

    source: Path  # the user's live book, the one messages name
    copy: Path  # the private copy in the caller's folder; the caller deletes it
    format: BookFormat
    taken_at: datetime
    open_in_gnucash: bool


class _Unsettled(Exception):
    """The copy may be inconsistent because the book changed or vanished: try again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sniff_format(head: bytes) -> BookFormat | None:
    """Tell a book's format from its first bytes; ``None`` when it is no GnuCash format."""
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(GZIP_MAGIC):
        return "xml-gzip"
    text = head.removeprefix(UTF8_BOM).lstrip()
    if text.startswith(XML_START):
        return "xml"
    return None


def take_snapshot(
    book: Path,
    workdir: Path,
    *,
    sleep: Callable[[float], None] = time.sleep,
    backoff: Sequence[float] = DEFAULT_BACKOFF,
) -> Snapshot:
    """Copy ``book`` into ``workdir`` once the copy is known to be consistent.

    Raises :class:`BookUnreadable` when the book is missing, is not a GnuCash book, is damaged,
    or keeps changing through every attempt. ``sleep`` and ``backoff`` exist so tests never wait.
    """
    waits = [*backoff, None]
    for wait in waits:
        copy = _new_copy_path(workdir)
        try:
            return _attempt(book, copy)
        except _Unsettled as unsettled:
            remove_inside(workdir, copy)
            if wait is None:
                raise _gave_up(book, unsettled.reason) from None
            sleep(wait)
        except BaseException:
            remove_inside(workdir, copy)
            raise
    raise AssertionError("unreachable: the last attempt either returns or raises")


def _new_copy_path(workdir: Path) -> Path:
    # mkstemp creates the file with a unique name, so two syncs never share a snapshot.
    handle, name = tempfile.mkstemp(prefix="book-", suffix=".snapshot", dir=workdir)
    os.close(handle)
    return Path(name)


def _attempt(book: Path, copy: Path) -> Snapshot:
    book_format = _sniff(book)
    if book_format == "sqlite":
        open_in_gnucash = _copy_sqlite(book, copy)
    else:
        open_in_gnucash = _copy_xml(book, copy, compressed=book_format == "xml-gzip")
    return Snapshot(
        source=book,
        copy=copy,
        format=book_format,
        taken_at=datetime.now(UTC),
        open_in_gnucash=open_in_gnucash,
    )


def _sniff(book: Path) -> BookFormat:
    try:
        with book.open("rb") as f:
            head = f.read(_SNIFF_BYTES)
    except FileNotFoundError:
        if book.parent.is_dir():
            # An XML save renames the book away for a moment; it may be back shortly.
            raise _Unsettled("missing") from None
        raise BookUnreadable(
            f"The book {book} cannot be found: the folder {book.parent} does not exist. "
            "If the book was moved or its drive is not connected, choose the book again "
            "in Connector or reconnect the drive."
        ) from None
    except PermissionError:
        raise BookAccessDenied(
            f"Connector is not allowed to read the book {book}. Give the account Connector "
            "runs as permission to read it (and its folder), then sync again."
        ) from None
    except IsADirectoryError:
        raise BookUnreadable(
            f"{book} is a folder, not a GnuCash book. Choose the .gnucash file you open in GnuCash."
        ) from None
    except OSError as e:
        raise BookUnreadable(
            f"The book {book} cannot be opened for reading ({e.strerror or e}). "
            "Check that the account Connector runs as may read it."
        ) from None
    if not head:
        raise BookUnreadable(
            f"The book {book} is empty (0 bytes), so it holds no GnuCash data. "
            "Choose the .gnucash file you open in GnuCash, or restore this one from a backup."
        )
    book_format = sniff_format(head)
    if book_format is None:
        raise BookUnreadable(
            f"The book {book} is not a GnuCash file (it starts with {_describe_head(head)}). "
            "Choose the .gnucash file you open in GnuCash."
        )
    return book_format


def _describe_head(head: bytes) -> str:
    shown = head[:16]
    if all(32 <= b < 127 for b in shown):
        return repr(shown.decode("ascii"))
    return "bytes " + shown.hex(" ")


def _copy_bytes(book: Path, copy: Path) -> None:
    try:
        with book.open("rb") as src, copy.open("wb") as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
    except FileNotFoundError:
        raise _Unsettled("missing") from None
    except PermissionError:
        # The book could be opened a moment ago; on Windows this is a sharing violation while
        # GnuCash replaces the file, which passes.
        raise _Unsettled("changed") from None


def _stat(book: Path) -> tuple[int, int, int]:
    try:
        st = book.stat()
    except FileNotFoundError:
        raise _Unsettled("missing") from None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_busy(book: Path) -> bool:
    """A rollback journal (or a WAL) beside the book means a write is under way or unfinished."""
    return any(book.with_name(book.name + suffix).exists() for suffix in ("-journal", "-wal"))


def _change_counter(header: bytes) -> bytes:
    # SQLite bumps the "file change counter" (header bytes 24-27) on every committed write.
    return header[24:28]


def _read_header(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(100)
    except FileNotFoundError:
        raise _Unsettled("missing") from None


def _copy_sqlite(book: Path, copy: Path) -> bool:
    if _sqlite_busy(book):
        raise _Unsettled("journal")
    before = _stat(book)
    counter_before = _change_counter(_read_header(book))
    _copy_bytes(book, copy)
    after = _stat(book)
    counter_after = _change_counter(_read_header(book))
    copied_counter = _change_counter(_read_header(copy))
    if _sqlite_busy(book):
        raise _Unsettled("journal")
    if before != after or not counter_before == copied_counter == counter_after:
        raise _Unsettled("changed")
    _check_sqlite_copy(book, copy)
    return _sqlite_locked(copy)


def _check_sqlite_copy(book: Path, copy: Path) -> None:
    """The copy was taken while nothing changed, so any damage in it is in the book itself."""
    header = _read_header(copy)
    if len(header) < 100:
        raise _damaged(book, "the file is shorter than an SQLite header: it was cut off")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count in the header is only trustworthy when its "valid-for" stamp matches.
    size_is_known = header[92:96] == header[24:28] and pages > 0
    if size_is_known and copy.stat().st_size < page_size * pages:
        raise _damaged(book, "the file is shorter than its own header says: it was cut off")
    try:
        with closing(open_copy(copy)) as db:
            # Before anything else reads the copy: nothing in it may run.
            check_schema(db, book)
            result = [row[0] for row in db.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as e:
        raise _damaged(book, f"SQLite cannot read it: {e}") from None
    if result != ["ok"]:
        raise _damaged(book, f"SQLite's integrity check reports: {'; '.join(result[:3])}")


def _sqlite_locked(copy: Path) -> bool:
    """GnuCash holds a row in ``gnclock`` while it has the book open."""
    with closing(open_copy(copy)) as db:
        try:
            row = db.execute("SELECT COUNT(*) FROM gnclock").fetchone()
        except sqlite3.DatabaseError:
            return False  # no lock table: whether it is a GnuCash book is the reader's call
    return bool(row and row[0])


def _damaged(book: Path, problem: str) -> BookUnreadable:
    return BookUnreadable(
        f"The book {book} is damaged: {problem}. Open it in GnuCash to check it; if GnuCash "
        "cannot open it either, restore it from a backup."
    )


# --- XML ------------------------------------------------------------------------------------


def _copy_xml(book: Path, copy: Path, *, compressed: bool) -> bool:
    lock = book.with_name(book.name + ".LCK")
    locked_before = lock.exists()
    before = _stat(book)
    _copy_bytes(book, copy)
    after = _stat(book)
    if before != after:
        raise _Unsettled("changed")
    tail = _gzip_tail(book, copy) if compressed else _plain_tail(book, copy)
    # GnuCash writes a whole new file and renames it into place, so a copy that is not a
    # complete document was taken from a file that was cut off, or is being replaced.
    if not tail.rstrip().endswith(XML_END):
        raise _Unsettled("truncated")
    return locked_before or lock.exists()


def _check_root(book: Path, head: bytes) -> None:
    """Refuse at once an XML file that is complete but is no GnuCash book: retrying won't help.

    The prolog is read by expat (``xml_prolog``), as the book's parser will read it: a
    document type declaration is refused here already.
    """
    prolog = Prolog()
    try:
        prolog.feed(head.removeprefix(UTF8_BOM).lstrip())
    except DoctypeDeclared:
        raise doctype_refusal(book) from None
    except expat.ExpatError:
        pass  # no root element can be named: said below
    root = prolog.root
    if root != "gnc-v2":
        found = f"its root element is <{root}>" if root else "no XML element was found"
        raise BookUnreadable(
            f"The book {book} is not a GnuCash book: it holds XML, but {found}, not <gnc-v2>. "
            "Choose the .gnucash file you open in GnuCash."
        )


def _plain_tail(book: Path, copy: Path) -> bytes:
    size = copy.stat().st_size
    limit, past_limit = xml_size_bound(None)
    if size > limit:
        raise too_large_refusal(book, past_limit)
    with copy.open("rb") as f:
        _check_root(book, f.read(_HEAD_BYTES))
        f.seek(max(0, size - _TAIL_BYTES))
        return f.read()


def _gzip_tail(book: Path, copy: Path) -> bytes:
    """Decompress the whole stream (in constant memory) and return its last bytes.

    Only the full stream proves the copy is complete: gzip keeps its length and checksum at
    the very end, and a cut-off stream raises on the way there. A stream that inflates past
    its bound (``book_limits``: a gzip bomb) is refused as soon as it does.
    """
    limit, past_limit = xml_size_bound(copy.stat().st_size)
    inflated = 0
    try:
        with gzip.open(copy, "rb") as f:
            tail = f.read(_HEAD_BYTES)
            _check_root(book, tail)
            inflated = len(tail)
            while chunk := f.read(_CHUNK):
                inflated += len(chunk)
                if inflated > limit:
                    raise too_large_refusal(book, past_limit)
                tail = (tail + chunk)[-_TAIL_BYTES:]
    except (EOFError, gzip.BadGzipFile, zlib.error):
        raise _Unsettled("truncated") from None
    return tail


# --- Giving up ------------------------------------------------------------------------------


def _gave_up(book: Path, reason: str) -> BookUnreadable:
    if reason == "missing":
        return BookUnreadable(
            f"The book {book} does not exist. If it was renamed or moved, choose it again in "
            "Connector; GnuCash's File > Open shows where your book is."
        )
    if reason == "truncated":
        return BookUnreadable(
            f"The book {book} is incomplete: the file ends before the end of the book. If "
            "GnuCash is saving, Connector will read it at the next sync. If this message "
            "persists, open the book in GnuCash; if GnuCash cannot open it either, restore the "
            f"newest backup beside it ({book.name}.YYYYMMDDHHMMSS.gnucash)."
        )
    journal = book.with_name(book.name + "-journal")
    return BookUnreadable(
        f"The book {book} keeps changing while Connector copies it, so no consistent copy "
        "could be taken. Connector will try again at the next sync. If this persists and "
        f"GnuCash is closed, a leftover {journal.name} means GnuCash stopped in the middle of "
        "a save: open the book in GnuCash once so it can finish, then close it."
    )
