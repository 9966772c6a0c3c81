"""What the runner needs from a local accounting package, whatever the package is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

# A record is the standard data model's (agent/standard/), not a source's: named here too because
# every source's map() yields them.
from agent.standard.model import Record as Record


@dataclass(frozen=True)
class BookPreview:
    """What a book holds, so a person can tell it is the right company's before linking, and
    the self-test can say the book reads (a source's ``preview``)."""

    book_path: Path
    company_name: str  # as the package names the business; the file's name when it names none
    last_transaction: date | None  # the latest posted date; None for a book without any
    accounts: int
    customers: int
    invoices: int  # customer invoices, credit notes left out
    suppliers: int = 0
    # The package that has the book open right now (it holds its lock), if one does: worth
    # saying, never a problem, since Connector reads a copy.
    open_in: str | None = None


class Source(Protocol):
    """A local accounting package, read for one data type at a time."""

    def readable_data_types(self) -> list[str]:
        """Every data type this source can read, as the agent announces them to the cloud."""
        ...

    def fingerprint(self) -> str | None:
        """Something that changes whenever the package's data may have changed (None: cannot
        tell), so an unchanged book is recognised without reading it."""
        ...

    def unsupported_reason(self, data_type: str) -> str | None:
        """None when ``data_type`` can be read; otherwise why not, in words for the cloud side."""
        ...

    def fetch(self, data_type: str) -> object:
        """Read what ``data_type`` needs from the package (the Fetching phase)."""
        ...

    def map(self, data_type: str, fetched: object) -> Iterable[Record]:
        """Convert what ``fetch`` returned into standard records (the Mapping phase); they
        may be produced as they are consumed, so that a large book never sits in memory."""
        ...

    def release(self) -> None:
        """Let go of anything kept between datasets (a snapshot of the book); nothing is
        waiting for now."""
        ...
