"""The status window: per company, where its book is and how it is doing; the cloud's data status
table; the datasets seen since the app started. Closing it only hides it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QBrush, QCloseEvent, QColor
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent.events import DatasetChanged, Event
from agent.facade import AgentStatus, LinkStatus
from agent.states import ERROR_STATES, DatasetStatus
from ui.bridge import AgentBridge
from ui.icons import app_icon
from ui.model import LINK_STATE_TEXT, STATE_TEXT, overall_state, pause_text
from ui.ports import ConnectorFacade
from ui.tasks import TaskRunner

DATA_STATUS_COLUMNS = ("Data type", "Status", "Last successful sync", "Latest sync id", "")
RECENT_COLUMNS = ("Company", "Data type", "Status", "Time", "Dataset", "Error")
RECENT_LIMIT = 50  # a session's worth; the full history lives in the agent's state.db

_GREEN, _RED, _BLUE, _GREY = "#2e7d32", "#c62828", "#1565c0", "#757575"


def badge_colour(status: str | None) -> str:
    """Green done, red failed, blue on its way, grey not yet asked for."""
    if status == DatasetStatus.COMPLETE:
        return _GREEN
    if status in ERROR_STATES:
        return _RED
    if status in (None, "", DatasetStatus.NOT_SUPPORTED, DatasetStatus.CANCELLED):
        return _GREY
    return _BLUE


class StatusWindow(QWidget):
    def __init__(
        self,
        connector: ConnectorFacade,
        bridge: AgentBridge,
        tasks: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._connector = connector
        self._tasks = tasks
        self._cloud: dict[str, dict[str, Any]] = {}
        self._names: dict[str, str] = {}
        self.setWindowTitle("Connector")
        self.setWindowIcon(app_icon())
        self.resize(760, 560)

        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("padding: 8px; border: 1px solid palette(mid);")
        self.notice.hide()
        self.headline = QLabel()
        self.headline.setStyleSheet("font-weight: bold;")
        self._companies = QVBoxLayout()
        self.recent = QTableWidget(0, len(RECENT_COLUMNS))
        self.recent.setHorizontalHeaderLabels(RECENT_COLUMNS)
        self.recent.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.recent.horizontalHeader().setStretchLastSection(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.on_refresh_button_clicked)
        self.quit_button = QPushButton("Quit Connector")  # only without a tray to quit from
        self.quit_button.hide()

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.quit_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.headline)
        layout.addLayout(self._companies)
        layout.addWidget(QLabel("Recent datasets (since Connector started)"))
        layout.addWidget(self.recent, 1)
        layout.addLayout(buttons)

        bridge.event_received.connect(self.on_bridge_event_received)
        bridge.dataset_changed.connect(self.on_bridge_dataset_changed)
        self.refresh()

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()

    def bring_forward(self) -> None:
        """Show, un-minimize and raise: what a second launch or the tray's Open asks for."""
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()
        self.fetch_cloud_status()

    # Local state, from the facade's snapshot -----------------------------------------------

    @Slot()
    def refresh(self) -> None:
        status = self._connector.status()
        self._names = {link.connection_id: link.company_name for link in status.links}
        self.headline.setText(self._headline(status))
        while self._companies.count():
            item = self._companies.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()
        if not status.links:
            self._companies.addWidget(
                QLabel("No company is linked yet. Run `connector link LINK_URL --book BOOK`.")
            )
        for link in status.links:
            self._companies.addWidget(self._company_box(link))

    def _headline(self, status: AgentStatus) -> str:
        text = STATE_TEXT[overall_state(status)]
        if pause := pause_text(status):
            text = f"{text}. {pause}"
        return text

    def _company_box(self, link: LinkStatus) -> QGroupBox:
        box = QGroupBox(link.company_name)
        box.setObjectName(f"company-{link.connection_id}")
        form = QFormLayout(box)
        book = QLabel(link.book_path)
        book.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Book:", book)
        state = LINK_STATE_TEXT.get(link.state, link.state)
        if link.syncing:
            state = f"{state} ({link.syncing})"
        form.addRow("Connection:", QLabel(state))
        if link.last_error:
            error = QLabel(link.last_error)
            error.setWordWrap(True)
            form.addRow("Last error:", error)
        form.addRow(self._data_status_table(link.connection_id))
        return box

    # The cloud's data status table ---------------------------------------------------------

    def fetch_cloud_status(self) -> None:
        """Ask the cloud off the GUI thread; the table fills in when it answers."""
        self._tasks.run(self._connector.cloud_status, self.on_cloud_status_fetched)

    def on_cloud_status_fetched(self, answers: dict[str, dict[str, Any]]) -> None:
        self._cloud = answers
        self.refresh()

    def _data_status_table(self, connection_id: str) -> QWidget:
        answer = self._cloud.get(connection_id)
        if answer is None:
            return QLabel("Asking the cloud for this company's data status…")
        if "error" in answer:
            return QLabel(f"The cloud could not be asked: {answer['error']}")
        entries = sorted(answer.get("dataStatus", {}).values(), key=lambda e: e["dataType"])
        table = QTableWidget(len(entries), len(DATA_STATUS_COLUMNS))
        table.setObjectName(f"data-status-{connection_id}")
        table.setHorizontalHeaderLabels(DATA_STATUS_COLUMNS)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.verticalHeader().hide()
        for row, entry in enumerate(entries):
            current = entry.get("currentStatus")
            values = (
                entry["dataType"],
                current or "not synced yet",
                entry.get("lastSuccessfulSync", "never"),
                entry.get("latestSyncId", ""),
            )
            for column, value in enumerate(values):
                table.setItem(row, column, QTableWidgetItem(str(value)))
            badge = QTableWidgetItem("●")
            badge.setForeground(QBrush(QColor(badge_colour(current))))
            badge.setToolTip(current or "not synced yet")
            table.setItem(row, len(values), badge)
        table.resizeColumnsToContents()
        return table

    # Live updates --------------------------------------------------------------------------

    @Slot(object)
    def on_bridge_event_received(self, _event: Event) -> None:
        if self.isVisible():
            self.refresh()

    @Slot(object)
    def on_bridge_dataset_changed(self, event: DatasetChanged) -> None:
        self.recent.insertRow(0)
        values = (
            self._names.get(event.connection_id, event.connection_id),
            event.data_type,
            str(event.status),
            event.at.astimezone().strftime("%H:%M:%S"),
            event.dataset_id,
            event.error_message or "",
        )
        for column, value in enumerate(values):
            item = QTableWidgetItem(value)
            if column == 2:
                item.setForeground(QBrush(QColor(badge_colour(event.status))))
            self.recent.setItem(0, column, item)
        while self.recent.rowCount() > RECENT_LIMIT:
            self.recent.removeRow(self.recent.rowCount() - 1)
        if event.status == DatasetStatus.COMPLETE and self.isVisible():
            self.fetch_cloud_status()  # the cloud's table has moved on too

    @Slot()
    def on_refresh_button_clicked(self) -> None:
        self.refresh()
        self.fetch_cloud_status()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing hides: the agent keeps syncing, and the tray (or a second launch) brings it back.
        event.ignore()
        self.hide()
