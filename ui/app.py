"""``connector`` on a desktop: the tray app. One instance per user; the agent runs in-process
behind its facade; without a tray host the status window stands in and says why."""

from __future__ import annotations

import logging
import sys

from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from ui.bridge import AgentBridge
from ui.icons import app_icon
from ui.ports import ConnectorFacade
from ui.single_instance import SingleInstance
from ui.status_window import StatusWindow
from ui.tasks import TaskRunner
from ui.tray import ConnectorTray

log = logging.getLogger(__name__)

NO_TRAY_NOTICE = (
    "Your desktop has no notification area (system tray), so Connector shows this window "
    "instead. Closing it keeps Connector syncing in the background; start Connector again "
    "to bring the window back."
)
STOP_TIMEOUT_MS = 60_000


class TrayApp:
    """Everything the running app holds, wired together; built by :func:`main`, and by tests."""

    def __init__(self, app: QApplication, connector: ConnectorFacade) -> None:
        self.app = app
        self.connector = connector
        self.tasks = TaskRunner()
        self.bridge = AgentBridge(connector)
        self.window = StatusWindow(connector, self.bridge, self.tasks)
        self.tray: ConnectorTray | None = None
        self._quitting = False
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = ConnectorTray(connector, self.bridge, self.tasks)
            self.tray.status_window_requested.connect(self.window.bring_forward)
            # Until the re-authorization dialog exists, the window says what to run.
            self.tray.reauthorization_requested.connect(self.on_tray_reauthorization_requested)
            self.tray.quit_confirmed.connect(self.quit)
            self.tray.show()
            self.tray.seed_last_success()
        else:
            self.window.show_notice(NO_TRAY_NOTICE)
            self.window.quit_button.show()
            self.window.quit_button.clicked.connect(self.quit)
            self.window.bring_forward()

    def start_agent(self) -> None:
        """Start syncing off the GUI thread (it opens the keyring, which may prompt)."""
        self.tasks.run(self.connector.start, lambda _: self._refresh(), self.on_start_failed)

    def on_start_failed(self, title: str, message: str) -> None:
        # Not linked yet is a normal first run: the icon says so; anything else is shown.
        log.info("The agent did not start: %s: %s", title, message)
        if not self.connector.status().links:
            self._refresh()  # the not-linked icon and window already say what to do
            return
        if self.tray is not None:
            self.tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Warning)
        else:
            self.window.show_notice(f"{NO_TRAY_NOTICE}\n\n{title}: {message}")
        self._refresh()

    def on_tray_reauthorization_requested(self, connection_id: str) -> None:
        self.window.show_notice(
            "The cloud no longer accepts this PC's connection. Ask for a new link URL and run "
            "`connector link LINK_URL --book BOOK` to re-authorize it."
        )
        self.window.bring_forward()

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

    def _refresh(self) -> None:
        if self.tray is not None:
            self.tray.refresh()
        self.window.refresh()


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
    tray_app.start_agent()
    try:
        return app.exec()
    finally:
        instance.close()


if __name__ == "__main__":
    sys.exit(main())
