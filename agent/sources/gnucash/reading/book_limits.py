"""How much of a book Connector will read: bounds no book GnuCash writes comes near, which keep
a hostile or broken file from filling the memory or the disk of the PC.

A book is the user's file, but anything can be put in its place: a gzip file of a few megabytes
that inflates to many gigabytes, a record of hundreds of megabytes, a transaction of millions of
splits. Connector streams what can be streamed (an XML book record by record, an SQLite book's
ledger transaction by transaction), so only a single record has to fit in memory at once; these
numbers bound that record, and the whole, and a book past one of them is refused with a
FetchError saying which bound, instead of read.

Measured on the synthetic books of ``benchmarks/synthetic_book.py`` (GnuCash's own layout): an
XML book holds about 620 bytes of XML per split and gzips about 11 to 1; ElementTree holds a
record in about 8 times its XML size.
"""

from __future__ import annotations

from pathlib import Path

from agent.errors import BookUnreadable

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

MAX_XML_BYTES = 4 * GIB
"""The most XML an XML book may hold, inflated: about 7 million splits. GnuCash loads an XML book
whole into memory, several times its size, so no PC GnuCash runs on opens a larger one; past it,
the ledger spool the parse writes to Connector's folder would pass a gigabyte."""

MAX_INFLATION = 100
"""How many times its compressed size a gzip book may inflate to (past ``INFLATION_ALLOWANCE``).
Every GnuCash record carries a random 32-digit GUID per few hundred bytes, so a real book
compresses about 11 to 1; a gzip bomb compresses about 1000 to 1, and is stopped after inflating
a hundred times its size instead of four gigabytes."""

INFLATION_ALLOWANCE = 64 * MIB
"""What any gzip book may inflate to whatever its compressed size, so small books need no ratio."""

MAX_RECORD_BYTES = 8 * MIB
"""The most XML one record of an XML book (an account, a transaction, a customer, one price)
may span, with the blank space before it: about 25,000 splits of a transaction. The parse holds
one record at a time, at about 8 times its size."""

MAX_RECORD_ELEMENTS = 250_000
"""The most XML elements one record may hold: a 10,000-split transaction has about 200,000.
Empty elements take 4 bytes of XML but about 80 of memory, so bytes alone would not bound it."""

MAX_SPLITS_PER_TRANSACTION = 10_000
"""The most splits one transaction may have, in either format. A journal entry is one record of
the standard model, mapped and checked whole; GnuCash's own register is unusable long before."""

MAX_VALUE_BYTES = 16 * MIB
"""The longest value of an SQLite book (a description, a memo, a note), and the longest a
transaction's splits can be when SQLite hands them over together: set as SQLite's own length
limit on every connection to a book's copy, so SQLite refuses a longer value before it is ever
in memory."""


def max_inflated_bytes(compressed_bytes: int) -> int:
    """The most XML a gzip book of ``compressed_bytes`` may inflate to."""
    return min(MAX_XML_BYTES, INFLATION_ALLOWANCE + MAX_INFLATION * compressed_bytes)


def xml_size_bound(compressed_bytes: int | None) -> tuple[int, str]:
    """The most XML a book may hold, and the refusal's words for passing it; for a gzip book of
    ``compressed_bytes``, ``None`` for plain XML."""
    if compressed_bytes is None or max_inflated_bytes(compressed_bytes) == MAX_XML_BYTES:
        return MAX_XML_BYTES, f"it holds more than {size_text(MAX_XML_BYTES)} of XML"
    limit = max_inflated_bytes(compressed_bytes)
    return limit, (
        f"its {size_text(compressed_bytes)} of compressed data inflate to more than "
        f"{size_text(limit)} of XML (no GnuCash book inflates to {MAX_INFLATION} times its "
        "compressed size)"
    )


def size_text(size: int) -> str:
    """A size as a person reads it: ``16 MiB``, ``4 GiB``."""
    for unit, name in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if size >= unit:
            value = size / unit
            return f"{value:.0f} {name}" if value == int(value) else f"{value:.1f} {name}"
    return f"{size} bytes"


def too_many_splits(book: Path, transaction: str, splits: int) -> BookUnreadable:
    """The refusal of ``transaction`` (a noun phrase naming it) for having ``splits`` splits."""
    return BookUnreadable(
        f"The book {book} has {transaction} with {splits:,} splits, more than the "
        f"{MAX_SPLITS_PER_TRANSACTION:,} Connector reads in one transaction (it becomes one "
        "journal entry, which has to fit in memory at once). If the transaction is real, "
        "split it into several in GnuCash; otherwise restore the book from a backup."
    )


def value_too_long(book: Path, what: str) -> BookUnreadable:
    """The refusal of a book for ``what`` (a noun phrase: "a value in its splits") being
    longer than ``MAX_VALUE_BYTES``."""
    return BookUnreadable(
        f"The book {book} is not a book GnuCash writes: {what} is longer than "
        f"{size_text(MAX_VALUE_BYTES)}, which Connector does not read, so that it cannot fill "
        "this PC's memory. Open the book in GnuCash to check it; if GnuCash cannot open it "
        "either, restore it from a backup."
    )
