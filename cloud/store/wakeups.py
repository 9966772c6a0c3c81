"""Wakes an agent's long poll the moment a dataset is queued for its connection.

Queueing happens on worker threads (the store is synchronous); long polls wait on the event
loop. ``notify`` may be called from any thread and hands the wake-up to the loop.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class Wakeups:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: defaultdict[str, set[asyncio.Event]] = defaultdict(set)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def notify(self, connection_id: str) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake, connection_id)

    def _wake(self, connection_id: str) -> None:
        for event in self._waiters.get(connection_id, ()):
            event.set()

    @contextmanager
    def listening(self, connection_id: str) -> Iterator[asyncio.Event]:
        """An event set by every ``notify(connection_id)`` while the block runs.

        Register before looking for work, and clear before each look: a dataset queued between
        the look and the wait then still wakes the poll.
        """
        event = asyncio.Event()
        self._waiters[connection_id].add(event)
        try:
            yield event
        finally:
            self._waiters[connection_id].discard(event)
            if not self._waiters[connection_id]:
                del self._waiters[connection_id]
