"""A run's moves on this PC: the one place that changes a dataset's local state.

Every change goes through :class:`DatasetMoves`, checked against the shared state machine
(:func:`protocol.states.check_transition`) where it is a transition of the agent's own, and
committed to ``state.db`` with the reports it queues in one transaction; then observers hear
of it (``DatasetChanged``). The runner makes the moves of the work (entering a phase, failing,
staging the upload); the outbox sender only sends and tells this owner what the cloud answered
(a report acknowledged that makes the move, the cloud moved on, a refusal). The cloud's
counterpart is ``cloud/store/dataset_moves.py``.

- :meth:`enter`: the run entered a state (a phase, or an error that ends it), with its report.
- :meth:`stage`: the upload is staged: its pages and Complete report queued; no move yet.
- :meth:`reached`: the cloud acknowledged a report of a state entered on sending (Complete,
  after the last page): the run enters it now.
- :meth:`fail_upload`: the cloud would not store a page: the run ends in ProcessingError.
- :meth:`drop`: the cloud ended the dataset or took it back: the run takes the cloud's state,
  quietly. That move is the cloud's (checked there), not the agent's, so it is not checked as
  a transition of this run; only that the state is one that says "moved on".
- :meth:`abandon`: the cloud refused a report where it has not moved on: nothing more is sent
  and the run ends with the refusal as its error, in the state it had.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from agent.events import DatasetChanged, Event, UploadStaged
from agent.runtime.local_state import LocalState
from agent.runtime.outbox_entries import PageEntry, ReportEntry
from protocol.agent_requests import TransitionReport, error_text
from protocol.clock import Clock, utc_now
from protocol.states import (
    DatasetStatus,
    IllegalTransition,
    check_transition,
    is_terminal,
)

log = logging.getLogger(__name__)

S = DatasetStatus


class DatasetMoves:
    """The owner of one link's runs' states in ``state.db``."""

    def __init__(
        self,
        state: LocalState,
        connection_id: str,
        *,
        publish: Callable[[Event], None] = lambda _event: None,
        clock: Clock = utc_now,
    ) -> None:
        self._state = state
        self._connection_id = connection_id
        self._publish = publish
        self._clock = clock

    def report(self, status: DatasetStatus, **fields: object) -> TransitionReport:
        """The report of entering ``status`` now (``errorMessage`` kept within bounds)."""
        message = fields.pop("errorMessage", None)
        if isinstance(message, str):
            fields["errorMessage"] = error_text(message)
        return TransitionReport.model_validate(
            {"status": status, "timestamp": self._clock(), **fields}
        )

    def enter(
        self,
        dataset_id: str,
        status: DatasetStatus,
        *,
        error: str | None = None,
        entries: Sequence[ReportEntry | PageEntry] = (),
    ) -> None:
        """The run enters ``status`` (an error state with ``error``); its report is queued,
        after ``entries``. A terminal state finishes the run."""
        self._check(dataset_id, status)
        report = self.report(status, errorMessage=error) if error else self.report(status)
        self._commit(dataset_id, status, [*entries, ReportEntry(report=report)], error=error)

    def stage(
        self, dataset_id: str, pages: Sequence[PageEntry], complete: TransitionReport
    ) -> None:
        """Queue the staged pages and, after them, the Complete report, which is stamped when
        it is sent; the run stays in Processing until the cloud acknowledges it."""
        self._check(dataset_id, complete.status)  # checked now: nothing changes before it goes
        entry = ReportEntry(report=complete, entered_on_sending=True)
        self._state.stage(dataset_id, self._connection_id, [*pages, entry])
        run = self._state.get_run(dataset_id)
        data_type = run.data_type if run is not None else ""
        self._publish(UploadStaged(self._connection_id, dataset_id, data_type, len(pages)))

    def reached(self, dataset_id: str, acknowledged: int, status: DatasetStatus) -> None:
        """The cloud acknowledged the report (outbox entry ``acknowledged``) of a state that is
        entered on sending: the run enters it, in the same commit as the acknowledgement."""
        if self._state.get_run(dataset_id) is None:  # forgotten meanwhile: nothing to move
            self._state.acknowledge(acknowledged)
            return
        self._check(dataset_id, status)
        self._commit(dataset_id, status, [], acknowledged=acknowledged)

    def fail_upload(self, dataset_id: str, message: str) -> None:
        """The cloud would not store a page: what is left is dropped, and the run ends in
        ProcessingError with the reason, reported."""
        self._check(dataset_id, S.PROCESSING_ERROR)
        self._state.abandon(dataset_id, message)  # the pages and Complete are not to go
        report = self.report(S.PROCESSING_ERROR, errorMessage=message)
        self._commit(dataset_id, S.PROCESSING_ERROR, [ReportEntry(report=report)], error=message)

    def drop(self, dataset_id: str, cloud_status: DatasetStatus) -> None:
        """The cloud ended the dataset or took it back (``cloud_status``): take its state, with
        no error, and send nothing more."""
        if not (is_terminal(cloud_status) or cloud_status == S.QUEUED):
            run = self._state.get_run(dataset_id)
            raise IllegalTransition(S(run.status) if run else S.QUEUED, cloud_status)
        self._state.drop(dataset_id, cloud_status)
        self._announce(dataset_id, cloud_status, None)

    def abandon(self, dataset_id: str, reason: str) -> None:
        """The cloud refused a report for this dataset without moving on: send nothing more
        about it; the run ends with the refusal as its error, where it stood."""
        self._state.abandon(dataset_id, reason)
        run = self._state.get_run(dataset_id)
        if run is not None:
            self._announce(dataset_id, S(run.status), reason)

    # ---------------------------------------------------------------------------------------

    def _check(self, dataset_id: str, status: DatasetStatus) -> None:
        run = self._state.get_run(dataset_id)
        if run is None:
            raise LookupError(f"no run of dataset {dataset_id} on this PC")
        check_transition(S(run.status), status)

    def _commit(
        self,
        dataset_id: str,
        status: DatasetStatus,
        entries: Sequence[ReportEntry | PageEntry],
        *,
        error: str | None = None,
        acknowledged: int | None = None,
    ) -> None:
        self._state.enter(
            dataset_id,
            self._connection_id,
            status,
            entries,
            finished=is_terminal(status),
            error=error,
            acknowledged=acknowledged,
        )
        self._announce(dataset_id, status, error)

    def _announce(self, dataset_id: str, status: DatasetStatus, error: str | None) -> None:
        run = self._state.get_run(dataset_id)
        data_type = run.data_type if run is not None else ""
        self._publish(
            DatasetChanged(self._connection_id, dataset_id, data_type, status, self._clock(), error)
        )
