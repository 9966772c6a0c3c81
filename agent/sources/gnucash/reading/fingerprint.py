"""A digest of what a book holds, blind to what GnuCash rewrites without changing any data.

Size and modification time cannot tell a changed book from one that was only opened: GnuCash
writes its lock row into an SQLite book's ``gnclock`` table on open and deletes it on close
(which bumps the file change counter in the header), and rewrites an XML book in full on every
save. Measured on GnuCash 4.13 (Debian), with its GUI under Xvfb and with its engine:

- SQLite, open and close (GUI and engine): only header bytes 24-27 (the change counter) and
  92-95 (version-valid-for) differ afterwards; while the book is open its ``gnclock`` page
  differs too. No other table or index, the freelist or the file size changes. The exception is
  the first open of a book that lacks the ``features`` slot (one written by the bindings, say):
  GnuCash adds the slot, a real change, and rewrites the book's option slots under new ids.
- XML, open and close (GUI): the file is not written at all. Saving unchanged data (engine, after
  an edit that is undone) writes the same bytes again; the gzip header's timestamp is zero.

So for SQLite the digest covers every page except ``gnclock``'s, the freelist's and the
header's counters, and for XML the file's bytes (after the gzip header, whose fields say nothing
about the data). It reads only the snapshot, the private copy, never the live book.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from io import FileIO
from pathlib import Path

from agent.sources.gnucash.reading.snapshot import Snapshot
from agent.sources.gnucash.reading.sqlite_access import open_copy

# Bumped whenever what is digested changes, so an old digest never matches a new one.
_SCHEME = "v1"
_HASH = "sha256"  # the fastest hash here (SHA extensions): about 1.8 GB/s
_CHUNK = 8 * 1024 * 1024
_SQLITE_HEADER = 100
# The table GnuCash writes its lock into (hostname, PID) while the book is open.
_LOCK_TABLE = "gnclock"
# B-tree page types (SQLite file format, 1.6).
_INTERIOR_TABLE = 0x05
_LEAF_TABLE = 0x0D

_GZIP_FHCRC = 0x02
_GZIP_FEXTRA = 0x04
_GZIP_FNAME = 0x08
_GZIP_FCOMMENT = 0x10


def content_digest(snapshot: Snapshot) -> str:
    """A digest of the data in ``snapshot``'s copy: the same whenever GnuCash's data is the same,
    different whenever any of it differs.

    Two books with the same data may still get different digests (after a ``VACUUM``, or saved
    by another zlib): that costs one needless read, never a missed change.
    """
    if snapshot.format == "sqlite":
        return f"sqlite-{_SCHEME}:{_sqlite_digest(snapshot.copy)}"
    if snapshot.format == "xml-gzip":
        return f"xml-gzip-{_SCHEME}:{_gzip_digest(snapshot.copy)}"
    return f"xml-{_SCHEME}:{_file_digest(snapshot.copy, 0)}"


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_digest(copy: Path) -> str:
    """Hash every page but the lock table's and the freelist's, and page 1 after its header.

    Equal hashes mean equal data: every table and index (and the schema on page 1, which says
    where each one starts) lives in the pages hashed, which are hashed with the page size,
    reserved bytes and text encoding that say how to read them, and with the numbers of the
    pages left out, so the same bytes at other places cannot match.
    """
    with copy.open("rb", buffering=0) as f:
        header = f.read(_SQLITE_HEADER)
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = copy.stat().st_size // page_size
        locked = _lock_pages(copy, f, header, page_size, pages)
        skipped = sorted(locked | _freelist_pages(f, header, page_size, pages))
        digest = hashlib.new(_HASH)
        # Page size, reserved bytes per page, and text encoding; the rest of the header holds
        # counters (changes, schema cookie, freelist, page count) and settings that do not
        # change what the tables hold.
        digest.update(header[16:18] + header[20:21] + header[56:60])
        digest.update(len(skipped).to_bytes(8, "big"))
        digest.update(b"".join(page.to_bytes(4, "big") for page in skipped))
        for first, end in _page_runs(pages, skipped):
            start = (first - 1) * page_size + (_SQLITE_HEADER if first == 1 else 0)
            _hash_range(f, digest, start, (end - 1) * page_size)
    return digest.hexdigest()


def _lock_pages(copy: Path, f: FileIO, header: bytes, page_size: int, pages: int) -> set[int]:
    """The pages of the ``gnclock`` table: from SQLite's ``dbstat`` view where this SQLite has
    it, else by walking the table's b-tree from its root page.

    CPython's own SQLite builds for Windows (and so the Windows agent) leave ``dbstat`` out.
    """
    # A read-only connection to our own copy: the live book is never opened with SQLite.
    with closing(open_copy(copy)) as db:
        found = _dbstat_pages(db, _LOCK_TABLE)
        if found is not None:
            return found
        row = db.execute(
            "SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = ?", (_LOCK_TABLE,)
        ).fetchone()
    if row is None:
        return set()
    usable = page_size - header[20]
    return _table_pages(f, int(row[0]), page_size, usable, pages)


def _dbstat_pages(db: sqlite3.Connection, name: str) -> set[int] | None:
    """The pages of b-tree ``name`` by ``dbstat``; ``None`` when this SQLite lacks ``dbstat``,
    or when the book has a table of that name, which would stand in for SQLite's own."""
    shadowed = db.execute("SELECT 1 FROM sqlite_schema WHERE lower(name) = 'dbstat'").fetchone()
    if shadowed is not None:
        return None
    try:
        rows = db.execute("SELECT pageno FROM dbstat WHERE name = ?", (name,)).fetchall()
    except sqlite3.OperationalError:
        return None  # "no such table: dbstat": built without SQLITE_ENABLE_DBSTAT_VTAB
    return {int(row[0]) for row in rows}


