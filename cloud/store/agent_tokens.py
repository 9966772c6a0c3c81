"""Agent tokens by family: issued at a link, rotated on every refresh, ended with a reason.

Rotation follows the OAuth 2.0 Security BCP (RFC 9700, section 4.14.2): every refresh replaces
the refresh token, and a replaced refresh token presented again means that two parties hold
the family's tokens, one of them perhaps a thief, so the whole family is revoked ("reused").
One allowance: the answer carrying a new pair can be lost on the way to the agent, so for
``REFRESH_GRACE`` after a rotation a retry with the token just replaced gets the very same pair
again (its successor is derived from it with the server's key, so nothing secret is stored to
give it back), changes nothing, and extends nothing. A retry once that successor has been
refreshed in its turn is reuse: whoever retries never received the successor, yet somebody
used it.

Every refusal carries a reason (``docs/PROTOCOL.md``): the family's end reason (``revoked``,
``unlinked``, ``expired``, ``reused``), ``unknown`` for a token this cloud never issued or no
longer remembers, and ``expired_access_token`` for an access token that merely expired or was
replaced by a refresh. Only hashes are stored, as before. Replaced tokens are kept until they
would have expired, so reuse is recognised for as long as the token could have been used; an
ended family is kept for a refresh token's lifetime, so its tokens are refused with its reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from sqlalchemy import Connection, RowMapping, and_, delete, insert, select, update

from cloud.store.db import agent_tokens, connections, token_families
from cloud.store.tokens import new_agent_token, successor_tokens, token_hash
from protocol.clock import from_iso, to_iso

REFRESH_GRACE: Final = timedelta(seconds=60)

EndReason = Literal["revoked", "unlinked", "expired", "reused"]
RefusalReason = Literal[
    "revoked", "unlinked", "expired", "reused", "unknown", "expired_access_token"
]


@dataclass(frozen=True)
class Tokens:
    access_token: str
    access_expires: datetime
    refresh_token: str
    refresh_expires: datetime


@dataclass(frozen=True)
class TokenPolicy:
    access_ttl: timedelta = timedelta(hours=1)
    refresh_ttl: timedelta = timedelta(days=90)


@dataclass(frozen=True)
class Presented:
    """A token as the store knows it, with its family."""

    row: RowMapping  # agent_tokens joined with token_families (and the connection's status)

    @property
    def connection_id(self) -> str:
        return str(self.row["connection_id"])

    @property
    def end_reason(self) -> EndReason | None:
        reason: EndReason | None = self.row["end_reason"]
        return reason

    @property
    def current(self) -> bool:
        return self.row["replaced"] is None

    def expired(self, now: datetime) -> bool:
        return bool(self.row["expires"] < to_iso(now))


def find(conn: Connection, token: str, kind: Literal["access", "refresh"]) -> Presented | None:
    found = (
        conn.execute(
            select(
                agent_tokens,
                token_families.c.connection_id,
                token_families.c.end_reason,
                connections.c.status,
            )
            .join(token_families, token_families.c.id == agent_tokens.c.family_id)
            .join(connections, connections.c.id == token_families.c.connection_id)
            .where(agent_tokens.c.token_hash == token_hash(token), agent_tokens.c.kind == kind)
        )
        .mappings()
        .first()
    )
    return Presented(found) if found is not None else None


def start_family(
    conn: Connection, connection_id: str, now: datetime, policy: TokenPolicy
) -> Tokens:
    """The first pair of a new family: a link. A family still live (none should be: a code is
    spent only while the connection is not Linked) ends as revoked."""
    end_family(conn, connection_id, "revoked", now)
    family_id = str(uuid.uuid4())
    conn.execute(
        insert(token_families).values(
            id=family_id, connection_id=connection_id, started=to_iso(now)
        )
    )
    tokens = Tokens(
        access_token=new_agent_token(),
        access_expires=now + policy.access_ttl,
        refresh_token=new_agent_token(),
        refresh_expires=now + policy.refresh_ttl,
    )
    _insert_pair(conn, family_id, tokens)
    return tokens


def rotate(
    conn: Connection,
    presented: Presented,
    refresh_token: str,
    now: datetime,
    policy: TokenPolicy,
    key: bytes,
) -> Tokens:
    """Replace the family's current pair, of which ``refresh_token`` is the refresh token, by
    its successor; the replaced refresh token stays good for a retry during the grace."""
    family_id = presented.row["family_id"]
    current = (agent_tokens.c.family_id == family_id) & agent_tokens.c.replaced.is_(None)
    conn.execute(
        update(agent_tokens)
        .where(current, agent_tokens.c.kind == "refresh")
        .values(replaced=to_iso(now), grace_until=to_iso(now + REFRESH_GRACE))
    )
    conn.execute(
        update(agent_tokens)
        .where(current, agent_tokens.c.kind == "access")
        .values(replaced=to_iso(now))
    )
    access, refresh = successor_tokens(key, refresh_token)
    tokens = Tokens(access, now + policy.access_ttl, refresh, now + policy.refresh_ttl)
    _insert_pair(conn, family_id, tokens)
    return tokens


def retry_within_grace(
    conn: Connection, presented: Presented, refresh_token: str, now: datetime, key: bytes
) -> Tokens | None:
    """The pair a replaced refresh token was rotated into, if this is a retry: within the grace,
    and that pair is still the family's current one (unused). None means reuse."""
    grace_until = presented.row["grace_until"]
    if grace_until is None or grace_until < to_iso(now):
        return None
    access, refresh = successor_tokens(key, refresh_token)
    successors = {
        row.kind: row
        for row in conn.execute(
            select(agent_tokens.c.kind, agent_tokens.c.expires).where(
                agent_tokens.c.token_hash.in_([token_hash(access), token_hash(refresh)]),
                agent_tokens.c.family_id == presented.row["family_id"],
                agent_tokens.c.replaced.is_(None),
            )
        )
    }
    if set(successors) != {"access", "refresh"}:
        return None
    # The same expiries as the first answer: a retry extends nothing.
    return Tokens(
        access,
        from_iso(successors["access"].expires),
        refresh,
        from_iso(successors["refresh"].expires),
    )


