"""Agents: linking with a one-time code, tokens, heartbeats, and losing authorization.

An agent holds a short-lived access token and a refresh token that rotates on every use. When
authorization is lost (revoked by the API user, or the refresh token expired) the connection
becomes Deauthorized, its open datasets end AuthError, and a fresh link code is issued so the
end user can re-link through the same linkUrl.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from agent.clock import to_iso
from agent.datatypes import ACCOUNTING_DATA_TYPES
from agent.states import DatasetStatus
from cloud.dataset_moves import AUTH_LOST_MESSAGE, Event, EventSink, end_open_datasets
from cloud.datasets import Datasets
from cloud.db import Database, agent_credentials, companies, connections
from cloud.errors import BadRequest, Unauthorized
from cloud.link_codes import LinkCodes
from cloud.sync_settings import SyncSettings
from cloud.tenancy import connection_row
from cloud.tokens import new_agent_token, token_hash

REFRESH_GRACE = timedelta(seconds=60)
# Polls would otherwise write "last seen" on every request; "online" means heard from within
# 90 s, so a 30 s resolution is plenty.
LAST_SEEN_RESOLUTION = timedelta(seconds=30)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    access_expires: datetime
    refresh_token: str
    refresh_expires: datetime


@dataclass(frozen=True)
class LinkGrant:
    connection: RowMapping
    company_name: str
    tokens: Tokens


@dataclass(frozen=True)
class TokenPolicy:
    access_ttl: timedelta = timedelta(hours=1)
    refresh_ttl: timedelta = timedelta(days=90)


class Agents:
    def __init__(
        self,
        db: Database,
        datasets: Datasets,
        sync_settings: SyncSettings,
        link_codes: LinkCodes,
        *,
        policy: TokenPolicy,
        emit: EventSink = lambda _event: None,
        wake: Callable[[str], None] = lambda _connection_id: None,
    ) -> None:
        self._db = db
        self._datasets = datasets
        self._sync_settings = sync_settings
        self._link_codes = link_codes
        self._policy = policy
        self._emit = emit
        self._wake = wake

    def link(
        self,
        link_code: str,
        *,
        agent_version: str,
        hostname: str,
        data_types: list[str] | None,
    ) -> LinkGrant:
        """Spend a link code: the connection becomes Linked; a first link queues its types."""
        digest = LinkCodes.lookup_hash(link_code)
        now = self._db.now()
        with self._db.writing() as conn:
            found = (
                conn.execute(select(connections).where(connections.c.link_code_hash == digest))
                .mappings()
                .first()
            )
            if found is None:
                raise Unauthorized(
                    "This link code is not valid: it may have been used already. "
                    "Ask for a new link from the service you are connecting to."
                )
            if found["link_code_expires"] and found["link_code_expires"] < to_iso(now):
                raise Unauthorized("This link code has expired. Ask for a new link.")
            first_link = found["status"] == "PendingAuth"
            conn.execute(
                update(connections)
                .where(connections.c.id == found["id"])
                .values(
                    status="Linked",
                    status_reason=None,
                    **LinkCodes.spent(),
                    agent_last_seen=to_iso(now),
                    agent_version=agent_version,
                    agent_hostname=hostname,
                    agent_data_types=_data_types_json(data_types),
                )
            )
            tokens = self._issue(conn, found["id"], now)
            company_name = conn.execute(
                select(companies.c.name).where(companies.c.id == found["company_id"])
            ).scalar_one()
            connection = connection_row(conn, found["company_id"], found["id"])
        kind = "connection.connected" if first_link else "connection.reconnected"
        self._emit(_connection_event(kind, connection))
        if first_link:
            first = self._sync_settings.first_link_types(found["company_id"])
            self._datasets.queue_many(found["company_id"], first, found["id"])
        return LinkGrant(connection=connection, company_name=company_name, tokens=tokens)

    def refresh(self, refresh_token: str) -> Tokens:
        """New tokens for a refresh token; the old refresh token stops working (rotation)."""
        digest = token_hash(refresh_token)
        now = self._db.now()
        with self._db.writing() as conn:
            found = (
                conn.execute(
                    select(agent_credentials).where(
                        (agent_credentials.c.refresh_hash == digest)
                        | (agent_credentials.c.previous_refresh_hash == digest)
                    )
                )
                .mappings()
                .first()
            )
            if found is None:
                raise Unauthorized("This refresh token is not valid. Link Connector again.")
            if found["refresh_hash"] != digest and found["previous_refresh_until"] < to_iso(now):
                raise Unauthorized("This refresh token was already used. Link Connector again.")
            if found["refresh_expires"] < to_iso(now):
                raise Unauthorized("The connector's authorization expired. Link it again.")
            return self._issue(conn, found["connection_id"], now, rotated_from=digest)

    def authenticate(self, access_token: str) -> RowMapping:
        """The Linked connection an access token belongs to; notes that its agent was seen."""
        now = self._db.now()
        with self._db.reading() as conn:
            found = (
                conn.execute(
                    select(connections, agent_credentials.c.access_expires)
                    .join(agent_credentials, agent_credentials.c.connection_id == connections.c.id)
                    .where(agent_credentials.c.access_hash == token_hash(access_token))
                )
                .mappings()
                .first()
            )
        if found is None or found["status"] != "Linked":
            raise Unauthorized("This connector is no longer authorized. Link it again.")
        if found["access_expires"] < to_iso(now):
            raise Unauthorized("The access token has expired: refresh it.")
        last_seen = found["agent_last_seen"]
        if last_seen is None or last_seen < to_iso(now - LAST_SEEN_RESOLUTION):
            with self._db.writing() as conn:
                conn.execute(
                    update(connections)
                    .where(connections.c.id == found["id"])
                    .values(agent_last_seen=to_iso(now))
                )
        return found

    def heartbeat(
        self,
        connection_id: str,
        *,
        agent_version: str,
        hostname: str,
        data_types: list[str],
        wait_reason: str | None = None,
    ) -> None:
        with self._db.writing() as conn:
            conn.execute(
                update(connections)
                .where(connections.c.id == connection_id)
                .values(
                    agent_last_seen=to_iso(self._db.now()),
                    agent_version=agent_version,
                    agent_hostname=hostname,
                    agent_data_types=_data_types_json(data_types),
                    agent_wait_reason=wait_reason,
                )
            )
        self._wake(connection_id)  # a poll waiting now must hear of a pause at once

    def taking_work(self, connection_id: str) -> bool:
        """Whether the connection's agent may be handed a dataset now; raises Unauthorized if
        the connection is no longer Linked (so a waiting long poll ends at once)."""
        with self._db.reading() as conn:
            found = conn.execute(
                select(connections.c.status, connections.c.agent_wait_reason).where(
                    connections.c.id == connection_id
                )
            ).first()
        if found is None or found.status != "Linked":
            raise Unauthorized("This connector is no longer authorized. Link it again.")
        return found.agent_wait_reason is None

    def revoke(self, company_id: str, connection_id: str) -> RowMapping:
        """The API user withdraws the agent's authorization (public ``.../revoke``)."""
        with self._db.reading() as conn:
            found = connection_row(conn, company_id, connection_id)
        if found["status"] not in ("Linked", "Deauthorized"):
            raise BadRequest(
                f"Only a Linked connection can be revoked; this one is {found['status']}."
            )
        if found["status"] == "Linked":
            self._deauthorize(connection_id, "revoked")
        with self._db.reading() as conn:
            return connection_row(conn, company_id, connection_id)

    def expire_refresh_tokens(self) -> int:
        """Deauthorize every connection whose refresh token has expired."""
        with self._db.reading() as conn:
            expired = (
                conn.execute(
                    select(agent_credentials.c.connection_id)
                    .join(connections, connections.c.id == agent_credentials.c.connection_id)
                    .where(
                        agent_credentials.c.refresh_expires < to_iso(self._db.now()),
                        connections.c.status == "Linked",
                    )
                )
                .scalars()
                .all()
            )
        for connection_id in expired:
            self._deauthorize(connection_id, "not renewed in time and expired")
        return len(expired)

    def _deauthorize(self, connection_id: str, why: str) -> None:
        events: list[Event] = []
        now = self._db.now()
        with self._db.writing() as conn:
            conn.execute(
                update(connections)
                .where(connections.c.id == connection_id)
                .values(
                    status="Deauthorized",
                    status_reason=why,
                    # A fresh code, so the end user can re-link through the same linkUrl.
                    **self._link_codes.issue(now),
                )
            )
            conn.execute(
                delete(agent_credentials).where(agent_credentials.c.connection_id == connection_id)
            )
            message = AUTH_LOST_MESSAGE.format(why=why)
            self._db.serialise_connection(conn, connection_id)
            end_open_datasets(conn, connection_id, DatasetStatus.AUTH_ERROR, message, now, events)
            connection = (
                conn.execute(select(connections).where(connections.c.id == connection_id))
                .mappings()
                .one()
            )
        self._wake(connection_id)
        for event in [*events, _connection_event("connection.disconnected", connection)]:
            self._emit(event)

    def _issue(
        self, conn: Connection, connection_id: str, now: datetime, rotated_from: str | None = None
    ) -> Tokens:
        tokens = Tokens(
            access_token=new_agent_token(),
            access_expires=now + self._policy.access_ttl,
            refresh_token=new_agent_token(),
            refresh_expires=now + self._policy.refresh_ttl,
        )
        conn.execute(
            delete(agent_credentials).where(agent_credentials.c.connection_id == connection_id)
        )
        conn.execute(
            insert(agent_credentials).values(
                connection_id=connection_id,
                access_hash=token_hash(tokens.access_token),
                access_expires=to_iso(tokens.access_expires),
                refresh_hash=token_hash(tokens.refresh_token),
                refresh_expires=to_iso(tokens.refresh_expires),
                previous_refresh_hash=rotated_from,
                previous_refresh_until=to_iso(now + REFRESH_GRACE) if rotated_from else None,
            )
        )
        return tokens


def _data_types_json(data_types: list[str] | None) -> str | None:
    if data_types is None:
        return None
    return json.dumps(sorted({dt for dt in data_types if dt in ACCOUNTING_DATA_TYPES}))


def _connection_event(event_type: str, connection: RowMapping) -> Event:
    return Event(event_type, connection["company_id"], {"connectionId": connection["id"]})
