"""A database written by the previous version of the cloud keeps working after the upgrade."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, insert, inspect, literal, select, text, update

from cloud.store import cache, migrations, server_secret
from cloud.store.db import companies, open_database, records
from cloud.store.server_secret import ServerKeys
from cloud.store.tokens import link_code, link_code_hash, token_hash
from protocol.record_hash import canonical_json, record_hash
from tests.support.cloud_harness import cloud_on
from tests.support.fake_clock import FakeClock
from tests.support.postgres import fresh_database

COUNT = 5_100  # more than one batch of the upgrade (cloud.store.migrations._BATCH)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cloud.db'}"
        return
    with fresh_database() as url:
        yield url


def _as_version_5_left_it(conn: Connection) -> None:
    """Undo what version 6 changed: one credential row per connection, no status_changed.
    (The token families' tables stay: ``create_all`` makes them before any step runs.)"""
    conn.execute(text("ALTER TABLE connections DROP COLUMN status_changed"))
    conn.execute(
        text(
            "CREATE TABLE agent_credentials ("
            " connection_id VARCHAR(36) NOT NULL PRIMARY KEY"
            "  REFERENCES connections (id) ON DELETE CASCADE,"
            " access_hash VARCHAR(64) NOT NULL UNIQUE, access_expires VARCHAR(32) NOT NULL,"
            " refresh_hash VARCHAR(64) NOT NULL UNIQUE, refresh_expires VARCHAR(32) NOT NULL,"
            " previous_refresh_hash VARCHAR(64), previous_refresh_until VARCHAR(32))"
        )
    )


def _as_version_3_left_it(conn: Connection) -> None:
    """Undo what versions 4 to 6 added: the server secret, link codes kept as hashes, ..."""
    _as_version_5_left_it(conn)
    conn.execute(text("DROP TABLE server_secret"))
    conn.execute(text("DROP INDEX ux_connections_link_code_hash"))
    conn.execute(text("ALTER TABLE connections DROP COLUMN link_nonce"))
    conn.execute(text("ALTER TABLE connections DROP COLUMN link_code_hash"))
    # Unique, as it was; SQLite adds a UNIQUE column only as a column and an index.
    conn.execute(text("ALTER TABLE connections ADD COLUMN link_code VARCHAR(16)"))
    conn.execute(text("CREATE UNIQUE INDEX ux_old_link_code ON connections (link_code)"))


def _as_the_previous_version_left_it(url: str) -> list[dict[str, object]]:
    """Tables of version 1 (no records.hash, no schema_version), records as it stored them."""
    engine = open_database(url)
    with engine.begin() as conn:
        _as_version_3_left_it(conn)
        conn.execute(text("ALTER TABLE records DROP COLUMN hash"))
        conn.execute(text("DROP INDEX ix_records_connection_position"))
        conn.execute(text("DROP TABLE schema_version"))
    written = [
        {
            "id": f"r{n:05d}",
            "name": f"Café {n}",  # json.dumps wrote it as "Caf\\u00e9"
            "amount": 1e-7 * n,
            "metadata": {"source": "book"},
        }
        for n in range(COUNT)
    ]
    with engine.begin() as conn:
        conn.execute(insert(companies).values(id="c1", name="Acme", created="2026-01-01"))
        conn.execute(
            text(
                "INSERT INTO records (company_id, data_type, record_id, connection_id, payload,"
                " modified_date, is_deleted, position) VALUES"
                " ('c1', 'customers', :id, 'k1', :payload, '2026-01-01', :deleted, :position)"
            ),
            [
                {
                    "id": r["id"],
                    "payload": json.dumps(r, sort_keys=True, separators=(",", ":")),
                    "deleted": n % 10 == 0,
                    "position": n,
                }
                for n, r in enumerate(written)
            ],
        )
    engine.dispose()
    return written


def test_an_old_database_gets_record_hashes_in_todays_canonical_form(database_url: str) -> None:
    written = _as_the_previous_version_left_it(database_url)
    engine = open_database(database_url)
    try:
        assert _version(engine) == migrations.LATEST
        indexes = {index["name"] for index in inspect(engine).get_indexes("records")}
        assert "ix_records_connection_position" in indexes
        with engine.connect() as conn:
            stored = {
                row.record_id: row
                for row in conn.execute(
                    select(records.c.record_id, records.c.payload, records.c.hash)
                )
            }
            # A row as the datasets table gives one, with the columns baseline() reads.
            dataset = (
                conn.execute(
                    select(
                        literal("c1").label("company_id"),
                        literal("customers").label("data_type"),
                        literal("k1").label("connection_id"),
                    )
                )
                .mappings()
                .one()
            )
            page, next_after = cache.baseline(conn, dataset, limit=cache.BASELINE_PAGE)
        for record in written:
            row = stored[str(record["id"])]
            assert row.payload == canonical_json(record)
            assert "Café" in row.payload
            assert row.hash == record_hash(record)
        live = {str(r["id"]): record_hash(r) for n, r in enumerate(written) if n % 10}
        assert page == live and next_after is None
    finally:
        engine.dispose()


def test_a_new_database_starts_at_the_latest_version_and_reopens_unchanged(
    database_url: str,
) -> None:
    secrets = []
    for _ in range(2):
        engine = open_database(database_url)
        assert _version(engine) == migrations.LATEST
        assert "hash" in {c["name"] for c in inspect(engine).get_columns("records")}
        with engine.connect() as conn:
            secrets.append(conn.execute(text("SELECT secret FROM server_secret")).scalars().all())
        engine.dispose()
    # The server secret is made once: reopening (a restart, another process) keeps it.
    assert len(secrets[0]) == 1 and secrets[0] == secrets[1]


def _version(engine: Engine) -> int:
    with engine.connect() as conn:
        versions = conn.execute(select(migrations.schema_version.c.version)).scalars().all()
    assert len(versions) == 1
    return int(versions[0])


def test_unspent_link_codes_of_version_3_are_replaced_by_hashed_ones(database_url: str) -> None:
    engine = open_database(database_url)
    with engine.begin() as conn:
        _as_version_3_left_it(conn)
        conn.execute(update(migrations.schema_version).values(version=3))
        conn.execute(insert(companies).values(id="c1", name="Acme", created="2026-01-01"))
        for connection_id, code in (("k1", "K7QM-3TXA"), ("k2", None)):
            conn.execute(
                text(
                    "INSERT INTO connections (id, company_id, platform_key, status, created,"
                    " link_code, link_code_expires) VALUES (:id, 'c1', 'gncs', :status,"
                    " '2026-01-01', :code, '2099-01-01T00:00:00.000000Z')"
                ),
                {"id": connection_id, "code": code, "status": "PendingAuth" if code else "Linked"},
            )
    engine.dispose()

    engine = open_database(database_url)
    try:
        assert _version(engine) == migrations.LATEST
        with engine.connect() as conn:
            rows = {
                row.id: row
                for row in conn.execute(
                    text(
                        "SELECT id, link_code, link_nonce, link_code_hash, link_code_expires"
                        " FROM connections"
                    )
                )
            }
            keys = ServerKeys(server_secret.load(conn))
    finally:
        engine.dispose()
    pending, linked = rows["k1"], rows["k2"]
    assert pending.link_code is None  # nothing a copy of the table could link with
    new_code = link_code(keys.link_code, pending.link_nonce)
    assert len(new_code.replace("-", "")) == 20
    assert pending.link_code_hash == link_code_hash(new_code) != link_code_hash("K7QM-3TXA")
    assert pending.link_code_expires == "2099-01-01T00:00:00.000000Z"
    assert linked.link_nonce is None and linked.link_code_hash is None


def test_agent_credentials_of_version_5_become_token_families(database_url: str) -> None:
    engine = open_database(database_url)
    with engine.begin() as conn:
        _as_version_5_left_it(conn)
        conn.execute(update(migrations.schema_version).values(version=5))
        conn.execute(insert(companies).values(id="c1", name="Acme", created="2026-01-01"))
        for connection_id, status in (("k1", "Linked"), ("k2", "Unlinked")):
            conn.execute(
                text(
                    "INSERT INTO connections (id, company_id, platform_key, status, created)"
                    " VALUES (:id, 'c1', 'gncs', :status, '2026-01-01')"
                ),
                {"id": connection_id, "status": status},
            )
            conn.execute(
                text(
                    "INSERT INTO agent_credentials (connection_id, access_hash, access_expires,"
                    " refresh_hash, refresh_expires) VALUES (:id, :access, :far, :refresh, :far)"
                ),
                {
                    "id": connection_id,
                    "access": token_hash(f"access-{connection_id}"),
                    "refresh": token_hash(f"refresh-{connection_id}"),
                    "far": "2099-01-01T00:00:00.000000Z",
                },
            )
    engine.dispose()

    with cloud_on(database_url, FakeClock()) as cloud:
        assert "agent_credentials" not in inspect(cloud.services.db.engine).get_table_names()
        # The linked agent goes on as if nothing happened: its tokens still work, and rotate.
        agent = {"Authorization": "Bearer access-k1"}
        assert cloud.http.post("/agent/v1/poll", json={}, headers=agent).status_code == 200
        renewed = cloud.http.post("/agent/v1/token", json={"refreshToken": "refresh-k1"})
        assert renewed.status_code == 200, renewed.text
        # The unlinked connection's credential, which used to go on working, is refused.
        refused = cloud.http.post("/agent/v1/token", json={"refreshToken": "refresh-k2"})
        assert refused.status_code == 401 and refused.json()["reason"] == "unlinked"
