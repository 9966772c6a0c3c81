"""The cloud's own clockwork: scheduled syncs, lapsed leases, expired authorizations.

One APScheduler job runs the sweep every few seconds on a background thread. Each part is
idempotent, so a sweep that runs late, or twice, does no harm.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from cloud.errors import CloudError
from cloud.store.agents import Agents
from cloud.store.datasets import Datasets
from cloud.store.db import Database
from cloud.store.sync_settings import SyncSettings

log = logging.getLogger(__name__)


class Maintenance:
    def __init__(
        self,
        db: Database,
        datasets: Datasets,
        agents: Agents,
        sync_settings: SyncSettings,
        *,
        interval_seconds: float,
    ) -> None:
        self._db = db
        self._datasets = datasets
        self._agents = agents
        self._sync_settings = sync_settings
        self._interval = interval_seconds
        self._scheduler: BackgroundScheduler | None = None

    def sweep(self) -> None:
        """Run every periodic duty once."""
        self._datasets.take_back_lapsed()
        self._agents.expire_refresh_tokens()
        for company_id, connection_id, data_type in self._sync_settings.due(self._db.now()):
            try:
                self._datasets.queue_many(company_id, [data_type], connection_id)
            except CloudError as exc:  # e.g. the connection was unlinked meanwhile
                log.info("Scheduled %s for %s not queued: %s", data_type, company_id, exc.message)

    def start(self) -> None:
        self._datasets.extend_leases()
        scheduler = BackgroundScheduler(daemon=True)
        scheduler.add_job(
            self._sweep_logged,
            "interval",
            seconds=self._interval,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(30, int(self._interval * 10)),
            id="cloud-maintenance",
        )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    def _sweep_logged(self) -> None:
        try:
            self.sweep()
        except Exception:
            log.exception("The maintenance sweep failed; it runs again shortly")
