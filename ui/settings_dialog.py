"""Settings: start at login, the sync window, the proxy, notifications and the log level. The sync
window, the proxy and the log level are the agent's (through the facade, off the GUI thread); the
rest are the tray's own, saved in ``tray.json``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QTime, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from agent.support.config import LOG_LEVELS, SYSTEM_PROXY, LogLevel
from ui import autostart
from ui.ports import ConnectorFacade
from ui.settings import (
    NOTIFICATION_LEVELS,
    NOTIFICATION_TEXT,
    UiSettings,
    load_ui_settings,
    save_ui_settings,
)
from ui.tasks import TaskRunner

SetStartAtLogin = Callable[[bool], None]
TIME_FORMAT = "HH:mm"
# The proxy choices: the system's settings, none, or the address typed beside them.
PROXY_CHOICES = (
    ("system", "Use this computer's proxy settings"),
    ("none", "No proxy: connect directly"),
    ("url", "Use this proxy:"),
)


def set_start_at_login(enabled: bool) -> None:
    autostart.apply(autostart.autostart_entry(autostart.launch_command()), enabled)


def parse_window(window: str | None) -> tuple[QTime, QTime] | None:
    if not window or "-" not in window:
        return None
    start, _, end = window.partition("-")
    first, last = (
        QTime.fromString(start.strip(), TIME_FORMAT),
        QTime.fromString(end.strip(), TIME_FORMAT),
    )
    return (first, last) if first.isValid() and last.isValid() else None


class SettingsDialog(QDialog):
    saved = Signal(object)  # UiSettings

    def __init__(
        self,
        connector: ConnectorFacade,
        tasks: TaskRunner,
        *,
        start_at_login: SetStartAtLogin = set_start_at_login,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._connector = connector
        self._tasks = tasks
        self._start_at_login = start_at_login
        self._config_dir = connector.paths.config_dir
        self.settings = load_ui_settings(self._config_dir)
        status = connector.status()
        self._window = status.sync_window
        self._proxy = status.proxy
        self._log_level = status.log_level
        self.setWindowTitle("Connector settings")

        self.login = QCheckBox("Start Connector when I log in")
        self.login.setObjectName("start_at_login")
        self.login.setChecked(self.settings.start_at_login)
        self.window_on = QCheckBox("Only sync between")
        self.window_on.setObjectName("sync_window_on")
        self.window_from = QTimeEdit()
        self.window_from.setObjectName("sync_window_from")
        self.window_to = QTimeEdit()
        self.window_to.setObjectName("sync_window_to")
        for edit in (self.window_from, self.window_to):
            edit.setDisplayFormat(TIME_FORMAT)
        parsed = parse_window(self._window)
        self.window_on.setChecked(parsed is not None)
        first, last = parsed or (QTime(19, 0), QTime(7, 0))
        self.window_from.setTime(first)
        self.window_to.setTime(last)
        self.window_on.toggled.connect(self.on_window_on_toggled)
        self.on_window_on_toggled(self.window_on.isChecked())
        window_row = QHBoxLayout()
        window_row.addWidget(self.window_on)
        window_row.addWidget(self.window_from)
        window_row.addWidget(QLabel("and"))
        window_row.addWidget(self.window_to)
        window_row.addStretch(1)

        self.notifications = QComboBox()
        self.notifications.setObjectName("notifications")
        for level in NOTIFICATION_LEVELS:
            self.notifications.addItem(NOTIFICATION_TEXT[level], level)
        self.notifications.setCurrentIndex(NOTIFICATION_LEVELS.index(self.settings.notifications))
        self.log_level = QComboBox()
        self.log_level.setObjectName("log_level")
        self.log_level.addItems(list(LOG_LEVELS))
        self.log_level.setCurrentText(self._log_level)
        self.proxy_mode = QComboBox()
        self.proxy_mode.setObjectName("proxy_mode")
        for key, text in PROXY_CHOICES:
            self.proxy_mode.addItem(text, key)
        self.proxy_url = QLineEdit()
        self.proxy_url.setObjectName("proxy_url")
        self.proxy_url.setPlaceholderText("http://proxy.example:3128")
        mode = "system" if self._proxy == SYSTEM_PROXY else "none" if self._proxy is None else "url"
        self.proxy_mode.setCurrentIndex(self.proxy_mode.findData(mode))
        if mode == "url":
            self.proxy_url.setText(self._proxy or "")
        self.proxy_mode.currentIndexChanged.connect(self.on_proxy_mode_changed)
        self.on_proxy_mode_changed()
        proxy_row = QHBoxLayout()
        proxy_row.addWidget(self.proxy_mode)
        proxy_row.addWidget(self.proxy_url, 1)

        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(self.login)
        form.addRow("Sync window:", window_row)
        form.addRow("Proxy:", proxy_row)
        form.addRow("Notifications:", self.notifications)
        form.addRow("Log detail:", self.log_level)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    @Slot(bool)
    def on_window_on_toggled(self, on: bool) -> None:
        self.window_from.setEnabled(on)
        self.window_to.setEnabled(on)

    @Slot()
    def on_proxy_mode_changed(self) -> None:
        self.proxy_url.setEnabled(self.proxy_mode.currentData() == "url")

    def chosen_proxy(self) -> str | None:
        mode = self.proxy_mode.currentData()
        if mode == "system":
            return SYSTEM_PROXY
        if mode == "none":
            return None
        return self.proxy_url.text().strip()

    def chosen_window(self) -> str | None:
        if not self.window_on.isChecked():
            return None
        first = self.window_from.time().toString(TIME_FORMAT)
        return f"{first}-{self.window_to.time().toString(TIME_FORMAT)}"

    def chosen(self) -> UiSettings:
        return replace(
            self.settings,
            notifications=self.notifications.currentData(),
            start_at_login=self.login.isChecked(),
        )

    @Slot()
    def on_buttons_accepted(self) -> None:
        chosen = self.chosen()
        try:
            if chosen.start_at_login != self.settings.start_at_login:
                self._start_at_login(chosen.start_at_login)
            save_ui_settings(self._config_dir, chosen)
        except OSError as error:
            self.on_failed("Could not save the settings", str(error))
            return
        self.settings = chosen
        self.saved.emit(chosen)
        window, proxy, level = (
            self.chosen_window(),
            self.chosen_proxy(),
            LogLevel(self.log_level.currentText()),
        )
        if (window, proxy, level) == (self._window, self._proxy, self._log_level):
            self.accept()
            return
        self._tasks.run(
            lambda: self._apply_agent_settings(window, proxy, level),
            self.on_agent_settings_applied,
            self.on_failed,
            owner=self,
        )

    def _apply_agent_settings(self, window: str | None, proxy: str | None, level: LogLevel) -> None:
        """On a worker thread: only what changed, the proxy first (it is the one that can be
        refused, and then nothing else has been changed half-way)."""
        if proxy != self._proxy:
            self._connector.set_proxy(proxy)
        if level != self._log_level:
            self._connector.set_log_level(level)
        if window != self._window:
            self._connector.set_sync_window(window)

    def on_agent_settings_applied(self, _result: object) -> None:
        self._window = self.chosen_window()
        self._proxy = self.chosen_proxy()
        self._log_level = LogLevel(self.log_level.currentText())
        self.accept()

    def on_failed(self, title: str, message: str) -> None:
        self.error.setText(f"{title}: {message}")
        self.error.show()
