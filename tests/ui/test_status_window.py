from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtWidgets import QGroupBox, QLabel, QTableWidget

from agent.events import DatasetChanged
from agent.states import DatasetStatus
from tests.ui.fake_connector import agent_status, link
from ui.status_window import StatusWindow, badge_colour

CLOUD = {
    "a": {
        "connection": {"status": "Linked"},
        "dataStatus": {
            "customers": {
                "dataType": "customers",
                "currentStatus": "Complete",
                "lastSuccessfulSync": "2026-03-02T11:48:00Z",
                "latestSyncId": "ds-9",
            },
            "accounts": {"dataType": "accounts"},
        },
    },
    "b": {"error": "Not authorized: the connection was revoked"},
}


def labels(widget) -> list[str]:  # type: ignore[no-untyped-def]
    return [label.text() for label in widget.findChildren(QLabel)]


def test_each_company_shows_its_name_book_and_state(qtbot, connector, bridge, tasks) -> None:
    connector.current = agent_status(
        link("Acme Ltd", "a", state="syncing", syncing="customers"),
        link("Bolt Co", "b", state="needs_reauthorization", last_error="Refused"),
    )
    window = StatusWindow(connector, bridge, tasks)
    qtbot.addWidget(window)
    boxes = {box.title(): box for box in window.findChildren(QGroupBox)}
    assert set(boxes) == {"Acme Ltd", "Bolt Co"}
    assert "/home/bob/acme.gnucash" in labels(boxes["Acme Ltd"])
    assert "syncing (customers)" in labels(boxes["Acme Ltd"])
    assert "needs re-authorization" in labels(boxes["Bolt Co"])
    assert "Refused" in labels(boxes["Bolt Co"])
    assert window.headline.text() == "Needs to be re-authorized"


def test_the_data_status_table_mirrors_the_cloud(qtbot, connector, bridge, tasks) -> None:
    connector.current = agent_status(link("Acme Ltd", "a"), link("Bolt Co", "b"))
    connector.cloud = CLOUD
    window = StatusWindow(connector, bridge, tasks)
    qtbot.addWidget(window)
    window.fetch_cloud_status()
    qtbot.waitUntil(lambda: window.findChild(QTableWidget, "data-status-a") is not None)
    table = window.findChild(QTableWidget, "data-status-a")
    rows = [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]
    assert rows == [
        ["accounts", "not synced yet", "never", "", "●"],
        ["customers", "Complete", "2026-03-02T11:48:00Z", "ds-9", "●"],
    ]
    assert table.item(1, 4).foreground().color().name() == "#2e7d32"
    bolt = next(b for b in window.findChildren(QGroupBox) if b.title() == "Bolt Co")
    assert any("connection was revoked" in text for text in labels(bolt))


def test_datasets_appear_live_newest_first(qtbot, connector, bridge, tasks) -> None:
    window = StatusWindow(connector, bridge, tasks)
    qtbot.addWidget(window)
    at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    for status, error in ((DatasetStatus.FETCHING, None), (DatasetStatus.FETCH_ERROR, "Locked")):
        with qtbot.waitSignal(bridge.dataset_changed):
            connector.publish(DatasetChanged("conn-1", "ds-1", "invoices", status, at, error))
    assert window.recent.rowCount() == 2
    newest = [window.recent.item(0, c).text() for c in (0, 1, 2, 4, 5)]
    assert newest == ["Acme Ltd", "invoices", "FetchError", "ds-1", "Locked"]
    assert window.recent.item(0, 2).foreground().color().name() == badge_colour("FetchError")


def test_closing_hides_and_never_quits(qtbot, connector, bridge, tasks) -> None:
    window = StatusWindow(connector, bridge, tasks)
    qtbot.addWidget(window)
    window.bring_forward()
    assert window.isVisible()
    assert window.close() is False  # the close was refused: the window only hid
    assert not window.isVisible()


def test_not_linked_says_what_to_do(qtbot, connector, bridge, tasks) -> None:
    connector.current = agent_status()
    window = StatusWindow(connector, bridge, tasks)
    qtbot.addWidget(window)
    assert any("connector link" in text for text in labels(window))
