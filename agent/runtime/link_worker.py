"""Serves one link (a cloud connection and its book) on a thread of its own.

Each turn: have the runner send what the outbox holds (the runner is the one that drains it:
``DatasetRunner.send_pending``); if paused or outside the sync window, say why and wait;
otherwise long-poll and run what arrives, with no wait right after a dataset (more may be
queued). The cloud's view of the link (:mod:`agent.cloud_api.cloud_view`) is fetched on start, after
each dataset and about once a minute while idle, for the status snapshot. A cloud that cannot
be reached, or whose answer cannot be understood, is waited out with backoff; so is an
unexpected exception (a bug), logged with its traceback. A credential the cloud says is no
longer valid is first confirmed (:mod:`agent.cloud_api.loss_check`); a confirmed loss stops this
link only, with a needs-reauthorization event, and one that proves false resumes the interrupted
run. Runs interrupted by a stop or a crash are resumed first.

With an idle limit (``connector run --until-idle``) the loop ends once no dataset has come for
that long; if the cloud was failing at that moment, the result says so (``error``), so that the
run never ends as if it had succeeded.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.cloud_view import CloudView, read_cloud_status
from agent.cloud_api.loss_check import confirm_wait, confirmed_loss
from agent.errors import AuthorizationLost, CloudUnavailable, ConnectorError
from agent.events import Event, LinkStopped, NeedsReauthorization, SyncGateChanged
from agent.runtime.backoff import ErrorStreak, backoff_seconds
from agent.runtime.local_state import LocalState
from agent.runtime.outbox import Interrupted
from agent.runtime.runner import DatasetRunner, Outcome
from agent.runtime.sync_gate import Gate, gate_for
from agent.support.config import AgentConfig, Link
from protocol.clock import Clock, utc_now

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 25.0
HEARTBEAT_SECONDS = 300.0
GATE_RECHECK_SECONDS = 60.0
# How old the cloud's view may grow while idle: one cheap call a minute.
CLOUD_VIEW_SECONDS = 60.0


@dataclass
class LinkResult:
    """What one link's loop did, for the caller's summary."""

    outcomes: list[Outcome] = field(default_factory=list)
    needs_reauthorization: str | None = None
    # Why the link ended with its work undone: it stopped on an error, or the cloud was
    # failing when the idle limit came. None when it ended well.
    error: str | None = None


class LinkWorker:
    def __init__(
        self,
        link: Link,
        client: CloudClient,
        runner: DatasetRunner,
        state: LocalState,
        streak: ErrorStreak,
        *,
        data_types: list[str],
        settings: Callable[[], AgentConfig],
        publish: Callable[[Event], None],
        stopping: threading.Event,
        wake: threading.Event,
        idle_limit: float | None = None,
        clock: Clock = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        keep_view: Callable[[CloudView], None] = lambda _view: None,
    ) -> None:
        self.link = link
        self.result = LinkResult()
        self._running: str | None = None  # the data type of the dataset run now
        self._client = client
        self._runner = runner
        self._state = state
        self._streak = streak
        self._data_types = data_types
        self._settings = settings
        self._publish = publish
        self._stopping = stopping
        self._wake = wake
        self._idle_limit = idle_limit
        self._clock = clock
        self._monotonic = monotonic
        self._told: tuple[str | None, float] | None = None  # last wait reason sent, and when
        # One heartbeat at a time, each reading the gate inside: see _heartbeat.
        self._telling = threading.Lock()
        self._poll_wait = LONG_POLL_SECONDS
        self._failing: str | None = None  # the last failure, until the cloud answers well again
        self._bugs = 0  # unexpected exceptions in a row
        self._false_alarms = 0  # refusals in a row that proved false when checked
        self._keep_view = keep_view
        self._view_fetched: float | None = None  # monotonic; None: due now

    @property
    def connection_id(self) -> str:
        return self.link.connection_id

    @property
    def client(self) -> CloudClient:
        """This link's client; thread-safe, so the facade asks the cloud through it too."""
        return self._client

    def nudge(self) -> None:
        """Cut any wait short: a stop, a resume, "sync now", or the PC waking from sleep."""
        self._wake.set()

    def run(self) -> LinkResult:
        try:
            self._serve()
        except AuthorizationLost as lost:
            log.error("%s: authorization lost: %s", self.connection_id, lost.message)
            self.result.needs_reauthorization = lost.message
            self._publish(
                NeedsReauthorization(self.connection_id, self.link.company_name, lost.message)
            )
            self._publish(LinkStopped(self.connection_id, "needs re-authorization"))
        except Interrupted:
            self._publish(LinkStopped(self.connection_id, "stopped"))
        except ConnectorError as error:  # e.g. the credential vanished from the keyring
            log.error("%s: %s", self.connection_id, error.message)
            self.result.error = f"{error.title}: {error.message}"
            self._publish(LinkStopped(self.connection_id, error.message))
        except Exception:  # a bug outside the loop's own guard; never a silent end
            log.exception("%s: the link stopped on an unexpected problem", self.connection_id)
            self.result.error = "Connector hit an unexpected problem; the details are in its log."
            self._publish(LinkStopped(self.connection_id, self.result.error))
        finally:
            self._runner.idle()  # the kept snapshot of the book goes with the worker
        return self.result

    def _serve(self) -> None:
        last_activity = self._monotonic()
        resumed = False
        while not self._stopping.is_set():
            idle_left = self._idle_left(last_activity)
            if idle_left is not None and idle_left <= 0:
                self._end_idle()
                return
            try:
                if not resumed:
                    self._runner.send_pending()
                    for run in self._state.unfinished_runs(self.connection_id):
                        log.info(
                            "%s: resuming %s %s", self.connection_id, run.data_type, run.dataset_id
                        )
                        self._run(run.data_type, partial(self._runner.resume, run))
                    resumed = True
                self._runner.send_pending()
                gate = self._heartbeat()
                self._refresh_view_if_due()
                if not gate.open:
                    self._runner.idle()
                    self._wait_for_gate(gate)
                    last_activity = self._monotonic()  # a closed gate is not idleness
                    continue
                wait = self._poll_wait
                if gate.closes is not None:  # never be handed work after the window closes
                    wait = min(wait, max((gate.closes - self._clock()).total_seconds(), 1.0))
                idle_left = self._idle_left(last_activity)
                if idle_left is not None:
                    if idle_left <= 0:
                        continue  # the check above ends the loop
                    wait = min(wait, idle_left)
                assignment = self._client.poll(wait)
                self._answered()
                if assignment is None:
                    self._runner.idle()
                else:
                    log.info(
                        "%s: got %s %s",
                        self.connection_id,
                        assignment.data_type,
                        assignment.dataset_id,
                    )
                    self._run(assignment.data_type, partial(self._runner.run, assignment))
                    last_activity = self._monotonic()
            except CloudUnavailable as exc:  # unreachable, or an answer not understood
                self._failing = f"{exc.title}: {exc.message}"
                self._back_off(self._streak.failed(exc), last_activity)
            except AuthorizationLost as lost:
                self._confirm(lost, last_activity)  # raises the loss it confirms: see run
                resumed = False  # it proved false: take up the run the refusal interrupted
            except (ConnectorError, Interrupted):
                raise  # a refusal or a stop: it ends this link (see run)
            except Exception:
                self._bugs += 1
                diagnostic = uuid.uuid4().hex[:12]
                log.exception(
                    "%s: unexpected problem [diagnostic %s]; trying again",
                    self.connection_id,
                    diagnostic,
                )
                self._failing = (
                    f"Connector hit an unexpected problem (diagnostic id {diagnostic}); "
                    "the details are in its log."
                )
                self._back_off(backoff_seconds(self._bugs), last_activity)

    def _answered(self) -> None:
        """The cloud answered as it should: whatever failed before is over."""
        self._streak.succeeded()
        self._failing = None
        self._bugs = 0
        self._false_alarms = 0

    def _confirm(self, lost: AuthorizationLost, last_activity: float) -> None:
        """Check a refusal before anyone is told. Raises the cloud's second refusal when it
        confirms the loss (its latest word is what the user reads); returns when the credential
        works after all, or when the cloud could not be asked (no answer confirms nothing)."""
        if self._stopping.is_set():
            return  # the loop ends; the interrupted run resumes at the next start
        self._false_alarms += 1
        try:
            again = confirmed_loss(
                self._client,
                lost,
                wait=self._pause,
                seconds=confirm_wait(self._false_alarms),
                who=self.connection_id,
            )
        except CloudUnavailable as exc:
            self._failing = f"{exc.title}: {exc.message}"
            self._back_off(self._streak.failed(exc), last_activity)
            return
        if again is not None:
            raise again

    def _idle_left(self, last_activity: float) -> float | None:
        """Seconds until the idle limit ends the loop; None without a limit."""
        if self._idle_limit is None:
            return None
        return self._idle_limit - (self._monotonic() - last_activity)

    def _end_idle(self) -> None:
        if self._failing is None:
            log.info("%s: no dataset for %.0f s; stopping", self.connection_id, self._idle_limit)
            return
        log.error(
            "%s: no dataset for %.0f s, and the last attempt failed: %s",
            self.connection_id,
            self._idle_limit,
            self._failing,
        )
        self.result.error = self._failing

    def _back_off(self, seconds: float, last_activity: float) -> None:
        """Wait after a failure, but not past the idle limit."""
        idle_left = self._idle_left(last_activity)
        self._pause(seconds if idle_left is None else max(min(seconds, idle_left), 0.0))

    @property
    def running_data_type(self) -> str | None:
        """The data type of the dataset this worker is running now; None between datasets.

        Read from other threads (the facade's graceful stop waits only for a worker in the
        middle of a dataset): one reference, set before the run and cleared after it. The
        status snapshot does not ask it: ``state.db``'s unfinished runs say what is syncing,
        in this process or another.
        """
        return self._running

    def _run(self, data_type: str, work: Callable[[], Outcome]) -> None:
        self._running = data_type
        try:
            self.result.outcomes.append(work())
        finally:
            self._running = None
            self._view_fetched = None  # the cloud's view has moved on: fetch it next turn

    def fetch_cloud_view(self) -> CloudView:
        """Ask the cloud for its view of this link now, and keep it. Raises what the call
        raises (CloudUnavailable, AuthorizationLost, ...)."""
        view = read_cloud_status(self._client.status(), self._clock())
        self._view_fetched = self._monotonic()
        self._keep_view(view)
        return view

    def _refresh_view_if_due(self) -> None:
        fetched = self._view_fetched
        if fetched is not None and self._monotonic() - fetched < CLOUD_VIEW_SECONDS:
            return
        try:
            self.fetch_cloud_view()
        except (CloudUnavailable, AuthorizationLost):
            raise  # the loop's own handling: backoff, or stop for re-authorization
        except ConnectorError as error:  # e.g. UnreadableStatus
            # The view only informs the status; syncing goes on without it.
            self._view_fetched = self._monotonic()
            log.warning("%s: could not read the cloud's status: %s", self.connection_id, error)

    def _gate(self) -> Gate:
        return gate_for(self._settings(), self._clock())

    def tell_gate(self) -> None:
        """Tell the cloud now whether we take work (after a pause, resume or window change),
        so that a long poll waiting there stops handing out datasets at once."""
        try:
            self._heartbeat(force=True)
        except ConnectorError as error:
            log.info("%s: could not tell the cloud: %s", self.connection_id, error.message)

    def _heartbeat(self, *, force: bool = False) -> Gate:
        """Tell the cloud who we are, what we read, and why datasets wait, when that changes
        (and every few minutes regardless); tell observers when it changed. Returns the gate
        it told.

        The gate is read under the lock, as the cloud is told: a gate read before the user's
        pause and sent after the facade told the cloud of the pause would undo it, and the
        cloud would hand out work while paused.
        """
        with self._telling:
            gate = self._gate()
            now = self._monotonic()
            if self._told is not None and not force:
                reason, sent = self._told
                if reason == gate.reason and now - sent < HEARTBEAT_SECONDS:
                    return gate
            answer = self._client.heartbeat(self._data_types, wait_reason=gate.reason)
            # The server sets how long a poll may wait (it knows its proxies' timeouts).
            self._poll_wait = answer.pollWaitSeconds
            previous, self._told = self._told, (gate.reason, now)
        if previous is not None and previous[0] != gate.reason:
            self._publish(SyncGateChanged(self.connection_id, gate.reason))
        log.debug("%s: told the cloud %s", self.connection_id, gate.reason or "we take work")
        return gate

    def _wait_for_gate(self, gate: Gate) -> None:
        wait = GATE_RECHECK_SECONDS
        if gate.reopens is not None:
            wait = min(wait, max((gate.reopens - self._clock()).total_seconds(), 0.0))
        self._pause(wait)

    def _pause(self, seconds: float) -> None:
        """Wait, but wake at once for a stop or a nudge (resume, sync now, the PC waking up)."""
        self._wake.wait(seconds)
        self._wake.clear()
