"""The one place credentials are kept: the OS keyring, or a file only when the user opts in.

Each connection has two entries: its refresh token (user = the connection id) and the access
token that came with it (user = the connection id + ``ACCESS_ENTRY``), so that every Connector
process of this user on this PC uses the same access token instead of each renewing its own
(see :mod:`agent.cloud_api.tokens`). Neither is ever written anywhere else.

The keyring backend is whatever the ``keyring`` library picks, so ``PYTHON_KEYRING_BACKEND``
and keyring's own config file are honoured. When it finds no usable backend (no Secret Service
on a headless Linux box, say) we refuse and say how to fix it, instead of quietly writing a
secret to disk.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import filelock
import keyring
import keyring.backend
from keyring.backends import chainer, fail
from keyring.errors import KeyringError

from agent.errors import CredentialStoreUnavailable
from agent.support.config import CredentialStoreKind, write_atomically
from agent.support.private_files import make_private_dir

log = logging.getLogger(__name__)

SERVICE = "Connector"
ACCESS_ENTRY = " access"  # appended to the connection id: that connection's access token
# A proxy's password, by its user, host and port (agent/support/proxy_secret.py).
PROXY_ENTRY = "proxy "

NO_KEYRING_FIX = (
    "Connector keeps its connection credential in your system's keyring, and none is available "
    "here. On Linux, install and unlock a Secret Service keyring (for example: sudo apt install "
    "gnome-keyring, then log in to a desktop session, or run inside dbus-run-session with the "
    "keyring unlocked). On a machine where that is impossible you may choose a different keyring "
    "backend with PYTHON_KEYRING_BACKEND, or, knowing the credential is then readable by anyone "
    "who can read your files, re-run with --insecure-file-store."
)


class PlaintextFileKeyring(keyring.backend.KeyringBackend):
    """A JSON file readable only by its owner. Used only when the user asks for it explicitly.

    Every change reads the file, changes one entry and writes it whole, under a file lock beside
    it: two processes changing different entries at once (two links' credentials) would
    otherwise each write back the other's entry as it was before."""

    priority = -1.0  # never chosen by keyring itself

    def __init__(self, path: Path) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring's base is untyped
        self.path = path
        self._changing = filelock.FileLock(
            path.with_name(path.name + ".lock"), mode=0o600, thread_local=False
        )

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            data: dict[str, dict[str, str]] = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return data

    def _store(self, data: dict[str, dict[str, str]]) -> None:
        make_private_dir(self.path.parent)
        # Create it private before the secret goes in, so it is never world-readable.
        old_umask = os.umask(0o077)
        try:
            write_atomically(self.path, json.dumps(data, indent=2))
        finally:
            os.umask(old_umask)
        self.path.chmod(0o600)

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        make_private_dir(self.path.parent)
        with self._changing:
            data = self._load()
            data.setdefault(service, {})[username] = password
            self._store(data)

    def delete_password(self, service: str, username: str) -> None:
        make_private_dir(self.path.parent)
        with self._changing:
            data = self._load()
            data.get(service, {}).pop(username, None)
            self._store(data)


class CredentialStore:
    """Saves, loads and deletes a connection's refresh token, and the access token beside it."""

    def __init__(self, backend: keyring.backend.KeyringBackend, *, insecure: bool) -> None:
        self._backend = backend
        self.insecure = insecure

    @property
    def backend_name(self) -> str:
        return f"{type(self._backend).__module__}.{type(self._backend).__name__}"

    def save(self, connection_id: str, secret: str) -> None:
        try:
            self._backend.set_password(SERVICE, connection_id, secret)
        except KeyringError as exc:
            raise CredentialStoreUnavailable(f"{NO_KEYRING_FIX} ({exc})") from exc

    def load(self, connection_id: str) -> str | None:
        try:
            return self._backend.get_password(SERVICE, connection_id)
        except KeyringError as exc:
            raise CredentialStoreUnavailable(f"{NO_KEYRING_FIX} ({exc})") from exc

    def save_access(self, connection_id: str, record: str) -> None:
        """Keep the access token (``record``: :mod:`agent.cloud_api.tokens` writes and reads it)."""
        self.save(connection_id + ACCESS_ENTRY, record)

    def load_access(self, connection_id: str) -> str | None:
        return self.load(connection_id + ACCESS_ENTRY)

    def save_proxy_password(self, entry: str, password: str) -> None:
        """Keep a proxy's password (``entry``: :func:`agent.support.proxy_secret.entry_name`)."""
        self.save(PROXY_ENTRY + entry, password)

    def load_proxy_password(self, entry: str) -> str | None:
        return self.load(PROXY_ENTRY + entry)

    def delete(self, connection_id: str) -> None:
        """Forget both of the connection's entries."""
        for user in (connection_id, connection_id + ACCESS_ENTRY):
            try:
                self._backend.delete_password(SERVICE, user)
            except keyring.errors.PasswordDeleteError:
                pass
            except KeyringError as exc:
                raise CredentialStoreUnavailable(f"{NO_KEYRING_FIX} ({exc})") from exc


def open_credential_store(kind: CredentialStoreKind, file_path: Path) -> CredentialStore:
    """The store of ``kind``; for "keyring", raises when the OS has no usable keyring."""
    if kind == "file":
        log.warning("Credentials are kept in a plain file (%s) at the user's request", file_path)
        return CredentialStore(PlaintextFileKeyring(file_path), insecure=True)
    backend = keyring.get_keyring()
    if not _usable(backend):
        raise CredentialStoreUnavailable(NO_KEYRING_FIX)
    log.info("Credentials are kept in %s", type(backend).__name__)
    return CredentialStore(backend, insecure=False)


def _usable(backend: keyring.backend.KeyringBackend) -> bool:
    if isinstance(backend, fail.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return bool(backend.backends)
    # keyring.backends.null.Keyring accepts everything and keeps nothing.
    return type(backend).__module__ != "keyring.backends.null"
