"""Delivers the outbox: every report and record page, in order, until the cloud acknowledges it.

Entries were committed to ``state.db`` before anything was sent, so a kill at any instant, or a
cloud that is away for days, loses nothing: the next drain picks up where the last one stopped.
Reports and pages are idempotent on the cloud's side, so sending one twice is harmless. A
dataset the cloud ended or took back meanwhile is dropped quietly; one whose report or page it
refuses for another reason ends with that refusal as its error.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from agent.cloud_api.cloud_client import CloudClient, DatasetMovedOn, TransitionRefused
from agent.errors import CloudUnavailable, UploadRefused
from agent.runtime.backoff import ErrorStreak
from agent.runtime.local_state import LocalState, OutboxEntry
from protocol.clock import from_iso, to_iso, utc_now
from protocol.states import DatasetStatus

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
    ) -> None:
        self._state = state
        self._client = client
        self._connection_id = connection_id
        self._streak = streak
        self._stop = stop

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
                self._state.drop(entry.dataset_id, moved.current_status)
                continue
            except TransitionRefused as refusal:
                # Refused where the cloud has not moved on: a move it says is illegal.
                log.warning("%s: %s; dropping it", entry.dataset_id, refusal.message)
                self._state.abandon(entry.dataset_id, refusal.message)
                continue
            except UploadRefused as refusal:
                self._refused_upload(entry, refusal.message)
                continue
            self._streak.succeeded()
            self._state.acknowledge(entry.seq)

    def _send(self, entry: OutboxEntry) -> None:
        body = entry.body
        if entry.kind == "chunk":
            page = Path(body["file"]).read_bytes()  # a JSON array of records
            self._client.upload_chunk(entry.dataset_id, body["chunk"], page)
            return
        self._client.report(
            entry.dataset_id,
            DatasetStatus(body["status"]),
            # No timestamp: the state is reached as it is sent (Complete, after the pages).
            from_iso(body["timestamp"]) if body["timestamp"] else utc_now(),
            error_message=body.get("errorMessage"),
            chunks=body.get("chunks"),
            record_count=body.get("recordCount"),
            mode=body.get("mode"),
            deleted_ids=body.get("deletedIds"),
        )

    def _refused_upload(self, entry: OutboxEntry, message: str) -> None:
        """The cloud would not store a page: end the dataset in ProcessingError, saying why."""
        log.warning("%s: %s", entry.dataset_id, message)
        self._state.abandon(entry.dataset_id, message)
        report = {
            "status": DatasetStatus.PROCESSING_ERROR,
            "timestamp": to_iso(utc_now()),
            "errorMessage": message,
        }
        self._state.enter(
            entry.dataset_id,
            entry.connection_id,
            DatasetStatus.PROCESSING_ERROR,
            [("transition", report)],
            finished=True,
            error=message,
        )
