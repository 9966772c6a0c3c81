"""Hostile books for the tests: files made to hurt whatever reads them, each made from a book
the real GnuCash engine wrote (``resources/sample-books``) and then damaged."""

from __future__ import annotations

import gzip
import os
import re
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

from tests.support.gnucash_books import place_sample
from tests.support.paths import SAMPLE_BOOKS

MIB = 1024 * 1024


def sample_xml() -> bytes:
    with gzip.open(SAMPLE_BOOKS["xml-gzip"], "rb") as f:
        return f.read()


def write_xml(book: Path, xml: bytes, *, compress: bool) -> Path:
    book.write_bytes(gzip.compress(xml, 6) if compress else xml)
    return book


def with_prolog(xml: bytes, prolog: bytes) -> bytes:
    """``xml`` with ``prolog`` between its XML declaration and its root element."""
    declaration, rest = xml.split(b"?>", 1)
    return declaration + b"?>\n" + prolog + rest


def first_transaction(xml: bytes) -> re.Match[bytes]:
    found = re.search(rb"<gnc:transaction.*?</gnc:transaction>", xml, re.S)
    assert found is not None
    return found


def sqlite_book(book_dir: Path, *statements: str) -> Path:
    live = place_sample("sqlite", book_dir)
    with closing(sqlite3.connect(live)) as db, db:
        for statement in statements:
            db.execute(statement)
    return live


def endless_view(table: str) -> tuple[str, ...]:
    """Statements that put in ``table``'s place a view of it whose query never ends."""
    return (
        f"ALTER TABLE {table} RENAME TO real_{table}",
        f"CREATE VIEW {table} AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
        f"FROM n) SELECT t.* FROM real_{table} AS t, n",
    )


def billion_laughs() -> bytes:
    entities = [b'<!ENTITY lol0 "lol">']
    entities += [b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10) for n in range(1, 10)]
    return b"<!DOCTYPE gnc-v2 [" + b"".join(entities) + b"]>\n"


class SecretFile:
    """A named pipe standing in for a secret file: opening it to read is what an external
    entity would do, and it is seen (the writer waiting at the other end wakes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self.opened = threading.Event()
        self._writer = threading.Thread(target=self._wait_for_a_reader, daemon=True)
        self._writer.start()

    def _wait_for_a_reader(self) -> None:
        fd = os.open(self.path, os.O_WRONLY)  # blocks until someone opens it to read
        self.opened.set()
        os.write(fd, b"root:x:0:0:secret\n")
        os.close(fd)

    def close(self) -> None:
        if not self.opened.is_set():
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer go
            self._writer.join(5)
            os.close(fd)


def external_entity_xml(secret: Path) -> bytes:
    xml = with_prolog(
        sample_xml(),
        b'<!DOCTYPE gnc-v2 [<!ENTITY x SYSTEM "' + secret.as_uri().encode() + b'">]>\n',
    )
    tx = first_transaction(xml)
    return xml.replace(tx.group(0), tx.group(0).replace(b"Opening balances", b"&x;"), 1)


def gzip_bomb(path: Path, head: bytes, filler: bytes, size: int, tail: bytes) -> Path:
    """A gzip file that inflates to ``head``, ``size`` bytes of ``filler`` and ``tail``: one
    member compressing a megabyte of filler, repeated (a gzip file may be many members, read
    one after the other), so it inflates about a thousand times and is made at once."""
    megabyte = gzip.compress(filler * (MIB // len(filler)), 9)
    with path.open("wb") as f:
        f.write(gzip.compress(head))
        for _ in range(size // MIB):
            f.write(megabyte)
        f.write(gzip.compress(tail))
    return path


def xml_with_splits(count: int) -> bytes:
    """The sample with its first transaction grown to ``count`` splits (copies of its first)."""
    xml = sample_xml()
    tx = first_transaction(xml).group(0)
    split = re.search(
        rb'<trn:split>\s*<split:id type="guid">(\w+)</split:id>.*?</trn:split>', tx, re.S
    )
    assert split is not None
    copies = b"".join(
        split.group(0).replace(split.group(1), b"%032x" % n)
        for n in range(count - tx.count(b"<trn:split>") + 1)
    )
    return xml.replace(tx, tx.replace(split.group(0), copies, 1), 1)


def crowded_sqlite(book_dir: Path, splits: int) -> Path:
    """The sample with one transaction of ``splits`` splits (copies of its first split)."""
    live = place_sample("sqlite", book_dir)
    with closing(sqlite3.connect(live)) as db, db:
        tx, first = db.execute(
            "SELECT t.guid, s.guid FROM transactions AS t JOIN splits AS s ON s.tx_guid = t.guid "
            "WHERE t.description = 'Opening balances' LIMIT 1"
        ).fetchone()
        have = db.execute("SELECT COUNT(*) FROM splits WHERE tx_guid = ?", (tx,)).fetchone()[0]
        db.executemany(
            "INSERT INTO splits SELECT ?, tx_guid, account_guid, memo, action, reconcile_state, "
            "reconcile_date, value_num, value_denom, quantity_num, quantity_denom, lot_guid "
            "FROM splits WHERE guid = ?",
            [(f"{n:032x}", first) for n in range(splits - have)],
        )
    return live
