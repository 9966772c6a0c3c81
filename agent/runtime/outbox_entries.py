"""What the outbox holds: a report of a transition, or a page of records waiting to be uploaded.

Each entry is a typed value, kept in ``state.db`` as its JSON and read back as the same type (a
row that does not parse is no entry of this version's: see ``local_state.py``'s migrations). A
report carries the :class:`~protocol.agent_requests.TransitionReport` the cloud parses, built
once when the transition was made and sent as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_serializer

from protocol.agent_requests import TransitionReport


class ReportEntry(BaseModel):
    """A transition report to send (outbox kind ``report``)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["report"] = "report"
    report: TransitionReport
    # The state is reached when this report is sent, not when it was queued: Complete, which
    # comes after the last page. Its report is stamped with the moment of sending (the
    # ``timestamp`` it was queued with is only the time it was queued), and the run enters the
    # state once the cloud acknowledges it (``DatasetMoves.reached``).
    entered_on_sending: bool = False

    @field_serializer("report")
    def _given_fields_only(self, report: TransitionReport) -> dict[str, Any]:
        # Kept as it goes on the wire: only the fields given (an absent one is not a null).
        return report.model_dump(mode="json", exclude_unset=True)

    def to_send(self, now: datetime) -> TransitionReport:
        """The report as it goes on the wire now."""
        if not self.entered_on_sending:
            return self.report
        return self.report.model_copy(update={"timestamp": now})


class PageEntry(BaseModel):
    """A page of records staged on disk, to upload (outbox kind ``page``)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["page"] = "page"
    page: int = Field(ge=0)  # its number in the dataset: ``PUT .../chunks/{page}``
    file: str  # the staged file: the page's records as a JSON array


OutboxItem = Annotated[ReportEntry | PageEntry, Field(discriminator="kind")]

ITEMS: TypeAdapter[ReportEntry | PageEntry] = TypeAdapter(OutboxItem)
"""Parses an entry's stored JSON back into its type."""
