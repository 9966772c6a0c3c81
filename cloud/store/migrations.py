"""Bringing a database written by an earlier version of the cloud up to these tables.

``metadata.create_all`` creates the tables a database lacks but never changes one it has. The
version of the tables a database holds is kept in ``schema_version`` (one row). A database
created now is stamped with the latest version; one from before versions were kept (no row) is
version 1, the tables as first released. Each step after a database's version runs in order, in
the transaction that opens the database (on PostgreSQL under the advisory lock that keeps
servers starting together apart), so a database is upgraded whole or not at all.

Steps use their own lightweight table constructs, not ``cloud.store.db``'s, so that later changes to
the current tables cannot change what an old step does.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    bindparam,
    column,
    insert,
    select,
    table,
    text,
    tuple_,
    update,
)

from cloud.store import server_secret
from cloud.store.tokens import link_code, link_code_hash, new_link_nonce
from protocol.clock import to_iso
from protocol.record_hash import canonical_bytes

_metadata = MetaData()
schema_version = Table("schema_version", _metadata, Column("version", Integer, nullable=False))

_BATCH = 5_000


def _add_record_hashes(conn: Connection) -> None:
    """Version 2: ``records.hash``, so the baseline need not hash every payload on every call.

    Every stored payload is put in today's canonical form as it is hashed (orjson's JSON, which
    writes non-ASCII characters as they are where ``json.dumps`` escaped them): the agent hashes
    that form, and a record whose text differed only by its escapes would otherwise look
    changed to it once.
    """
    conn.execute(text("ALTER TABLE records ADD COLUMN hash VARCHAR(64)"))
    old = table(
        "records",
        column("company_id"),
        column("data_type"),
        column("record_id"),
        column("payload"),
        column("hash"),
    )
    key = tuple_(old.c.company_id, old.c.data_type, old.c.record_id)
    write = (
        update(old)
        .where(
            old.c.company_id == bindparam("k_company"),
            old.c.data_type == bindparam("k_type"),
            old.c.record_id == bindparam("k_id"),
        )
        .values(payload=bindparam("v_payload"), hash=bindparam("v_hash"))
    )
    after: tuple[str, str, str] | None = None
    while True:
        query = select(old.c.company_id, old.c.data_type, old.c.record_id, old.c.payload)
        if after is not None:
            query = query.where(key > tuple_(*after))
        rows = conn.execute(query.order_by(*key.clauses).limit(_BATCH)).all()
        if not rows:
            return
        changes = []
        for company_id, data_type, record_id, payload in rows:
            canonical = canonical_bytes(orjson.loads(payload))
            changes.append(
                {
                    "k_company": company_id,
                    "k_type": data_type,
                    "k_id": record_id,
                    "v_payload": canonical.decode(),
                    "v_hash": hashlib.sha256(canonical).hexdigest(),
                }
            )
        conn.execute(write, changes)
        after = (rows[-1][0], rows[-1][1], rows[-1][2])


def _index_record_positions(conn: Connection) -> None:
    """Version 3: an index over one connection's records of a type by position."""
    conn.execute(
        text(
            "CREATE INDEX IF NOT EXISTS ix_records_connection_position "
            "ON records (company_id, data_type, connection_id, position)"
        )
    )


def _add_server_secret(conn: Connection) -> None:
    """Version 4: the server's own random secret (``cloud/store/server_secret.py``).

    Portal sessions were signed with a key derived from the API key; they are signed with this
    secret now, so a session signed before the upgrade is refused (people sign in again).
    """
    server_secret.ensure(conn)


