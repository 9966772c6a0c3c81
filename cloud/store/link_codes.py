"""A connection's link code: issued, shown in its linkUrl, looked up when typed, spent.

Nothing reusable is stored. A connection keeps a random nonce and the hash of its code; the
code itself is derived from the nonce with a key from the server secret
(``cloud/store/server_secret.py``) whenever the public API or the Portal shows the linkUrl (Codat's
API serves it on every read of the connection, so it must be recoverable), and a typed code is
found by its hash. Why derive rather than store the code: a copy of the connections table (a
backup, a replica, an export, a query log, a read-only SQL injection) no longer hands out codes
that link an agent to a company; only someone who also holds the server secret can compute
them, and someone with the whole database has everything anyway. The hash lookup also means
the database never compares a typed code against a stored one character by character.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from cloud.store.tokens import LINK_CODE_LIFETIME, link_code, link_code_hash, new_link_nonce
from protocol.clock import to_iso


class LinkCodes:
    def __init__(self, key: bytes, public_url: str) -> None:
        self._key = key
        self.public_url = public_url

    def __repr__(self) -> str:
        return f"LinkCodes({self.public_url!r})"  # the key stays out of logs

    def issue(self, now: datetime) -> dict[str, Any]:
        """The values that give a connection a fresh code (for ``connections``)."""
        nonce = new_link_nonce()
        return {
            "link_nonce": nonce,
            "link_code_hash": link_code_hash(link_code(self._key, nonce)),
            "link_code_expires": to_iso(now + LINK_CODE_LIFETIME),
        }

    @staticmethod
    def spent() -> dict[str, Any]:
        """The values that leave a connection without a code."""
        return {"link_nonce": None, "link_code_hash": None, "link_code_expires": None}

    def code_of(self, connection: RowMapping) -> str | None:
        nonce: str | None = connection["link_nonce"]
        return link_code(self._key, nonce) if nonce else None

    def url_of(self, connection: RowMapping | None) -> str:
        """The connection's linkUrl: with its code while it has one, else the bare link page."""
        code = self.code_of(connection) if connection is not None else None
        return f"{self.public_url}/link/{code}" if code else f"{self.public_url}/link"

    @staticmethod
    def lookup_hash(typed: str) -> str:
        """The hash a typed code is found by (``connections.link_code_hash``)."""
        return link_code_hash(typed)
