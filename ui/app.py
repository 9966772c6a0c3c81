"""``connector`` on a desktop: the tray app. One instance per user; the agent runs in-process
behind its facade; without a tray host the status window stands in and says why."""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from agent.support.config import Link
from ui.bridge import AgentBridge
from ui.icons import app_icon
from ui.notifications import Notifier
from ui.ports import ConnectorFacade
from ui.reauth_dialog import ReauthorizeDialog
from ui.settings import UiSettings, load_ui_settings
from ui.settings_dialog import SettingsDialog
from ui.single_instance import SingleInstance
from ui.status_feed import StatusFeed
from ui.status_window import StatusWindow
from ui.tasks import TaskRunner
from ui.tray import ConnectorTray
from ui.wizard import FirstRunWizard

log = logging.getLogger(__name__)

NO_TRAY_NOTICE = (
    "Your desktop has no notification area (system tray), so Connector shows this window "
    "instead. Closing it keeps Connector syncing in the background; start Connector again "
    "to bring the window back."
)
STOP_TIMEOUT_MS = 60_000
# Set to 1 to let the single-instance socket drive the windows (the end-to-end test does); see
# :meth:`TrayApp.run_test_command`. A normal launch leaves it unset and ignores such commands.
TEST_COMMANDS_ENV = "CONNECTOR_TEST_COMMANDS"


