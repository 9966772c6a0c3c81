"""Sync settings: which data types a first link fetches, and how often each is synced.

The profile's settings apply to every company; a company's own settings, once set, replace them
for that company. With nothing stored, the defaults below apply.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select

from cloud.errors import BadRequest, shown
from cloud.store.db import Database, connections, datasets, sync_settings
from cloud.store.tenancy import company_row
from protocol.clock import from_iso
from protocol.datatypes import ACCOUNTING_DATA_TYPES, FETCH_ON_FIRST_LINK
from protocol.states import DatasetStatus, is_terminal

PROFILE = "profile"
CLIENT_ID = "reference-cloud"  # the profile's client id: one client per reference cloud
DEFAULT_SCHEDULE_HOURS = 24
MAX_SCHEDULE_HOURS = 24 * 366  # a year: anything longer is a typing slip, not a schedule


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
        seen: set[str] = set()
        for row in rows:
            if row["data_type"] in seen:
                raise BadRequest(f"The settings list {row['data_type']} twice; give each once.")
            seen.add(row["data_type"])
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
        A fixed number of statements, however many connections there are: this runs inside
        the server, beside the long polls.
        """
        with self._db.reading() as conn:
            layers: dict[str, list[RowMapping]] = {}
            for row in conn.execute(select(sync_settings)).mappings():
                layers.setdefault(row["scope"], []).append(row)
            linked = conn.execute(
                select(connections.c.id, connections.c.company_id).where(
                    connections.c.status == "Linked"
                )
            ).all()
            schedules = {
                company_id: _schedules(layers, company_id)
                for company_id in {company_id for _cid, company_id in linked}
            }
            if not any(schedules.values()):
                return []
            latest = _latest_datasets(conn)
        found: list[tuple[str, str, str]] = []
        for connection_id, company_id in linked:
            for data_type, hours in schedules[company_id].items():
                last = latest.get((connection_id, data_type))
                if last is None:
                    continue  # never synced: the first link (or a person) starts it
                if not is_terminal(DatasetStatus(last["status"])):
                    continue
                if from_iso(last["requested"]) + timedelta(hours=hours) <= now:
                    found.append((company_id, connection_id, data_type))
        return found


def _schedules(layers: dict[str, list[RowMapping]], company_id: str) -> dict[str, int]:
    """Data type -> hours, for the types scheduled for one company."""
    merged = {s["dataType"]: s for s in default_settings()}
    for scope in (PROFILE, company_id):
        for row in layers.get(scope, []):
            merged[row["data_type"]] = _setting(row)
    return {
        data_type: setting["syncSchedule"]
        for data_type, setting in merged.items()
        if setting["fetchOnFirstLink"] and setting["syncSchedule"] > 0
    }


def _latest_datasets(conn: Connection) -> dict[tuple[str, str], RowMapping]:
    """The latest dataset of every (connection, data type), in one windowed query."""
    ranked = select(
        datasets.c.connection_id,
        datasets.c.data_type,
        datasets.c.status,
        datasets.c.requested,
        func.row_number()
        .over(
            partition_by=(datasets.c.connection_id, datasets.c.data_type),
            order_by=datasets.c.queue_position.desc(),
        )
        .label("rank"),
    ).subquery()
    rows = conn.execute(select(ranked).where(ranked.c.rank == 1)).mappings()
    return {(row["connection_id"], row["data_type"]): row for row in rows}


def _effective(conn: Connection, scope: str) -> tuple[list[dict[str, Any]], bool]:
    merged = {s["dataType"]: s for s in default_settings()}
    for layer in [PROFILE] if scope == PROFILE else [PROFILE, scope]:
        for row in conn.execute(
            select(sync_settings).where(sync_settings.c.scope == layer)
        ).mappings():
            merged[row["data_type"]] = _setting(row)
    own = conn.execute(select(func.count()).where(sync_settings.c.scope == scope)).scalar_one()
    return list(merged.values()), bool(own)


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
        raise BadRequest(f"{shown(str(data_type))} is not a data type.")
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
