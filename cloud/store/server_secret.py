"""The server's own secret: random, made once per database, shared by every server process.

It keys everything the cloud signs or derives and must not be guessable from anything a client
sees: the Portal's session cookies, the link codes (derived from a stored nonce), and the
successor of a rotated refresh token. It lives in the database (``server_secret``, one row) so
that every process serving the same database holds the same one without any configuration.
Each use gets its own key, derived from the secret and the use's name, so that a value made for
one purpose can never be passed off as another.

It used to be derived from the API key, which let anyone holding a Portal cookie test guesses
of the API key offline at millions a second: nothing derived from the secret says anything
about the API key now.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import Column, Connection, MetaData, String, Table, Text, select, text

_SECRET_BYTES = 32
_ROW = "main"

# Its own MetaData: the migration that introduces it must not depend on cloud.store.db's tables.
_metadata = MetaData()
server_secret = Table(
    "server_secret",
    _metadata,
    Column("name", String(16), primary_key=True),
    Column("secret", Text, nullable=False),  # hex
)


def ensure(conn: Connection) -> None:
    """Create the table and the secret if this database has none yet; keep an existing one.

    Runs in the transaction that opens the database (under PostgreSQL's start-up lock); the
    insert does nothing when another process made the secret first, so every process ends up
    with the one that was written.
    """
    server_secret.create(conn, checkfirst=True)
    conn.execute(
        text(
            "INSERT INTO server_secret (name, secret) VALUES (:name, :secret)"
            " ON CONFLICT DO NOTHING"
        ),
        {"name": _ROW, "secret": secrets.token_hex(_SECRET_BYTES)},
    )


def load(conn: Connection) -> bytes:
    value = conn.execute(
        select(server_secret.c.secret).where(server_secret.c.name == _ROW)
    ).scalar_one()
    return bytes.fromhex(value)


class ServerKeys:
    """The keys derived from the server secret, one per purpose."""

    def __init__(self, secret: bytes) -> None:
        self.portal_session = _derive(secret, "portal session v1")
        self.link_code = _derive(secret, "link code v1")
        self.token_rotation = _derive(secret, "refresh token successor v1")

    def __repr__(self) -> str:
        return "ServerKeys(<hidden>)"  # never in a log or a traceback's locals


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()