def _hash_link_codes(conn: Connection) -> None:
    """Version 5: link codes are no longer stored, only a nonce and the code's hash.

    A code is derived from its nonce and the server secret (``cloud/store/link_codes.py``). An old
    code was not, so every unspent one is replaced by a new, longer code with the same expiry:
    the connection's linkUrl shows the new one, and the old URL says it is no longer valid.
    The old ``link_code`` column is emptied and left in place: SQLite cannot drop a UNIQUE
    column without rebuilding the table, and nothing reads it any more.
    """
    conn.execute(text("ALTER TABLE connections ADD COLUMN link_nonce VARCHAR(32)"))
    conn.execute(text("ALTER TABLE connections ADD COLUMN link_code_hash VARCHAR(64)"))
    conn.execute(
        text(
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_connections_link_code_hash "
            "ON connections (link_code_hash)"
        )
    )
    key = server_secret.ServerKeys(server_secret.load(conn)).link_code
    old = table(
        "connections",
        column("id"),
        column("link_code"),
        column("link_nonce"),
        column("link_code_hash"),
    )
    pending = conn.execute(select(old.c.id).where(old.c.link_code.is_not(None))).scalars().all()
    for connection_id in pending:
        nonce = new_link_nonce()
        conn.execute(
            update(old)
            .where(old.c.id == connection_id)
            .values(
                link_code=None,
                link_nonce=nonce,
                link_code_hash=link_code_hash(link_code(key, nonce)),
            )
        )


def _token_families(conn: Connection) -> None:
    """Version 6: agent tokens by family (``cloud/store/agent_tokens.py``), and when a connection
    last changed status.

    Each connection's credential becomes a family with its current pair (``create_all`` has
    made the new tables already): live if the connection is Linked, else ended (an Unlinked
    connection's credential was left working before; it ends "unlinked" now). The refresh
    token a rotation replaced within the last minute is not carried over: its successor was
    random, not derived from it, so a retry with it could not be answered with the same pair.
    """
    conn.execute(text("ALTER TABLE connections ADD COLUMN status_changed VARCHAR(32)"))
    now = to_iso(datetime.now(UTC))
    credentials = conn.execute(
        text(
            "SELECT c.connection_id, c.access_hash, c.access_expires, c.refresh_hash,"
            " c.refresh_expires, k.status FROM agent_credentials c"
            " JOIN connections k ON k.id = c.connection_id"
        )
    ).all()
    families = table(
        "token_families",
        column("id"),
        column("connection_id"),
        column("started"),
        column("ended"),
        column("end_reason"),
    )
    tokens = table(
        "agent_tokens", column("token_hash"), column("family_id"), column("kind"), column("expires")
    )
    for row in credentials:
        family_id = str(uuid.uuid4())
        ended = {"Linked": None, "Unlinked": "unlinked"}.get(row.status, "revoked")
        conn.execute(
            insert(families).values(
                id=family_id,
                connection_id=row.connection_id,
                started=now,
                ended=None if ended is None else now,
                end_reason=ended,
            )
        )
        conn.execute(
            insert(tokens),
            [
                {
                    "token_hash": row.access_hash,
                    "family_id": family_id,
                    "kind": "access",
                    "expires": row.access_expires,
                },
                {
                    "token_hash": row.refresh_hash,
                    "family_id": family_id,
                    "kind": "refresh",
                    "expires": row.refresh_expires,
                },
            ],
        )
    conn.execute(text("DROP TABLE agent_credentials"))


# Step n brings a database from version n - 1 to version n.
STEPS: dict[int, Callable[[Connection], None]] = {
    2: _add_record_hashes,
    3: _index_record_positions,
    4: _add_server_secret,
    5: _hash_link_codes,
    6: _token_families,
}
LATEST = max(STEPS)


def upgrade(conn: Connection, *, fresh: bool) -> None:
    """Run the steps this database lacks; ``fresh``: it was created just now, at the latest."""
    schema_version.create(conn, checkfirst=True)
    version = conn.execute(select(schema_version.c.version)).scalar()
    if version is None:
        version = LATEST if fresh else 1
        conn.execute(insert(schema_version).values(version=version))
    for step in range(version + 1, LATEST + 1):
        STEPS[step](conn)
        conn.execute(update(schema_version).values(version=step))
