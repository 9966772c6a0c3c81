from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon

from agent.cloud_api.cloud_view import CloudView, DataTypeInCloud
from agent.events import CloudReconnected, DatasetChanged
from agent.status.status_rules import Condition
from protocol.states import DatasetStatus
from tests.ui.fake_connector import FOREVER, FakeConnector, agent_status, link, rebuilt
from ui.status_feed import StatusFeed
from ui.tasks import TaskRunner
from ui.tray import ConnectorTray

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Questions:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, title: str, question: str) -> bool:
        self.asked.append(question)
        return self.answer


def make_tray(connector, feed, tasks, confirm=None) -> ConnectorTray:  # type: ignore[no-untyped-def]
    return ConnectorTray(
        connector, feed, tasks, confirm=confirm or Questions(True), clock=lambda: NOW
    )


def items(tray: ConnectorTray) -> list[str]:
    tray.menu.aboutToShow.emit()
    return [a.objectName() for a in tray.menu.actions() if not a.isSeparator()]


def action(tray: ConnectorTray, name: str):  # type: ignore[no-untyped-def]
    return next(a for a in tray.menu.actions() if a.objectName() == name)


def test_the_menu_is_rebuilt_each_time_it_opens(qapp, connector, feed, tasks) -> None:
    tray = make_tray(connector, feed, tasks)
    first = items(tray)
    assert first == [
        "status_line",
        "company",
        "sync_now",
        "pause_1h",
        "pause_24h",
        "open_status",
        "add_company",
        "settings",
        "open_logs",
        "save_diagnostics",
        "about",
        "quit",
    ]
    assert action(tray, "status_line").text() == "Up to date"
    assert action(tray, "add_company").text() == "Add another company…"
    assert not action(tray, "status_line").isEnabled()
    connector.current = agent_status(
        link("Acme Ltd", "a", state="syncing", syncing="customers"), link("Bolt Co", "b")
    )
    assert items(tray).count("company") == 2  # no stale lines from the last opening
    texts = [a.text() for a in tray.menu.actions()]
    assert texts[:3] == ["Syncing", "Acme Ltd: syncing customers", "Bolt Co: up to date"]


def test_not_linked_offers_nothing_to_sync(qapp, connector, feed, tasks) -> None:
    connector.current = agent_status()
    tray = make_tray(connector, feed, tasks)
    assert "company" not in items(tray)
    assert action(tray, "status_line").text() == "Not linked to a company yet"
    assert not action(tray, "sync_now").isEnabled()
    assert not action(tray, "pause_1h").isEnabled()
    assert action(tray, "add_company").text() == "Link a company…"


def test_paused_offers_resume_instead_of_pause(qapp, connector, feed, tasks) -> None:
    connector.current = agent_status(link(state="paused"), paused_until=FOREVER)
    tray = make_tray(connector, feed, tasks)
    names = items(tray)
    assert "resume" in names
    assert "pause_1h" not in names
    assert "pause_24h" not in names
    assert not action(tray, "sync_now").isEnabled()
    assert action(tray, "status_line").text() == "Paused until you resume"
    assert "pause_line" not in names  # said once, in the headline


def test_reauthorize_only_when_a_link_needs_it(qtbot, connector, feed, tasks) -> None:
    tray = make_tray(connector, feed, tasks)
    assert "reauthorize" not in items(tray)
    connector.current = agent_status(
        link("Acme Ltd", "a"), link("Bolt Co", "b", state="needs_reauthorization")
    )
    names = items(tray)
    assert names.count("reauthorize") == 1
    assert action(tray, "reauthorize").text() == "Re-authorize Bolt Co…"
    with qtbot.waitSignal(tray.reauthorization_requested) as requested:
        action(tray, "reauthorize").trigger()
    assert requested.args == ["b"]


