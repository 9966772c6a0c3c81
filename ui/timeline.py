"""A dataset's timeline in plain words: each state, when it began, how long it lasted, and how
far a running dataset has come. No Qt here, so the rules are tested as plain functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.status.link_status import RecentRun
from protocol.states import DatasetStatus

S = DatasetStatus
# The happy path with its waiting steps, in order: how far along a running dataset is.
PROGRESS_STEPS: tuple[DatasetStatus, ...] = (
    S.QUEUED,
    S.FETCHING,
    S.MAP_QUEUED,
    S.MAPPING,
    S.VALIDATION_QUEUED,
    S.VALIDATING,
    S.PROCESSING_QUEUED,
    S.PROCESSING,
    S.COMPLETE,
)


@dataclass(frozen=True)
class Step:
    status: DatasetStatus
    at: datetime
    duration: timedelta | None  # None: the dataset ended in this state
    running: bool  # the state the dataset is in now, still counting
    error_message: str | None


def steps(run: RecentRun, now: datetime) -> list[Step]:
    """The timeline, oldest first, each state lasting until the next began (or until now)."""
    entries = sorted(run.timeline, key=lambda entry: entry.at)
    result = []
    for index, entry in enumerate(entries):
        last = index == len(entries) - 1
        if not last:
            duration: timedelta | None = entries[index + 1].at - entry.at
        elif run.finished:
            duration = None
        else:
            duration = max(now - entry.at, timedelta(0))
        now_in_it = last and not run.finished
        result.append(Step(entry.status, entry.at, duration, now_in_it, entry.error_message))
    return result


def total_duration(timeline: list[Step]) -> timedelta | None:
    """From the first state to the end of the last (or to now, while it runs)."""
    if not timeline:
        return None
    return timeline[-1].at - timeline[0].at + (timeline[-1].duration or timedelta(0))


def progress(run: RecentRun) -> int | None:
    """Percent done for a running dataset on the happy path; None when it is not running."""
    if run.finished or run.status not in PROGRESS_STEPS:
        return None
    return round(100 * PROGRESS_STEPS.index(run.status) / (len(PROGRESS_STEPS) - 1))


def running(runs: tuple[RecentRun, ...]) -> RecentRun | None:
    return next((run for run in runs if not run.finished), None)


def duration_text(span: timedelta | None) -> str:
    if span is None:
        return ""
    seconds = int(span.total_seconds())
    if seconds < 1:
        return "under 1 s"
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min"


def moment_text(moment: datetime) -> str:
    return f"{moment.astimezone():%Y-%m-%d %H:%M:%S}"
