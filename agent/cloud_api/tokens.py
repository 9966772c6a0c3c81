"""The one owner of a connection's tokens on this PC: :class:`TokenKeeper`.

The cloud rotates the refresh token on every use and keeps one access token per connection
current: a renewal by anyone replaces the access token everyone else holds, and a refresh token
used again after its successor was used revokes the connection (``docs/PROTOCOL.md``). Every
thread and process that renewed on its own raced the others, and the losers were told to
re-link a connection that was fine (issue #13). So:

- **Within a process**, one keeper per connection is shared (the facade keeps them), and any
  others made for the same connection take the same lock.
- **Across processes**, the tokens are shared through the credential store: the refresh token,
  and beside it the access token that came with it, when it should be renewed, and a digest of
  the refresh token it belongs to. Every renewal, and every read of them, happens under the
  connection's :class:`~agent.support.credential_lock.CredentialLock`; inside it the store is read
  again, since another process may have renewed meanwhile. A process that finds a usable
  access token there uses it; only one that finds none renews, and saves both for the others.
- A token is renewed a little before it expires (:data:`EXPIRY_MARGIN`), and never before half
  of its life has passed, so that a short-lived token is still used before it is replaced.

Nothing is ever written but to the credential store (the OS keyring, or the file the user chose).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from agent.errors import AuthorizationLost, NotLinked
from agent.support import redaction
from agent.support.credential_lock import CredentialLock
from agent.support.credentials import CredentialStore
from protocol.clock import Clock, from_iso, to_iso, utc_now

# Renew a little before the cloud would refuse the access token.
EXPIRY_MARGIN = timedelta(seconds=30)

Refresh = Callable[[str], "TokenGrant"]  # refresh token -> a new pair (CloudClient.refresh)


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    access_expires: datetime
    refresh_token: str


@dataclass(frozen=True)
class SharedAccess:
    """The access token every holder of the connection on this PC uses, as stored."""

    token: str
    expires: datetime
    renew_after: datetime
    refresh_digest: str  # of the refresh token it came with: a renewal replaces both

    @classmethod
    def of(cls, grant: TokenGrant, now: datetime) -> SharedAccess:
        margin = min(EXPIRY_MARGIN, (grant.access_expires - now) / 2)
        return cls(
            grant.access_token,
            grant.access_expires,
            grant.access_expires - margin,
            _digest(grant.refresh_token),
        )

    def usable(self, now: datetime) -> bool:
        return now < self.renew_after

    def dumps(self) -> str:
        return json.dumps(
            {
                "accessToken": self.token,
                "expires": to_iso(self.expires),
                "renewAfter": to_iso(self.renew_after),
                "refreshDigest": self.refresh_digest,
            }
        )

    @classmethod
    def loads(cls, text: str) -> SharedAccess | None:
        """The record in ``text``; None when it is not one (written by another version)."""
        try:
            record = json.loads(text)
            return cls(
                str(record["accessToken"]),
                from_iso(record["expires"]),
                from_iso(record["renewAfter"]),
                str(record["refreshDigest"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


class TokenKeeper:
    """Hands out a valid access token for one connection, renewing it (and saving the rotated
    refresh token) as needed, in step with every other holder on this PC. Thread-safe: a link's
    worker, its lease keeper and the tray's commands share one.

    ``lock_folder`` holds the lock file that processes share (the agent's ``locks_dir``); None
    keeps the coordination to this process, for a store no other process can read.
    """

    def __init__(
        self,
        connection_id: str,
        store: CredentialStore,
        *,
        lock_folder: Path | None = None,
        clock: Clock = utc_now,
        first_grant: TokenGrant | None = None,
    ) -> None:
        self.connection_id = connection_id
        self._store = store
        self._clock = clock
        self._lock = CredentialLock(connection_id, lock_folder)
        self._current: SharedAccess | None = None  # swapped whole: read without the lock
        if first_grant is not None:
            self.accept(first_grant)

    def accept(self, grant: TokenGrant) -> None:
        """Keep a new grant (a link's first tokens) for every holder on this PC."""
        with self._lock.held():
            self._keep(grant)

    def access_token(self, refresh: Refresh) -> str:
        """A usable access token: the one in hand, else the one another holder saved, else a
        new one from ``refresh(refresh_token)``."""
        current = self._current
        if current is not None and current.usable(self._clock()):
            return current.token
        with self._lock.held():
            return self._shared_or_renewed(refresh, rejected=None)

    def renew_after_refusal(self, refresh: Refresh, rejected: str) -> str:
        """The cloud refused ``rejected``: another holder may have renewed it already (then
        its token is used), or a renewal is due. A refusal of the renewal itself, with a reason
        that says the authorization is gone, raises :class:`AuthorizationLost`."""
        with self._lock.held():
            return self._shared_or_renewed(refresh, rejected)

    def forget(self) -> None:
        """Drop the token in hand (the connection was linked again): the next call reads the
        store."""
        self._current = None

    def _shared_or_renewed(self, refresh: Refresh, rejected: str | None) -> str:
        refresh_token = self._store.load(self.connection_id)
        if refresh_token is None:
            raise NotLinked(
                "This connection's credential is missing from the keyring. Link it again."
            )
        redaction.register(refresh_token)
        shared = self._shared(refresh_token)
        if shared is not None and shared.token != rejected and shared.usable(self._clock()):
            self._current = shared
            return shared.token
        try:
            grant = refresh(refresh_token)
        except AuthorizationLost:
            self._current = None
            raise
        self._keep(grant)
        return grant.access_token

    def _shared(self, refresh_token: str) -> SharedAccess | None:
        """The access token saved with ``refresh_token``, if any (not one left behind by a
        holder that ended between saving the two)."""
        text = self._store.load_access(self.connection_id)
        shared = SharedAccess.loads(text) if text else None
        if shared is None or shared.refresh_digest != _digest(refresh_token):
            return None
        redaction.register(shared.token)
        return shared

    def _keep(self, grant: TokenGrant) -> None:
        """The refresh token first: it is the one that must never be lost."""
        redaction.register(grant.access_token)
        redaction.register(grant.refresh_token)
        self._store.save(self.connection_id, grant.refresh_token)
        shared = SharedAccess.of(grant, self._clock())
        self._store.save_access(self.connection_id, shared.dumps())
        self._current = shared


def _digest(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()[:32]
