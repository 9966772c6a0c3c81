"""One holder at a time for a connection's credential, across every thread and process of this
user on this PC.

The cloud rotates the refresh token on every use, and a replaced refresh token used again after
its successor was used revokes the connection (``docs/PROTOCOL.md``, Credentials). So a renewal,
and every read of the tokens a renewal may change, happens under one lock per connection:

- among the threads of this process, one lock shared by every
  :class:`~agent.cloud_api.tokens.TokenKeeper` of the connection here, however many were made;
- among processes (the tray app, ``connector run``, each CLI command), an OS file lock
  (``filelock``: ``flock`` on Unix, ``LockFileEx`` on Windows) on a file in the agent's data
  folder, private to its user (0600). The OS lets go of it when its holder ends, however it ends,
  so a process killed while renewing never blocks the others.

Waiting is bounded: a holder that keeps the lock longer than :data:`LOCK_WAIT_SECONDS` (a keyring
waiting for its password, a cloud slow to answer) makes the others fail with
:class:`~agent.errors.CredentialBusy`, which is network class: the link tries again later.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from agent.errors import CredentialBusy
from agent.support.own_files import credential_lock_name
from agent.support.private_files import make_private_dir

# Longer than a renewal can take (the client's 30 s timeout and a keyring's own round trips).
LOCK_WAIT_SECONDS = 60.0
LOCK_FILE_MODE = 0o600

BUSY = (
    "Another Connector on this PC (the tray app, `connector run` or a command) has been using "
    "this connection's credential for over a minute, perhaps waiting for the keyring to be "
    "unlocked. Connector tries again shortly; if this goes on, unlock the keyring or close the "
    "other Connector."
)

_registry = threading.Lock()
_process_locks: dict[str, threading.Lock] = {}


def _process_lock(connection_id: str) -> threading.Lock:
    """The lock every keeper of ``connection_id`` in this process shares."""
    with _registry:
        return _process_locks.setdefault(connection_id, threading.Lock())


class CredentialLock:
    """The lock around one connection's credential. ``folder`` holds the lock file; None keeps
    to this process (a credential store no other process can read: the tests' memory store)."""

    def __init__(
        self, connection_id: str, folder: Path | None, *, wait: float = LOCK_WAIT_SECONDS
    ) -> None:
        self._threads = _process_lock(connection_id)
        self._folder = folder
        self._wait = wait
        self.path = None if folder is None else folder / credential_lock_name(connection_id)
        self._processes = (
            None
            if self.path is None
            # thread_local=False: held by whichever thread holds the process lock around it.
            else filelock.FileLock(self.path, mode=LOCK_FILE_MODE, timeout=wait, thread_local=False)
        )

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the credential: first among this process's threads, then among processes."""
        if not self._threads.acquire(timeout=self._wait):
            raise CredentialBusy(BUSY)
        try:
            if self._processes is None or self._folder is None:
                yield
                return
            make_private_dir(self._folder)
            try:
                self._processes.acquire()
            except filelock.Timeout as waited:
                raise CredentialBusy(BUSY) from waited
            try:
                yield
            finally:
                self._processes.release()
        finally:
            self._threads.release()
