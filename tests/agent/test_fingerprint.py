"""Content digests: what GnuCash rewrites without changing data leaves them alone; any change
to the data, through GnuCash or in one byte of a value, changes them."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from agent.sources.gnucash.reading import fingerprint
from agent.sources.gnucash.reading.fingerprint import content_digest
from agent.sources.gnucash.reading.snapshot import take_snapshot
from tests.support.gnucash_books import place_sample
from tests.support.gnucash_engine import ENGINE_PYTHON, requires_gnucash
from tests.support.recording_sleep import RecordingSleep

SESSION = Path(__file__).resolve().parents[1] / "support" / "gnucash_session.py"
FORMATS = ("sqlite", "xml-gzip", "xml")


def _digest(book: Path, workdir: Path) -> str:
    """What the agent would compute: a snapshot of the live book, then its digest."""
    snapshot = take_snapshot(book, workdir, sleep=RecordingSleep())
    try:
        return content_digest(snapshot)
    finally:
        snapshot.copy.unlink()


def _gnucash(action: str, book: Path, *options: str) -> None:
    """Do ``action`` to ``book`` in the GnuCash engine (see tests/support/gnucash_session.py)."""
    done = subprocess.run(
        [ENGINE_PYTHON, str(SESSION), action, str(book), *options],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"GnuCash could not {action} {book}:\n{done.stderr}")


def _place(book_format: str, book_dir: Path, name: str = "Harbor Lane.gnucash") -> Path:
    """A sample book as the user's live book; ``xml`` is the gzip sample, uncompressed."""
    if book_format != "xml":
        return place_sample(book_format, book_dir, name)
    live = book_dir / name
    live.write_bytes(gzip.decompress(place_sample("xml-gzip", book_dir, name).read_bytes()))
    return live


def _save_options(book_format: str) -> tuple[str, ...]:
    return ("--plain",) if book_format == "xml" else ()


def _folder_state(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
    }


# --- What GnuCash writes without changing data ------------------------------------------------


@requires_gnucash
def test_opening_and_closing_an_sqlite_book_in_gnucash_keeps_the_digest(
    book_dir: Path, workdir: Path, tmp_path: Path
) -> None:
    live = _place("sqlite", book_dir)
    # The first open of a book made by the bindings adds the book's "features" slot (a real,
    # one-time change), so the book is opened once before the measured open.
    _gnucash("open-close", live)
    before = live.read_bytes()
    digest = _digest(live, workdir)
    while_open = tmp_path / "copied while open.gnucash"

    _gnucash("open-close", live, "--copy-while-open", str(while_open))

    assert live.read_bytes() != before  # the lock row came and went: the file was written
    assert before[24:28] != live.read_bytes()[24:28]  # SQLite's file change counter moved
    snapshot = take_snapshot(while_open, workdir, sleep=RecordingSleep())
    assert snapshot.open_in_gnucash  # the copy holds GnuCash's gnclock row
    assert content_digest(snapshot) == digest
    assert _digest(live, workdir) == digest


@requires_gnucash
@pytest.mark.parametrize("book_format", ["xml-gzip", "xml"])
def test_saving_an_unchanged_xml_book_in_gnucash_keeps_the_digest(
    book_format: str, book_dir: Path, workdir: Path
) -> None:
    live = _place(book_format, book_dir)
    # The first save writes the book in this engine's own way (and plain, for "xml").
    _gnucash("resave", live, *_save_options(book_format))
    digest = _digest(live, workdir)
    before = live.stat()

    _gnucash("resave", live, *_save_options(book_format))

    after = live.stat()
    assert (after.st_ino, after.st_mtime_ns) != (before.st_ino, before.st_mtime_ns)  # rewritten
    assert _digest(live, workdir) == digest


