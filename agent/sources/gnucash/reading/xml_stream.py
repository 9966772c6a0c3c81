"""The bytes of an XML book as its parser reads them: without a DTD, and within bounds.

Everything the parser gets passes through :class:`BookStream`, which refuses the book (with a
:class:`~agent.errors.BookUnreadable` a person can act on) as soon as

- the prolog declares a DOCTYPE (``xml_prolog``), before the parser has seen it;
- the document passes its size bound (``book_limits``), which for a gzip book is a multiple of
  its compressed size: a gzip bomb is stopped early, and never fills the disk with spool;
- one record passes its bound in bytes: the parse calls :meth:`BookStream.record_done` after
  each record, and the bytes read since then are what the record being built holds in memory.
  (The parse counts the record's elements itself: :func:`too_many_elements`.)
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from xml.parsers import expat

from agent.errors import BookUnreadable
from agent.sources.gnucash.reading.book_limits import (
    MAX_RECORD_BYTES,
    MAX_RECORD_ELEMENTS,
    size_text,
)
from agent.sources.gnucash.reading.xml_prolog import DoctypeDeclared, Prolog


def doctype_refusal(book: Path) -> BookUnreadable:
    return BookUnreadable(
        f"The book {book} is not a GnuCash book: it declares an XML document type (a "
        "DOCTYPE), which GnuCash never writes, and which can make an XML reader expand "
        "entities without end or read other files of this PC. Connector does not read such a "
        "file. Choose the .gnucash file you open in GnuCash, or restore this one from a backup "
        f"({book.name}.YYYYMMDDHHMMSS.gnucash beside it)."
    )


def malformed_refusal(book: Path, problem: str) -> BookUnreadable:
    return BookUnreadable(
        f"The book {book} is damaged: it is not well-formed XML ({problem}). Open it in "
        "GnuCash to check it; if GnuCash cannot open it either, restore the newest backup "
        f"beside it ({book.name}.YYYYMMDDHHMMSS.gnucash)."
    )


def too_many_elements(book: Path) -> BookUnreadable:
    """The refusal of a record of more than ``MAX_RECORD_ELEMENTS`` elements."""
    return too_large_refusal(
        book, f"one of its records holds more than {MAX_RECORD_ELEMENTS:,} elements"
    )


def too_large_refusal(book: Path, what: str) -> BookUnreadable:
    """The refusal of a book past a size bound: ``what`` says which, e.g. "it holds more than
    4 GiB of XML"."""
    return BookUnreadable(
        f"The book {book} is not a book GnuCash writes: {what}. Connector stops reading it "
        "there, so that it cannot fill this PC's memory or disk. Open it in GnuCash to check "
        "it; if GnuCash cannot open it either, restore the newest backup beside it "
        f"({book.name}.YYYYMMDDHHMMSS.gnucash)."
    )


class BookStream:
    """``stream`` (the book's XML, inflated) for the parser, checked as it is read.

    Blank space and a UTF-8 byte-order mark before ``<?xml`` are dropped: such files are what
    the snapshot sniffs as XML, but expat refuses a declaration that is not the very first
    thing in the document. ``bound`` is the most the whole document may hold, and the words
    that say so (``book_limits.xml_size_bound``).
    """

    def __init__(self, stream: io.BufferedIOBase, book: Path, *, bound: tuple[int, str]) -> None:
        self._stream = stream
        self._book = book
        self._max_bytes, self._past_bound = bound
        self._prolog = Prolog()
        self._started = False
        self._read = 0  # bytes read from the stream, the blank space skipped included
        self._record_start = 0  # where the bytes of the record being built start

    def record_done(self) -> None:
        """The parse has taken a whole record: what follows belongs to the next one."""
        self._record_start = self._read

    def read(self, size: int = -1) -> bytes:
        chunk = self._take(size)
        while not self._started and chunk:
            chunk = chunk.removeprefix(codecs.BOM_UTF8).lstrip()
            if chunk:  # otherwise the chunk was all blank space: keep skipping
                self._started = True
            else:
                chunk = self._take(size)
        if not self._prolog.done and chunk:
            try:
                self._prolog.feed(chunk)
            except DoctypeDeclared:
                raise doctype_refusal(self._book) from None
            except expat.ExpatError as e:
                raise malformed_refusal(self._book, str(e)) from None
        return chunk

    def _take(self, size: int) -> bytes:
        """The stream's next bytes, counted against the bounds."""
        raw = self._stream.read(size)
        self._read += len(raw)
        if self._read > self._max_bytes:
            raise too_large_refusal(self._book, self._past_bound)
        if self._read - self._record_start > MAX_RECORD_BYTES:
            raise too_large_refusal(
                self._book,
                f"one of its records spans more than {size_text(MAX_RECORD_BYTES)} of XML",
            )
        return raw
