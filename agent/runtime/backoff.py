"""A streak of failures to reach the cloud: how long to wait, and what to tell people.

Capped exponential backoff with jitter that resets on success; ``Retry-After`` wins when the
server gives one; only the first failure of a streak is announced, and "reconnected" once.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from agent.errors import CloudUnavailable
from agent.events import CloudReconnected, CloudUnreachable, Event

log = logging.getLogger(__name__)

BASE_SECONDS = 1.0
CAP_SECONDS = 300.0


class ErrorStreak:
    def __init__(
        self,
        connection_id: str,
        publish: Callable[[Event], None],
        *,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        self._connection_id = connection_id
        self._publish = publish
        self._random = random_fraction
        self.failures = 0

    def succeeded(self) -> None:
        if self.failures:
            log.warning("%s: reconnected to the cloud", self._connection_id)
            self._publish(CloudReconnected(self._connection_id))
        self.failures = 0

    def failed(self, exc: CloudUnavailable) -> float:
        """Note a failure; returns how many seconds to wait before trying again."""
        self.failures += 1
        if self.failures == 1:
            log.warning("%s: %s", self._connection_id, exc.message)
            self._publish(CloudUnreachable(self._connection_id, exc.message))
        else:
            log.debug("%s: still failing (%d): %s", self._connection_id, self.failures, exc.message)
        if exc.retry_after is not None:
            return exc.retry_after
        return backoff_seconds(self.failures, self._random)


def backoff_seconds(failures: int, random_fraction: Callable[[], float] = random.random) -> float:
    """How long to wait after the ``failures``-th failure in a row: doubling, capped, jittered."""
    ceiling = min(CAP_SECONDS, BASE_SECONDS * 2.0 ** (failures - 1))
    # Jitter over the upper half: agents that lost the cloud together do not return together.
    return ceiling * (0.5 + 0.5 * random_fraction())
