"""The one fake the UI tests allow: the facade's methods with canned values, recording calls.

The canned snapshots are put together by the agent's own rules (``assess_link``, ``summarize``),
so the verdicts and words the UI shows are the agent's. Real-agent coverage of the tray is in
``tests/ui/test_one_truth.py`` and the end-to-end test under Xvfb with a real tray host.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.cloud_api.cloud_client import SyncQueued
from agent.cloud_api.cloud_view import CloudView
from agent.commands.linking import BookPreview
from agent.events import Event, LinkRetried, PauseChanged
from agent.status.link_status import (
    AgentStatus,
    LinkStatus,
    RecentRun,
    TimelineEntry,
    assess_link,
    summarize,
)
from agent.status.status_rules import LatestResult, LinkActivity
from agent.support.config import Link, LogLevel
from protocol.states import DatasetStatus

FOREVER = datetime.max.replace(tzinfo=UTC)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # "now" for the canned snapshots and the tests


def link(
    name: str = "Acme Ltd",
    cid: str = "conn-1",
    state: str = LinkActivity.IDLE,
    syncing: str | None = None,
    failed: dict[str, str] | None = None,
    *,
    cloud: CloudView | None = None,
    cloud_problem: str | None = None,
    recent: tuple[RecentRun, ...] = (),
    user_paused: bool = False,
    last_success: datetime | None = None,
    book: str | None = None,
) -> LinkStatus:
    """A link's line as the agent would assess it; ``failed``: data type -> error message."""
    return assess_link(
        Link(
            cloud_url="https://cloud.example",
            company_id=f"co-{cid}",
            company_name=name,
            connection_id=cid,
            book_path=book or f"/home/bob/{name.split()[0].lower()}.gnucash",
            linked_at="2026-03-01T09:00:00Z",
        ),
        activity=LinkActivity(state),
        syncing=syncing,
        results=[
            LatestResult(data_type, DatasetStatus.FETCH_ERROR, message)
            for data_type, message in (failed or {}).items()
        ],
        last_success_here=last_success,
        cloud=cloud,
        cloud_problem=cloud_problem,
        recent=recent,
        user_paused=user_paused,
    )


def agent_status(
    *links: LinkStatus,
    paused_until: datetime | None = None,
    sync_window: str | None = None,
    log_level: LogLevel = LogLevel.INFO,
    proxy: str | None = "system",
) -> AgentStatus:
    return summarize(
        links,
        running=True,
        paused_until=paused_until,
        pause_reason="Paused by you" if paused_until else None,
        now=NOW,
        sync_window=sync_window,
        log_level=log_level,
        proxy=proxy,
    )


def rebuilt(status: AgentStatus, **changes: Any) -> AgentStatus:
    """``status`` with settings changed, its verdict worked out again as the agent would."""
    settings = {
        "paused_until": status.paused_until,
        "sync_window": status.sync_window,
        "log_level": status.log_level,
        "proxy": status.proxy,
        **changes,
    }
    return agent_status(*status.links, **settings)


def dataset(
    dataset_id: str = "ds-1",
    data_type: str = "customers",
    states: tuple[str, ...] = ("Queued", "Fetching", "Mapping"),
    start: datetime = datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
    step_seconds: int = 30,
    error: str | None = None,
) -> RecentRun:
    """A dataset whose states began ``step_seconds`` apart; finished when the last is final."""
    timeline = tuple(
        TimelineEntry(
            DatasetStatus(status),
            start + timedelta(seconds=step_seconds * index),
            error if index == len(states) - 1 else None,
        )
        for index, status in enumerate(states)
    )
    last = DatasetStatus(states[-1])
    finished = last == DatasetStatus.COMPLETE or last.endswith("Error")
    return RecentRun(dataset_id, data_type, last, finished, error, timeline[-1].at, timeline)


@dataclass
class FakePaths:
    log_dir: Path

    @property
    def config_dir(self) -> Path:
        return self.log_dir.parent / "config"


@dataclass
class FakeConnector:
    log_dir: Path
    current: AgentStatus = field(default_factory=lambda: agent_status(link()))
    calls: list[tuple[str, Any]] = field(default_factory=list)
    observers: list[Callable[[Event], None]] = field(default_factory=list)
    command_threads: list[str] = field(default_factory=list)
    link_error: Exception | None = None
    preview_error: Exception | None = None

    @property
    def paths(self) -> FakePaths:
        return FakePaths(self.log_dir)

    def subscribe(self, observer: Callable[[Event], None]) -> Callable[[], None]:
        self.observers.append(observer)
        return lambda: self.observers.remove(observer) if observer in self.observers else None

    def publish(self, event: Event) -> None:
        for observer in list(self.observers):
            observer(event)

    def status(self) -> AgentStatus:
        return self.current

    def refresh_cloud_views(self) -> None:
        self._record("refresh_cloud_views", None)

    def link(self, link_url: str, book_path: Path, *, insecure_file_store: bool = False) -> Link:
        self._record("link", (link_url, book_path))
        if self.link_error is not None:
            raise self.link_error
        return Link(
            cloud_url=link_url.rpartition("/link/")[0],
            company_id="co-1",
            company_name="Acme Ltd",
            connection_id="conn-1",
            book_path=str(book_path),
            linked_at="2026-03-02T12:00:00Z",
        )

    def set_sync_window(self, window: str | None) -> None:
        self._record("set_sync_window", window)
        self.current = rebuilt(self.current, sync_window=window)

    def set_log_level(self, level: str) -> None:
        self._record("set_log_level", level)
        self.current = rebuilt(self.current, log_level=level)

    def set_proxy(self, proxy: str | None) -> None:
        self._record("set_proxy", proxy)
        self.current = rebuilt(self.current, proxy=proxy)

    def preview_book(self, book_path: Path) -> BookPreview:
        self._record("preview_book", book_path)
        if self.preview_error is not None:
            raise self.preview_error
        return BookPreview(
            book_path=book_path,
            company_name="Acme Ltd",
            last_transaction=date(2026, 3, 31),
            accounts=27,
            customers=6,
            invoices=4,
        )

    def start(self) -> None:
        self._record("start", None)

    def stop(self) -> None:
        self._record("stop", None)

    def sync_now(self) -> Mapping[str, SyncQueued]:
        self._record("sync_now", None)
        return {}

    def retry_link(self, connection_id: str) -> None:
        """Serves the link again; here it comes back up to date, as when the cloud accepts it."""
        self._record("retry_link", connection_id)
        links = tuple(
            link(one.company_name, one.connection_id) if one.connection_id == connection_id else one
            for one in self.current.links
        )
        self.current = rebuilt(replace(self.current, links=links))
        self.publish(LinkRetried(connection_id))  # as the facade does

    def pause(self, until: datetime | None = None) -> None:
        self._record("pause", until)
        self.current = rebuilt(self.current, paused_until=until or FOREVER)
        self.publish(PauseChanged(until or FOREVER))  # as the facade does

    def resume(self) -> None:
        self._record("resume", None)
        self.current = rebuilt(self.current, paused_until=None)
        self.publish(PauseChanged(None))

    def diagnostics(self, output: Path | None = None) -> Path:
        self._record("diagnostics", output)
        return (output or Path.cwd()) / "connector-diagnostics.zip"

    def _record(self, name: str, argument: Any) -> None:
        self.calls.append((name, argument))
        self.command_threads.append(threading.current_thread().name)

    def called(self, name: str) -> list[Any]:
        return [argument for called, argument in self.calls if called == name]
