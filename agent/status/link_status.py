"""The status snapshot: the one object the tray's icon, tooltip and menu, the status window and
``connector status`` (text and ``--json``) all show, so that they cannot disagree.

:class:`LinkConditions` keeps each link's last known condition from the events (offline,
reconnected, needs re-authorization, stopped); :func:`link_activity` says what the agent is
doing for a link; :func:`assess_link` adds the verdict of :mod:`agent.status.status_rules` and its
words; :func:`summarize` does the same for the whole agent. :func:`agent_status` puts a snapshot
together from the config, the local state, the link workers and the cloud's views.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from agent.cloud_api.cloud_view import CloudView, CloudViews
from agent.errors import AuthorizationLost, CloudUnavailable, ConnectorError
from agent.events import (
    CloudReconnected,
    CloudUnreachable,
    Event,
    LinkStopped,
    NeedsReauthorization,
)
from agent.runtime.local_state import LocalState
from agent.runtime.sync_gate import gate_for
from agent.status.status_rules import (
    HEADLINES,
    Condition,
    LatestResult,
    LinkActivity,
    Problem,
    cloud_problems,
    link_condition,
    link_summary,
    local_problems,
    overall_condition,
    pause_line,
)
from agent.support.config import AgentConfig, Link, LogLevel
from protocol.clock import from_iso
from protocol.states import DatasetStatus

# Why a link that needs re-authorization stands still, and that nothing is lost meanwhile.
REFUSED = Problem(
    "needs re-authorization",
    "The cloud no longer accepts this PC's connection, so syncing has stopped. Re-authorize it "
    "with a new link; your book is untouched and syncing carries on where it stopped.",
    needs_reauthorization=True,
)
RECENT_LIMIT = 20  # datasets per link in the snapshot; the full history stays in state.db
# LinkStopped's reason when the agent itself was stopped: not a problem, just not running.
STOPPED_ON_REQUEST = "stopped"


@dataclass(frozen=True)
class TimelineEntry:
    status: DatasetStatus
    at: datetime
    error_message: str | None


@dataclass(frozen=True)
class RecentRun:
    """A run (this PC's work on one dataset, kept in ``state.db``) as the snapshot shows it:
    the state it reached, whether it ended, and its timeline."""

    dataset_id: str
    data_type: str
    status: DatasetStatus
    finished: bool
    error: str | None
    updated: datetime
    timeline: tuple[TimelineEntry, ...]


@dataclass(frozen=True)
class LinkStatus:
    connection_id: str
    company_name: str
    book_path: str
    cloud_url: str
    state: LinkActivity  # what the agent is doing for it
    syncing: str | None  # the data type running now
    pending_reports: int  # reports and pages the cloud has not acknowledged yet
    last_successful_sync: datetime | None  # here or, as far as the cloud's view says, anywhere
    problems: tuple[Problem, ...]  # what keeps it from being up to date
    condition: Condition  # the verdict of agent.status.status_rules
    summary: str  # that verdict in words, after the company's name
    cloud: CloudView | None = None  # the cloud's view, as last fetched
    cloud_problem: str | None = None  # why the cloud could not be asked, when it could not
    recent: tuple[RecentRun, ...] = ()  # the datasets this PC ran, newest first

    @property
    def may_try_again(self) -> bool:
        """Whether "Try again" (the facade's ``retry_link``) is offered before a new link: the
        link stopped, on a lost authorization or an error; trying costs nothing."""
        return (
            self.condition == Condition.NEEDS_REAUTHORIZATION or self.state == LinkActivity.STOPPED
        )

    @property
    def line(self) -> str:
        """The company's one line, word for word the same in the menu, the window and
        ``connector status``."""
        return f"{self.company_name}: {self.summary}"


@dataclass(frozen=True)
class AgentStatus:
    running: bool  # this process serves links
    links: tuple[LinkStatus, ...]
    paused_until: datetime | None
    pause_reason: str | None  # why the gate is closed (pause or sync window); None: open
    sync_window: str | None
    credentials_in_plain_file: bool
    condition: Condition  # the worst link's verdict (the icon)
    headline: str  # that verdict in words ("Paused until Mon 14:00" when that is all)
    pause_line: str | None  # "Paused until Mon 14:00" when the user paused syncing
    last_successful_sync: datetime | None
    log_level: LogLevel = LogLevel.INFO
    proxy: str | None = "system"  # None: no proxy; "system": the environment's; or a URL
    running_elsewhere: bool = False  # another process on this PC runs the agent

    @property
    def user_paused(self) -> bool:
        return self.pause_line is not None

    @property
    def pause_note(self) -> str | None:
        """The pause line, where the headline does not say it already (a problem outranks
        the pause): shown under the headline."""
        return self.pause_line if self.pause_line != self.headline else None


_ACTIVITY_AFTER: dict[type[Event], LinkActivity] = {
    CloudUnreachable: LinkActivity.OFFLINE,
    CloudReconnected: LinkActivity.IDLE,
    NeedsReauthorization: LinkActivity.NEEDS_REAUTHORIZATION,
}
# What the events alone decide, whatever the worker or the gate say.
_KNOWN_FROM_EVENTS = (
    LinkActivity.NEEDS_REAUTHORIZATION,
    LinkActivity.STOPPED,
    LinkActivity.OFFLINE,
)


class LinkConditions:
    """Each link's last known condition, kept from the events its worker publishes.

    :meth:`track` is an observer: it runs on agent threads, hence the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, LinkActivity] = {}
        self._stop_reasons: dict[str, str] = {}

    def track(self, event: Event) -> None:
        """Keep each link's last known condition, for :func:`agent_status`."""
        connection_id = getattr(event, "connection_id", None)
        if connection_id is None:
            return
        with self._lock:
            if isinstance(event, LinkStopped):
                current = self._known.get(connection_id)
                if event.reason == STOPPED_ON_REQUEST:
                    self._known.pop(connection_id, None)  # not running, and nothing wrong
                elif current != LinkActivity.NEEDS_REAUTHORIZATION:
                    self._known[connection_id] = LinkActivity.STOPPED
                    self._stop_reasons[connection_id] = event.reason
            elif type(event) in _ACTIVITY_AFTER:
                self._known[connection_id] = _ACTIVITY_AFTER[type(event)]

    def forget(self, connection_id: str) -> None:
        """Start the link afresh: it was linked again."""
        with self._lock:
            self._known.pop(connection_id, None)
            self._stop_reasons.pop(connection_id, None)

    def known(self, connection_id: str) -> tuple[LinkActivity | None, str | None]:
        """The last known condition, and why the link stopped if it did."""
        with self._lock:
            return self._known.get(connection_id), self._stop_reasons.get(connection_id)


def link_activity(
    known: LinkActivity | None, *, serving: bool, gate_open: bool, syncing: str | None
) -> LinkActivity:
    """What the agent is doing for a link (``LinkStatus.state``)."""
    if known in _KNOWN_FROM_EVENTS:
        return known
    if not serving:
        return LinkActivity.NOT_RUNNING
    if syncing:
        return LinkActivity.SYNCING  # a phase still finishing counts even while paused
    return LinkActivity.IDLE if gate_open else LinkActivity.PAUSED


def assess_link(
    link: Link,
    *,
    activity: LinkActivity,
    syncing: str | None = None,
    pending_reports: int = 0,
    results: Sequence[LatestResult] = (),
    last_success_here: datetime | None = None,
    cloud: CloudView | None = None,
    cloud_problem: str | None = None,
    stop_reason: str | None = None,
    recent: tuple[RecentRun, ...] = (),
    user_paused: bool = False,
) -> LinkStatus:
    """A link's line of the snapshot, with its verdict and the words for it."""
    problems = local_problems(results)
    if activity == LinkActivity.NEEDS_REAUTHORIZATION:
        problems.insert(0, REFUSED)
    if activity == LinkActivity.STOPPED:
        reason = stop_reason or "it stopped"
        problems.insert(0, Problem("stopped", f"Syncing stopped: {reason}"))
    if cloud is not None:
        last_activity = recent[0].updated if recent else None
        problems += cloud_problems(
            cloud,
            activity=activity,
            linked_at=from_iso(link.linked_at) if link.linked_at else None,
            last_activity=last_activity,
            known_here={p.data_type for p in problems if p.data_type},
        )
    condition = link_condition(activity, problems)
    successes = [m for m in (last_success_here, cloud and cloud.last_successful_sync) if m]
    return LinkStatus(
        connection_id=link.connection_id,
        company_name=link.company_name,
        book_path=link.book_path,
        cloud_url=link.cloud_url,
        state=activity,
        syncing=syncing,
        pending_reports=pending_reports,
        last_successful_sync=max(successes, default=None),
        problems=tuple(problems),
        condition=condition,
        summary=link_summary(
            condition, syncing=syncing, problems=problems, user_paused=user_paused
        ),
        cloud=cloud,
        cloud_problem=cloud_problem,
        recent=recent,
    )


def summarize(
    links: Sequence[LinkStatus],
    *,
    running: bool,
    paused_until: datetime | None,
    pause_reason: str | None,
    now: datetime,
    sync_window: str | None = None,
    credentials_in_plain_file: bool = False,
    log_level: LogLevel = LogLevel.INFO,
    proxy: str | None = "system",
    running_elsewhere: bool = False,
) -> AgentStatus:
    """The whole agent's snapshot from its links' lines."""
    user_paused = paused_until is not None and now < paused_until
    condition = overall_condition((link.condition for link in links), user_paused=user_paused)
    paused_text = pause_line(paused_until, user_paused)
    headline = HEADLINES[condition]
    if condition == Condition.PAUSED and paused_text:
        headline = paused_text  # "Paused until Mon 14:00" says it all
    successes = [link.last_successful_sync for link in links if link.last_successful_sync]
    return AgentStatus(
        running=running,
        links=tuple(links),
        paused_until=paused_until,
        pause_reason=pause_reason,
        sync_window=sync_window,
        credentials_in_plain_file=credentials_in_plain_file,
        condition=condition,
        headline=headline,
        pause_line=paused_text,
        last_successful_sync=max(successes, default=None),
        log_level=log_level,
        proxy=proxy,
        running_elsewhere=running_elsewhere,
    )


def agent_status(
    config: AgentConfig,
    state: LocalState,
    conditions: LinkConditions,
    views: CloudViews,
    *,
    serving: Collection[str],
    running: bool,
    running_elsewhere: bool,
    asked: Mapping[str, ConnectorError] | None = None,
    now: datetime,
) -> AgentStatus:
    """The snapshot of every link and of the agent's settings.

    ``serving``: the links this process serves; ``running_elsewhere``: another process runs
    the agent (then its links count as served, and this process's own asking of the cloud,
    ``asked``'s failures, stands in for the events it cannot see).
    """
    gate = gate_for(config, now)
    paused_until = from_iso(config.paused_until) if config.paused_until else None
    user_paused = paused_until is not None and now < paused_until
    links = []
    for link in config.links:
        cid = link.connection_id
        known, stop_reason = conditions.known(cid)
        cloud_problem = None
        here = cid in serving
        if not here and asked and (failure := asked.get(cid)) is not None:
            if isinstance(failure, AuthorizationLost):
                known = LinkActivity.NEEDS_REAUTHORIZATION
            elif isinstance(failure, CloudUnavailable):
                known = LinkActivity.OFFLINE
            else:
                cloud_problem = f"{failure.title}: {failure.message}"
        unfinished = state.unfinished_runs(cid)
        syncing = unfinished[0].data_type if unfinished else None
        activity = link_activity(
            known, serving=here or running_elsewhere, gate_open=gate.open, syncing=syncing
        )
        links.append(
            assess_link(
                link,
                activity=activity,
                syncing=syncing if activity == LinkActivity.SYNCING else None,
                pending_reports=state.pending(cid),
                results=[
                    LatestResult(run.data_type, DatasetStatus(run.status), run.error)
                    for run in state.latest_finished_runs(cid)
                ],
                last_success_here=_moment(state.last_success(cid)),
                cloud=views.get(cid),
                cloud_problem=cloud_problem,
                stop_reason=stop_reason,
                recent=recent_runs(state, cid, RECENT_LIMIT),
                user_paused=user_paused,
            )
        )
    return summarize(
        links,
        running=running,
        paused_until=paused_until,
        pause_reason=gate.reason,
        now=now,
        sync_window=config.sync_window,
        credentials_in_plain_file=config.credential_store == "file",
        log_level=config.log_level,
        proxy=config.proxy,
        running_elsewhere=running_elsewhere,
    )


def recent_runs(state: LocalState, connection_id: str, limit: int) -> tuple[RecentRun, ...]:
    """The runs of a link on this PC, newest first, each with its local timeline."""
    return tuple(
        RecentRun(
            dataset_id=run.dataset_id,
            data_type=run.data_type,
            status=DatasetStatus(run.status),
            finished=run.finished,
            error=run.error,
            updated=from_iso(run.updated),
            timeline=tuple(
                TimelineEntry(DatasetStatus(status), from_iso(at), error)
                for status, at, error in state.timeline(run.dataset_id)
            ),
        )
        for run in state.recent_runs(connection_id, limit)
    )


def _moment(text: str | None) -> datetime | None:
    return from_iso(text) if text else None
