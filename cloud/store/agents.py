"""Agents: linking with a one-time code, tokens, heartbeats, and losing authorization.

An agent holds a short-lived access token and a refresh token that rotates on every use
(``cloud/store/agent_tokens.py``). When authorization is lost (revoked by the API user, the refresh
token expired, or a replaced refresh token used again) the connection becomes Deauthorized, its
open datasets end AuthError, and a fresh link code is issued so the end user can re-link
through the same linkUrl. Every refusal of a token says why, in ``reason``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import RowMapping, select, update

from cloud.errors import BadRequest, Unauthorized
from cloud.store import agent_tokens
from cloud.store.agent_tokens import EndReason, RefusalReason, TokenPolicy, Tokens
from cloud.store.dataset_moves import AUTH_LOST_MESSAGE, EventSink, WebhookEvent, end_open_datasets
from cloud.store.datasets import Datasets
from cloud.store.db import Database, companies, connections
from cloud.store.link_codes import LinkCodes
from cloud.store.sync_settings import SyncSettings
from cloud.store.tenancy import connection_row
from protocol.clock import to_iso
from protocol.datatypes import ACCOUNTING_DATA_TYPES
from protocol.states import DatasetStatus

log = logging.getLogger(__name__)

# Polls would otherwise write "last seen" on every request; "online" means heard from within
# 90 s, so a 30 s resolution is plenty.
LAST_SEEN_RESOLUTION = timedelta(seconds=30)

# Why a Linked connection became Deauthorized, as its statusReason and its AuthError datasets
# say it ("The connector's authorization for this connection was {why}. ...").
DEAUTHORIZED_BECAUSE: dict[EndReason, str] = {
    "revoked": "revoked",
    "expired": "not renewed in time and expired",
    "reused": (
        "revoked by the cloud, because one of its refresh tokens was used again after it had "
        "been replaced: a copy of the connector's credential may be in other hands"
    ),
}

# What a refused token's ``error`` says to people; ``reason`` says the same to machines.
REFUSED_BECAUSE: dict[RefusalReason, str] = {
    "revoked": "The connector's authorization was revoked. Link Connector again.",
    "unlinked": "This connection was unlinked: the connector can no longer sync it.",
    "expired": (
        "The connector's authorization expired: it was not renewed in time. Link Connector again."
    ),
    "reused": (
        "The connector's authorization was revoked because a refresh token was used again "
        "after it had been replaced (a copy may be in other hands). Link Connector again."
    ),
    "unknown": "This token is not valid here. Link Connector again.",
    "expired_access_token": "The access token has expired: refresh it.",
}


def refused(reason: RefusalReason) -> Unauthorized:
    return Unauthorized(REFUSED_BECAUSE[reason], reason=reason)


@dataclass(frozen=True)
class LinkGrant:
    connection: RowMapping
    company_name: str
    tokens: Tokens


class Agents:
    def __init__(
        self,
        db: Database,
        datasets: Datasets,
        sync_settings: SyncSettings,
        link_codes: LinkCodes,
        *,
        policy: TokenPolicy,
        rotation_key: bytes,
        emit: EventSink = lambda _event: None,
        wake: Callable[[str], None] = lambda _connection_id: None,
    ) -> None:
        self._db = db
        self._datasets = datasets
        self._sync_settings = sync_settings
        self._link_codes = link_codes
        self._policy = policy
        self._rotation_key = rotation_key
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
                    status_changed=to_iso(now),
                    **LinkCodes.spent(),
                    agent_last_seen=to_iso(now),
                    agent_version=agent_version,
                    agent_hostname=hostname,
                    agent_data_types=_data_types_json(data_types),
                )
            )
            tokens = agent_tokens.start_family(conn, found["id"], now, self._policy)
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
        """New tokens for the current refresh token, which is replaced (rotation); the same
        pair again for a retry within the grace; otherwise a refusal with its reason.

        Reuse of a replaced refresh token, or an expired one, also ends the connection's
        authorization (as a revocation does) before the refusal is answered.
        """
        now = self._db.now()
        with self._db.writing() as conn:
            presented = agent_tokens.find(conn, refresh_token, "refresh")
            if presented is None:
                raise refused("unknown")
            # Two servers refreshing the same token at once must not both rotate it: the
            # second waits, then finds it replaced (a retry, answered with the same pair).
            self._db.serialise_connection(conn, presented.connection_id)
            presented = agent_tokens.find(conn, refresh_token, "refresh")
            assert presented is not None  # tokens are deleted only with their family, later
            if presented.end_reason is not None:
                raise refused(presented.end_reason)
            lost: EndReason
            if presented.current:
                if not presented.expired(now):
                    return agent_tokens.rotate(
                        conn, presented, refresh_token, now, self._policy, self._rotation_key
                    )
                lost = "expired"
            else:
                retry = agent_tokens.retry_within_grace(
                    conn, presented, refresh_token, now, self._rotation_key
                )
                if retry is not None:
                    return retry
                lost = "reused"
        if lost == "reused":
            log.warning(
                "A replaced refresh token of connection %s was used again: its authorization "
                "is revoked until the connector is linked again",
                presented.connection_id,
            )
        self._deauthorize(presented.connection_id, lost)
        raise refused(lost)

    def authenticate(self, access_token: str) -> RowMapping:
        """The Linked connection an access token belongs to; notes that its agent was seen.

        A refusal's reason tells an access token to refresh (``expired_access_token``, also
        for one a refresh replaced) and one this cloud does not know (``unknown``: the agent
        refreshes, and the refresh's answer decides) from authorization lost (the reason its
        family ended).
        """
        now = self._db.now()
        with self._db.reading() as conn:
            presented = agent_tokens.find(conn, access_token, "access")
            if presented is None:
                raise refused("unknown")
            if presented.end_reason is not None:
                raise refused(presented.end_reason)
            if presented.row["status"] != "Linked":  # not expected: every change ends a family
                raise refused(agent_tokens.lost_reason(conn, presented.connection_id))
            if not presented.current or presented.expired(now):
                raise refused("expired_access_token")
            found = (
                conn.execute(select(connections).where(connections.c.id == presented.connection_id))
                .mappings()
                .one()
            )
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
        """Whether the connection's agent may be handed a dataset now; raises Unauthorized (with
        the reason) if the connection is no longer Linked, so a waiting long poll ends at once."""
        with self._db.reading() as conn:
            found = conn.execute(
                select(connections.c.status, connections.c.agent_wait_reason).where(
                    connections.c.id == connection_id
                )
            ).first()
            if found is None:
                raise refused("unknown")  # deleted meanwhile
            if found.status != "Linked":
                raise refused(agent_tokens.lost_reason(conn, connection_id))
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
        """Deauthorize every connection whose refresh token has expired; forget the tokens
        that can no longer matter."""
        with self._db.reading() as conn:
            expired = agent_tokens.expired_connections(conn, self._db.now())
        for connection_id in expired:
            self._deauthorize(connection_id, "expired")
        with self._db.writing() as conn:
            agent_tokens.prune(conn, self._db.now(), self._policy)
        return len(expired)

    def _deauthorize(self, connection_id: str, reason: EndReason) -> None:
        events: list[WebhookEvent] = []
        now = self._db.now()
        why = DEAUTHORIZED_BECAUSE[reason]
        with self._db.writing() as conn:
            self._db.serialise_connection(conn, connection_id)
            status = conn.execute(
                select(connections.c.status).where(connections.c.id == connection_id)
            ).scalar()
            if status != "Linked":
                return  # done already (two servers saw one reused token at once)
            conn.execute(
                update(connections)
                .where(connections.c.id == connection_id)
                .values(
                    status="Deauthorized",
                    status_reason=why,
                    status_changed=to_iso(now),
                    # A fresh code, so the end user can re-link through the same linkUrl.
                    **self._link_codes.issue(now),
                )
            )
            agent_tokens.end_family(conn, connection_id, reason, now)
            message = AUTH_LOST_MESSAGE.format(why=why)
            end_open_datasets(conn, connection_id, DatasetStatus.AUTH_ERROR, message, now, events)
            connection = (
                conn.execute(select(connections).where(connections.c.id == connection_id))
                .mappings()
                .one()
            )
        self._wake(connection_id)
        for event in [*events, _connection_event("connection.disconnected", connection)]:
            self._emit(event)


def _data_types_json(data_types: list[str] | None) -> str | None:
    if data_types is None:
        return None
    return json.dumps(sorted({dt for dt in data_types if dt in ACCOUNTING_DATA_TYPES}))


def _connection_event(event_type: str, connection: RowMapping) -> WebhookEvent:
    return WebhookEvent(event_type, connection["company_id"], {"connectionId": connection["id"]})
