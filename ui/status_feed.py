"""The one status snapshot every view of the tray app shows.

:class:`StatusFeed` reads :meth:`Connector.status` once per agent event (and on a slow timer,
for words such as "12 min ago") and hands the same :class:`~agent.status.link_status.AgentStatus` to
the tray's icon, tooltip and menu and to the status window. No view reads the agent on a clock
of its own, so none can lag behind another: they change together, on the same event.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from agent.events import Event
from agent.status.link_status import AgentStatus
from ui.bridge import AgentBridge
from ui.ports import ConnectorFacade

# Only the relative words ("just now", "12 min ago") and a pause that ran out while the agent
# was stopped change without an event.
REFRESH_MS = 30_000


class StatusFeed(QObject):
    status_changed = Signal(object)  # AgentStatus: the snapshot every view renders

    def __init__(
        self, connector: ConnectorFacade, bridge: AgentBridge, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._connector = connector
        # status() reads a small config file and a few local SQLite rows per link, and what
        # the running agent keeps in memory: cheap enough for the GUI thread.
        self._current = connector.status()
        bridge.event_received.connect(self.on_bridge_event_received)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    @property
    def current(self) -> AgentStatus:
        return self._current

    @Slot()
    def refresh(self) -> AgentStatus:
        """Read a new snapshot and hand it to every view."""
        self._current = self._connector.status()
        self.status_changed.emit(self._current)
        return self._current

    @Slot(object)
    def on_bridge_event_received(self, _event: Event) -> None:
        self.refresh()
