"""Settings: start at login, the sync window, notifications and the log level. The sync window
is the agent's (through the facade, off the GUI thread); the rest are the tray's own, saved in
``tray.json``."""

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
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from ui import autostart
from ui.ports import ConnectorFacade
from ui.settings import (
    LOG_LEVELS,
    NOTIFICATION_LEVELS,
    NOTIFICATION_TEXT,
    UiSettings,
    apply_log_level,
    load_ui_settings,
    save_ui_settings,
)
from ui.tasks import TaskRunner

SetStartAtLogin = Callable[[bool], None]
TIME_FORMAT = "HH:mm"


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
        self._window = connector.status().sync_window
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
        self.log_level.setCurrentText(self.settings.log_level)

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

    def chosen_window(self) -> str | None:
        if not self.window_on.isChecked():
            return None
        first = self.window_from.time().toString(TIME_FORMAT)
        return f"{first}-{self.window_to.time().toString(TIME_FORMAT)}"

    def chosen(self) -> UiSettings:
        return replace(
            self.settings,
            notifications=self.notifications.currentData(),
            log_level=self.log_level.currentText(),
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
        apply_log_level(chosen.log_level)
        self.settings = chosen
        self.saved.emit(chosen)
        window = self.chosen_window()
        if window == self._window:
            self.accept()
            return
        self._tasks.run(
            lambda: self._connector.set_sync_window(window), self.on_window_set, self.on_failed
        )

    def on_window_set(self, _result: object) -> None:
        self._window = self.chosen_window()
        self.accept()

    def on_failed(self, title: str, message: str) -> None:
        self.error.setText(f"{title}: {message}")
        self.error.show()
