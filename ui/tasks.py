"""Facade commands that may block (network, keyring, joining threads) run off the GUI thread.

A menu click must never freeze the tray, so each command runs on a thread pool and its outcome
comes back as a signal, which Qt queues onto the GUI thread. A command started for a window
names it as its ``owner``: when the window is gone before the command returns (the user closed
it), the outcome is dropped instead of reaching widgets that no longer exist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class _Outcome(QObject):
    """One command's way home. It lives on the GUI thread and its slots are its own methods, so
    Qt queues the worker's emissions to it (a plain function as the slot would run on the
    worker thread instead)."""

    finished = Signal(object)  # the command's return value
    failed = Signal(str, str)  # title, message

    def __init__(
        self,
        runner: TaskRunner,
        # Called with what the command returned; typed per command by TaskRunner.run.
        on_done: Callable[[Any], object] | None,
        on_error: Callable[[str, str], None] | None,
        owner: QObject | None,
    ) -> None:
        super().__init__(runner)
        self._runner = runner
        self._on_done = on_done
        self._on_error = on_error
        self._owner = owner
        self.finished.connect(self.on_self_finished)
        self.failed.connect(self.on_self_failed)

    def _owner_gone(self) -> bool:
        return self._owner is not None and not shiboken6.isValid(self._owner)

    @Slot(object)
    def on_self_finished(self, result: Any) -> None:
        self._runner.release(self)
        if self._on_done is not None and not self._owner_gone():
            self._on_done(result)

    @Slot(str, str)
    def on_self_failed(self, title: str, message: str) -> None:
        self._runner.release(self)
        if self._owner_gone():
            log.info("Dropped the outcome of a command whose window has closed: %s", message)
        elif self._on_error is not None:
            self._on_error(title, message)
        else:
            self._runner.failed.emit(title, message)


class _Job(QRunnable):
    def __init__(self, work: Callable[[], object], outcome: _Outcome) -> None:
        super().__init__()
        self._work = work
        self._outcome = outcome

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as error:
            # The agent's errors carry a title and a message meant for people; others are bugs.
            title = getattr(error, "title", None)
            message = getattr(error, "message", None)
            if title is None or message is None:
                log.exception("A tray command failed")
                title, message = "Connector", f"That did not work: {error}"
            self._outcome.failed.emit(str(title), str(message))
            return
        self._outcome.finished.emit(result)


class TaskRunner(QObject):
    """Runs callables on a thread pool; ``on_done``/``on_error`` are called on the GUI thread."""

    failed = Signal(str, str)  # title, message: for any command without its own error handler

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._pending: set[_Outcome] = set()  # keeps each outcome alive until it has reported

    def run(
        self,
        work: Callable[[], _T],
        on_done: Callable[[_T], object] | None = None,
        on_error: Callable[[str, str], None] | None = None,
        *,
        owner: QObject | None = None,
    ) -> None:
        """``owner``: the window the outcome is for; nothing is called once it is deleted."""
        outcome = _Outcome(self, on_done, on_error, owner)
        self._pending.add(outcome)
        self._pool.start(_Job(work, outcome))

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until every command has returned (for quitting, and for tests)."""
        return self._pool.waitForDone(msecs)

    def release(self, outcome: _Outcome) -> None:
        self._pending.discard(outcome)
        outcome.deleteLater()
