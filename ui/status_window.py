"""The status window: per company, where its book is and how it is doing; the cloud's data status
table; the datasets this PC ran recently, each with its full timeline, and a progress bar for the
one running now. Closing it only hides it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QCloseEvent, QColor
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent.clock import utc_now
from agent.events import DatasetChanged, Event
from agent.link_status import AgentStatus, DatasetRecord, LinkStatus
from agent.states import ERROR_STATES, DatasetStatus
from ui.bridge import AgentBridge
from ui.icons import app_icon
from ui.model import LINK_STATE_TEXT, STATE_TEXT, overall_state, pause_text
from ui.ports import ConnectorFacade
from ui.tasks import TaskRunner
from ui.timeline import duration_text, moment_text, progress, running, steps, total_duration

DATA_STATUS_COLUMNS = ("Data type", "Status", "Last successful sync", "Latest sync id", "")
DATASET_COLUMNS = ("Data type / step", "Status", "Started", "Took", "Dataset", "Error")
RECENT_LIMIT = 20  # per company; the full history lives in the agent's state.db
# While a dataset runs, its running step's duration and the bar move on between events.
TICK_MS = 5_000

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
    reauthorization_requested = Signal(str)  # connection id
    settings_requested = Signal()
    add_company_requested = Signal()

    def __init__(
        self,
        connector: ConnectorFacade,
        bridge: AgentBridge,
        tasks: TaskRunner,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(parent)
        self._connector = connector
        self._tasks = tasks
        self._clock = clock
        self._cloud: dict[str, dict[str, Any]] = {}
        self._names: dict[str, str] = {}
        self._expanded: set[str] = set()  # dataset ids the user opened, kept across refreshes
        self._collapsed: set[str] = set()  # running ones the user closed
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
        companies = QWidget()
        companies.setLayout(self._companies)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(companies)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.on_refresh_button_clicked)
        self.quit_button = QPushButton("Quit Connector")  # only without a tray to quit from
        self.quit_button.hide()
        # Also here, not only in the tray menu: without a tray host this window is all there is.
        self.add_company_button = QPushButton("Add a company…")
        self.add_company_button.clicked.connect(self.add_company_requested.emit)
        self.settings_button = QPushButton("Settings…")
        self.settings_button.clicked.connect(self.settings_requested.emit)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_company_button)
        buttons.addWidget(self.settings_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.quit_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.headline)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)

        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self.on_tick_timeout)
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
                widget.hide()
                widget.setParent(None)  # gone from findChildren now, not at the next loop turn
                widget.deleteLater()
        if not status.links:
            self._companies.addWidget(
                QLabel(
                    "No company is linked yet. Choose Add a company… in the tray menu, or run "
                    "`connector link LINK_URL --book BOOK`."
                )
            )
        any_running = False
        for link in status.links:
            records = self._connector.recent_datasets(link.connection_id, RECENT_LIMIT)
            any_running = any_running or running(records) is not None
            self._companies.addWidget(self._company_box(link, records))
        self._companies.addStretch(1)
        if any_running and not self._tick.isActive():
            self._tick.start()
        elif not any_running:
            self._tick.stop()

    def _headline(self, status: AgentStatus) -> str:
        text = STATE_TEXT[overall_state(status)]
        if pause := pause_text(status):
            text = f"{text}. {pause}"
        return text

    def _company_box(self, link: LinkStatus, records: tuple[DatasetRecord, ...]) -> QGroupBox:
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
        if link.state in ("needs_reauthorization", "stopped"):
            retry = QPushButton("Try again")
            retry.setObjectName(f"try-again-{link.connection_id}")
            retry.clicked.connect(
                lambda _checked=False, cid=link.connection_id: self.on_try_again_clicked(cid)
            )
            form.addRow(retry)
        if link.state == "needs_reauthorization":
            again = QPushButton(f"Re-authorize {link.company_name}…")
            again.setObjectName(f"reauthorize-{link.connection_id}")
            again.clicked.connect(
                lambda _checked=False, cid=link.connection_id: self.reauthorization_requested.emit(
                    cid
                )
            )
            form.addRow(again)
        form.addRow(self._data_status_table(link.connection_id))
        current = running(records)
        if current is not None and (done := progress(current)) is not None:
            bar = QProgressBar()
            bar.setObjectName(f"progress-{link.connection_id}")
            bar.setValue(done)
            bar.setFormat(f"{current.data_type}: {current.status} (%p%)")
            form.addRow("Running:", bar)
        form.addRow(QLabel("Recent datasets on this PC (open one for its timeline):"))
        form.addRow(self._datasets_tree(link.connection_id, records))
        return box

    # Recent datasets and their timelines ---------------------------------------------------

    def _datasets_tree(self, connection_id: str, records: tuple[DatasetRecord, ...]) -> QWidget:
        if not records:
            return QLabel("No dataset has run on this PC yet.")
        now = self._clock()
        tree = QTreeWidget()
        tree.setObjectName(f"datasets-{connection_id}")
        tree.setHeaderLabels(DATASET_COLUMNS)
        tree.setMinimumHeight(160)
        for record in records:
            timeline = steps(record, now)
            total = total_duration(timeline)
            top = QTreeWidgetItem(
                [
                    record.data_type,
                    str(record.status),
                    moment_text(timeline[0].at if timeline else record.updated),
                    duration_text(total) + ("" if record.finished else " so far"),
                    record.dataset_id,
                    record.error or "",
                ]
            )
            top.setForeground(1, QBrush(QColor(badge_colour(record.status))))
            top.setData(0, Qt.ItemDataRole.UserRole, record.dataset_id)
            for step in timeline:
                took = duration_text(step.duration) + (" so far" if step.running else "")
                child = QTreeWidgetItem(
                    ["", str(step.status), moment_text(step.at), took, "", step.error_message or ""]
                )
                child.setForeground(1, QBrush(QColor(badge_colour(step.status))))
                if step.error_message:
                    child.setToolTip(5, step.error_message)
                top.addChild(child)
            tree.addTopLevelItem(top)
            opened = record.dataset_id in self._expanded
            if not record.finished and record.dataset_id not in self._collapsed:
                opened = True  # the running one shows where it is without a click
            top.setExpanded(opened)
        for column in range(len(DATASET_COLUMNS) - 1):
            tree.resizeColumnToContents(column)
        tree.itemExpanded.connect(self.on_datasets_item_expanded)
        tree.itemCollapsed.connect(self.on_datasets_item_collapsed)
        return tree

    @Slot(QTreeWidgetItem)
    def on_datasets_item_expanded(self, item: QTreeWidgetItem) -> None:
        dataset_id = str(item.data(0, Qt.ItemDataRole.UserRole))
        self._expanded.add(dataset_id)
        self._collapsed.discard(dataset_id)

    @Slot(QTreeWidgetItem)
    def on_datasets_item_collapsed(self, item: QTreeWidgetItem) -> None:
        dataset_id = str(item.data(0, Qt.ItemDataRole.UserRole))
        self._expanded.discard(dataset_id)
        self._collapsed.add(dataset_id)

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
        # event_received has refreshed the window already (the timeline comes from the facade).
        if event.status == DatasetStatus.COMPLETE and self.isVisible():
            self.fetch_cloud_status()  # the cloud's table has moved on too

    @Slot()
    def on_tick_timeout(self) -> None:
        if self.isVisible():
            self.refresh()

    def on_try_again_clicked(self, connection_id: str) -> None:
        """Serve the link again (off the GUI thread); the window shows how it goes."""
        self._tasks.run(lambda: self._connector.retry_link(connection_id), lambda _: self.refresh())

    @Slot()
    def on_refresh_button_clicked(self) -> None:
        self.refresh()
        self.fetch_cloud_status()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing hides: the agent keeps syncing, and the tray (or a second launch) brings it back.
        event.ignore()
        self.hide()
