"""Delivers webhook messages to the consumers that want them, the way Codat (through Svix) does.

``publish`` writes the message and its deliveries to the database and returns; a background
thread (``cloud-webhooks``) POSTs each delivery, signed with its consumer's secret
(``cloud.webhooks.signing``). A 2xx answer settles it; any other answer, or no answer, is retried
after each delay of the retry schedule in turn, and when the schedule runs out the delivery is
marked failed. Delivery is at least once: an attempt cut short by a crash is made again after
the restart, so consumers de-duplicate on ``webhook-id``.

Which consumers a message goes to is decided when it is published:

- disabled consumers get nothing;
- a consumer with ``eventTypes`` gets only those types; one with none gets every type (Svix's
  rule for an endpoint without a filter);
- a consumer with ``companyTags`` gets only messages about companies carrying one of them.

Several cloud processes may share one database (PostgreSQL): each claims a delivery before
attempting it (``WebhookStore.claim``), so a message goes out once per consumer, not once per
process.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, Engine

from cloud.webhooks.events import (
    EVENT_TYPES,
    company_reference,
    connection_event_payload,
    read_completed_payload,
)
from cloud.webhooks.signing import signed_headers
from cloud.webhooks.store import AttemptOutcome, DueDelivery, WebhookStore, enqueue
from cloud.webhooks.targets import PinnedTransport, WebhookTargets
from protocol.clock import Clock, to_iso, utc_now
from protocol.version import __version__

__all__ = [
    "DEFAULT_RETRY_SCHEDULE",
    "EVENT_TYPES",
    "WebhookDispatcher",
    "company_reference",
    "connection_event_payload",
    "read_completed_payload",
]

log = logging.getLogger(__name__)

DEFAULT_RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
"""Svix's delays between attempts: the first attempt is immediate, then one after each delay."""

ATTEMPT_TIMEOUT = 15.0
"""Seconds a consumer has to answer; Codat asks consumers to answer within 15 s."""

_BATCH = 50  # deliveries read per query; the loop comes straight back for more
# How long a claimed delivery is left to its claimant: well past an attempt's timeouts, so that
# only a claimant that died lets another process try it again.
_CLAIM = timedelta(minutes=2)
_ERROR_PAUSE = 5.0  # seconds to wait after the loop itself failed (say, the database)


