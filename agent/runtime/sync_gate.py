"""When the agent may sync: not while paused, and only inside the user's sync window.

Syncing can slow the accounting package, so users pause it (for an hour, a day, or until they
resume) or confine it to hours they choose, e.g. ``19:00-07:00``. While the gate is closed the
agent does not take datasets, and tells the cloud why they wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from agent.support.config import AgentConfig
from protocol.clock import from_iso, to_iso

FOREVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SyncWindow:
    """Daily hours, in the PC's local time; ``start`` after ``end`` wraps past midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> SyncWindow:
        try:
            start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError as exc:
            raise ValueError(
                f"'{text}' is not a sync window: write it as two times, like 19:00-07:00."
            ) from exc
        if start == end:
            raise ValueError("A sync window must not start and end at the same time.")
        return cls(start, end)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: datetime) -> bool:
        moment = local.time()
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def next_closing(self, local: datetime) -> datetime:
        closing = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return closing if closing > local else closing + timedelta(days=1)

    def next_opening(self, local: datetime) -> datetime:
        opening = local.replace(
            hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0
        )
        return opening if opening > local else opening + timedelta(days=1)


@dataclass(frozen=True)
class Gate:
    open: bool
    reason: str | None = None  # for the cloud's statusDescription, when closed
    reopens: datetime | None = None  # when to look again (UTC); None: only when told
    closes: datetime | None = None  # when an open window ends (UTC): never poll past it


def sync_gate(now: datetime, paused_until: datetime | None, window: SyncWindow | None) -> Gate:
    """Whether syncing may happen at ``now`` (aware), and if not, why and until when."""
    if paused_until is not None and now < paused_until:
        if paused_until >= FOREVER:
            return Gate(False, "Paused on the connector until the user resumes it")
        return Gate(False, f"Paused until {to_iso(paused_until)}", paused_until)
    if window is not None:
        local = now.astimezone()
        if not window.contains(local):
            opening = window.next_opening(local).astimezone(UTC)
            return Gate(
                False,
                f"Outside the connector's sync window ({window}); it syncs again from "
                f"{to_iso(opening)}",
                reopens=opening,
            )
        return Gate(True, closes=window.next_closing(local).astimezone(UTC))
    return Gate(True)


def gate_for(config: AgentConfig, now: datetime) -> Gate:
    """The gate as the user's settings (pause, sync window) make it at ``now``."""
    paused = from_iso(config.paused_until) if config.paused_until else None
    window = SyncWindow.parse(config.sync_window) if config.sync_window else None
    return sync_gate(now, paused, window)
