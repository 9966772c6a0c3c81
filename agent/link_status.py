"""What the facade reports about the links it serves, without asking the cloud.

:class:`LinkConditions` keeps each link's last known condition from the events (offline,
reconnected, needs re-authorization, stopped); :func:`agent_status` combines it with the config,
the local state and the link workers into the snapshot that the tray and ``connector status``
show; :func:`recent_datasets` is the history of the datasets this PC ran.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from agent.clock import from_iso
from agent.config import AgentConfig
from agent.events import (
    CloudReconnected,
    CloudUnreachable,
    Event,
    LinkStopped,
    NeedsReauthorization,
)
from agent.state import LocalState
from agent.states import DatasetStatus
from agent.sync_gate import gate_for

if TYPE_CHECKING:
    from agent.link_worker import LinkWorker


@dataclass(frozen=True)
class LinkStatus:
    connection_id: str
    company_name: str
    book_path: str
    cloud_url: str
    state: str  # idle, syncing, offline, paused, needs_reauthorization, stopped, not_running
    syncing: str | None  # the data type running now
    pending_reports: int  # reports and pages the cloud has not acknowledged yet
    last_error: str | None
    last_successful_sync: datetime | None


@dataclass(frozen=True)
class TimelineEntry:
    status: DatasetStatus
    at: datetime
    error_message: str | None


@dataclass(frozen=True)
class DatasetRecord:
    """A dataset this PC ran, for the status window."""

    dataset_id: str
    data_type: str
    status: DatasetStatus
    finished: bool
    error: str | None
    updated: datetime
    timeline: tuple[TimelineEntry, ...]


@dataclass(frozen=True)
class AgentStatus:
    running: bool
    links: tuple[LinkStatus, ...]
    paused_until: datetime | None
    pause_reason: str | None
    sync_window: str | None
    credentials_in_plain_file: bool
    log_level: str = "INFO"
    proxy: str | None = "system"  # None: no proxy; "system": the environment's; or a URL


_CONDITION_AFTER = {
    CloudUnreachable: "offline",
    CloudReconnected: "idle",
    NeedsReauthorization: "needs_reauthorization",
}


class LinkConditions:
    """Each link's last known condition, kept from the events its worker publishes.

    :meth:`track` is an observer: it runs on agent threads, hence the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, str] = {}

    def track(self, event: Event) -> None:
        """Keep each link's last known condition, for :func:`agent_status`."""
        connection_id = getattr(event, "connection_id", None)
        if connection_id is None:
            return
        with self._lock:
            if isinstance(event, LinkStopped):
                current = self._known.get(connection_id)
                if current != "needs_reauthorization":
                    self._known[connection_id] = "stopped"
            elif type(event) in _CONDITION_AFTER:
                self._known[connection_id] = _CONDITION_AFTER[type(event)]

    def forget(self, connection_id: str) -> None:
        """Start the link afresh: it was linked again."""
        with self._lock:
            self._known.pop(connection_id, None)

    def state(
        self, connection_id: str, worker: LinkWorker | None, *, running: bool, gate_open: bool
    ) -> str:
        """The link's ``LinkStatus.state``."""
        with self._lock:
            known = self._known.get(connection_id)
        if known in ("needs_reauthorization", "stopped", "offline"):
            return known
        if worker is None or not running:
            return "not_running"
        if worker.busy_with:
            return "syncing"
        return "idle" if gate_open else "paused"


def agent_status(
    config: AgentConfig,
    state: LocalState,
    workers: Mapping[str, LinkWorker],
    conditions: LinkConditions,
    *,
    running: bool,
    now: datetime,
) -> AgentStatus:
    """The snapshot of every link and of the agent's settings, from local knowledge alone."""
    gate = gate_for(config, now)
    links = []
    for link in config.links:
        worker = workers.get(link.connection_id)
        recent = state.recent_runs(link.connection_id, limit=1)
        links.append(
            LinkStatus(
                connection_id=link.connection_id,
                company_name=link.company_name,
                book_path=link.book_path,
                cloud_url=link.cloud_url,
                state=conditions.state(
                    link.connection_id, worker, running=running, gate_open=gate.open
                ),
                syncing=worker.busy_with if worker else None,
                pending_reports=state.pending(link.connection_id),
                last_error=recent[0].error if recent else None,
                last_successful_sync=_moment(state.last_success(link.connection_id)),
            )
        )
    return AgentStatus(
        running=running,
        links=tuple(links),
        paused_until=from_iso(config.paused_until) if config.paused_until else None,
        pause_reason=gate.reason,
        sync_window=config.sync_window,
        credentials_in_plain_file=config.credential_store == "file",
        log_level=config.log_level,
        proxy=config.proxy,
    )


def recent_datasets(state: LocalState, connection_id: str, limit: int) -> tuple[DatasetRecord, ...]:
    """The datasets this PC ran for a link, newest first, each with its local timeline."""
    return tuple(
        DatasetRecord(
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