class TrayApp:
    """Everything the running app holds, wired together; built by :func:`main`, and by tests."""

    def __init__(self, app: QApplication, connector: ConnectorFacade) -> None:
        self.app = app
        self.connector = connector
        self.settings: UiSettings = load_ui_settings(connector.paths.config_dir)
        self.tasks = TaskRunner()
        self.bridge = AgentBridge(connector)
        # The one snapshot the tray and the window both show, refreshed on every agent event.
        self.feed = StatusFeed(connector, self.bridge)
        self.window = StatusWindow(connector, self.feed, self.tasks)
        self.window.reauthorization_requested.connect(self.open_reauthorization)
        self.window.settings_requested.connect(self.open_settings)
        self.window.add_company_requested.connect(self.open_wizard)
        self.tray: ConnectorTray | None = None
        self.notifier: Notifier | None = None
        # Open dialogs, one of each kind: asking again raises the open one.
        self.wizard: FirstRunWizard | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.reauthorize_dialogs: dict[str, ReauthorizeDialog] = {}
        self._quitting = False
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = ConnectorTray(connector, self.feed, self.tasks)
            self.tray.status_window_requested.connect(self.window.bring_forward)
            self.tray.reauthorization_requested.connect(self.open_reauthorization)
            self.tray.settings_requested.connect(self.open_settings)
            self.tray.add_company_requested.connect(self.open_wizard)
            self.tray.quit_confirmed.connect(self.quit)
            self.notifier = Notifier(
                connector, self.bridge, self.tray.showMessage, lambda: self.settings.notifications
            )
            self.tray.messageClicked.connect(self.notifier.on_tray_message_clicked)
            self.notifier.reauthorization_requested.connect(self.open_reauthorization)
            self.tray.show()
            log.info("The tray icon is in the notification area")
        else:
            log.warning("No notification area (system tray): showing the status window instead")
            self.window.show_notice(NO_TRAY_NOTICE)
            self.window.quit_button.show()
            self.window.quit_button.clicked.connect(self.quit)
            self.window.bring_forward()

    def start_agent(self) -> None:
        """Start syncing off the GUI thread (it opens the keyring, which may prompt)."""
        self.tasks.run(self.connector.start, lambda _: self._refresh(), self.on_start_failed)

    def on_start_failed(self, title: str, message: str) -> None:
        log.info("The agent did not start: %s: %s", title, message)
        if not self.connector.status().links:
            # Not linked yet is a normal first run: the wizard takes it from here.
            self._refresh()
            self.open_wizard()
            return
        if self.tray is not None:
            self.tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Warning)
        else:
            self.window.show_notice(f"{NO_TRAY_NOTICE}\n\n{title}: {message}")
        self._refresh()

    # Windows -------------------------------------------------------------------------------

    def open_wizard(self) -> None:
        if self.wizard is None:
            self.wizard = FirstRunWizard(self.connector, self.tasks)
            self.wizard.linked.connect(self.on_wizard_linked)
            self.wizard.finished.connect(self.on_wizard_finished)
        _raise(self.wizard)

    def on_wizard_linked(self, _link: Link) -> None:
        self._start_or_refresh()

    def on_wizard_finished(self, _result: int) -> None:
        if self.wizard is not None:
            self.wizard.deleteLater()
            self.wizard = None

    def open_reauthorization(self, connection_id: str) -> None:
        dialog = self.reauthorize_dialogs.get(connection_id)
        if dialog is None:
            link = next(
                (li for li in self.connector.status().links if li.connection_id == connection_id),
                None,
            )
            if link is None:
                return  # unlinked meanwhile: nothing left to re-authorize
            dialog = ReauthorizeDialog(self.connector, self.tasks, link)
            dialog.relinked.connect(lambda _cid: self._start_or_refresh())
            dialog.retried.connect(lambda _cid: self._refresh())
            dialog.finished.connect(lambda _r, cid=connection_id: self._forget_reauth(cid))
            self.reauthorize_dialogs[connection_id] = dialog
        _raise(dialog)

    def _forget_reauth(self, connection_id: str) -> None:
        dialog = self.reauthorize_dialogs.pop(connection_id, None)
        if dialog is not None:
            dialog.deleteLater()

    def open_settings(self) -> None:
        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(self.connector, self.tasks)
            self.settings_dialog.saved.connect(self.on_settings_saved)
            self.settings_dialog.finished.connect(self.on_settings_finished)
        _raise(self.settings_dialog)

    def on_settings_saved(self, settings: UiSettings) -> None:
        self.settings = settings

    def on_settings_finished(self, _result: int) -> None:
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()
            self.settings_dialog = None
        self._refresh()

    def _start_or_refresh(self) -> None:
        # A re-linked connection is served again by the running agent itself; the first link
        # of a first run has no running agent yet.
        if self.connector.status().running:
            self._refresh()
        else:
            self.start_agent()

    def quit(self) -> None:
        """Stop the agent gracefully (off the GUI thread: it waits for the running phase)."""
        if self._quitting:
            return
        self._quitting = True
        if self.tray is not None:
            self.tray.setToolTip("Connector: stopping…")
        self.tasks.run(self.connector.stop, self._finish, lambda *_: self._finish(None))

    def _finish(self, _result: object) -> None:
        self.bridge.detach()
        if self.tray is not None:
            self.tray.hide()
        self.app.quit()

    # Test hook -----------------------------------------------------------------------------

    def run_test_command(self, line: str) -> None:
        """Drive the real windows as a person would, for the end-to-end test under Xvfb:

        - ``wizard <link_url> <book>``: open the wizard, fill in the link and the book, and go
          on to the verify page (which reads the book; no link code is spent);
        - ``close-wizard``: cancel the wizard;
        - ``reauthorize <connection_id> <link_url>``: open the re-authorization dialog, paste
          the link and press Re-authorize;
        - ``window``: bring the status window forward, at the screen's top left;
        - ``menu``: open the tray's menu (beside the icon) as a click on it would; logs "menu
          shown" once it is on screen; ``close-menu`` closes it;
        - ``trigger <name>``: choose the menu item of that object name (``pause_1h``, ...).

        Only wired when ``CONNECTOR_TEST_COMMANDS=1``. The link code is never logged."""
        name, *args = line.split()
        log.info("test command: %s", name)
        if name == "wizard" and len(args) == 2:
            self.open_wizard()
            assert self.wizard is not None
            self.wizard.link_page.input.url.setText(args[0])
            self.wizard.next()
            self.wizard.book_page.path.setText(args[1])
            self.wizard.next()
        elif name == "close-wizard" and self.wizard is not None:
            self.wizard.reject()
        elif name == "reauthorize" and len(args) == 2:
            self.open_reauthorization(args[0])
            dialog = self.reauthorize_dialogs.get(args[0])
            if dialog is not None:
                dialog.input.url.setText(args[1])
                dialog.relink_button.click()
        elif name == "window":
            self.window.bring_forward()
            self.window.move(0, 0)
        elif name in ("menu", "close-menu", "trigger") and self.tray is not None:
            self._menu_test_command(name, args)
        else:
            log.warning("Unknown test command %r", name)

    def _menu_test_command(self, name: str, args: list[str]) -> None:
        assert self.tray is not None
        menu = self.tray.menu
        if name == "menu":
            place = self.tray.geometry()
            screen = self.app.primaryScreen().availableGeometry()
            corner = place.bottomLeft() if place.isValid() else screen.topRight()
            menu.popup(corner)
            QTimer.singleShot(0, lambda: log.info("menu shown"))  # after it was laid out
        elif name == "close-menu":
            menu.hide()
        elif name == "trigger" and len(args) == 1:
            self.tray.rebuild_menu()
            for action in menu.actions():
                if action.objectName() == args[0]:
                    action.trigger()

    def _refresh(self) -> None:
        self.feed.refresh()  # the tray and the window render the new snapshot together


def main(argv: list[str] | None = None, connector: ConnectorFacade | None = None) -> int:
    """Run the tray app until Quit; returns the exit code. ``connector`` defaults to the real
    facade (the CLI passes the one it built, with logging already set up)."""
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Connector")
    app.setWindowIcon(app_icon())
    # The tray is the app: closing the status window must never end it.
    app.setQuitOnLastWindowClosed(False)

    instance = SingleInstance()
    if instance.ask_running_instance():
        print("Connector is already running; showing its window.", file=sys.stderr)
        return 0
    if not instance.listen():
        log.warning("Could not claim %s; a second launch will not find this one", instance.name)

    if connector is None:
        from agent.facade import Connector

        connector = Connector()
    tray_app = TrayApp(app, connector)
    instance.show_requested.connect(tray_app.window.bring_forward)
    if os.environ.get(TEST_COMMANDS_ENV) == "1":
        log.warning(
            "Test commands are on (%s=1): the local socket drives the windows", TEST_COMMANDS_ENV
        )
        instance.command_received.connect(tray_app.run_test_command)
    tray_app.start_agent()
    try:
        return app.exec()
    finally:
        instance.close()


def _raise(window: QWidget) -> None:
    window.show()
    window.raise_()
    window.activateWindow()


if __name__ == "__main__":
    sys.exit(main())
