"""The tray icon and its menu: a thin view of the status snapshot (:mod:`ui.status_feed`), never
a second source of truth. The icon, the tooltip and the menu's status lines are all rendered
from the snapshot's verdict and words; the icon changes only when the verdict does (re-setting
it makes some panels flicker), and the menu is rebuilt each time it opens, so it is never stale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QSystemTrayIcon

from agent.status.link_status import AgentStatus
from agent.status.status_rules import Condition, when
from protocol.clock import utc_now
from protocol.version import __version__
from ui.icons import icon_for
from ui.ports import ConnectorFacade
from ui.status_feed import StatusFeed
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)

Confirm = Callable[[str, str], bool]  # title, question -> yes


def _ask(title: str, question: str) -> bool:
    answer = QMessageBox.question(None, title, question)
    return answer == QMessageBox.StandardButton.Yes


class ConnectorTray(QSystemTrayIcon):
    status_window_requested = Signal()
    reauthorization_requested = Signal(str)  # connection id
    settings_requested = Signal()
    add_company_requested = Signal()
    quit_confirmed = Signal()

    def __init__(
        self,
        connector: ConnectorFacade,
        feed: StatusFeed,
        tasks: TaskRunner,
        *,
        confirm: Confirm = _ask,
        clock: Callable[[], datetime] = utc_now,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._connector = connector
        self._feed = feed
        self._tasks = tasks
        self._confirm = confirm
        self._clock = clock
        self._state: Condition | None = None
        # QSystemTrayIcon is not a widget, so the menu cannot be its child: keep it alive here.
        self._menu = QMenu()
        self._menu.aboutToShow.connect(self.on_menu_about_to_show)
        self.setContextMenu(self._menu)
        self.activated.connect(self.on_self_activated)
        feed.status_changed.connect(self.on_feed_status_changed)
        tasks.failed.connect(self.on_tasks_failed)
        self.show_status(feed.current)

    @property
    def state(self) -> Condition | None:
        return self._state

    @property
    def menu(self) -> QMenu:
        return self._menu

    # Showing the snapshot ------------------------------------------------------------------

    @Slot(object)
    def on_feed_status_changed(self, status: AgentStatus) -> None:
        self.show_status(status)

    def show_status(self, status: AgentStatus) -> None:
        """The icon and the tooltip, from the snapshot every view shows."""
        if status.condition != self._state:
            self._state = status.condition
            self.setIcon(icon_for(status.condition))
            log.info("icon: %s", status.condition.value)
        self.setToolTip(self.tooltip(status))

    def tooltip(self, status: AgentStatus) -> str:
        lines = [f"Connector: {status.headline}"]
        if status.pause_note:
            lines.append(status.pause_note)
        if status.links:
            moment = when(status.last_successful_sync, self._clock())
            lines.append(f"Last successful sync: {moment}")
        return "\n".join(lines)

    # The menu ------------------------------------------------------------------------------

    @Slot()
    def on_menu_about_to_show(self) -> None:
        self.rebuild_menu()

    def rebuild_menu(self) -> None:
        # A fresh snapshot, handed to every view: the menu never shows what the rest does not.
        status = self._feed.refresh()
        menu = self._menu
        menu.clear()
        self._item("status_line", status.headline, enabled=False)
        for link in status.links:
            self._item("company", link.line, enabled=False)
        if status.pause_note:
            self._item("pause_line", status.pause_note, enabled=False)
        menu.addSeparator()
        linked = bool(status.links)
        paused = status.user_paused
        can_sync = linked and not paused
        self._item("sync_now", "Sync now", self.on_sync_now_triggered, enabled=can_sync)
        if paused:
            self._item("resume", "Resume syncing", self.on_resume_triggered)
        else:
            self._item("pause_1h", "Pause for 1 hour", self.on_pause_hour_triggered, enabled=linked)
            self._item(
                "pause_24h",
                "Pause for 24 hours",
                self.on_pause_day_triggered,
                enabled=linked,
            )
        menu.addSeparator()
        self._item("open_status", "Open Connector", self.status_window_requested.emit)
        for link in status.links:
            if link.may_try_again:
                self._item(
                    "try_again",
                    f"Try again: {link.company_name}",
                    partial(self.on_try_again_triggered, link.connection_id),
                )
        for link in status.links:
            if link.condition != Condition.NEEDS_REAUTHORIZATION:
                continue
            self._item(
                "reauthorize",
                f"Re-authorize {link.company_name}…",
                partial(self.reauthorization_requested.emit, link.connection_id),
            )
        add = "Add another company…" if linked else "Link a company…"
        self._item("add_company", add, self.add_company_requested.emit)
        self._item("settings", "Settings…", self.settings_requested.emit)
        self._item("open_logs", "Open logs", self.on_open_logs_triggered)
        self._item("save_diagnostics", "Save diagnostics…", self.on_save_diagnostics_triggered)
        menu.addSeparator()
        self._item("about", "About Connector", self.on_about_triggered)
        self._item("quit", "Quit Connector", self.on_quit_triggered)

    def _item(
        self,
        name: str,
        text: str,
        slot: Callable[[], object] | None = None,
        *,
        enabled: bool = True,
    ) -> QAction:
        action = self._menu.addAction(text)
        action.setObjectName(name)  # what the tests (and screen readers' scripts) find it by
        action.setEnabled(enabled)
        if slot is not None:
            action.triggered.connect(lambda _checked=False: slot())
        return action

    # Commands ------------------------------------------------------------------------------

    def on_sync_now_triggered(self) -> None:
        self._tasks.run(
            self._connector.sync_now,
            lambda _answer: self.showMessage("Connector", "Asked the cloud to sync now."),
        )

    def on_try_again_triggered(self, connection_id: str) -> None:
        # The agent's LinkRetried event refreshes every view.
        self._tasks.run(lambda: self._connector.retry_link(connection_id))

    def on_pause_hour_triggered(self) -> None:
        self._pause(timedelta(hours=1))

    def on_pause_day_triggered(self) -> None:
        self._pause(timedelta(hours=24))

    def _pause(self, span: timedelta) -> None:
        until = self._clock() + span
        # The agent's PauseChanged event refreshes every view.
        self._tasks.run(lambda: self._connector.pause(until))

    def on_resume_triggered(self) -> None:
        self._tasks.run(self._connector.resume)

    def on_open_logs_triggered(self) -> None:
        self.open_folder(self._connector.paths.log_dir)

    def open_folder(self, folder: Path) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.showMessage("Connector", f"The logs are in {folder}")

    def on_save_diagnostics_triggered(self) -> None:
        folder = self.choose_folder()
        if folder is None:
            return
        self._tasks.run(
            lambda: self._connector.diagnostics(folder),
            lambda path: self.showMessage(
                "Diagnostics saved",
                f"Saved {path}. It holds logs and settings; no passwords, no ledger data.",
            ),
        )

    def choose_folder(self) -> Path | None:
        chosen = QFileDialog.getExistingDirectory(None, "Save diagnostics in", str(Path.home()))
        return Path(chosen) if chosen else None

    def on_about_triggered(self) -> None:
        QMessageBox.about(
            None,
            "About Connector",
            f"Connector {__version__}\n\nKeeps your GnuCash books in sync with the cloud.",
        )

    def on_quit_triggered(self) -> None:
        running = [link for link in self._feed.current.links if link.syncing]
        if running:
            names = ", ".join(f"{link.company_name} ({link.syncing})" for link in running)
            question = (
                f"Connector is syncing {names}. If you quit now, it finishes the step it is in "
                "and carries on with this sync the next time Connector starts.\n\nQuit anyway?"
            )
            if not self._confirm("Quit Connector?", question):
                return
        self.quit_confirmed.emit()

    @Slot(str, str)
    def on_tasks_failed(self, title: str, message: str) -> None:
        self.showMessage(title, message, QSystemTrayIcon.MessageIcon.Warning)

    @Slot(QSystemTrayIcon.ActivationReason)
    def on_self_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # A left click opens the window; the menu has its own button on every platform.
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.status_window_requested.emit()
