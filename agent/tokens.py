"""The agent's credentials for one connection: a refresh token in the keyring, an access token
in memory only.

The cloud rotates the refresh token on every use, so the new one is saved to the keyring the
moment it arrives; the access token is short-lived and never leaves this process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from agent import redaction
from agent.clock import Clock, utc_now
from agent.credentials import CredentialStore
from agent.errors import NotLinked

# Refresh a little before the cloud would refuse the access token.
EXPIRY_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    access_expires: datetime
    refresh_token: str


class TokenKeeper:
    """Hands out a valid access token, refreshing (and saving the rotated refresh token) as
    needed. Thread-safe: the poll loop and the lease keeper share it."""

    def __init__(
        self,
        connection_id: str,
        store: CredentialStore,
        *,
        clock: Clock = utc_now,
        first_grant: TokenGrant | None = None,
    ) -> None:
        self.connection_id = connection_id
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._access: str | None = None
        self._expires: datetime | None = None
        if first_grant is not None:
            self.accept(first_grant)

    def accept(self, grant: TokenGrant) -> None:
        """Keep a new grant: the refresh token to the keyring first, then the access token."""
        redaction.register(grant.access_token)
        redaction.register(grant.refresh_token)
        self._store.save(self.connection_id, grant.refresh_token)
        self._access = grant.access_token
        self._expires = grant.access_expires

    def access_token(self, refresh: Callable[[str], TokenGrant]) -> str:
        """A valid access token, using ``refresh(refresh_token)`` when the current one is old."""
        with self._lock:
            if self._access and self._expires and self._clock() + EXPIRY_MARGIN < self._expires:
                return self._access
            return self._refresh(refresh)

    def force_refresh(self, refresh: Callable[[str], TokenGrant], rejected: str) -> str:
        """The cloud refused ``rejected``: refresh, unless another thread already has."""
        with self._lock:
            if self._access and self._access != rejected:
                return self._access
            return self._refresh(refresh)

    def _refresh(self, refresh: Callable[[str], TokenGrant]) -> str:
        refresh_token = self._store.load(self.connection_id)
        if refresh_token is None:
            raise NotLinked(
                "This connection's credential is missing from the keyring. Link it again."
            )
        redaction.register(refresh_token)
        self.accept(refresh(refresh_token))
        assert self._access is not None
        return self._access
