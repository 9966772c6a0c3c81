"""The tray icon and its menu: a thin view of :meth:`Connector.status`, never a second source of
truth. The icon changes only when the overall state does (re-setting it makes some panels
flicker), and the menu is rebuilt each time it opens, so it is never stale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QSystemTrayIcon

from agent.clock import from_iso, utc_now
from agent.events import DatasetChanged, Event
from agent.link_status import AgentStatus
from agent.states import DatasetStatus
from agent.version import __version__
from ui.bridge import AgentBridge
from ui.icons import icon_for
from ui.model import (
    STATE_TEXT,
    TrayState,
    is_paused,
    link_line,
    links_needing_reauthorization,
    links_to_try_again,
    overall_state,
    pause_text,
    running_syncs,
    when,
)
from ui.ports import ConnectorFacade
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)

# Often enough that a lapsed pause or an opening sync window shows within the quarter-minute,
# rarely enough that reading the status snapshot costs nothing noticeable.
REFRESH_MS = 15_000

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
        events: AgentBridge,
        tasks: TaskRunner,
        *,
        confirm: Confirm = _ask,
        clock: Callable[[], datetime] = utc_now,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._connector = connector
        self._tasks = tasks
        self._confirm = confirm
        self._clock = clock
        self._state: TrayState | None = None
        self._status: AgentStatus | None = None
        self._last_success: datetime | None = None
        # QSystemTrayIcon is not a widget, so the menu cannot be its child: keep it alive here.
        self._menu = QMenu()
        self._menu.aboutToShow.connect(self.on_menu_about_to_show)
        self.setContextMenu(self._menu)
        self.activated.connect(self.on_self_activated)
        events.event_received.connect(self.on_bridge_event_received)
        tasks.failed.connect(self.on_tasks_failed)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    @property
    def state(self) -> TrayState | None:
        return self._state

    @property
    def menu(self) -> QMenu:
        return self._menu

    # Reading the agent ---------------------------------------------------------------------

    @Slot()
    def refresh(self) -> AgentStatus:
        # status() reads a small config file and a local SQLite row per link: cheap enough for
        # the GUI thread, unlike everything that talks to the cloud.
        status = self._connector.status()
        self._status = status
        state = overall_state(status)
        if state != self._state:
            self._state = state
            self.setIcon(icon_for(state))
            log.info("icon: %s", state.value)
        self.setToolTip(self.tooltip(status, state))
        return status

    def tooltip(self, status: AgentStatus, state: TrayState) -> str:
        lines = [f"Connector: {STATE_TEXT[state]}"]
        if pause := pause_text(status):
            lines.append(pause)
        if status.links:
            lines.append(f"Last successful sync: {when(self._last_success, self._clock())}")
        return "\n".join(lines)

    def seed_last_success(self) -> None:
        """Ask the cloud (off the GUI thread) when each data type last synced, for the tooltip."""
        self._tasks.run(self._connector.cloud_status, self.on_cloud_status_fetched, lambda *_: None)

    def on_cloud_status_fetched(self, answers: dict[str, dict[str, Any]]) -> None:
        for answer in answers.values():
            for entry in answer.get("dataStatus", {}).values():
                if stamp := entry.get("lastSuccessfulSync"):
                    self._note_success(from_iso(stamp))
        if self._status is not None and self._state is not None:
            self.setToolTip(self.tooltip(self._status, self._state))

    def _note_success(self, moment: datetime) -> None:
        if self._last_success is None or moment > self._last_success:
            self._last_success = moment

    @Slot(object)
    def on_bridge_event_received(self, event: Event) -> None:
        if isinstance(event, DatasetChanged) and event.status == DatasetStatus.COMPLETE:
            self._note_success(event.at)
        self.refresh()

    # The menu ------------------------------------------------------------------------------

    @Slot()
    def on_menu_about_to_show(self) -> None:
        self.rebuild_menu()

    def rebuild_menu(self) -> None:
        status = self.refresh()
        state = self._state or TrayState.ERROR
        menu = self._menu
        menu.clear()
        self._item("status_line", STATE_TEXT[state], enabled=False)
        for link in status.links:
            self._item("company", link_line(link), enabled=False)
        if pause := pause_text(status):
            self._item("pause_line", pause, enabled=False)
        menu.addSeparator()
        linked = bool(status.links)
        paused = is_paused(status)
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
        for link in links_to_try_again(status):
            self._item(
                "try_again",
                f"Try again: {link.company_name}",
                partial(self.on_try_again_triggered, link.connection_id),
            )
        for link in links_needing_reauthorization(status):
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
        self._tasks.run(lambda: self._connector.retry_link(connection_id), lambda _: self.refresh())

    def on_pause_hour_triggered(self) -> None:
        self._pause(timedelta(hours=1))

    def on_pause_day_triggered(self) -> None:
        self._pause(timedelta(hours=24))

    def _pause(self, span: timedelta) -> None:
        until = self._clock() + span
        self._tasks.run(lambda: self._connector.pause(until), lambda _: self.refresh())

    def on_resume_triggered(self) -> None:
        self._tasks.run(self._connector.resume, lambda _: self.refresh())

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
        running = running_syncs(self._status or self.refresh())
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
