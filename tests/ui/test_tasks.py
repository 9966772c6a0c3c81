"""The task runner: commands off the GUI thread, their outcomes back on it."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtWidgets import QLabel

from ui.tasks import TaskRunner


def test_an_outcome_whose_window_has_closed_is_dropped(qtbot, tasks: TaskRunner) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()
    window = QLabel()
    reached: list[str] = []

    def work() -> str:
        release.wait(10)
        return "read"

    def on_done(result: str) -> None:
        window.setText(result)  # would raise: the label is gone
        reached.append(result)

    tasks.run(work, on_done, lambda _title, message: reached.append(message), owner=window)
    shiboken6.delete(window)  # the user closed the window while the command ran
    release.set()
    qtbot.waitUntil(lambda: not tasks.busy, timeout=10_000)
    assert reached == []


def test_an_outcome_whose_window_is_open_arrives(qtbot, tasks: TaskRunner) -> None:  # type: ignore[no-untyped-def]
    window = QLabel()
    tasks.run(lambda: "read", window.setText, owner=window)
    qtbot.waitUntil(lambda: window.text() == "read", timeout=10_000)