def _table_pages(f: FileIO, root: int, page_size: int, usable: int, pages: int) -> set[int]:
    """Every page of the table b-tree at ``root``, its overflow pages included (SQLite file
    format, 1.6). Pages out of range or seen before are not followed, and cells that do not fit
    in their page are skipped, so a damaged or hostile b-tree ends the walk, never hangs it."""
    found: set[int] = set()
    todo = [root]
    while todo:
        number = todo.pop()
        if not 1 < number <= pages or number in found:
            continue
        found.add(number)
        page = _read_page(f, number, page_size)
        cells = int.from_bytes(page[3:5], "big")
        if page[0] == _INTERIOR_TABLE:
            todo.append(int.from_bytes(page[8:12], "big"))  # the right-most child
            for i in range(cells):
                cell = int.from_bytes(page[12 + 2 * i : 14 + 2 * i], "big")
                todo.append(int.from_bytes(page[cell : cell + 4], "big"))
        elif page[0] == _LEAF_TABLE:
            for i in range(cells):
                cell = int.from_bytes(page[8 + 2 * i : 10 + 2 * i], "big")
                try:
                    size, at = _varint(page, cell)
                    _, at = _varint(page, at)  # the rowid
                except IndexError:
                    continue  # the cell runs past its page: nothing in it can be followed
                local = _local_payload(size, usable)
                if local < size:
                    next_page = int.from_bytes(page[at + local : at + local + 4], "big")
                    found |= _overflow_chain(f, next_page, page_size, pages, found)
    return found


def _local_payload(size: int, usable: int) -> int:
    """How much of a table leaf cell's payload sits on its page; the rest overflows."""
    most = usable - 35
    if size <= most:
        return size
    least = (usable - 12) * 32 // 255 - 23
    local = least + (size - least) % (usable - 4)
    return local if local <= most else least


