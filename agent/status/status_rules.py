"""The rules that turn what the agent knows about a link into one verdict, and the verdicts of
all links into the agent's, in plain words.

The tray (icon, tooltip, menu), the status window and ``connector status`` all show the
snapshot these rules produce (:mod:`agent.status.link_status`), so they cannot disagree. No Qt
here, and no I/O: the rules are tested as plain functions.

What counts against a link:

- on this PC, each data type whose latest finished dataset ended in an error state; a later
  dataset of that type that completes clears it;
- in the cloud, a data type whose latest dataset ended AuthError, unless it was queued before
  this link was last (re-)authorized: re-authorizing clears what the old authorization broke;
- in the cloud, a dataset waiting in Queued for :data:`STUCK_AFTER` while this agent takes work
  and has run nothing for as long: it should have reached this PC by then;
- a connection the cloud holds as Deauthorized (or Unlinked): it needs re-authorization.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from agent.cloud_api.cloud_view import CloudView
from protocol.datatypes import data_type_words
from protocol.states import DatasetStatus, is_error


class LinkActivity(StrEnum):
    """What the agent is doing for a link (``LinkStatus.state``): kept from the events, the
    workers, the sync gate and ``state.db``; each view shows it through the link's
    :class:`Condition`. The values are the words ``connector status --json`` writes."""

    IDLE = "idle"
    SYNCING = "syncing"
    PAUSED = "paused"  # the gate is closed: a pause, or outside the sync window
    OFFLINE = "offline"
    NEEDS_REAUTHORIZATION = "needs_reauthorization"
    STOPPED = "stopped"  # its worker ended on an error; "Try again" serves it again
    NOT_RUNNING = "not_running"  # no agent serves it, here or in another process


class Condition(StrEnum):
    """A link's verdict, and the agent's (the worst link's); each has its tray icon."""

    NOT_LINKED = "not_linked"
    IDLE = "idle"
    SYNCING = "syncing"
    PAUSED = "paused"
    OFFLINE = "offline"
    NOT_RUNNING = "not_running"
    ERROR = "error"
    NEEDS_REAUTHORIZATION = "needs_reauthorization"


# What each verdict means to someone who does not know what a dataset is.
HEADLINES: dict[Condition, str] = {
    Condition.NOT_LINKED: "Not linked to a company yet",
    Condition.IDLE: "Up to date",
    Condition.SYNCING: "Syncing",
    Condition.PAUSED: "Paused",
    Condition.OFFLINE: "Offline: cannot reach the cloud",
    Condition.NOT_RUNNING: "Not running: nothing is syncing",
    Condition.ERROR: "Some data did not sync",
    Condition.NEEDS_REAUTHORIZATION: "Needs to be re-authorized",
}

# The worst link decides: what needs the user's hand comes before what will pass.
PRIORITY: tuple[Condition, ...] = (
    Condition.NEEDS_REAUTHORIZATION,
    Condition.ERROR,
    Condition.NOT_RUNNING,
    Condition.OFFLINE,
    Condition.SYNCING,
    Condition.PAUSED,
    Condition.IDLE,
)

# A running agent that takes work gets a queued dataset within a long poll (seconds); one that
# still waits after this long, while the agent ran nothing, is not going to arrive by itself.
STUCK_AFTER = timedelta(minutes=2)

# Connection statuses in the cloud that refuse this PC's credential.
NOT_AUTHORIZED = ("Deauthorized", "Unlinked")


@dataclass(frozen=True)
class Problem:
    """Something that keeps a link from being up to date, in words for the person who must act."""

    short: str  # a few words for a one-line summary: "customers did not sync"
    message: str  # the whole story: what happened, and what to do
    data_type: str | None = None
    needs_reauthorization: bool = False


@dataclass(frozen=True)
class LatestResult:
    """How the latest finished dataset of one data type ended on this PC."""

    data_type: str
    status: DatasetStatus
    error: str | None


def local_problems(results: Iterable[LatestResult]) -> list[Problem]:
    """The data types whose latest finished dataset here ended in an error state."""
    return [
        Problem(
            short=f"{data_type_words(result.data_type)} did not sync",
            message=(
                f"{_capitalized(data_type_words(result.data_type))} did not sync: "
                f"{result.error or result.status}"
            ),
            data_type=result.data_type,
        )
        for result in sorted(results, key=lambda r: r.data_type)
        if is_error(result.status)
    ]


def cloud_problems(
    cloud: CloudView,
    *,
    activity: LinkActivity,
    linked_at: datetime | None,
    last_activity: datetime | None,
    known_here: set[str],
) -> list[Problem]:
    """What the cloud's view shows against the link (see the module's docstring).

    ``known_here``: data types already counted from this PC's own results (their words are
    better than the cloud's echo of them).
    """
    if cloud.connection_status in NOT_AUTHORIZED and activity != LinkActivity.NEEDS_REAUTHORIZATION:
        return [
            Problem(
                short="needs re-authorization",
                message=(
                    "The cloud no longer accepts this PC's connection "
                    f"({cloud.connection_status}). Link it again with a new link."
                ),
                needs_reauthorization=True,
            )
        ]
    idle_since = cloud.fetched_at - STUCK_AFTER
    quiet = last_activity is None or last_activity <= idle_since
    found = []
    for entry in cloud.data_types:
        if entry.data_type in known_here:
            continue
        words = data_type_words(entry.data_type)
        before_link = (
            linked_at is not None and entry.requested is not None and entry.requested < linked_at
        )
        if entry.status == DatasetStatus.AUTH_ERROR and not before_link:
            found.append(
                Problem(
                    short=f"{words} did not sync",
                    message=(
                        f"{_capitalized(words)} did not sync: the cloud refused it because "
                        "this PC's authorization was not accepted at the time. Choose Sync now "
                        "to try again."
                    ),
                    data_type=entry.data_type,
                )
            )
        elif (
            entry.status == DatasetStatus.QUEUED
            and activity == LinkActivity.IDLE
            and quiet
            and entry.requested is not None
            and entry.requested <= idle_since
        ):
            found.append(
                Problem(
                    short=f"{words} stuck in the cloud",
                    message=(
                        f"The {words} sync has been waiting in the cloud since "
                        f"{moment_text(entry.requested, cloud.fetched_at)} and has not reached "
                        "this PC. Restart Connector; if it still waits, tell your provider."
                    ),
                    data_type=entry.data_type,
                )
            )
    return found


def link_condition(activity: LinkActivity, problems: Sequence[Problem]) -> Condition:
    """One link's verdict from what its worker is doing and what stands against it."""
    if activity == LinkActivity.NEEDS_REAUTHORIZATION or any(
        p.needs_reauthorization for p in problems
    ):
        return Condition.NEEDS_REAUTHORIZATION
    if activity == LinkActivity.STOPPED:
        return Condition.ERROR  # not served: nothing syncs until the user acts
    if activity == LinkActivity.NOT_RUNNING:
        return Condition.NOT_RUNNING
    if activity == LinkActivity.OFFLINE:
        return Condition.OFFLINE
    if activity == LinkActivity.SYNCING:
        return Condition.SYNCING  # at work, perhaps on the very data type that failed
    if problems:
        return Condition.ERROR
    if activity == LinkActivity.PAUSED:
        return Condition.PAUSED
    return Condition.IDLE


def link_summary(
    condition: Condition,
    *,
    syncing: str | None,
    problems: Sequence[Problem],
    user_paused: bool,
) -> str:
    """The words after the company's name, everywhere a link is listed."""
    shorts = [p.short for p in problems]
    if condition == Condition.ERROR:
        if len(shorts) > 2:
            return f"{len(shorts)} data types need attention"
        return "; ".join(shorts) or "stopped"
    text = {
        Condition.NEEDS_REAUTHORIZATION: "needs re-authorization",
        Condition.NOT_RUNNING: "not running",
        Condition.OFFLINE: "offline: cannot reach the cloud",
        Condition.SYNCING: f"syncing {data_type_words(syncing)}" if syncing else "syncing",
        Condition.PAUSED: "paused" if user_paused else "waiting for its sync window",
        Condition.IDLE: "up to date",
    }[condition]
    if condition == Condition.SYNCING and shorts:
        text += f"; {len(shorts)} other problem{'s' if len(shorts) > 1 else ''}"
    return text


def overall_condition(conditions: Iterable[Condition], *, user_paused: bool) -> Condition:
    """The agent's verdict: the worst link's; a pause shows unless a sync is finishing."""
    states = set(conditions)
    if not states:
        return Condition.NOT_LINKED
    if user_paused and Condition.SYNCING not in states:
        # A pause is the user's own choice; it outranks idle but never hides a problem.
        states.add(Condition.PAUSED)
    return next(state for state in PRIORITY if state in states)


def pause_line(paused_until: datetime | None, user_paused: bool) -> str | None:
    """ "Paused until Mon 14:00", or None when not paused by the user."""
    if paused_until is None or not user_paused:
        return None
    if paused_until.year >= 9999:  # the facade's "until resumed"
        return "Paused until you resume"
    return f"Paused until {paused_until.astimezone():%a %H:%M}"


def moment_text(moment: datetime, now: datetime) -> str:
    """A moment on this PC's clock: "14:05" today, "2026-03-01 14:05" another day."""
    local = moment.astimezone()
    if local.date() == now.astimezone().date():
        return f"{local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"


def when(moment: datetime | None, now: datetime) -> str:
    """A moment as a bookkeeper would say it: "just now", "12 min ago", "today 14:05"."""
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    text = moment_text(moment, now)
    return f"today {text}" if len(text) == 5 else text


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]
