from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtWidgets import (
    QGroupBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTreeWidget,
    QTreeWidgetItem,
)

from agent.cloud_api.cloud_view import CloudView, DataTypeInCloud
from agent.events import DatasetChanged
from protocol.states import DatasetStatus
from tests.ui.fake_connector import agent_status, dataset, link
from ui.path_label import PathLabel
from ui.status_window import StatusWindow, badge_colour
from ui.timeline import moment_text

START = datetime(2026, 3, 2, 11, 58, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SYNCED = datetime(2026, 3, 2, 11, 48, tzinfo=UTC)

CLOUD = CloudView(
    "Linked",
    NOW,
    (
        DataTypeInCloud("accounts", None, None, None, None),
        DataTypeInCloud("customers", DatasetStatus.COMPLETE, SYNCED, "ds-9", SYNCED),
    ),
)


def labels(widget) -> list[str]:  # type: ignore[no-untyped-def]
    """What each label says in full (a path label shortens what it shows to fit)."""
    return [
        label.path() if isinstance(label, PathLabel) else label.text()
        for label in widget.findChildren(QLabel)
    ]


def test_each_company_shows_its_name_book_and_state(qtbot, connector, feed, tasks) -> None:
    connector.current = agent_status(
        link("Acme Ltd", "a", state="syncing", syncing="customers"),
        link("Bolt Co", "b", state="needs_reauthorization", failed={"invoices": "Refused"}),
    )
    feed.refresh()
    window = StatusWindow(connector, feed, tasks)
    qtbot.addWidget(window)
    boxes = {box.title(): box for box in window.findChildren(QGroupBox)}
    assert set(boxes) == {"Acme Ltd", "Bolt Co"}
    assert "/home/bob/acme.gnucash" in labels(boxes["Acme Ltd"])
    assert "Syncing customers" in labels(boxes["Acme Ltd"])
    assert "Needs re-authorization" in labels(boxes["Bolt Co"])
    assert "Invoices did not sync: Refused" in labels(boxes["Bolt Co"])
    assert window.headline.text() == "Needs to be re-authorized"


def test_the_data_status_table_mirrors_the_cloud(qtbot, connector, feed, tasks) -> None:
    connector.current = agent_status(
        link("Acme Ltd", "a", cloud=CLOUD),
        link("Bolt Co", "b", cloud_problem="Not authorized: the connection was revoked"),
    )
    feed.refresh()
    window = StatusWindow(connector, feed, tasks)
    qtbot.addWidget(window)
    table = window.findChild(QTableWidget, "data-status-a")
    rows = [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]
    # Only what the cloud was ever asked for ("accounts" never was), in people's words.
    assert rows == [["customers", "Complete", moment_text(SYNCED), "●"]]
    assert table.item(0, 0).toolTip() == "customers: latest sync ds-9"
    assert table.item(0, 3).foreground().color().name() == "#2e7d32"
    bolt = next(b for b in window.findChildren(QGroupBox) if b.title() == "Bolt Co")
    assert any("connection was revoked" in text for text in labels(bolt))


def tree_rows(tree: QTreeWidget) -> list[list[str]]:
    return [
        [tree.topLevelItem(r).text(c) for c in (0, 1, 3, 4)] + [tree.topLevelItem(r).toolTip(0)]
        for r in range(tree.topLevelItemCount())
    ]


def timeline_rows(item: QTreeWidgetItem) -> list[list[str]]:
    return [[item.child(r).text(c) for c in (1, 3, 4)] for r in range(item.childCount())]


def test_recent_datasets_each_with_its_timeline(qtbot, connector, feed, tasks) -> None:
    connector.current = agent_status(
        link(
            recent=(
                dataset("ds-2", "invoices", ("Queued", "Fetching", "Mapping"), START, 30),
                dataset(
                    "ds-1",
                    "customers",
                    ("Queued", "Fetching", "FetchError"),
                    START,
                    45,
                    error="Locked",
                ),
            )
        )
    )
    feed.refresh()
    window = StatusWindow(connector, feed, tasks, clock=lambda: NOW)
    qtbot.addWidget(window)
    tree = window.findChild(QTreeWidget, "datasets-conn-1")
    assert tree is not None
    assert tree_rows(tree) == [
        ["invoices", "Mapping", "2 min so far", "", "Dataset ds-2"],
        ["customers", "FetchError", "1 min 30 s", "Locked", "Dataset ds-1"],
    ]
    running, failed = tree.topLevelItem(0), tree.topLevelItem(1)
    assert running is not None and failed is not None
    assert running.isExpanded() and not failed.isExpanded()  # the running one shows its steps
    assert timeline_rows(running) == [
        ["Queued", "30 s", ""],
        ["Fetching", "30 s", ""],
        ["Mapping", "1 min so far", ""],
    ]
    assert timeline_rows(failed) == [
        ["Queued", "45 s", ""],
        ["Fetching", "45 s", ""],
        ["FetchError", "", "Locked"],
    ]
    assert failed.foreground(1).color().name() == badge_colour("FetchError")
    bar = window.findChild(QProgressBar, "progress-conn-1")
    assert bar.value() == 38  # Mapping is step 3 of 8 on the way to Complete
    assert "invoices: Mapping" in bar.format()


def test_datasets_update_live_and_keep_what_the_user_opened(qtbot, connector, feed, tasks) -> None:
    done = dataset("ds-1", "customers", ("Queued", "Fetching", "Complete"), START, 10)
    connector.current = agent_status(link(recent=(done,)))
    feed.refresh()
    window = StatusWindow(connector, feed, tasks, clock=lambda: NOW)
    qtbot.addWidget(window)
    window.bring_forward()
    window.findChild(QTreeWidget, "datasets-conn-1").topLevelItem(0).setExpanded(True)
    assert window.findChild(QProgressBar, "progress-conn-1") is None
    fetching = dataset("ds-2", "invoices", ("Queued", "Fetching"), NOW, 1)
    connector.current = agent_status(link(recent=(fetching, done)))
    with qtbot.waitSignal(feed.status_changed):
        connector.publish(DatasetChanged("conn-1", "ds-2", "invoices", DatasetStatus.FETCHING, NOW))
    qtbot.waitUntil(lambda: window.findChild(QProgressBar, "progress-conn-1") is not None)
    tree = window.findChild(QTreeWidget, "datasets-conn-1")
    assert tree is not None
    assert [row[0] for row in tree_rows(tree)] == ["invoices", "customers"]
    assert tree.topLevelItem(1).isExpanded()  # still open after the rebuild


def test_a_link_needing_reauthorization_offers_the_dialog(qtbot, connector, feed, tasks) -> None:
    connector.current = agent_status(link("Bolt Co", "b", state="needs_reauthorization"))
    feed.refresh()
    window = StatusWindow(connector, feed, tasks)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.reauthorization_requested) as asked:
        window.findChild(QPushButton, "reauthorize-b").click()
    assert asked.args == ["b"]


