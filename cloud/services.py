"""Everything the cloud's routers need, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from cloud.http.throttle import Throttles
from cloud.settings import CloudSettings
from cloud.store.agent_tokens import TokenPolicy
from cloud.store.agents import Agents
from cloud.store.datasets import Datasets
from cloud.store.db import Database, open_database
from cloud.store.ingest import UploadLimits
from cloud.store.link_codes import LinkCodes
from cloud.store.maintenance import Maintenance
from cloud.store.server_secret import ServerKeys, load
from cloud.store.sync_settings import SyncSettings
from cloud.store.tenancy import Tenancy
from cloud.store.wakeups import Wakeups
from cloud.webhooks.delivery import DEFAULT_RETRY_SCHEDULE, WebhookDispatcher
from cloud.webhooks.feed import WebhookFeed
from cloud.webhooks.targets import WebhookTargets
from protocol.clock import Clock, utc_now

if TYPE_CHECKING:
    from cloud.store.pg_wakeups import PostgresWakeups


@dataclass(frozen=True)
class Services:
    settings: CloudSettings
    db: Database
    keys: ServerKeys
    link_codes: LinkCodes
    wakeups: Wakeups
    tenancy: Tenancy
    datasets: Datasets
    agents: Agents
    sync_settings: SyncSettings
    maintenance: Maintenance
    pg_wakeups: PostgresWakeups | None
    webhooks: WebhookDispatcher
    throttles: Throttles

    def queue_first_link_types(self, company_id: str) -> None:
        """Queue every fetch-on-first-link data type of a company (those already in progress
        are left alone): the public API's "queue all" and the Portal's button."""
        self.datasets.queue_many(company_id, self.sync_settings.first_link_types(company_id))


def build_services(settings: CloudSettings, *, clock: Clock = utc_now) -> Services:
    # Importing the dispatcher registers the webhook tables before the database is opened.
    db = Database(open_database(settings.database_url), clock)
    with db.reading() as conn:
        keys = ServerKeys(load(conn))
    wakeups = Wakeups()
    bridge: PostgresWakeups | None = None
    if db.shared:
        # Only a PostgreSQL deployment needs (and has installed) the psycopg driver.
        from cloud.store.pg_wakeups import PostgresWakeups

        bridge = PostgresWakeups(db.engine, wakeups)
    wake = bridge.notify if bridge is not None else wakeups.notify
    link_codes = LinkCodes(keys.link_code, settings.public_url)
    tenancy = Tenancy(db, link_codes)
    retries = settings.webhook_retry_seconds
    webhooks = WebhookDispatcher(
        db.engine,
        clock=clock,
        targets=WebhookTargets(settings.webhook_allowed_hosts),
        retry_schedule=(
            DEFAULT_RETRY_SCHEDULE
            if retries is None
            else tuple(timedelta(seconds=s) for s in retries)
        ),
    )
    feed = WebhookFeed(webhooks, tenancy, link_codes, clock)
    datasets = Datasets(
        db,
        lease=timedelta(seconds=settings.lease_seconds),
        wake=wake,
        emit=feed,
        limits=UploadLimits(
            max_pages=settings.max_pages, max_page_records=settings.max_page_records
        ),
    )
    sync_settings = SyncSettings(db)
    agents = Agents(
        db,
        datasets,
        sync_settings,
        link_codes,
        policy=TokenPolicy(
            access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
            refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        ),
        rotation_key=keys.token_rotation,
        emit=feed,
        wake=wake,
    )
    maintenance = Maintenance(
        db, datasets, agents, sync_settings, interval_seconds=settings.sweep_seconds
    )
    return Services(
        settings=settings,
        db=db,
        keys=keys,
        link_codes=link_codes,
        wakeups=wakeups,
        tenancy=tenancy,
        datasets=datasets,
        agents=agents,
        sync_settings=sync_settings,
        maintenance=maintenance,
        pg_wakeups=bridge,
        webhooks=webhooks,
        throttles=Throttles(),
    )
