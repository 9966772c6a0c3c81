from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QSystemTrayIcon

from agent.events import NeedsReauthorization
from tests.ui.fake_connector import agent_status, link
from ui import app as app_module
from ui.app import NO_TRAY_NOTICE, TrayApp
from ui.single_instance import SingleInstance


@pytest.fixture
def built(qtbot, qapp, connector, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def make(tray_available: bool) -> TrayApp:
        monkeypatch.setattr(
            QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: tray_available)
        )
        quits: list[bool] = []
        monkeypatch.setattr(qapp, "quit", lambda: quits.append(True))
        tray_app = TrayApp(qapp, connector)
        tray_app.quits = quits  # type: ignore[attr-defined]
        qtbot.addWidget(tray_app.window)
        return tray_app

    made: list[TrayApp] = []

    def build(tray_available: bool) -> TrayApp:
        made.append(make(tray_available))
        return made[-1]

    yield build
    for tray_app in made:
        tray_app.tasks.wait()
        tray_app.bridge.detach()
        if tray_app.tray is not None:
            tray_app.tray.hide()


def test_without_a_tray_host_the_window_stands_in_and_says_why(built, qapp) -> None:
    tray_app = built(False)
    assert tray_app.tray is None
    assert tray_app.window.isVisible()
    assert tray_app.window.notice.text() == NO_TRAY_NOTICE
    assert tray_app.window.quit_button.isVisible()


def test_with_a_tray_the_icon_shows_and_the_window_waits(qtbot, built, connector) -> None:
    tray_app = built(True)
    assert tray_app.tray is not None
    assert not tray_app.window.isVisible()
    tray_app.tray.status_window_requested.emit()
    assert tray_app.window.isVisible()


def test_start_and_quit_go_through_the_facade(qtbot, built, connector) -> None:
    tray_app = built(True)
    tray_app.start_agent()
    qtbot.waitUntil(lambda: connector.called("start") == [None], timeout=2000)
    tray_app.tray.quit_confirmed.emit()
    qtbot.waitUntil(lambda: tray_app.quits == [True], timeout=2000)
    assert connector.called("stop") == [None]
    assert connector.observers == []  # the bridge let go of the agent


def test_a_second_main_asks_the_first_and_exits(
    qtbot, qapp, monkeypatch: pytest.MonkeyPatch, connector
) -> None:
    monkeypatch.setenv("CONNECTOR_HOME", str(connector.log_dir))
    first = SingleInstance()
    assert first.listen()
    try:
        with qtbot.waitSignal(first.show_requested, timeout=3000):
            assert app_module.main([], connector) == 0
        assert connector.calls == []  # the second launch never touched the agent
        assert qapp.quitOnLastWindowClosed() is False
    finally:
        first.close()


def test_a_first_run_opens_the_wizard(qtbot, built, connector) -> None:
    class NotLinked(Exception):
        title, message = "Not linked", "Link a company first."

    def refuse() -> None:
        raise NotLinked

    connector.current = agent_status()
    connector.start = refuse
    tray_app = built(True)
    tray_app.start_agent()
    qtbot.waitUntil(lambda: tray_app.wizard is not None, timeout=2000)
    assert tray_app.wizard.isVisible()
    tray_app.wizard.reject()
    qtbot.waitUntil(lambda: tray_app.wizard is None, timeout=2000)


def test_reauthorization_from_the_menu_or_a_notice_opens_one_dialog(
    qtbot, built, connector
) -> None:
    connector.current = agent_status(link(state="needs_reauthorization"))
    tray_app = built(True)
    tray_app.tray.reauthorization_requested.emit("conn-1")
    dialog = tray_app.reauthorize_dialogs["conn-1"]
    assert dialog.isVisible()
    with qtbot.waitSignal(tray_app.bridge.reauthorization_needed):
        connector.publish(NeedsReauthorization("conn-1", "Acme Ltd", "revoked"))
    tray_app.tray.messageClicked.emit()
    assert tray_app.reauthorize_dialogs == {"conn-1": dialog}  # raised again, not a second one
    dialog.reject()
    assert tray_app.reauthorize_dialogs == {}


def test_settings_open_from_the_tray_and_change_the_notifications(qtbot, built, connector) -> None:
    tray_app = built(True)
    tray_app.tray.settings_requested.emit()
    dialog = tray_app.settings_dialog
    dialog.notifications.setCurrentIndex(dialog.notifications.findData("none"))
    dialog.on_buttons_accepted()
    assert tray_app.settings.notifications == "none"
    qtbot.waitUntil(lambda: tray_app.settings_dialog is None, timeout=2000)


def test_test_commands_drive_the_real_windows(qtbot, built, connector, tmp_path) -> None:
    connector.current = agent_status(link("Bolt Co", "b", state="needs_reauthorization"))
    tray_app = built(True)
    book = tmp_path / "bolt.gnucash"
    book.write_bytes(b"x")
    tray_app.run_test_command(f"wizard https://cloud.example/link/K7QM-3TXA {book}")
    assert tray_app.wizard is not None
    assert tray_app.wizard.currentPage() is tray_app.wizard.verify_page
    qtbot.waitUntil(lambda: connector.called("preview_book") == [book], timeout=2000)
    assert not connector.called("link")  # the wizard stops at the verify page
    tray_app.run_test_command("close-wizard")
    qtbot.waitUntil(lambda: tray_app.wizard is None, timeout=2000)

    tray_app.run_test_command("reauthorize b https://cloud.example/link/NEW")
    qtbot.waitUntil(lambda: connector.called("link") != [], timeout=2000)
    assert connector.called("link") == [
        ("https://cloud.example/link/NEW", Path("/home/bob/bolt.gnucash"))
    ]
    qtbot.waitUntil(lambda: "b" not in tray_app.reauthorize_dialogs, timeout=2000)
    tray_app.run_test_command("no-such-command")  # logged and ignored