def test_try_again_comes_before_a_new_link_and_serves_the_link_again(
    qtbot, connector, feed, tasks
) -> None:
    connector.current = agent_status(
        link("Acme Ltd", "a"), link("Bolt Co", "b", state="needs_reauthorization")
    )
    feed.refresh()
    tray = make_tray(connector, feed, tasks)
    assert tray.state == Condition.NEEDS_REAUTHORIZATION
    names = items(tray)
    assert names.count("try_again") == 1
    assert names.index("try_again") < names.index("reauthorize")
    assert action(tray, "try_again").text() == "Try again: Bolt Co"
    action(tray, "try_again").trigger()
    qtbot.waitUntil(lambda: connector.called("retry_link") == ["b"], timeout=2000)
    assert connector.command_threads[-1] != "MainThread"
    # Served again. (mypy keeps the narrowing of an assert above across the change.)
    qtbot.waitUntil(
        lambda: tray.state == Condition.IDLE,  # type: ignore[comparison-overlap]
        timeout=2000,
    )


def test_a_stopped_link_offers_try_again_alone(qapp, connector, feed, tasks) -> None:
    connector.current = agent_status(link("Bolt Co", "b", state="stopped"))
    feed.refresh()
    names = items(make_tray(connector, feed, tasks))
    assert "try_again" in names
    assert "reauthorize" not in names


def test_the_icon_is_set_only_when_the_state_changes(
    qapp, monkeypatch: pytest.MonkeyPatch, connector, feed, tasks
) -> None:
    set_to: list[QIcon] = []
    original = QSystemTrayIcon.setIcon

    def counting(self: QSystemTrayIcon, icon: QIcon) -> None:
        set_to.append(icon)
        original(self, icon)

    monkeypatch.setattr(ConnectorTray, "setIcon", counting)
    tray = make_tray(connector, feed, tasks)
    assert len(set_to) == 1 and tray.state == Condition.IDLE
    for _ in range(3):
        feed.refresh()
        items(tray)  # opening the menu reads the status too
    assert len(set_to) == 1
    connector.current = agent_status(link(state="offline"))
    feed.refresh()
    feed.refresh()
    # mypy keeps the narrowing of the assert above across the refresh.
    assert len(set_to) == 2 and tray.state == Condition.OFFLINE  # type: ignore[comparison-overlap]


def test_an_agent_event_refreshes_the_icon_and_the_tooltip(
    qtbot, connector: FakeConnector, feed: StatusFeed, tasks: TaskRunner
) -> None:
    connector.current = agent_status(link(state="offline"))
    feed.refresh()
    tray = make_tray(connector, feed, tasks)
    assert tray.state == Condition.OFFLINE
    assert "Last successful sync: never" in tray.toolTip()
    connector.current = agent_status(link(last_success=NOW))
    done = DatasetChanged("conn-1", "ds", "customers", DatasetStatus.COMPLETE, NOW)
    agent = threading.Thread(target=connector.publish, args=(done,))
    agent.start()
    agent.join()
    # mypy keeps the narrowing of an assert above across the event.
    qtbot.waitUntil(
        lambda: tray.state == Condition.IDLE,  # type: ignore[comparison-overlap]
        timeout=2000,
    )
    assert tray.toolTip() == "Connector: Up to date\nLast successful sync: just now"
    connector.publish(CloudReconnected("conn-1"))  # a later event keeps the last success
    qtbot.waitUntil(lambda: "just now" in tray.toolTip(), timeout=2000)


def test_the_tooltip_learns_the_last_success_from_the_cloud(qapp, connector, feed, tasks) -> None:
    view = CloudView(
        "Linked",
        NOW,
        (
            DataTypeInCloud(
                "customers", DatasetStatus.COMPLETE, NOW - timedelta(minutes=12), "d", NOW
            ),
        ),
    )
    connector.current = agent_status(link(cloud=view))
    feed.refresh()
    tray = make_tray(connector, feed, tasks)
    assert tray.toolTip() == "Connector: Up to date\nLast successful sync: 12 min ago"


