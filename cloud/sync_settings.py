"""Sync settings: which data types a first link fetches, and how often each is synced.

The profile's settings apply to every company; a company's own settings, once set, replace them
for that company. With nothing stored, the defaults below apply.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select

from agent.clock import from_iso
from agent.datatypes import ACCOUNTING_DATA_TYPES, FETCH_ON_FIRST_LINK
from agent.states import DatasetStatus, is_terminal
from cloud.db import Database, connections, datasets, sync_settings
from cloud.errors import BadRequest
from cloud.tenancy import company_row

PROFILE = "profile"
CLIENT_ID = "reference-cloud"  # the profile's client id: one client per reference cloud
DEFAULT_SCHEDULE_HOURS = 24


def default_settings() -> list[dict[str, Any]]:
    order = {dt: i for i, dt in enumerate(FETCH_ON_FIRST_LINK)}
    return [
        {
            "dataType": dt,
            "fetchOnFirstLink": dt in order,
            "syncSchedule": DEFAULT_SCHEDULE_HOURS,
            "syncOrder": order.get(dt, len(order) + i),
            "isLocked": False,
        }
        for i, dt in enumerate(ACCOUNTING_DATA_TYPES)
    ]


class SyncSettings:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, scope: str) -> tuple[list[dict[str, Any]], bool]:
        """The settings in force for ``scope`` (PROFILE or a company id), and whether they are
        the scope's own (``overridesDefaults``)."""
        with self._db.reading() as conn:
            if scope != PROFILE:
                company_row(conn, scope)
            return _effective(conn, scope)

    def set(self, scope: str, settings: list[dict[str, Any]]) -> None:
        """Replace the scope's own settings (a data type not listed keeps what it inherits)."""
        rows = [_row(scope, setting) for setting in settings]
        with self._db.writing() as conn:
            if scope != PROFILE:
                company_row(conn, scope)
            conn.execute(delete(sync_settings).where(sync_settings.c.scope == scope))
            if rows:
                conn.execute(insert(sync_settings), rows)

    def first_link_types(self, company_id: str) -> list[str]:
        settings, _own = self.get(company_id)
        chosen = [s for s in settings if s["fetchOnFirstLink"]]
        return [s["dataType"] for s in sorted(chosen, key=lambda s: s["syncOrder"])]

    def due(self, now: datetime) -> list[tuple[str, str, str]]:
        """(company, connection, data type) whose scheduled sync has come round.

        A type is scheduled when it is fetched on first link and has a schedule; it falls due
        ``syncSchedule`` hours after its latest dataset was requested, once that one ended.
        """
        found: list[tuple[str, str, str]] = []
        with self._db.reading() as conn:
            linked = conn.execute(
                select(connections.c.id, connections.c.company_id).where(
                    connections.c.status == "Linked"
                )
            ).all()
            for connection_id, company_id in linked:
                settings, _own = _effective(conn, company_id)
                latest = _latest_by_type(conn, connection_id)
                for setting in settings:
                    hours = setting["syncSchedule"]
                    if not setting["fetchOnFirstLink"] or hours <= 0:
                        continue
                    last = latest.get(setting["dataType"])
                    if last is None:
                        continue  # never synced: the first link (or a person) starts it
                    if not is_terminal(DatasetStatus(last["status"])):
                        continue
                    if from_iso(last["requested"]) + timedelta(hours=hours) <= now:
                        found.append((company_id, connection_id, setting["dataType"]))
        return found


def _effective(conn: Connection, scope: str) -> tuple[list[dict[str, Any]], bool]:
    merged = {s["dataType"]: s for s in default_settings()}
    for layer in [PROFILE] if scope == PROFILE else [PROFILE, scope]:
        for row in conn.execute(
            select(sync_settings).where(sync_settings.c.scope == layer)
        ).mappings():
            merged[row["data_type"]] = _setting(row)
    own = conn.execute(select(func.count()).where(sync_settings.c.scope == scope)).scalar_one()
    return list(merged.values()), bool(own)


def _latest_by_type(conn: Connection, connection_id: str) -> dict[str, RowMapping]:
    latest: dict[str, RowMapping] = {}
    rows = conn.execute(
        select(datasets.c.data_type, datasets.c.status, datasets.c.requested)
        .where(datasets.c.connection_id == connection_id)
        .order_by(datasets.c.queue_position)
    ).mappings()
    for row in rows:
        latest[row["data_type"]] = row
    return latest


def _setting(row: RowMapping) -> dict[str, Any]:
    setting: dict[str, Any] = {
        "dataType": row["data_type"],
        "fetchOnFirstLink": row["fetch_on_first_link"],
        "syncSchedule": row["sync_schedule"],
        "syncOrder": row["sync_order"],
    }
    optional = {
        "syncFromUtc": row["sync_from_utc"],
        "syncFromWindow": row["sync_from_window"],
        "monthsToSync": row["months_to_sync"],
        "isLocked": row["is_locked"],
    }
    setting.update({k: v for k, v in optional.items() if v is not None})
    return setting


def _row(scope: str, setting: dict[str, Any]) -> dict[str, Any]:
    data_type = setting.get("dataType")
    if data_type not in ACCOUNTING_DATA_TYPES:
        raise BadRequest(f"'{data_type}' is not a data type.")
    try:
        return {
            "scope": scope,
            "data_type": data_type,
            "fetch_on_first_link": bool(setting["fetchOnFirstLink"]),
            "sync_schedule": int(setting["syncSchedule"]),
            "sync_order": int(setting.get("syncOrder", 0)),
            "sync_from_utc": setting.get("syncFromUtc"),
            "sync_from_window": setting.get("syncFromWindow"),
            "months_to_sync": setting.get("monthsToSync"),
            "is_locked": setting.get("isLocked"),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest(
            f"The setting for {data_type} needs fetchOnFirstLink and syncSchedule (hours)."
        ) from exc
