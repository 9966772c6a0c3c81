"""What the agent tells its observers (the tray, the CLI, tests), as immutable values.

Events are delivered on agent threads; an observer that needs another thread (the tray's GUI
thread) hands them over itself. A failing observer is logged and never breaks the agent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from protocol.states import DatasetStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatasetChanged:
    """A dataset entered a state on this PC (the cloud hears of it through the outbox)."""

    connection_id: str
    dataset_id: str
    data_type: str
    status: DatasetStatus
    at: datetime
    error_message: str | None = None


@dataclass(frozen=True)
class UploadStaged:
    """A dataset's pages are staged on this PC and queued, with its Complete report after them
    (it enters Complete when the cloud acknowledges that report)."""

    connection_id: str
    dataset_id: str
    data_type: str
    pages: int


@dataclass(frozen=True)
class CloudUnreachable:
    """The first failure of a streak: later ones stay quiet until the cloud answers again."""

    connection_id: str
    message: str


@dataclass(frozen=True)
class CloudReconnected:
    connection_id: str


@dataclass(frozen=True)
class NeedsReauthorization:
    """The cloud refused this link's credential: the user must re-link it."""

    connection_id: str
    company_name: str
    message: str


@dataclass(frozen=True)
class BookAccessRefused:
    """The PC would not let Connector read a link's book: the user must grant access."""

    connection_id: str
    message: str


@dataclass(frozen=True)
class LinkStopped:
    connection_id: str
    reason: str


@dataclass(frozen=True)
class PauseChanged:
    paused_until: datetime | None  # None: syncing; datetime.max: until resumed


@dataclass(frozen=True)
class SyncGateChanged:
    """A link started or stopped taking work (a pause began or lapsed, a sync window opened
    or closed); ``reason`` says why it waits, None when it takes work again."""

    connection_id: str
    reason: str | None


@dataclass(frozen=True)
class CloudViewUpdated:
    """The agent fetched the cloud's view of a link (see :mod:`agent.cloud_api.cloud_view`)."""

    connection_id: str
    fetched_at: datetime


@dataclass(frozen=True)
class Linked:
    """A company was linked, or linked again after re-authorization."""

    connection_id: str
    company_name: str


@dataclass(frozen=True)
class LinkRetried:
    """Try again: a stopped link is served again with the credential the store holds now."""

    connection_id: str


@dataclass(frozen=True)
class Warning:
    """Something the user should know about that is not an error (e.g. credentials in a file)."""

    message: str


Event = (
    DatasetChanged
    | UploadStaged
    | CloudUnreachable
    | CloudReconnected
    | NeedsReauthorization
    | BookAccessRefused
    | LinkStopped
    | PauseChanged
    | SyncGateChanged
    | CloudViewUpdated
    | Linked
    | LinkRetried
    | Warning
)
Observer = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._observers: list[Observer] = []
        self._lock = threading.Lock()

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer`` for every event from now on; returns the way to unsubscribe."""
        with self._lock:
            self._observers.append(observer)

        def unsubscribe() -> None:
            with self._lock:
                if observer in self._observers:
                    self._observers.remove(observer)

        return unsubscribe

    def publish(self, event: Event) -> None:
        with self._lock:
            observers = list(self._observers)
        for observer in observers:
            try:
                observer(event)
            except Exception:
                log.exception("An event observer failed on %r", event)