@requires_gnucash
@pytest.mark.parametrize("change", ["add-customer", "change-memo"])
@pytest.mark.parametrize("book_format", FORMATS)
def test_a_change_made_in_gnucash_changes_the_digest(
    book_format: str, change: str, book_dir: Path, workdir: Path
) -> None:
    live = _place(book_format, book_dir)
    _gnucash("resave" if book_format != "sqlite" else "open-close", live)
    digest = _digest(live, workdir)

    _gnucash(change, live, *_save_options(book_format))

    assert _digest(live, workdir) != digest


# --- Copies and one-value differences ----------------------------------------------------------


@pytest.mark.parametrize("book_format", FORMATS)
def test_a_byte_for_byte_copy_elsewhere_has_the_same_digest(
    book_format: str, book_dir: Path, workdir: Path, tmp_path: Path
) -> None:
    live = _place(book_format, book_dir)
    elsewhere = tmp_path / "elsewhere" / "renamed copy.gnucash"
    elsewhere.parent.mkdir()
    shutil.copyfile(live, elsewhere)  # a new inode and modification time, the same bytes

    assert _digest(elsewhere, workdir) == _digest(live, workdir)


def test_sqlite_books_differing_in_one_value_differ(book_dir: Path, workdir: Path) -> None:
    live = _place("sqlite", book_dir)
    other = _place("sqlite", book_dir, "other.gnucash")
    with closing(sqlite3.connect(other)) as db, db:
        # One cent on one split, balanced by nothing: what matters is a single value.
        db.execute("UPDATE splits SET value_num = value_num + 1 WHERE rowid = 1")

    assert _digest(other, workdir) != _digest(live, workdir)


@pytest.mark.parametrize("book_format", ["xml-gzip", "xml"])
def test_xml_books_differing_in_one_value_differ(
    book_format: str, book_dir: Path, workdir: Path
) -> None:
    live = _place(book_format, book_dir)
    text = gzip.decompress(place_sample("xml-gzip", book_dir, "sample.gnucash").read_bytes())
    changed = text.replace(b"Harbor Lane Design Studio", b"Harbor Lane Design Studia", 1)
    assert changed != text
    other = book_dir / "other.gnucash"
    other.write_bytes(gzip.compress(changed) if book_format == "xml-gzip" else changed)

    assert _digest(other, workdir) != _digest(live, workdir)


# --- What is left out, and what is not ---------------------------------------------------------


def test_a_lock_row_is_left_out(book_dir: Path, workdir: Path) -> None:
    live = _place("sqlite", book_dir)
    digest = _digest(live, workdir)
    # What GnuCash writes while it has the book open (done here on the test's own copy).
    with closing(sqlite3.connect(live)) as db, db:
        db.execute("INSERT INTO gnclock (Hostname, PID) VALUES ('studio-pc', 4242)")

    assert _digest(live, workdir) == digest


def _freed_book(book_dir: Path) -> tuple[Path, list[int], int]:
    """A book with pages on its freelist (deleted rows leave them), its free leaves, page size."""
    live = _place("sqlite", book_dir)
    with closing(sqlite3.connect(live)) as db:
        with db:
            db.execute("CREATE TABLE scratch (blob BLOB)")
            db.executemany("INSERT INTO scratch VALUES (?)", [(b"x" * 4000,)] * 20)
        with db:
            db.execute("DROP TABLE scratch")
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    data = live.read_bytes()
    trunk = int.from_bytes(data[32:36], "big")
    page = data[(trunk - 1) * page_size : trunk * page_size]
    count = int.from_bytes(page[4:8], "big")
    leaves = [int.from_bytes(page[8 + 4 * i : 12 + 4 * i], "big") for i in range(count)]
    assert leaves, "the freelist should have leaf pages"
    return live, leaves, page_size


def _overwrite(book: Path, offset: int, data: bytes) -> None:
    with book.open("r+b") as f:
        f.seek(offset)
        f.write(data)


