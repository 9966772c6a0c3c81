"""A real OS keyring for tests: a private D-Bus session with an unlocked GNOME Keyring.

Processes started with :attr:`KeyringSession.env` keep secrets in it through the Secret Service
API, exactly as on a Linux desktop.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from tests.support.system import require_commands


class KeyringSession:
    def __init__(self, home: Path) -> None:
        require_commands("gnome-keyring and dbus", "dbus-daemon", "gnome-keyring-daemon")
        self.home = home
        self._pids: list[int] = []
        self.env: dict[str, str] = {}

    def __enter__(self) -> KeyringSession:
        self.home.mkdir(parents=True, exist_ok=True)
        base_env = {
            **os.environ,
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.home / "data"),
            "XDG_RUNTIME_DIR": str(self.home / "run"),
        }
        (self.home / "run").mkdir(mode=0o700, exist_ok=True)
        out = subprocess.run(
            ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
            capture_output=True,
            text=True,
            check=True,
            env=base_env,
        ).stdout.split()
        address, pid = out[0], int(out[1])
        self._pids.append(pid)
        self.env = {**base_env, "DBUS_SESSION_BUS_ADDRESS": address}
        started = subprocess.run(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets"],
            input="test-password",
            capture_output=True,
            text=True,
            check=True,
            env=self.env,
        )
        for line in started.stdout.splitlines():
            if line.startswith("GNOME_KEYRING_PID="):
                self._pids.append(int(line.split("=", 1)[1]))
        return self

    def __exit__(self, *_exc: object) -> None:
        for pid in reversed(self._pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
