from __future__ import annotations

import threading
from datetime import UTC, datetime

from PySide6.QtCore import QObject, QThread, Slot

from agent.events import CloudUnreachable, DatasetChanged
from protocol.states import DatasetStatus
from tests.ui.fake_connector import FakeConnector
from ui.bridge import AgentBridge


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[object, bool, str]] = []

    @Slot(object)
    def on_bridge_dataset_changed(self, event: object) -> None:
        on_gui = QThread.currentThread() is self.thread()
        self.seen.append((event, on_gui, threading.current_thread().name))


def test_an_event_from_an_agent_thread_reaches_a_slot_on_the_gui_thread(
    qtbot, connector: FakeConnector, bridge: AgentBridge
) -> None:
    receiver = Receiver()
    bridge.dataset_changed.connect(receiver.on_bridge_dataset_changed)
    event = DatasetChanged("conn-1", "ds-1", "customers", DatasetStatus.FETCHING, datetime.now(UTC))
    agent = threading.Thread(target=connector.publish, args=(event,), name="connector-link-0")
    with qtbot.waitSignal(bridge.dataset_changed, timeout=2000):
        agent.start()
        agent.join()
    qtbot.waitUntil(lambda: bool(receiver.seen), timeout=2000)
    assert receiver.seen == [(event, True, "MainThread")]  # the very same frozen event


def test_each_kind_has_its_signal_and_all_share_one(
    qtbot, connector: FakeConnector, bridge: AgentBridge
) -> None:
    with (
        qtbot.waitSignal(bridge.cloud_unreachable) as specific,
        qtbot.waitSignal(bridge.event_received) as general,
    ):
        connector.publish(CloudUnreachable("conn-1", "no route"))
    assert specific.args == general.args == [CloudUnreachable("conn-1", "no route")]


def test_detach_unsubscribes(connector: FakeConnector, bridge: AgentBridge) -> None:
    assert len(connector.observers) == 1
    bridge.detach()
    bridge.detach()  # twice is harmless: the app and a test may both do it
    assert connector.observers == []
