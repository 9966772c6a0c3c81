"""Which agent events become a desktop notification, and in what words.

The agent already tells only the first error of a streak and "reconnected" once; this keeps to
that (an outage is told once per connection until it ends) and gates it by the user's level:
``all`` tells problems and when they are solved, ``errors`` only what needs the user's hand,
``none`` nothing. A click on a re-authorization notice opens the re-authorization dialog, whose
first offer is to try again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QSystemTrayIcon

from agent.events import BookAccessRefused, CloudReconnected, CloudUnreachable, NeedsReauthorization
from ui.bridge import AgentBridge
from ui.ports import ConnectorFacade
from ui.settings import NotificationLevel

log = logging.getLogger(__name__)

Icon = QSystemTrayIcon.MessageIcon
Show = Callable[[str, str, QSystemTrayIcon.MessageIcon], None]  # title, text, icon

OFFLINE_FIX = (
    "Check that this PC is online. If it is, a firewall or proxy may be blocking Connector: "
    "ask whoever looks after your network to allow {cloud}. Connector keeps trying and "
    "carries on by itself once it gets through."
)
BOOK_FIX = (
    "Check that the book is still at {book} and that you can open it. If it is on another "
    "drive or a network share, connect it again. Connector tries again at the next sync."
)


class Notifier(QObject):
    reauthorization_requested = Signal(str)  # connection id: the user clicked the notice

    def __init__(
        self,
        connector: ConnectorFacade,
        bridge: AgentBridge,
        show: Show,
        level: Callable[[], NotificationLevel],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._connector = connector
        self._show = show
        self._level = level
        self._offline: set[str] = set()  # connections whose outage notice was shown
        self._click_opens: str | None = None  # the connection the last notice was about
        bridge.reauthorization_needed.connect(self.on_bridge_reauthorization_needed)
        bridge.cloud_unreachable.connect(self.on_bridge_cloud_unreachable)
        bridge.cloud_reconnected.connect(self.on_bridge_cloud_reconnected)
        bridge.book_access_refused.connect(self.on_bridge_book_access_refused)

    def _link(self, connection_id: str) -> tuple[str, str, str]:
        """Company name, cloud URL and book path, as the facade knows them."""
        for link in self._connector.status().links:
            if link.connection_id == connection_id:
                return link.company_name, link.cloud_url, link.book_path
        return "A company", "the cloud's address", "its usual place"

    def _tell(self, title: str, text: str, icon: Icon, *, opens: str | None = None) -> None:
        self._click_opens = opens
        log.info("notified: %s", title)
        self._show(title, text, icon)

    @Slot(object)
    def on_bridge_reauthorization_needed(self, event: NeedsReauthorization) -> None:
        if self._level() == "none":
            return
        self._tell(
            f"{event.company_name}: Connector needs to be re-authorized",
            "The cloud no longer accepts this PC's connection, so syncing for "
            f"{event.company_name} has stopped. Click here to try again, or to link it again "
            "with a new link.",
            Icon.Critical,
            opens=event.connection_id,
        )

    @Slot(object)
    def on_bridge_cloud_unreachable(self, event: CloudUnreachable) -> None:
        if event.connection_id in self._offline or self._level() == "none":
            return
        self._offline.add(event.connection_id)
        name, cloud, _book = self._link(event.connection_id)
        self._tell(
            f"{name}: cannot reach the cloud",
            f"{event.message}\n{OFFLINE_FIX.format(cloud=cloud)}",
            Icon.Warning,
        )

    @Slot(object)
    def on_bridge_cloud_reconnected(self, event: CloudReconnected) -> None:
        told = event.connection_id in self._offline
        self._offline.discard(event.connection_id)
        # Good news only closes an outage the user was told about, and only at "all".
        if not told or self._level() != "all":
            return
        name, _cloud, _book = self._link(event.connection_id)
        self._tell(f"{name}: back online", "Connector reached the cloud again.", Icon.Information)

    @Slot(object)
    def on_bridge_book_access_refused(self, event: BookAccessRefused) -> None:
        if self._level() == "none":
            return
        name, _cloud, book = self._link(event.connection_id)
        self._tell(
            f"{name}: Connector cannot read the book",
            f"{event.message}\n{BOOK_FIX.format(book=book)}",
            Icon.Warning,
        )

    @Slot()
    def on_tray_message_clicked(self) -> None:
        if self._click_opens is not None:
            self.reauthorization_requested.emit(self._click_opens)
