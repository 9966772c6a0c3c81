from __future__ import annotations

import uuid
from pathlib import Path

from PySide6.QtCore import QDir

from ui.single_instance import SingleInstance, server_name


def test_a_second_launch_asks_the_first_to_show_itself(qtbot) -> None:
    name = f"connector-test-{uuid.uuid4().hex[:8]}"
    first = SingleInstance(name)
    assert not first.ask_running_instance()  # nobody there yet
    assert first.listen()
    try:
        second = SingleInstance(name)
        with qtbot.waitSignal(first.show_requested, timeout=3000):
            assert second.ask_running_instance()
    finally:
        first.close()


def test_a_socket_left_by_a_crash_is_taken_over(qtbot) -> None:
    name = f"connector-test-{uuid.uuid4().hex[:8]}"
    leftover = Path(QDir.tempPath()) / name  # where QLocalServer puts it on Unix
    leftover.write_text("")  # a crashed run leaves its socket file behind
    try:
        again = SingleInstance(name)
        assert not again.ask_running_instance()
        assert again.listen()
        again.close()
    finally:
        leftover.unlink(missing_ok=True)


def test_the_name_is_per_user_and_per_connector_home() -> None:
    assert server_name("/a") != server_name("/b")
    assert server_name("/a") == server_name("/a")


def test_lines_a_client_writes_arrive_as_commands(qtbot) -> None:
    from PySide6.QtNetwork import QLocalSocket

    name = f"connector-test-{uuid.uuid4().hex[:8]}"
    first = SingleInstance(name)
    assert first.listen()
    received: list[str] = []
    first.command_received.connect(received.append)
    try:
        client = QLocalSocket()
        client.connectToServer(name)
        assert client.waitForConnected(1000)
        client.write(b"show\nreauthorize conn-1 https://cloud.example/link/NEW\nclose-wizard\n")
        client.waitForBytesWritten(1000)
        qtbot.waitUntil(lambda: len(received) == 2, timeout=3000)
        # "show" is what every second launch says: the connection itself already asked for it.
        assert received == ["reauthorize conn-1 https://cloud.example/link/NEW", "close-wizard"]
        client.disconnectFromServer()
    finally:
        first.close()
