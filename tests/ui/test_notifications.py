from __future__ import annotations

import pytest
from PySide6.QtWidgets import QSystemTrayIcon

from agent.events import BookAccessRefused, CloudReconnected, CloudUnreachable, NeedsReauthorization
from ui.notifications import Notifier
from ui.settings import NotificationLevel


class Shown(list[tuple[str, str, QSystemTrayIcon.MessageIcon]]):
    def __call__(self, title: str, text: str, icon: QSystemTrayIcon.MessageIcon) -> None:
        self.append((title, text, icon))


@pytest.fixture
def notify(qtbot, connector, bridge):  # type: ignore[no-untyped-def]
    level: list[NotificationLevel] = ["all"]
    shown = Shown()
    notifier = Notifier(connector, bridge, shown, lambda: level[0])
    return notifier, shown, level


def publish(qtbot, connector, bridge, event) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(bridge.event_received):
        connector.publish(event)


def test_an_outage_is_told_once_with_the_fix_and_its_end_once(
    qtbot, connector, bridge, notify
) -> None:
    _notifier, shown, _level = notify
    publish(qtbot, connector, bridge, CloudUnreachable("conn-1", "No route to the cloud."))
    publish(qtbot, connector, bridge, CloudUnreachable("conn-1", "Still no route."))
    assert len(shown) == 1
    title, text, icon = shown[0]
    assert title == "Acme Ltd: cannot reach the cloud"
    assert "No route to the cloud." in text
    assert "firewall or proxy" in text and "https://cloud.example" in text
    assert icon == QSystemTrayIcon.MessageIcon.Warning
    publish(qtbot, connector, bridge, CloudReconnected("conn-1"))
    publish(qtbot, connector, bridge, CloudReconnected("conn-1"))
    assert [s[0] for s in shown[1:]] == ["Acme Ltd: back online"]


def test_reauthorization_notice_opens_the_dialog_when_clicked(
    qtbot, connector, bridge, notify
) -> None:
    notifier, shown, _level = notify
    publish(qtbot, connector, bridge, NeedsReauthorization("conn-1", "Acme Ltd", "revoked"))
    assert "re-authorized" in shown[0][0] and "Click here" in shown[0][1]
    with qtbot.waitSignal(notifier.reauthorization_requested) as asked:
        notifier.on_tray_message_clicked()
    assert asked.args == ["conn-1"]
    publish(qtbot, connector, bridge, BookAccessRefused("conn-1", "Permission denied."))
    assert "cannot read the book" in shown[-1][0]
    assert "/home/bob/acme.gnucash" in shown[-1][1]
    with qtbot.assertNotEmitted(notifier.reauthorization_requested):
        notifier.on_tray_message_clicked()  # that notice was not about re-authorizing


def test_errors_only_leaves_out_the_good_news(qtbot, connector, bridge, notify) -> None:
    _notifier, shown, level = notify
    level[0] = "errors"
    publish(qtbot, connector, bridge, CloudUnreachable("conn-1", "down"))
    publish(qtbot, connector, bridge, CloudReconnected("conn-1"))
    assert [s[0] for s in shown] == ["Acme Ltd: cannot reach the cloud"]


def test_none_tells_nothing(qtbot, connector, bridge, notify) -> None:
    _notifier, shown, level = notify
    level[0] = "none"
    for event in (
        CloudUnreachable("conn-1", "down"),
        CloudReconnected("conn-1"),
        NeedsReauthorization("conn-1", "Acme Ltd", "revoked"),
        BookAccessRefused("conn-1", "denied"),
    ):
        publish(qtbot, connector, bridge, event)
    assert shown == []
