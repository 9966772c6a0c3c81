"""The one place agent events cross into Qt.

The facade calls observers on agent threads. :class:`AgentBridge` lives on the GUI thread and
only re-emits each event as a signal; because the receivers live on the GUI thread too, Qt
queues the emission across threads and the slots run on the GUI thread. The events are frozen
dataclasses, so handing the same object to another thread is safe.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, SignalInstance

from agent.events import (
    BookAccessRefused,
    CloudReconnected,
    CloudUnreachable,
    DatasetChanged,
    Event,
    LinkStopped,
    NeedsReauthorization,
    PauseChanged,
    Warning,
)
from ui.ports import ConnectorFacade


class AgentBridge(QObject):
    # Every event, for views that only need to refresh.
    event_received = Signal(object)
    # One signal per kind, each carrying the event itself.
    dataset_changed = Signal(object)  # DatasetChanged
    cloud_unreachable = Signal(object)  # CloudUnreachable
    cloud_reconnected = Signal(object)  # CloudReconnected
    reauthorization_needed = Signal(object)  # NeedsReauthorization
    book_access_refused = Signal(object)  # BookAccessRefused
    link_stopped = Signal(object)  # LinkStopped
    pause_changed = Signal(object)  # PauseChanged
    warning_raised = Signal(object)  # Warning

    def __init__(self, connector: ConnectorFacade, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._by_type: dict[type, SignalInstance] = {
            DatasetChanged: self.dataset_changed,
            CloudUnreachable: self.cloud_unreachable,
            CloudReconnected: self.cloud_reconnected,
            NeedsReauthorization: self.reauthorization_needed,
            BookAccessRefused: self.book_access_refused,
            LinkStopped: self.link_stopped,
            PauseChanged: self.pause_changed,
            Warning: self.warning_raised,
        }
        self._unsubscribe: Callable[[], None] | None = connector.subscribe(self._on_agent_event)

    def detach(self) -> None:
        """Stop listening; the agent may outlive the window that showed it."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_agent_event(self, event: Event) -> None:
        # Runs on an agent thread: emit and nothing else, no widget may be touched here.
        specific = self._by_type.get(type(event))
        if specific is not None:
            specific.emit(event)
        self.event_received.emit(event)
