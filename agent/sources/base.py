"""What the runner needs from a local accounting package, whatever the package is."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

# A record is the standard data model's (agent/standard/), not a source's: named here too because
# every source's map() yields them.
from agent.standard.model import Record as Record


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