def test_what_free_pages_still_hold_is_left_out(book_dir: Path, workdir: Path) -> None:
    live, leaves, page_size = _freed_book(book_dir)
    digest = _digest(live, workdir)

    _overwrite(live, (leaves[0] - 1) * page_size, b"stale bytes of a deleted row" * 10)

    assert _digest(live, workdir) == digest


def test_a_change_in_any_used_page_is_seen(book_dir: Path, workdir: Path) -> None:
    live = _place("sqlite", book_dir)
    with closing(sqlite3.connect(f"{live.as_uri()}?mode=ro", uri=True)) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        last_used = db.execute("SELECT MAX(pageno) FROM dbstat WHERE name != 'gnclock'")
        page = last_used.fetchone()[0]
    digest = _digest(live, workdir)

    # The last byte of a page in use, past its cells' start: the bytes SQLite reads first.
    offset = page * page_size - 1
    _overwrite(live, offset, bytes([live.read_bytes()[offset] ^ 0xFF]))

    assert _digest(live, workdir) != digest


def test_the_gzip_header_is_left_out(book_dir: Path, workdir: Path) -> None:
    text = gzip.decompress(place_sample("xml-gzip", book_dir, "sample.gnucash").read_bytes())
    books = []
    for mtime, name in ((0, ""), (1_764_000_000, "Harbor Lane.gnucash")):
        book = book_dir / f"book-{mtime}.gnucash"
        with book.open("wb") as raw, gzip.GzipFile(name, "wb", 9, raw, mtime) as f:
            f.write(text)
        books.append(book)

    assert books[0].read_bytes() != books[1].read_bytes()  # a timestamp and a file name
    assert _digest(books[0], workdir) == _digest(books[1], workdir)


@pytest.mark.parametrize("book_format", FORMATS)
def test_the_digest_reads_only_the_snapshot(
    book_format: str, book_dir: Path, workdir: Path
) -> None:
    live = _place(book_format, book_dir)
    snapshot = take_snapshot(live, workdir, sleep=RecordingSleep())
    before = _folder_state(book_dir)
    copy_before = hashlib.sha256(snapshot.copy.read_bytes()).hexdigest()

    content_digest(snapshot)

    assert _folder_state(book_dir) == before  # no journal, lock or change beside the book
    assert hashlib.sha256(snapshot.copy.read_bytes()).hexdigest() == copy_before
    assert sorted(p.name for p in workdir.iterdir()) == [snapshot.copy.name]  # no -journal


# --- Without dbstat -----------------------------------------------------------------------------


def _grow_lock_table(book: Path) -> None:
    """Lock rows spread over interior, leaf and overflow pages (GnuCash writes one small row)."""
    with closing(sqlite3.connect(book)) as db, db:
        rows = [(f"host-{i}-" + "x" * (9000 if i % 7 == 0 else 40), i) for i in range(600)]
        db.executemany("INSERT INTO gnclock (Hostname, PID) VALUES (?, ?)", rows)


