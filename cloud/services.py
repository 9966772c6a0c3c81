"""Everything the cloud's routers need, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from agent.clock import Clock, utc_now
from cloud.agents import Agents, TokenPolicy
from cloud.datasets import Datasets, Event, EventSink
from cloud.db import Database, open_database
from cloud.maintenance import Maintenance
from cloud.settings import CloudSettings
from cloud.sync_settings import SyncSettings
from cloud.tenancy import Tenancy
from cloud.wakeups import Wakeups


@dataclass(frozen=True)
class Services:
    settings: CloudSettings
    db: Database
    wakeups: Wakeups
    tenancy: Tenancy
    datasets: Datasets
    agents: Agents
    sync_settings: SyncSettings
    maintenance: Maintenance


def build_services(
    settings: CloudSettings, *, clock: Clock = utc_now, emit: EventSink | None = None
) -> Services:
    db = Database(open_database(settings.database_url), clock)
    wakeups = Wakeups()
    sink: EventSink = emit or _ignore
    datasets = Datasets(
        db, lease=timedelta(seconds=settings.lease_seconds), wake=wakeups.notify, emit=sink
    )
    sync_settings = SyncSettings(db)
    agents = Agents(
        db,
        datasets,
        sync_settings,
        policy=TokenPolicy(
            access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
            refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        ),
        emit=sink,
        wake=wakeups.notify,
    )
    maintenance = Maintenance(
        db, datasets, agents, sync_settings, interval_seconds=settings.sweep_seconds
    )
    return Services(
        settings=settings,
        db=db,
        wakeups=wakeups,
        tenancy=Tenancy(db),
        datasets=datasets,
        agents=agents,
        sync_settings=sync_settings,
        maintenance=maintenance,
    )


def _ignore(_event: Event) -> None:
    pass
