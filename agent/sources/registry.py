"""The accounting packages this install can read, found through their entry points.

A source announces itself in its distribution's metadata, under the ``connector.sources``
entry point group (``pyproject.toml``: ``gnucash = "agent.sources.gnucash.source:GnuCashSource"``),
so a second accounting package is a new folder under ``agent/sources/`` plus one line there,
not an edit of the facade. Read with :mod:`importlib.metadata`; the frozen app carries this
distribution's metadata (``installer/connector.spec``: ``copy_metadata``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from agent.errors import UnknownSource
from agent.sources.base import BookPreview, Source
from agent.support.config import GNUCASH_SOURCE

GROUP = "connector.sources"

# The package a book is linked with when none is named (the wizard and `connector link` link
# GnuCash books); each link in config.json names its own (``Link.source``).
DEFAULT_SOURCE = GNUCASH_SOURCE


class SourceKind(Protocol):
    """What the registry hands out: a package's ``Source`` class, made per link."""

    def __call__(self, book_path: Path, workdir: Path, *, report_months: int | None) -> Source:
        """A source reading the book at ``book_path``, its snapshots kept in ``workdir``."""
        ...

    def data_types(self) -> list[str]:
        """Every data type any book of this package can be read for, by this version."""
        ...

    def preview(
        self, book_path: Path, workdir: Path, *, sleep: Callable[[float], None] = ...
    ) -> BookPreview:
        """Read the book at ``book_path`` once (a snapshot in ``workdir``, deleted after) and
        say what it holds; raises :class:`~agent.errors.BookUnreadable` for a wrong file. What
        linking checks before it spends a code, and the self-test's look at the book."""
        ...


# Cached: reading the entry points scans every installed distribution's metadata (about 0.1 s in
# a development environment), and what is installed does not change under a running process.
@cache
def available() -> tuple[str, ...]:
    """The names of the sources installed, sorted."""
    return tuple(sorted({point.name for point in entry_points(group=GROUP)}))


@cache
def source_kind(name: str = DEFAULT_SOURCE) -> SourceKind:
    """The source class registered as ``name``; :class:`UnknownSource` when none is."""
    for point in entry_points(group=GROUP, name=name):
        kind: SourceKind = point.load()
        return kind
    raise UnknownSource(
        f"No reader for {name!r} is installed (found: {', '.join(available()) or 'none'}). "
        "Install Connector again; if this persists, send the diagnostics to support."
    )
