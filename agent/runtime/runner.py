"""The dataset state machine on the agent: one phase per state, every transition kept.

``Queued -> Fetching -> Mapping -> Validating -> Processing -> Complete``. Each state is
entered through the run's owner (:class:`~agent.runtime.dataset_moves.DatasetMoves`: checked,
committed to ``state.db`` with its report queued in the outbox) before the phase's work starts,
and the outbox is drained as the run goes, so the cloud follows along live. Validated records
are staged on disk as pages, queued with the Complete report after them, so an upload
interrupted by a crash or a lost network resumes without reading the book again; the run
enters Complete when the cloud acknowledges that report.

The runner is the one that drains the outbox (:meth:`DatasetRunner.send_pending`): after each
state it enters, at a run's end, and when the link worker asks (before resuming, and at each
turn of its loop, for what an earlier run left unsent).

A phase that fails ends the dataset in that phase's error state with a message a person can
act on; anything unexpected ends it in InternalError with a diagnostic id that finds the
traceback in the log. Stopping is honoured at phase boundaries: the run stays unfinished and
resumes at the next start. So is the cloud moving on: a dataset it ended or took back while it
ran here (the outbox dropped it) is left at once, with nothing reported and no error.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from agent.cloud_api.cloud_client import Assignment, CloudClient
from agent.errors import (
    AuthorizationLost,
    BookAccessDenied,
    CloudUnavailable,
    DatasetFailed,
    DataTypeNotSupported,
    RecordsInvalid,
)
from agent.events import BookAccessRefused, Event
from agent.runtime.dataset_moves import DatasetMoves
from agent.runtime.lease import LeaseKeeper
from agent.runtime.local_state import LocalState, Run
from agent.runtime.outbox import Interrupted, OutboxSender
from agent.runtime.outbox_entries import PageEntry
from agent.runtime.record_spool import RecordSpool
from agent.sources.base import Record, Source
from agent.standard.validation import RecordChecker
from agent.support.config import write_atomically
from agent.support.own_files import dataset_folder_name, remove_inside
from agent.support.private_files import make_private_dir
from protocol.clock import Clock, utc_now
from protocol.limits import MAX_DELETED_IDS
from protocol.states import DatasetStatus, can_transition

log = logging.getLogger(__name__)

S = DatasetStatus
PAGE_SIZE = 500  # records in an uploaded page (fewer when they pass MAX_PAGE_BYTES)
_ORDER = (S.QUEUED, S.FETCHING, S.MAPPING, S.VALIDATING, S.PROCESSING, S.COMPLETE)


@dataclass(frozen=True)
class Outcome:
    dataset_id: str
    data_type: str
    status: DatasetStatus
    error_message: str | None = None
    uploaded: int | None = None  # records sent (only what changed, when the cloud had a baseline)


class _MovedOn(Exception):
    """The outbox dropped the dataset being run: the cloud has ended it or taken it back."""


class DatasetRunner:
    """Runs datasets for one link: one source (the book) and one cloud connection."""

    def __init__(
        self,
        connection_id: str,
        client: CloudClient,
        source: Source,
        state: LocalState,
        sender: OutboxSender,
        staging_dir: Path,
        *,
        publish: Callable[[Event], None] = lambda _event: None,
        stopping: Callable[[], bool] = lambda: False,
        clock: Clock = utc_now,
        page_size: int = PAGE_SIZE,
        moves: DatasetMoves | None = None,
    ) -> None:
        self._connection_id = connection_id
        self._client = client
        self._source = source
        self._state = state
        self._sender = sender
        self._staging_dir = staging_dir
        self._publish = publish
        self._stopping = stopping
        self._clock = clock
        self._page_size = page_size
        self._moves = moves or DatasetMoves(state, connection_id, publish=publish, clock=clock)

    def run(self, assignment: Assignment) -> Outcome:
        """Run a dataset the cloud just handed over."""
        self._state.start_run(
            assignment.dataset_id,
            self._connection_id,
            assignment.data_type,
            assignment.lease_seconds,
        )
        run = self._state.get_run(assignment.dataset_id)
        assert run is not None
        return self.resume(run)

    def idle(self) -> None:
        """No dataset is waiting: let the source drop what it kept for the next one."""
        self._source.release()

    def send_pending(self) -> None:
        """Send what the outbox holds for this link (see the module's docstring: when)."""
        self._sender.drain()

    def resume(self, run: Run) -> Outcome:
        """Carry a run on from wherever it stopped (a new run starts at Queued)."""
        with LeaseKeeper(self._client, run.dataset_id, run.lease_seconds):
            outcome = self._run(run)
            self.send_pending()
        self._clean(run.dataset_id)  # everything is with the cloud: the staged pages can go
        finished = self._state.get_run(run.dataset_id)
        if finished is None:
            return outcome
        if finished.status == S.COMPLETE and not finished.error:
            # Acknowledged: the cloud now holds this data type as of the book we read.
            self._state.remember_synced(self._connection_id, run.data_type, finished.fingerprint)
        elif finished.status != outcome.status:  # refused on its way: how it really ended
            return Outcome(run.dataset_id, run.data_type, S(finished.status), finished.error)
        return outcome

    def _run(self, run: Run) -> Outcome:
        dataset = _Progress(run)
        data_type = run.data_type
        spool: RecordSpool | None = None
        try:
            if run.staged:
                return Outcome(run.dataset_id, data_type, dataset.status)  # only sending is left
            reason = self._source.unsupported_reason(data_type)
            if reason is not None:
                raise DataTypeNotSupported(reason)
            self._enter(dataset, S.FETCHING)
            # Taken before the read, from the same snapshot or an older one: never newer.
            fingerprint = self._source.fingerprint()
            self._state.note_fingerprint(run.dataset_id, fingerprint)
            unchanged = fingerprint is not None and fingerprint == self._state.synced_fingerprint(
                self._connection_id, data_type
            )
            fetched = None if unchanged else self._source.fetch(data_type)
            self._enter(dataset, S.MAPPING)
            spool = RecordSpool(make_private_dir(self._folder(dataset.id)) / "records.db")
            invalid = None if unchanged else self._map(data_type, fetched, spool)
            self._enter(dataset, S.VALIDATING)
            if invalid is not None:
                raise invalid
            duplicate = spool.duplicate_id()
            if duplicate is not None:
                raise RecordsInvalid(
                    f"{data_type} record {duplicate!r} appears twice: ids must be unique."
                )
            upload = _Upload([]) if unchanged else self._changes(dataset, spool)
            sent = self._finish_with_upload(dataset, spool, upload)
            log.info(
                "%s %s: Complete; %s",
                data_type,
                run.dataset_id,
                "the book is unchanged, nothing sent"
                if unchanged
                else upload.describe(spool, sent),
            )
            return Outcome(run.dataset_id, data_type, S.COMPLETE, uploaded=sent)
        except DatasetFailed as failure:
            status = _failure_status(dataset.status, failure.status)
            level = logging.INFO if status == S.NOT_SUPPORTED else logging.WARNING
            log.log(level, "%s %s: %s: %s", data_type, run.dataset_id, status, failure.message)
            self._end(dataset, status, failure.message)
            if isinstance(failure, BookAccessDenied):
                self._publish(BookAccessRefused(self._connection_id, failure.message))
            return Outcome(run.dataset_id, data_type, status, failure.message)
        except _MovedOn:
            log.info("%s %s: left, as the cloud has moved on", data_type, run.dataset_id)
            moved = self._state.get_run(run.dataset_id)
            return Outcome(run.dataset_id, data_type, S(moved.status) if moved else S.QUEUED)
        except (Interrupted, AuthorizationLost):
            raise  # the run stays unfinished: it resumes at the next start (or after re-linking)
        except Exception:
            diagnostic = uuid.uuid4().hex[:12]
            log.exception(
                "%s %s failed unexpectedly [diagnostic %s]", data_type, run.dataset_id, diagnostic
            )
            message = (
                f"Connector hit an unexpected problem (diagnostic id {diagnostic}). "
                "The details are in Connector's log on the PC; please send it to support."
            )
            self._end(dataset, S.INTERNAL_ERROR, message)
            return Outcome(run.dataset_id, data_type, S.INTERNAL_ERROR, message)
        finally:
            if spool is not None:
                spool.close()

    def _map(self, data_type: str, fetched: object, spool: RecordSpool) -> RecordsInvalid | None:
        """Map into the spool, checking each record as it passes. A record that breaks a rule
        stops the mapping; it is returned to be reported in the Validating phase."""
        checker = RecordChecker(data_type)

        def checked(records: Iterable[Record]) -> Iterator[Record]:
            for record in records:
                if self._stopping():
                    raise Interrupted
                checker.check(record)
                yield record

        try:
            spool.add(checked(self._source.map(data_type, fetched)))
        except RecordsInvalid as invalid:  # a rule broken, or a reference that does not resolve
            return invalid
        return None

    def _enter(self, dataset: _Progress, status: DatasetStatus) -> None:
        """Enter the next phase, unless this run entered it before a restart."""
        if _ORDER.index(status) <= _ORDER.index(dataset.status):
            return
        if self._stopping():
            raise Interrupted
        self._moves.enter(dataset.id, status)
        dataset.status = status
        self.send_pending()
        self._check_still_ours(dataset)

    def _check_still_ours(self, dataset: _Progress) -> None:
        """Leave the dataset at once if the outbox dropped it: the cloud has moved on."""
        run = self._state.get_run(dataset.id)
        if run is not None and run.finished:
            raise _MovedOn

    def _changes(self, dataset: _Progress, spool: RecordSpool) -> _Upload:
        """What the cloud lacks: records it holds differently or not at all, and the ids it
        holds that the book no longer has. Without the cloud's baseline, everything."""
        try:
            spool.hold(self._client.baseline_hashes(dataset.id))
        except CloudUnavailable as error:
            log.info("%s: no baseline from the cloud (%s); sending all", dataset.id, error.message)
            return _Upload([], full=True)
        deleted = spool.deleted_ids()
        if len(deleted) > MAX_DELETED_IDS:
            # More than a delta may name: a full upload says the same (what it lacks is
            # flagged deleted), at the price of sending what did not change.
            log.info("%s: %d records gone from the book; sending all", dataset.id, len(deleted))
            return _Upload([], full=True)
        return _Upload(deleted)

    def _finish_with_upload(self, dataset: _Progress, spool: RecordSpool, upload: _Upload) -> int:
        """Enter Processing, stage the pages, then queue every page and the Complete report
        after them in one commit; the number of records the pages hold."""
        if self._stopping():
            raise Interrupted
        self._check_still_ours(dataset)
        if dataset.status != S.PROCESSING:  # not entered before a restart
            self._moves.enter(dataset.id, S.PROCESSING)
            dataset.status = S.PROCESSING
        folder = self._folder(dataset.id)
        pages: list[PageEntry] = []
        sent = 0
        bodies = spool.pages(self._page_size, changed_only=not upload.full)
        for number, page_records in enumerate(bodies):
            page = folder / f"page-{number:05d}.json"
            write_atomically(page, "[" + ",".join(page_records) + "]")
            pages.append(PageEntry(page=number, file=str(page)))
            sent += len(page_records)
        # Complete is reached when the last page is in: the report is stamped when it is sent,
        # and the run enters Complete when the cloud acknowledges it.
        complete = self._moves.report(
            S.COMPLETE,
            chunks=len(pages),
            recordCount=sent,
            mode="full" if upload.full else "delta",
            deletedIds=upload.deleted,
        )
        self._moves.stage(dataset.id, pages, complete)
        return sent

    def _end(self, dataset: _Progress, status: DatasetStatus, message: str) -> None:
        self._moves.enter(dataset.id, status, error=message)
        dataset.status = status

    def _folder(self, dataset_id: str) -> Path:
        """The dataset's working folder: named here, never by the id the cloud sent."""
        return self._staging_dir / dataset_folder_name(dataset_id)

    def _clean(self, dataset_id: str) -> None:
        remove_inside(self._staging_dir, self._folder(dataset_id))


@dataclass(frozen=True)
class _Upload:
    deleted: list[str]  # ids the cloud holds that the book no longer has (delta only)
    full: bool = False  # replace everything the cloud holds (no baseline to diff against)

    def describe(self, spool: RecordSpool, sent: int) -> str:
        if self.full:
            return f"{sent} records sent"
        return f"{sent} of {spool.count} records changed, {len(self.deleted)} deleted"


def _failure_status(current: DatasetStatus, wanted: DatasetStatus) -> DatasetStatus:
    """A failure's own state when the state machine allows it from where the dataset is;
    otherwise the error of the phase it happened in (a damaged transaction met while its
    entries are mapped is a MapError: it was found in Mapping)."""
    if can_transition(current, wanted):
        return wanted
    return _PHASE_ERRORS.get(current, S.INTERNAL_ERROR)


_PHASE_ERRORS = {
    S.FETCHING: S.FETCH_ERROR,
    S.MAPPING: S.MAP_ERROR,
    S.VALIDATING: S.VALIDATION_ERROR,
    S.PROCESSING: S.PROCESSING_ERROR,
}


class _Progress:
    """Where a run stands here: the last state it entered."""

    def __init__(self, run: Run) -> None:
        self.id = run.dataset_id
        self.data_type = run.data_type
        self.status = S(run.status)