def test_a_stopped_link_offers_try_again_before_the_dialog(qtbot, connector, feed, tasks) -> None:
    connector.current = agent_status(link("Bolt Co", "b", state="needs_reauthorization"))
    feed.refresh()
    window = StatusWindow(connector, feed, tasks)
    qtbot.addWidget(window)
    window.bring_forward()
    buttons = [b.objectName() for b in window.findChildren(QPushButton)]
    assert buttons.index("try-again-b") < buttons.index("reauthorize-b")
    window.findChild(QPushButton, "try-again-b").click()
    qtbot.waitUntil(lambda: connector.called("retry_link") == ["b"], timeout=2000)
    assert connector.command_threads[-1] != "MainThread"
    # Served again, the company no longer asks for a new link.
    qtbot.waitUntil(lambda: window.findChild(QPushButton, "reauthorize-b") is None, timeout=2000)


def test_closing_hides_and_never_quits(qtbot, connector, feed, tasks) -> None:
    window = StatusWindow(connector, feed, tasks)
    qtbot.addWidget(window)
    window.bring_forward()
    assert window.isVisible()
    assert window.close() is False  # the close was refused: the window only hid
    assert not window.isVisible()


def test_not_linked_says_what_to_do(qtbot, connector, feed, tasks) -> None:
    connector.current = agent_status()
    feed.refresh()
    window = StatusWindow(connector, feed, tasks)
    qtbot.addWidget(window)
    assert any("Add a company" in text for text in labels(window))


def test_a_long_book_path_fits_the_window_without_a_sideways_scroll(
    qtbot, connector, feed, tasks
) -> None:
    deep = "/home/bob/" + "/".join(f"folder-{n}-of-the-accounts" for n in range(12))
    book = f"{deep}/harbor-lane-bakery-main-ledger-2026.gnucash"
    connector.current = agent_status(link("Acme Ltd", "a", state="syncing", book=book))
    feed.refresh()
    window = StatusWindow(connector, feed, tasks)
    qtbot.addWidget(window)
    window.resize(700, 500)
    window.show()
    qtbot.waitExposed(window)
    scroll = window.findChild(QScrollArea)
    assert not scroll.horizontalScrollBar().isVisible()
    [shown] = window.findChildren(PathLabel)
    assert shown.path() == book and shown.toolTip() == book
    assert "…" in shown.text()
    assert shown.text().endswith("/harbor-lane-bakery-main-ledger-2026.gnucash")  # whole name
    assert shown.text().startswith("/home/bob/")  # and where it starts
