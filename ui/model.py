"""The tray's one overall state, worked out from the facade's status snapshot, in plain words.

No Qt here: the rules that decide which icon a bookkeeper sees are tested as plain functions.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from agent.link_status import AgentStatus, LinkStatus


class TrayState(StrEnum):
    NOT_LINKED = "not_linked"
    IDLE = "idle"
    SYNCING = "syncing"
    PAUSED = "paused"
    OFFLINE = "offline"
    NEEDS_REAUTHORIZATION = "needs_reauthorization"
    ERROR = "error"


# What each state means to someone who does not know what a dataset is.
STATE_TEXT: dict[TrayState, str] = {
    TrayState.NOT_LINKED: "Not linked to a company yet",
    TrayState.IDLE: "Up to date",
    TrayState.SYNCING: "Syncing",
    TrayState.PAUSED: "Paused",
    TrayState.OFFLINE: "Offline: cannot reach the cloud",
    TrayState.NEEDS_REAUTHORIZATION: "Needs to be re-authorized",
    TrayState.ERROR: "Something went wrong",
}

LINK_STATE_TEXT: dict[str, str] = {
    "idle": "up to date",
    "syncing": "syncing",
    "offline": "offline",
    "paused": "paused",
    "needs_reauthorization": "needs re-authorization",
    "stopped": "stopped",
    "not_running": "not running",
}


def link_state(link: LinkStatus) -> TrayState:
    """One company's state, as the tray counts it."""
    if link.state == "needs_reauthorization":
        return TrayState.NEEDS_REAUTHORIZATION
    if link.state == "syncing":
        return TrayState.SYNCING
    if link.state == "offline":
        return TrayState.OFFLINE
    if link.state in ("stopped", "not_running"):
        # A link that is not being served will not sync: the user has to act, like an error.
        return TrayState.ERROR
    if link.last_error:
        return TrayState.ERROR
    if link.state == "paused":
        return TrayState.PAUSED
    return TrayState.IDLE


# The worst company decides the icon: what needs the user's hand comes before what will pass.
_PRIORITY = (
    TrayState.NEEDS_REAUTHORIZATION,
    TrayState.ERROR,
    TrayState.OFFLINE,
    TrayState.SYNCING,
    TrayState.PAUSED,
    TrayState.IDLE,
)


def overall_state(status: AgentStatus) -> TrayState:
    if not status.links:
        return TrayState.NOT_LINKED
    states = {link_state(link) for link in status.links}
    if is_paused(status) and TrayState.SYNCING not in states:
        # A pause is the user's own choice; it outranks idle but never hides a problem.
        states.add(TrayState.PAUSED)
    return next(state for state in _PRIORITY if state in states)


def is_paused(status: AgentStatus) -> bool:
    """Paused by the user (not just outside the sync window); a lapsed pause has no reason."""
    return status.paused_until is not None and status.pause_reason is not None


def links_needing_reauthorization(status: AgentStatus) -> list[LinkStatus]:
    return [link for link in status.links if link.state == "needs_reauthorization"]


def links_to_try_again(status: AgentStatus) -> list[LinkStatus]:
    """Companies whose syncing stopped: "Try again" comes first, before a new link (the cloud
    may accept this PC after all, and trying costs nothing)."""
    return [link for link in status.links if link.state in ("needs_reauthorization", "stopped")]


def running_syncs(status: AgentStatus) -> list[LinkStatus]:
    return [link for link in status.links if link.syncing]


def pause_text(status: AgentStatus) -> str | None:
    if status.paused_until is None or not is_paused(status):
        return None
    if status.paused_until.year >= 9999:  # the facade's "until resumed"
        return "Paused until you resume"
    return f"Paused until {status.paused_until.astimezone():%a %H:%M}"


def when(moment: datetime | None, now: datetime) -> str:
    """A moment as a bookkeeper would say it: "just now", "12 min ago", "yesterday 14:05"."""
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    local, today = moment.astimezone(), now.astimezone()
    if local.date() == today.date():
        return f"today {local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"


def link_line(link: LinkStatus) -> str:
    """The menu's line for one company."""
    text = LINK_STATE_TEXT.get(link.state, link.state.replace("_", " "))
    if link.syncing:
        text = f"syncing {link.syncing}"
    elif link.last_error and link.state not in ("needs_reauthorization", "offline"):
        text = f"{text}; last sync failed"
    return f"{link.company_name}: {text}"
