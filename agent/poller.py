"""The poll loop for one link: long-poll, run what arrives, back off while the cloud is away.

No wait right after a dataset (more may be queued); jittered, capped exponential backoff while
the cloud cannot be reached, honouring ``Retry-After``; only the first error of a streak is
logged loudly, and "reconnected" once. Time and sleep are injectable so tests never wait.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agent.cloud_client import CloudClient
from agent.errors import AuthorizationLost, CloudUnavailable
from agent.runner import DatasetRunner, Outcome

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 25.0
HEARTBEAT_SECONDS = 300.0
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 300.0


@dataclass
class PollResult:
    """What one link's loop did, for the caller's summary."""

    outcomes: list[Outcome] = field(default_factory=list)
    needs_reauthorization: str | None = None


class LinkPoller:
    def __init__(
        self,
        name: str,
        client: CloudClient,
        runner: DatasetRunner,
        *,
        data_types: list[str],
        stop: threading.Event,
        idle_limit: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        self.name = name
        self.result = PollResult()
        self._client = client
        self._runner = runner
        self._data_types = data_types
        self._stop = stop
        self._idle_limit = idle_limit
        self._monotonic = monotonic
        self._random = random_fraction
        self._failures = 0

    def run(self) -> PollResult:
        """Poll until stopped, until idle for ``idle_limit`` seconds, or until unauthorized."""
        last_activity = self._monotonic()
        last_heartbeat: float | None = None
        while not self._stop.is_set():
            wait = LONG_POLL_SECONDS
            if self._idle_limit is not None:
                wait = min(wait, self._idle_limit - (self._monotonic() - last_activity))
                if wait <= 0:
                    log.info("%s: no dataset for %.0f s; stopping", self.name, self._idle_limit)
                    break
            try:
                now = self._monotonic()
                if last_heartbeat is None or now - last_heartbeat >= HEARTBEAT_SECONDS:
                    # Tells the cloud our version and what we can read, so hopeless datasets
                    # end NotSupported there at once.
                    self._client.heartbeat(self._data_types)
                    last_heartbeat = now
                assignment = self._client.poll(wait)
                self._on_success()
                if assignment is not None:
                    log.info(
                        "%s: got %s %s", self.name, assignment.data_type, assignment.dataset_id
                    )
                    self.result.outcomes.append(self._runner.run(assignment))
                    last_activity = self._monotonic()
            except CloudUnavailable as exc:
                self._stop.wait(self._on_failure(exc))
            except AuthorizationLost as exc:
                log.error("%s: authorization lost: %s", self.name, exc.message)
                self.result.needs_reauthorization = exc.message
                break
        return self.result

    def _on_success(self) -> None:
        if self._failures:
            log.warning("%s: reconnected to the cloud", self.name)
        self._failures = 0

    def _on_failure(self, exc: CloudUnavailable) -> float:
        """Log the first failure of a streak, and say how long to wait before the next try."""
        self._failures += 1
        if self._failures == 1:
            log.warning("%s: %s", self.name, exc.message)
        else:
            log.debug("%s: still failing (%d): %s", self.name, self._failures, exc.message)
        if exc.retry_after is not None:
            return exc.retry_after
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** (self._failures - 1))
        # Jitter over the upper half: agents that lost the cloud together do not return together.
        return ceiling * (0.5 + 0.5 * self._random())
