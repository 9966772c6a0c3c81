"""The agent's clockwork (APScheduler 3.x): housekeeping, and catching up after sleep.

Jobs run with ``max_instances=1`` and ``coalesce=True``, and an explicit misfire grace time:
the library's 1 s default would silently drop runs missed while the laptop slept.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from agent.runtime.local_state import LocalState
from agent.support.config import Paths
from agent.support.own_files import remove_inside
from protocol.clock import Clock, to_iso, utc_now

log = logging.getLogger(__name__)

CLOCK_CHECK_SECONDS = 15.0
JUMP_SECONDS = 60.0  # wall time running ahead of the monotonic clock by this much = a sleep
KEEP_FINISHED_RUNS = timedelta(days=30)
MAX_CATCH_UP_JITTER = 10.0
NETWORK_WAIT_STEP = 5.0
NETWORK_WAIT_TRIES = 60  # five minutes; the links' own backoff takes over after that


class AgentScheduler:
    def __init__(
        self,
        state: LocalState,
        paths: Paths,
        *,
        wake_all: Callable[[], None],
        network_ready: Callable[[], bool] = lambda: True,
        clock: Clock = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._state = state
        self._paths = paths
        self._wake_all = wake_all
        self._network_ready = network_ready
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._jitter = jitter
        self._scheduler: BackgroundScheduler | None = None
        self._last = (clock(), monotonic())

    def start(self) -> None:
        scheduler = BackgroundScheduler(daemon=True)
        common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 3600}
        scheduler.add_job(self.housekeeping, "interval", hours=1, id="housekeeping", **common)
        scheduler.add_job(
            self.check_clock, "interval", seconds=CLOCK_CHECK_SECONDS, id="clock", **common
        )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    def housekeeping(self) -> None:
        """Drop staged pages of runs that are over, and forget runs finished long ago."""
        cutoff = to_iso(self._clock() - KEEP_FINISHED_RUNS)
        old = self._state.finished_before(cutoff)
        staging = self._paths.staging_dir
        for run in old:
            remove_inside(
                staging, self._paths.dataset_staging_dir(run.connection_id, run.dataset_id)
            )
        self._state.forget([run.dataset_id for run in old])
        snapshots = staging / "snapshots"
        for leftover in snapshots.glob("*") if snapshots.is_dir() else []:
            # A snapshot older than a day belongs to a run that crashed: never needed again.
            if time.time() - leftover.lstat().st_mtime > 86400:
                remove_inside(snapshots, leftover)

    def check_clock(self) -> bool:
        """Notice a sleep (the wall clock jumped past the monotonic one) and catch up:
        after a jittered pause, wake every link so it polls at once. True when it did."""
        wall, mono = self._clock(), self._monotonic()
        last_wall, last_mono = self._last
        self._last = (wall, mono)
        gap = (wall - last_wall).total_seconds() - (mono - last_mono)
        if gap < JUMP_SECONDS:
            return False
        log.info("The PC seems to have slept for %.0f s; catching up", gap)
        # Wi-Fi and VPNs come back some seconds after a wake: polling before would only fail
        # and back off. Then spread the return of the many PCs that wake at the same hour.
        for _ in range(NETWORK_WAIT_TRIES):
            if self._network_ready():
                break
            self._sleep(NETWORK_WAIT_STEP)
        self._sleep(self._jitter() * MAX_CATCH_UP_JITTER)
        self._wake_all()
        return True
