"""Limits on failed attempts per client, so that secrets cannot be guessed at speed.

One ``FailureThrottle`` counts failures per client address in a sliding window; past the limit
the client is refused (429 with ``Retry-After``) until its oldest counted failure ages out,
whether or not its next attempt would be right: were a right guess let through, the answers
would still tell a guesser when it had found one. ``Throttles`` holds the cloud's two:

- ``api_key``: a wrong API key, at the public API (Basic) or the Portal's sign-in, counted
  together (both guess the same secret);
- ``link_code``: a link code that is not (or no longer) good, at ``POST /agent/v1/link`` or
  the public link page ``/link/{code}``, counted together (both tell a guesser a code is good).

Kept in memory, per server process: a restart forgets it, and several processes each allow
their own share. That is enough to turn guessing into a crawl, and needs no table. The client
is the peer address, or what ``X-Forwarded-For`` says when the peer is one of the operator's
``--trusted-proxy`` addresses (``cloud/app.py``): otherwise anyone could claim a fresh address
with every request.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import Request

from cloud.errors import CloudError

WINDOW = timedelta(minutes=1)
API_KEY_FAILURES = 30  # a minute, per client
LINK_CODE_FAILURES = 10  # a minute, per client: a person mistypes a code a few times at most
# Beyond this many addresses, forget those with no recent failure (a scan from many addresses
# must not grow the process without bound).
MAX_TRACKED = 10_000


class TooManyFailures(CloudError):
    """429: this client failed too often; ``retry_after`` is in whole seconds."""

    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FailureThrottle:
    """Counts failures per address within a sliding window."""

    def __init__(self, failures: int, window: timedelta = WINDOW) -> None:
        self._failures = failures
        self._window = window
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def blocked_until(self, address: str, now: datetime) -> datetime | None:
        """When ``address`` may try again, or None if it may try now. Ask before checking the
        secret itself."""
        with self._lock:
            recent = self._recent(address, now)
            if len(recent) < self._failures:
                return None
            return recent[-self._failures] + self._window

    def check(self, address: str, now: datetime, what: str) -> None:
        """Raise ``TooManyFailures`` if ``address`` must wait; ``what`` names what failed."""
        until = self.blocked_until(address, now)
        if until is not None:
            wait = retry_after_seconds(until, now)
            raise TooManyFailures(
                f"Too many {what} from your address: try again in {wait} seconds.", wait
            )

    def failed(self, address: str, now: datetime) -> None:
        with self._lock:
            if address not in self._seen and len(self._seen) >= MAX_TRACKED:
                for other in list(self._seen):
                    self._recent(other, now)
            self._seen.setdefault(address, deque(maxlen=self._failures)).append(now)

    def succeeded(self, address: str) -> None:
        """Forget ``address``'s failures (the Portal's sign-in: a person who got it right)."""
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


@dataclass(frozen=True)
class Throttles:
    api_key: FailureThrottle = field(default_factory=lambda: FailureThrottle(API_KEY_FAILURES))
    link_code: FailureThrottle = field(default_factory=lambda: FailureThrottle(LINK_CODE_FAILURES))


def retry_after_seconds(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def client_address(request: Request) -> str:
    """The address failures are counted against (already the forwarded one when the peer is a
    trusted proxy: the app's proxy-headers middleware has put it in the scope)."""
    return request.client.host if request.client else "unknown"