class WebhookDispatcher:
    """Publishes webhook messages and delivers them on its own thread.

    ``targets`` says where deliveries may go (``cloud.webhooks.targets``: public addresses, and
    the hosts the operator allows); ``transport`` replaces httpx's network transport below the
    address check (tests); ``retry_schedule`` gives the delays between attempts;
    ``idle_poll`` bounds how long the thread sleeps with nothing due, so that messages written
    by ``publish_in`` without a ``wake`` still go out.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = utc_now,
        targets: WebhookTargets | None = None,
        transport: httpx.BaseTransport | None = None,
        retry_schedule: Sequence[timedelta] = DEFAULT_RETRY_SCHEDULE,
        attempt_timeout: float = ATTEMPT_TIMEOUT,
        idle_poll: timedelta = timedelta(seconds=30),
    ) -> None:
        self.store = WebhookStore(engine, clock=clock)
        self._clock = clock
        self.targets = targets if targets is not None else WebhookTargets()
        self._transport = transport
        self._schedule = tuple(retry_schedule)
        self._attempt_timeout = attempt_timeout
        self._idle_poll = idle_poll.total_seconds()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # Publishing ----------------------------------------------------------------------------

    def publish(
        self,
        event_type: str,
        company_id: str | None,
        payload: Mapping[str, Any],
        *,
        company_tags: Mapping[str, str] | None = None,
    ) -> str:
        """Persist a message for every consumer that wants it and return its id at once.

        Never waits on the network. ``company_tags`` are the company's tags (``{key: value}``),
        matched against the consumers' ``companyTags`` (``"key:value"``). Do not call this while
        holding an open write transaction on the same SQLite database: use ``publish_in``.
        """
        with self.store.writing() as conn:
            message_id = self.publish_in(
                conn, event_type, company_id, payload, company_tags=company_tags
            )
        self.wake()
        return message_id

    def publish_in(
        self,
        conn: Connection,
        event_type: str,
        company_id: str | None,
        payload: Mapping[str, Any],
        *,
        company_tags: Mapping[str, str] | None = None,
    ) -> str:
        """Like ``publish``, inside the caller's transaction: the message commits with it.

        Call ``wake()`` once the transaction has committed, so delivery starts at once rather
        than at the next idle poll.
        """
        now = self._clock()
        message_id = str(uuid.uuid4())
        envelope = {
            "id": message_id,
            "eventType": event_type,
            "generatedDate": to_iso(now),
            "payload": dict(payload),
        }
        enqueue(
            conn,
            message_id=message_id,
            event_type=event_type,
            company_id=company_id,
            body=json.dumps(envelope, separators=(",", ":")),
            company_tags={f"{key}:{value}" for key, value in (company_tags or {}).items()},
            now=now,
        )
        return message_id

    def wake(self) -> None:
        """Have the delivery thread look for due deliveries now."""
        self._wake.set()

    # Lifetime ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start delivering (pending deliveries left by an earlier run are due at once)."""
        if self._thread is not None and self._thread.is_alive():
            if not self._stopping.is_set():
                return
            self._thread.join()  # an earlier stop is still finishing its attempt
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="cloud-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the attempt in flight, if any; what is still pending stays pending."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout if timeout is not None else self._attempt_timeout + 5)
            if not self._thread.is_alive():
                self._thread = None  # else kept, so start() cannot run a second loop beside it

    # The delivery thread -------------------------------------------------------------------

    def _run(self) -> None:
        with httpx.Client(
            # Every attempt connects to an address checked just before (no DNS in between).
            transport=PinnedTransport(self.targets, self._transport or httpx.HTTPTransport()),
            # No proxy from the environment: a proxy would resolve and connect on its own,
            # past the address check.
            trust_env=False,
            timeout=self._attempt_timeout,
            # A redirect is not a 2xx (Svix counts it a failure too), and following one would
            # lead to a URL nobody checked.
            follow_redirects=False,
            headers={"user-agent": f"Connector-Webhooks/{__version__}"},
        ) as client:
            while not self._stopping.is_set():
                # Cleared before looking, so a publish during the look still wakes the wait.
                self._wake.clear()
                try:
                    if self._deliver_due(client):
                        continue
                    pause = self._seconds_until_next_due()
                except Exception:
                    log.exception("Webhook delivery stumbled; trying again shortly")
                    pause = _ERROR_PAUSE
                self._wake.wait(pause)

    def _deliver_due(self, client: httpx.Client) -> bool:
        due = self.store.due(self._clock(), _BATCH)
        for delivery in due:
            if self._stopping.is_set():
                break
            if self.store.claim(delivery, self._clock() + _CLAIM):
                self._attempt(client, delivery)
        return bool(due)

    def _seconds_until_next_due(self) -> float:
        next_due = self.store.next_due()
        if next_due is None:
            return self._idle_poll
        wait = (next_due - self._clock()).total_seconds()
        return min(max(wait, 0.0), self._idle_poll)

    def _attempt(self, client: httpx.Client, delivery: DueDelivery) -> None:
        attempted = self._clock()
        body = delivery.body.encode()
        headers = {
            "content-type": "application/json",
            **signed_headers(
                delivery.secret, delivery.message_id, int(attempted.timestamp()), body
            ),
        }
        status: int | None = None
        error: str | None = None
        try:
            # Streamed and never read: only the status matters, whatever size the body is.
            with client.stream("POST", delivery.url, content=body, headers=headers) as response:
                status = response.status_code
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        succeeded = status is not None and 200 <= status < 300
        if status is not None and not succeeded:
            error = f"The consumer answered HTTP {status}"
        made = delivery.attempts + 1
        next_attempt_at = None
        if not succeeded and made <= len(self._schedule):
            next_attempt_at = self._clock() + self._schedule[made - 1]
        self.store.record_attempt(
            delivery,
            AttemptOutcome(
                attempted=attempted,
                response_status=status,
                error=error,
                succeeded=succeeded,
                next_attempt_at=next_attempt_at,
            ),
        )
        if not succeeded:
            self._log_failure(delivery, made, error, next_attempt_at is None)

    def _log_failure(
        self, delivery: DueDelivery, made: int, error: str | None, gave_up: bool
    ) -> None:
        where = f"message {delivery.message_id} to {delivery.url}"
        if gave_up:
            log.warning("Gave up delivering %s after %d attempts: %s", where, made, error)
        else:
            log.info("Attempt %d of delivering %s failed: %s; will retry", made, where, error)
