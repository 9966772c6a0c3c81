"""A limit on failed sign-ins per client address, so the API key cannot be guessed at speed.

Kept in memory, per server process: a restart forgets it, and several processes each allow
their own share. That is enough to turn guessing into a crawl, and needs no table. Behind a
reverse proxy every client has the proxy's address; the proxy should then limit instead.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

FAILURES = 5
WINDOW = timedelta(minutes=1)
# Beyond this many addresses, forget those with no recent failure (a scan from many addresses
# must not grow the process without bound).
MAX_TRACKED = 10_000


class SignInThrottle:
    """Counts failed sign-ins per address within a sliding window."""

    def __init__(self, failures: int = FAILURES, window: timedelta = WINDOW) -> None:
        self._failures = failures
        self._window = window
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def blocked_until(self, address: str, now: datetime) -> datetime | None:
        """When ``address`` may try again, or None if it may try now.

        Checked before the key itself: were a right key let through, the answers would still
        tell a guesser when it had found the key.
        """
        with self._lock:
            recent = self._recent(address, now)
            if len(recent) < self._failures:
                return None
            return recent[-self._failures] + self._window

    def failed(self, address: str, now: datetime) -> None:
        with self._lock:
            if address not in self._seen and len(self._seen) >= MAX_TRACKED:
                for other in list(self._seen):
                    self._recent(other, now)
            self._seen.setdefault(address, deque(maxlen=self._failures)).append(now)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._seen.pop(address, None)

    def _recent(self, address: str, now: datetime) -> deque[datetime]:
        recent = self._seen.get(address, deque(maxlen=self._failures))
        while recent and recent[0] <= now - self._window:
            recent.popleft()
        if recent:
            self._seen[address] = recent
        else:
            self._seen.pop(address, None)
        return recent
