"""What comes before an XML book's root element, read by expat: the root's name, and no DTD.

GnuCash never writes a document type declaration, and a DTD is where every XML trick lives:
entities that expand a billion times ("billion laughs"), entities that read a file of the PC
(``<!ENTITY x SYSTEM "file:///etc/passwd">``) or fetch a URL. So an XML book with any DOCTYPE is
refused, before the parser that reads the book has seen it. The check is expat's own
(``StartDoctypeDeclHandler``), so it reads the prolog exactly as the book's parser will: a
DOCTYPE hidden after comments or processing instructions is found too.
"""

from __future__ import annotations

from contextlib import suppress
from xml.parsers import expat

__all__ = ["DoctypeDeclared", "Prolog"]


class DoctypeDeclared(Exception):
    """The document declares a document type (a DTD)."""


class _RootStarted(Exception):
    """Stops expat at the root element: nothing after it is the prolog's business."""


class Prolog:
    """Feeds a document's first bytes to expat until its root element starts.

    :meth:`feed` raises :class:`DoctypeDeclared` for a DOCTYPE, and ``expat.ExpatError`` for a
    prolog that is not well-formed; ``root`` is the root element's name once it has started.
    """

    def __init__(self) -> None:
        self.root: str | None = None
        self._parser = expat.ParserCreate()
        self._parser.StartDoctypeDeclHandler = self._on_doctype
        self._parser.StartElementHandler = self._on_element

    @property
    def done(self) -> bool:
        return self.root is not None

    def feed(self, data: bytes) -> bool:
        """Read the next bytes of the document; whether the root element has started."""
        if self.root is None:
            with suppress(_RootStarted):
                self._parser.Parse(data, False)
        return self.root is not None

    def _on_doctype(self, name: str, *_rest: object) -> None:
        raise DoctypeDeclared(name)

    def _on_element(self, name: str, _attributes: object) -> None:
        self.root = name
        raise _RootStarted
