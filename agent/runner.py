"""The dataset state machine on the agent: one phase per state, every transition reported.

``Queued -> Fetching -> Mapping -> Validating -> Processing -> Complete``; a phase that fails
ends the dataset in that phase's error state with a message a person can act on. Anything
unexpected ends it in InternalError with a diagnostic id that finds the traceback in the log.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from agent.clock import Clock, utc_now
from agent.cloud_client import Assignment, CloudClient, TransitionRefused
from agent.errors import AuthorizationLost, CloudUnavailable, DatasetFailed, DataTypeNotSupported
from agent.lease import LeaseKeeper
from agent.sources.base import Record, Source
from agent.states import DatasetStatus, check_transition
from agent.validation import validate

log = logging.getLogger(__name__)

S = DatasetStatus
CHUNK_SIZE = 500
REPORT_ATTEMPTS = 5


@dataclass(frozen=True)
class Outcome:
    dataset_id: str
    data_type: str
    status: DatasetStatus
    error_message: str | None = None


class DatasetRunner:
    """Runs datasets for one link: one source (the book) and one cloud connection."""

    def __init__(
        self,
        client: CloudClient,
        source: Source,
        *,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self._client = client
        self._source = source
        self._clock = clock
        self._sleep = sleep
        self._chunk_size = chunk_size

    def run(self, assignment: Assignment) -> Outcome:
        with LeaseKeeper(self._client, assignment.dataset_id, assignment.lease_seconds):
            return self._run(assignment)

    def _run(self, assignment: Assignment) -> Outcome:
        dataset = _Dataset(assignment)
        data_type = assignment.data_type
        try:
            reason = self._source.unsupported_reason(data_type)
            if reason is not None:
                raise DataTypeNotSupported(reason)
            self._enter(dataset, S.FETCHING)
            fetched = self._source.fetch(data_type)
            self._enter(dataset, S.MAPPING)
            records = self._source.map(data_type, fetched)
            self._enter(dataset, S.VALIDATING)
            validate(data_type, records)
            self._enter(dataset, S.PROCESSING)
            chunks = self._upload(dataset, records)
            self._enter(dataset, S.COMPLETE, chunks=chunks, record_count=len(records))
            log.info("%s %s: Complete, %d records", data_type, dataset.id, len(records))
            return Outcome(dataset.id, data_type, S.COMPLETE)
        except DatasetFailed as failure:
            level = logging.INFO if failure.status == S.NOT_SUPPORTED else logging.WARNING
            log.log(level, "%s %s: %s: %s", data_type, dataset.id, failure.status, failure.message)
            self._enter(dataset, failure.status, error_message=failure.message)
            return Outcome(dataset.id, data_type, failure.status, failure.message)
        except (CloudUnavailable, AuthorizationLost):
            # The poller backs off or asks for re-authorization; the lease returns the dataset.
            raise
        except TransitionRefused as refusal:
            log.warning("%s %s: given up: %s", data_type, dataset.id, refusal.message)
            return Outcome(dataset.id, data_type, dataset.status, refusal.message)
        except Exception:
            diagnostic = uuid.uuid4().hex[:12]
            log.exception(
                "%s %s failed unexpectedly [diagnostic %s]", data_type, dataset.id, diagnostic
            )
            message = (
                f"Connector hit an unexpected problem (diagnostic id {diagnostic}). "
                "The details are in Connector's log on the PC; please send it to support."
            )
            self._enter(dataset, S.INTERNAL_ERROR, error_message=message)
            return Outcome(dataset.id, data_type, S.INTERNAL_ERROR, message)

    def _upload(self, dataset: _Dataset, records: list[Record]) -> int:
        chunks = [
            records[start : start + self._chunk_size]
            for start in range(0, len(records), self._chunk_size)
        ]
        for number, chunk in enumerate(chunks):
            self._retrying(partial(self._client.upload_chunk, dataset.id, number, chunk))
        return len(chunks)

    def _enter(
        self,
        dataset: _Dataset,
        status: DatasetStatus,
        *,
        error_message: str | None = None,
        chunks: int | None = None,
        record_count: int | None = None,
    ) -> None:
        check_transition(dataset.status, status)
        moment = self._clock()
        self._retrying(
            partial(
                self._client.report,
                dataset.id,
                status,
                moment,
                error_message=error_message,
                chunks=chunks,
                record_count=record_count,
            )
        )
        dataset.status = status

    def _retrying(self, call: Callable[[], None]) -> None:
        """Retry a call the cloud could not take; reports and chunks are idempotent."""
        for attempt in range(1, REPORT_ATTEMPTS + 1):
            try:
                call()
                return
            except CloudUnavailable as exc:
                if attempt == REPORT_ATTEMPTS:
                    raise
                delay = exc.retry_after if exc.retry_after is not None else min(2.0**attempt, 30.0)
                log.info("Cloud unavailable (%s); retrying in %.0f s", exc.message, delay)
                self._sleep(delay)


class _Dataset:
    """The runner's own view of where a dataset stands."""

    def __init__(self, assignment: Assignment) -> None:
        self.id = assignment.dataset_id
        self.status = S.QUEUED
