"""A work-around for a reference-counting bug in PySide6 6.12 on Python 3.11.

``SignalInstance.emit()`` returns ``True`` without taking a reference to it, so every emit from
Python drops one reference that was never taken. Python 3.11's ``True`` is not immortal: after
enough emits (a long-running tray app, or a test session) its count reaches zero and the
interpreter aborts with "bool_dealloc: deallocating True or False".

:func:`install` checks whether this PySide has the bug (a few emits on a private signal) and,
only then, wraps ``emit`` to give back the reference it took. A fixed PySide is left alone.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 8
_installed = False


class _Probe(QObject):
    ping = Signal()


def emit_drops_a_reference() -> bool:
    """True if emitting from Python leaves ``True`` with fewer references than before."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit()
    dropped = before - sys.getrefcount(True)
    if dropped > 0:  # give back what the probe itself took
        for _ in range(dropped):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return dropped >= _PROBES


def install() -> bool:
    """Wrap ``SignalInstance.emit`` when this PySide needs it; returns whether it did."""
    global _installed
    if _installed or not emit_drops_a_reference():
        return _installed
    original = SignalInstance.emit

    def emit(self: SignalInstance, *args: Any) -> Any:
        result = original(self, *args)
        if isinstance(result, bool):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
        return result

    SignalInstance.emit = emit  # type: ignore[method-assign]
    _installed = True
    return True
