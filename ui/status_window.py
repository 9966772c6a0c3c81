"""The status window: per company, where its book is and how it is doing; the cloud's data status
table; the datasets this PC ran recently, each with its full timeline, and a progress bar for the
one running now. All of it is rendered from the one status snapshot (:mod:`ui.status_feed`) the
tray shows too. Closing it only hides it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QCloseEvent, QColor, QShowEvent
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

from agent.cloud_api.cloud_view import CloudView
from agent.status.link_status import AgentStatus, LinkStatus, RecentRun
from agent.status.status_rules import Condition
from protocol.clock import utc_now
from protocol.datatypes import data_type_words
from protocol.states import ERROR_STATES, DatasetStatus
from ui.icons import app_icon
from ui.path_label import PathLabel
from ui.ports import ConnectorFacade
from ui.status_feed import StatusFeed
from ui.tasks import TaskRunner
from ui.timeline import duration_text, moment_text, progress, running, steps, total_duration

DATA_STATUS_COLUMNS = ("Data type", "Status", "Last successful sync", "")
# The dataset's id is for support, not for reading: it is in the row's tooltip.
DATASET_COLUMNS = ("Data type / step", "Status", "Started", "Took", "Error")
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
        feed: StatusFeed,
        tasks: TaskRunner,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(parent)
        self._connector = connector
        self._feed = feed
        self._tasks = tasks
        self._clock = clock
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
        self.headline.setObjectName("headline")
        self.headline.setWordWrap(True)
        self.headline.setStyleSheet("font-weight: bold;")
        self._companies = QVBoxLayout()
        companies = QWidget()
        companies.setLayout(self._companies)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(companies)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Ask the cloud again how each company's data stands")
        self.refresh_button.clicked.connect(self.on_refresh_button_clicked)
        self.refresh_note = QLabel()  # why the cloud could not be asked, when it could not
        self.refresh_note.setWordWrap(True)
        self.refresh_note.hide()
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
        layout.addWidget(self.refresh_note)
        layout.addLayout(buttons)

        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self.on_tick_timeout)
        feed.status_changed.connect(self.on_feed_status_changed)
        self.show_status(feed.current)

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()

    def bring_forward(self) -> None:
        """Show, un-minimize and raise: what a second launch or the tray's Open asks for."""
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()
        self.ask_cloud()

    # The snapshot ----------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """Read a new snapshot; every view (the tray too) renders it."""
        self._feed.refresh()

    def show_status(self, status: AgentStatus) -> None:
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
            any_running = any_running or running(link.recent) is not None
            self._companies.addWidget(self._company_box(link))
        self._companies.addStretch(1)
        if any_running and not self._tick.isActive():
            self._tick.start()
        elif not any_running:
            self._tick.stop()

    def _headline(self, status: AgentStatus) -> str:
        if status.pause_note:
            return f"{status.headline}. {status.pause_note}"
        return status.headline

    def _company_box(self, link: LinkStatus) -> QGroupBox:
        box = QGroupBox(link.company_name)
        box.setObjectName(f"company-{link.connection_id}")
        form = QFormLayout(box)
        form.addRow("Book:", PathLabel(link.book_path))
        summary = QLabel(_capitalized(link.summary))
        summary.setObjectName(f"summary-{link.connection_id}")
        summary.setWordWrap(True)
        form.addRow("Status:", summary)
        for problem in link.problems:
            text = QLabel(problem.message)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow("Needs attention:", text)
        if link.may_try_again:  # first: it costs nothing, and needs no new link
            retry = QPushButton("Try again")
            retry.setObjectName(f"try-again-{link.connection_id}")
            retry.clicked.connect(
                lambda _checked=False, cid=link.connection_id: self.on_try_again_clicked(cid)
            )
            form.addRow(retry)
        if link.condition == Condition.NEEDS_REAUTHORIZATION:
            again = QPushButton(f"Re-authorize {link.company_name}…")
            again.setObjectName(f"reauthorize-{link.connection_id}")
            again.clicked.connect(
                lambda _checked=False, cid=link.connection_id: self.reauthorization_requested.emit(
                    cid
                )
            )
            form.addRow(again)
        form.addRow(self._data_status(link))
        runs = link.recent
        current = running(runs)
        if current is not None and (done := progress(current)) is not None:
            bar = QProgressBar()
            bar.setObjectName(f"progress-{link.connection_id}")
            bar.setValue(done)
            bar.setFormat(f"{data_type_words(current.data_type)}: {current.status} (%p%)")
            form.addRow("Running:", bar)
        form.addRow(QLabel("Recent datasets on this PC (open one for its timeline):"))
        form.addRow(self._datasets_tree(link.connection_id, runs))
        return box

    # Recent datasets and their timelines ---------------------------------------------------

    def _datasets_tree(self, connection_id: str, runs: tuple[RecentRun, ...]) -> QWidget:
        if not runs:
            return QLabel("No dataset has run on this PC yet.")
        now = self._clock()
        tree = QTreeWidget()
        tree.setObjectName(f"datasets-{connection_id}")
        tree.setHeaderLabels(DATASET_COLUMNS)
        tree.setMinimumHeight(160)
        for run in runs:
            timeline = steps(run, now)
            total = total_duration(timeline)
            top = QTreeWidgetItem(
                [
                    data_type_words(run.data_type),
                    str(run.status),
                    moment_text(timeline[0].at if timeline else run.updated),
                    duration_text(total) + ("" if run.finished else " so far"),
                    run.error or "",
                ]
            )
            top.setForeground(1, QBrush(QColor(badge_colour(run.status))))
            top.setData(0, Qt.ItemDataRole.UserRole, run.dataset_id)
            top.setToolTip(0, f"Dataset {run.dataset_id}")
            if run.error:
                top.setToolTip(4, run.error)
            for step in timeline:
                took = duration_text(step.duration) + (" so far" if step.running else "")
                child = QTreeWidgetItem(
                    ["", str(step.status), moment_text(step.at), took, step.error_message or ""]
                )
                child.setForeground(1, QBrush(QColor(badge_colour(step.status))))
                if step.error_message:
                    child.setToolTip(4, step.error_message)
                top.addChild(child)
            tree.addTopLevelItem(top)
            opened = run.dataset_id in self._expanded
            if not run.finished and run.dataset_id not in self._collapsed:
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

    def ask_cloud(self) -> None:
        """Have the agent ask the cloud now, off the GUI thread; its event re-renders."""
        self.refresh_note.hide()
        self._tasks.run(
            self._connector.refresh_cloud_views, on_error=self.on_ask_cloud_failed, owner=self
        )

    def on_ask_cloud_failed(self, title: str, message: str) -> None:
        self.refresh_note.setText(f"Could not ask the cloud just now. {title}: {message}")
        self.refresh_note.show()

    def _data_status(self, link: LinkStatus) -> QWidget:
        if link.cloud is None:
            if link.cloud_problem:
                return QLabel(f"The cloud could not be asked: {link.cloud_problem}")
            return QLabel("Asking the cloud for this company's data status…")
        part = QWidget()
        layout = QVBoxLayout(part)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(f"In the cloud, as of {moment_text(link.cloud.fetched_at)}:"))
        layout.addWidget(self._data_status_table(link.connection_id, link.cloud))
        return part

    def _data_status_table(self, connection_id: str, cloud: CloudView) -> QWidget:
        # Only what was ever asked for: two dozen "not synced yet" rows would bury the rest.
        entries = [entry for entry in cloud.data_types if entry.status is not None]
        if not entries:
            return QLabel("The cloud has not asked for any of this company's data yet.")
        table = QTableWidget(len(entries), len(DATA_STATUS_COLUMNS))
        table.setObjectName(f"data-status-{connection_id}")
        table.setHorizontalHeaderLabels(DATA_STATUS_COLUMNS)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.verticalHeader().hide()
        for row, entry in enumerate(entries):
            last = entry.last_successful_sync
            values = (
                data_type_words(entry.data_type),
                str(entry.status),
                moment_text(last) if last else "never",
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(f"{entry.data_type}: latest sync {entry.latest_sync_id}")
                table.setItem(row, column, item)
            badge = QTableWidgetItem("●")
            badge.setForeground(QBrush(QColor(badge_colour(entry.status))))
            badge.setToolTip(str(entry.status))
            table.setItem(row, len(values), badge)
        table.resizeColumnsToContents()
        # As tall as its rows: no empty box under two lines.
        table.setSizeAdjustPolicy(QTableWidget.SizeAdjustPolicy.AdjustToContents)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        return table

    # Live updates --------------------------------------------------------------------------

    @Slot(object)
    def on_feed_status_changed(self, status: AgentStatus) -> None:
        if self.isVisible():
            self.show_status(status)

    def showEvent(self, event: QShowEvent) -> None:
        # Hidden, it skipped the snapshots that came meanwhile: show the one every view has.
        self.show_status(self._feed.current)
        super().showEvent(event)

    @Slot()
    def on_tick_timeout(self) -> None:
        if self.isVisible():
            self.show_status(self._feed.current)  # the running step's duration moves on

    def on_try_again_clicked(self, connection_id: str) -> None:
        """Serve the link again (off the GUI thread); the agent's events show how it goes."""
        self._tasks.run(lambda: self._connector.retry_link(connection_id))

    @Slot()
    def on_refresh_button_clicked(self) -> None:
        self.refresh()
        self.ask_cloud()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing hides: the agent keeps syncing, and the tray (or a second launch) brings it back.
        event.ignore()
        self.hide()


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]