def _overflow_chain(f: FileIO, first: int, page_size: int, pages: int, seen: set[int]) -> set[int]:
    chain: set[int] = set()
    number = first
    while 1 < number <= pages and number not in seen and number not in chain:
        chain.add(number)
        number = int.from_bytes(_read_page(f, number, page_size)[:4], "big")
    return chain


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """SQLite's variable-length integer at ``at``: its value and the offset after it."""
    value = 0
    for i in range(8):
        byte = data[at + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    return (value << 8) | data[at + 8], at + 9


def _read_page(f: FileIO, number: int, page_size: int) -> bytes:
    f.seek((number - 1) * page_size)
    return f.read(page_size)


def _freelist_pages(f: FileIO, header: bytes, page_size: int, pages: int) -> set[int]:
    """Unused pages: they keep whatever they held before, which is no data.

    The freelist is a chain of trunk pages, each listing leaf pages (SQLite file format, 1.4).
    The snapshot's ``quick_check`` has vetted it; the walk still stops on a page out of range
    or seen before, rather than loop.
    """
    found: set[int] = set()
    trunk = int.from_bytes(header[32:36], "big")
    while 1 < trunk <= pages and trunk not in found:
        found.add(trunk)
        page = _read_page(f, trunk, page_size)
        count = min(int.from_bytes(page[4:8], "big"), (page_size - 8) // 4)
        leaves = (int.from_bytes(page[8 + 4 * i : 12 + 4 * i], "big") for i in range(count))
        found.update(leaf for leaf in leaves if 1 < leaf <= pages)
        trunk = int.from_bytes(page[0:4], "big")
    return found


def _page_runs(pages: int, skipped: list[int]) -> Iterator[tuple[int, int]]:
    """The runs ``[first, end)`` of consecutive pages in ``1..pages`` that are not skipped."""
    first = 1
    for page in skipped:
        if page > first:
            yield first, page
        first = max(first, page + 1)
    if first <= pages:
        yield first, pages + 1


# --- Bytes ----------------------------------------------------------------------------------


def _hash_range(f: FileIO, digest: hashlib._Hash, start: int, end: int) -> None:
    """Feed the bytes ``[start, end)`` of ``f`` to ``digest``, a chunk at a time."""
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    f.seek(start)
    left = end - start
    while left > 0:
        read = f.readinto(view[: min(left, _CHUNK)])
        if not read:
            break  # the file is shorter than its pages: the length is hashed already
        digest.update(view[:read])
        left -= read


def _file_digest(path: Path, start: int) -> str:
    digest = hashlib.new(_HASH)
    with path.open("rb", buffering=0) as f:
        _hash_range(f, digest, start, path.stat().st_size)
    return digest.hexdigest()


# --- XML ------------------------------------------------------------------------------------


def _gzip_digest(copy: Path) -> str:
    """Hash the compressed stream after its header.

    The deflate data and the trailer (CRC-32 and length of the XML) determine the XML, so equal
    bytes mean equal data; the header carries only a timestamp, flags and an optional name.
    Hashing the compressed bytes reads a tenth of what decompressing would, and GnuCash writes
    the same bytes for the same data.
    """
    with copy.open("rb") as f:
        start = _gzip_data_offset(f.read(64 * 1024))
    return _file_digest(copy, start)


def _gzip_data_offset(head: bytes) -> int:
    """Where the deflate data starts, after the fixed header and its optional fields (RFC 1952).

    A header that cannot be parsed gives 0: the whole file is hashed, which is still exact.
    """
    if len(head) < 10:
        return 0
    flags = head[3]
    offset = 10
    if flags & _GZIP_FEXTRA:
        if len(head) < offset + 2:
            return 0
        offset += 2 + int.from_bytes(head[offset : offset + 2], "little")
    for flag in (_GZIP_FNAME, _GZIP_FCOMMENT):
        if flags & flag:
            end = head.find(b"\x00", offset)
            if end < 0:
                return 0
            offset = end + 1
    if flags & _GZIP_FHCRC:
        offset += 2
    return offset if offset <= len(head) else 0