def test_the_lock_table_walk_finds_what_dbstat_finds(
    book_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = _place("sqlite", book_dir)
    _grow_lock_table(live)
    with closing(sqlite3.connect(f"{live.as_uri()}?mode=ro", uri=True)) as db:
        by_dbstat = fingerprint._dbstat_pages(db, "gnclock")
        kinds = {row[0] for row in db.execute("SELECT pagetype FROM dbstat WHERE name = 'gnclock'")}
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    assert kinds == {"internal", "leaf", "overflow"}

    monkeypatch.setattr(fingerprint, "_dbstat_pages", lambda db, name: None)
    with live.open("rb", buffering=0) as f:
        header = f.read(100)
        pages = live.stat().st_size // page_size
        walked = fingerprint._lock_pages(live, f, header, page_size, pages)

    assert walked == by_dbstat


@pytest.mark.parametrize("grow", [False, True])
def test_the_digest_is_the_same_without_dbstat(
    grow: bool, book_dir: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = _place("sqlite", book_dir)
    if grow:
        _grow_lock_table(live)
    with_dbstat = _digest(live, workdir)

    monkeypatch.setattr(fingerprint, "_dbstat_pages", lambda db, name: None)

    assert _digest(live, workdir) == with_dbstat


def _lock_table_layout(book: Path) -> tuple[int, int, list[int]]:
    """(page size, the lock table's root page, its overflow pages), as dbstat sees them."""
    with closing(sqlite3.connect(f"{book.as_uri()}?mode=ro", uri=True)) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'gnclock'").fetchone()
        overflow = db.execute(
            "SELECT pageno FROM dbstat WHERE name = 'gnclock' AND pagetype = 'overflow'"
        ).fetchall()
    return page_size, root[0], [row[0] for row in overflow]


def _walk(book: Path, root: int, page_size: int) -> set[int]:
    with book.open("rb", buffering=0) as f:
        header = f.read(100)
        pages = book.stat().st_size // page_size
        return fingerprint._table_pages(f, root, page_size, page_size - header[20], pages)


@pytest.mark.timeout(60)
def test_the_lock_table_walk_ends_on_looping_and_stray_pointers(book_dir: Path) -> None:
    """Without dbstat the digest walks the lock table's b-tree itself: pointers that loop or
    lead nowhere (a damaged or hostile book) end the walk, never hang or crash it."""
    live = _place("sqlite", book_dir)
    _grow_lock_table(live)
    page_size, root, overflow = _lock_table_layout(live)
    data = bytearray(live.read_bytes())
    pages = len(data) // page_size
    at = (root - 1) * page_size
    assert data[at] == 0x05  # an interior page: its children are pointers
    data[at + 8 : at + 12] = root.to_bytes(4, "big")  # the right-most child: the root again
    first_cell = int.from_bytes(data[at + 12 : at + 14], "big")
    data[at + first_cell : at + first_cell + 4] = (pages + 1000).to_bytes(4, "big")  # past the end
    second_cell = int.from_bytes(data[at + 14 : at + 16], "big")
    leaf = int.from_bytes(data[at + second_cell : at + second_cell + 4], "big")
    # A leaf whose cells point past the end of the page, and one that ends in mid-number.
    leaf_at = (leaf - 1) * page_size
    data[leaf_at + 8 : leaf_at + 10] = (page_size + 500).to_bytes(2, "big")
    data[leaf_at + 10 : leaf_at + 12] = (page_size - 1).to_bytes(2, "big")
    data[leaf_at + page_size - 1] = 0xFF  # a varint that would go on past the page
    # An overflow page whose chain leads back to itself.
    loop = overflow[0]
    data[(loop - 1) * page_size : (loop - 1) * page_size + 4] = loop.to_bytes(4, "big")
    live.write_bytes(bytes(data))

    walked = _walk(live, root, page_size)

    assert {root, leaf} <= walked
    assert all(1 < page <= pages for page in walked)


def test_a_table_named_dbstat_is_not_taken_for_sqlites_own(book_dir: Path, workdir: Path) -> None:
    """A book's own "dbstat" table would otherwise say which pages the digest leaves out."""
    live = _place("sqlite", book_dir)
    digest = _digest(live, workdir)
    page_size, _, _ = _lock_table_layout(live)
    pages = live.stat().st_size // page_size
    with closing(sqlite3.connect(live)) as db, db:
        db.execute("CREATE TABLE dbstat (name TEXT, pageno INTEGER)")
        db.executemany(
            "INSERT INTO dbstat VALUES ('gnclock', ?)", [(n,) for n in range(2, pages + 1)]
        )
    changed = _digest(live, workdir)
    with closing(sqlite3.connect(live)) as db, db:
        db.execute("UPDATE accounts SET name = 'Rent and rates' WHERE name = 'Rent'")

    assert changed != digest  # a new table is new data
    assert _digest(live, workdir) != changed  # and a change elsewhere is still seen
