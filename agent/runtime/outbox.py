"""Delivers the outbox: every report and record page, in order, until the cloud acknowledges it.

Entries were committed to ``state.db`` before anything was sent, so a kill at any instant, or a
cloud that is away for days, loses nothing: the next drain picks up where the last one stopped.
Reports and pages are idempotent on the cloud's side, so sending one twice is harmless.

The sender only sends: it never changes a run's state itself, but tells the run's owner
(:class:`~agent.runtime.dataset_moves.DatasetMoves`) what the cloud answered: a report of a
state entered on sending acknowledged (Complete: the run enters it), a dataset the cloud ended
or took back (dropped quietly), a report refused (the run abandoned with the refusal), a page
refused (the run ends in ProcessingError).

Who drains, and when: the runner, and only it (``DatasetRunner.send_pending``): after each
state a run enters (the cloud follows along live, and the runner learns before its next phase
whether the cloud moved on), at a run's end, and, called by the link worker, before resuming
runs and at each turn of its loop (what an earlier run left unsent: a final error report, a
drain cut short by a lost credential).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from agent.cloud_api.cloud_client import CloudClient, DatasetMovedOn, TransitionRefused
from agent.errors import CloudUnavailable, UploadRefused
from agent.runtime.backoff import ErrorStreak
from agent.runtime.dataset_moves import DatasetMoves
from agent.runtime.local_state import LocalState, OutboxEntry
from agent.runtime.outbox_entries import PageEntry
from protocol.clock import utc_now

log = logging.getLogger(__name__)


class Interrupted(Exception):
    """The agent is stopping; what is left stays in the outbox for next time."""


class OutboxSender:
    def __init__(
        self,
        state: LocalState,
        client: CloudClient,
        connection_id: str,
        streak: ErrorStreak,
        stop: threading.Event,
        *,
        moves: DatasetMoves | None = None,
    ) -> None:
        self._state = state
        self._client = client
        self._connection_id = connection_id
        self._streak = streak
        self._stop = stop
        self._moves = moves if moves is not None else DatasetMoves(state, connection_id)

    def drain(self) -> None:
        """Send everything queued for this connection, oldest first; return once it is empty.

        Waits out a cloud that cannot be reached; raises :class:`Interrupted` when the agent
        stops, and :class:`~agent.errors.AuthorizationLost` when the cloud refuses us.
        """
        while (entry := self._state.next_entry(self._connection_id)) is not None:
            if self._stop.is_set():
                raise Interrupted
            try:
                self._send(entry)
            except CloudUnavailable as exc:
                self._stop.wait(self._streak.failed(exc))
                continue
            except DatasetMovedOn as moved:
                # Ended by the cloud (AuthError after a revocation, say) or taken back: not
                # this PC's failure, so nothing for the user to read; the runner stops on it.
                log.info(
                    "%s: the cloud has moved it on to %s (%s); dropping what is left here",
                    entry.dataset_id,
                    moved.current_status,
                    moved.message,
                )
                self._moves.drop(entry.dataset_id, moved.current_status)
                continue
            except TransitionRefused as refusal:
                # Refused where the cloud has not moved on: a move it says is illegal.
                log.warning("%s: %s; dropping it", entry.dataset_id, refusal.message)
                self._moves.abandon(entry.dataset_id, refusal.message)
                continue
            except UploadRefused as refusal:
                log.warning("%s: %s", entry.dataset_id, refusal.message)
                self._moves.fail_upload(entry.dataset_id, refusal.message)
                continue
            self._streak.succeeded()
            self._acknowledged(entry)

    def _send(self, entry: OutboxEntry) -> None:
        item = entry.item
        if isinstance(item, PageEntry):
            records = Path(item.file).read_bytes()  # a JSON array of records
            self._client.upload_page(entry.dataset_id, item.page, records)
        else:
            self._client.report(entry.dataset_id, item.to_send(utc_now()))

    def _acknowledged(self, entry: OutboxEntry) -> None:
        item = entry.item
        if isinstance(item, PageEntry) or not item.entered_on_sending:
            self._state.acknowledge(entry.seq)
        else:  # the state is reached now that the cloud has it
            self._moves.reached(entry.dataset_id, entry.seq, item.report.status)
