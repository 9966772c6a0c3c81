"""Emitting signals from Python must not wear away the interpreter's ``True`` (PySide6 6.12)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from ui import pyside_compat


class _Emitter(QObject):
    fired = Signal(object)


def test_emitting_keeps_the_reference_count_of_true() -> None:
    emitter = _Emitter()
    received: list[int] = []
    emitter.fired.connect(received.append)
    before = sys.getrefcount(True)
    for number in range(5000):
        emitter.fired.emit(number)
    assert len(received) == 5000
    assert sys.getrefcount(True) >= before
    assert not pyside_compat.emit_drops_a_reference()  # installed (or never needed)
