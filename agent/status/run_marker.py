"""Whether the agent is running on this PC, as another process (``connector status``) can tell.

The process that runs the agent (the tray app, or ``connector run``) holds an OS file lock on
``agent.lock`` in the data folder while it serves links. The OS lets the lock go when the
process ends however it ends, so a crash never leaves a stale "running" behind (a pid file
would). The lock file holds nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from filelock import FileLock, Timeout

from agent.support.private_files import make_private_dir

log = logging.getLogger(__name__)

# A probe holds the lock for an instant; waiting this long rides one out.
HOLD_TIMEOUT_SECONDS = 2.0


def _lock(path: Path) -> FileLock:
    make_private_dir(path.parent)
    # Not thread-local: the tray starts the agent on one thread and stops it on another.
    return FileLock(path, mode=0o600, thread_local=False)


class RunMarker:
    """Held from :meth:`hold` to :meth:`release` by the process that runs the agent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = _lock(path)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def hold(self) -> bool:
        """Take the marker; False if another process runs the agent already."""
        if self._lock.is_locked:
            return True
        try:
            self._lock.acquire(timeout=HOLD_TIMEOUT_SECONDS)
        except Timeout:
            log.warning("Another Connector process on this PC runs the agent (%s)", self.path)
            return False
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)


def running_elsewhere(path: Path) -> bool:
    """Whether a process other than the caller's own :class:`RunMarker` holds the marker."""
    probe = _lock(path)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    probe.release(force=True)
    return False