def end_family(conn: Connection, connection_id: str, reason: EndReason, now: datetime) -> None:
    """End the connection's live family: none of its tokens works any more."""
    conn.execute(
        update(token_families)
        .where(token_families.c.connection_id == connection_id, token_families.c.ended.is_(None))
        .values(ended=to_iso(now), end_reason=reason)
    )


def lost_reason(conn: Connection, connection_id: str) -> RefusalReason:
    """Why the connection's agent is no longer authorized: its latest family's end reason."""
    reason: EndReason | None = conn.execute(
        select(token_families.c.end_reason)
        .where(token_families.c.connection_id == connection_id)
        .order_by(token_families.c.started.desc())
        .limit(1)
    ).scalar()
    return reason or "unknown"


def expired_connections(conn: Connection, now: datetime) -> list[str]:
    """Linked connections whose live family's refresh token expired unused."""
    return list(
        conn.execute(
            select(token_families.c.connection_id)
            .join(agent_tokens, agent_tokens.c.family_id == token_families.c.id)
            .join(connections, connections.c.id == token_families.c.connection_id)
            .where(
                token_families.c.ended.is_(None),
                agent_tokens.c.kind == "refresh",
                agent_tokens.c.replaced.is_(None),
                agent_tokens.c.expires < to_iso(now),
                connections.c.status == "Linked",
            )
        )
        .scalars()
        .all()
    )


def prune(conn: Connection, now: datetime, policy: TokenPolicy) -> None:
    """Forget what can no longer matter: replaced tokens of live families once they would have
    expired anyway, and ended families once a refresh token's lifetime has passed."""
    live = select(token_families.c.id).where(token_families.c.ended.is_(None))
    conn.execute(
        delete(agent_tokens).where(
            agent_tokens.c.replaced.is_not(None),
            agent_tokens.c.expires < to_iso(now),
            agent_tokens.c.family_id.in_(live),
        )
    )
    old = select(token_families.c.id).where(
        token_families.c.ended < to_iso(now - policy.refresh_ttl)
    )
    conn.execute(delete(agent_tokens).where(agent_tokens.c.family_id.in_(old)))
    conn.execute(
        delete(token_families).where(
            and_(
                token_families.c.ended.is_not(None),
                token_families.c.ended < to_iso(now - policy.refresh_ttl),
            )
        )
    )


def _insert_pair(conn: Connection, family_id: str, tokens: Tokens) -> None:
    conn.execute(
        insert(agent_tokens),
        [
            {
                "token_hash": token_hash(tokens.access_token),
                "family_id": family_id,
                "kind": "access",
                "expires": to_iso(tokens.access_expires),
            },
            {
                "token_hash": token_hash(tokens.refresh_token),
                "family_id": family_id,
                "kind": "refresh",
                "expires": to_iso(tokens.refresh_expires),
            },
        ],
    )