@pytest.mark.parametrize(("name", "hours"), [("pause_1h", 1), ("pause_24h", 24)])
def test_pause_actions_call_the_facade_off_the_gui_thread(
    qtbot, connector, feed, tasks, name: str, hours: int
) -> None:
    tray = make_tray(connector, feed, tasks)
    items(tray)
    action(tray, name).trigger()
    qtbot.waitUntil(lambda: bool(connector.called("pause")), timeout=2000)
    assert connector.called("pause") == [NOW + timedelta(hours=hours)]
    assert connector.command_threads[-1] != "MainThread"
    qtbot.waitUntil(lambda: tray.state == Condition.PAUSED, timeout=2000)
    assert "resume" in items(tray)


def test_resume_and_sync_now_call_the_facade(qtbot, connector, feed, tasks) -> None:
    connector.current = agent_status(link(state="paused"), paused_until=FOREVER)
    tray = make_tray(connector, feed, tasks)
    items(tray)
    action(tray, "resume").trigger()
    qtbot.waitUntil(lambda: connector.called("resume") == [None], timeout=2000)
    qtbot.waitUntil(lambda: "sync_now" in items(tray) and action(tray, "sync_now").isEnabled())
    action(tray, "sync_now").trigger()
    qtbot.waitUntil(lambda: connector.called("sync_now") == [None], timeout=2000)


def test_quit_while_syncing_says_the_sync_resumes_next_start(qtbot, connector, feed, tasks) -> None:
    connector.current = agent_status(link(state="syncing", syncing="invoices"))
    no = Questions(answer=False)
    tray = make_tray(connector, feed, tasks, confirm=no)
    quits: list[bool] = []
    tray.quit_confirmed.connect(lambda: quits.append(True))
    items(tray)
    action(tray, "quit").trigger()
    assert quits == []
    assert "Acme Ltd (invoices)" in no.asked[0]
    assert "next time Connector starts" in no.asked[0]
    no.answer = True
    action(tray, "quit").trigger()
    assert quits == [True]


def test_quit_when_idle_does_not_ask(qapp, connector, feed, tasks) -> None:
    asked = Questions(answer=False)
    tray = make_tray(connector, feed, tasks, confirm=asked)
    quits: list[bool] = []
    tray.quit_confirmed.connect(lambda: quits.append(True))
    items(tray)
    action(tray, "quit").trigger()
    assert quits == [True] and asked.asked == []


def test_settings_and_add_company_ask_for_their_windows(qtbot, connector, feed, tasks) -> None:
    tray = make_tray(connector, feed, tasks)
    items(tray)
    with qtbot.waitSignal(tray.settings_requested):
        action(tray, "settings").trigger()
    with qtbot.waitSignal(tray.add_company_requested):
        action(tray, "add_company").trigger()


def test_logs_and_diagnostics(
    qtbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, connector, feed, tasks
) -> None:
    tray = make_tray(connector, feed, tasks)
    opened: list[Path] = []
    monkeypatch.setattr(tray, "open_folder", opened.append)
    monkeypatch.setattr(tray, "choose_folder", lambda: tmp_path)
    items(tray)
    action(tray, "open_logs").trigger()
    assert opened == [connector.log_dir]
    action(tray, "save_diagnostics").trigger()
    qtbot.waitUntil(lambda: connector.called("diagnostics") == [tmp_path], timeout=2000)


def test_a_failing_command_is_shown_not_raised(
    qtbot, monkeypatch: pytest.MonkeyPatch, connector, feed, tasks
) -> None:
    class Refused(Exception):
        title, message = "Not linked", "Link a company first."

    def refuse() -> None:
        raise Refused

    connector.sync_now = refuse  # type: ignore[method-assign]
    tray = make_tray(connector, feed, tasks)
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(tray, "showMessage", lambda title, text, *_: shown.append((title, text)))
    items(tray)
    action(tray, "sync_now").trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=2000)
    assert shown == [("Not linked", "Link a company first.")]


def test_paused_state_is_kept_after_a_reopen(qapp, connector, feed, tasks) -> None:
    tray = make_tray(connector, feed, tasks)
    connector.current = rebuilt(connector.current, paused_until=FOREVER)
    items(tray)
    assert tray.state == Condition.PAUSED
