"""Debian's tinyproxy as a company's forward proxy: https goes through it as CONNECT tunnels,
optionally only for a user with a password (proxy Basic auth), and its log says what it passed.

tinyproxy rather than squid: it does CONNECT and Basic auth, in one 120 kB binary
(``tinyproxy-bin``, no daemon set up by the package) that starts in milliseconds.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from cloud.local import free_port
from tests.support.processes import stop_process
from tests.support.system import require_commands

START_SECONDS = 10.0


class Tinyproxy:
    """Runs tinyproxy on a free loopback port for the length of a ``with`` block."""

    def __init__(self, folder: Path, *, user: str | None = None, password: str | None = None):
        require_commands("tinyproxy-bin", "tinyproxy")
        self.folder = folder
        self.port = free_port()
        self.user = user
        self.password = password
        self.log_path = folder / "tinyproxy.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """``host:port``, for a proxy URL."""
        return f"127.0.0.1:{self.port}"

    def url(self, user: str | None = None, password: str | None = None) -> str:
        """The proxy's URL, with credentials in it when given (as HTTPS_PROXY carries them)."""
        if user is None:
            return f"http://{self.address}"
        return f"http://{user}:{password}@{self.address}"

    def tunnels(self) -> list[str]:
        """The CONNECT requests tinyproxy received, as its log has them: ``CONNECT host:port``."""
        if not self.log_path.exists():
            return []
        return [
            line.split("): ", 1)[1].removesuffix(" HTTP/1.1").removesuffix(" HTTP/1.0")
            for line in self.log_path.read_text(errors="replace").splitlines()
            if "Request (file descriptor" in line and "): CONNECT " in line
        ]

    def __enter__(self) -> Tinyproxy:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "tinyproxy.conf"
        lines = [
            f"Port {self.port}",
            "Listen 127.0.0.1",
            "Timeout 60",
            f'LogFile "{self.log_path}"',
            "LogLevel Connect",  # one line per connection and per request: the CONNECTs
            "MaxClients 20",
        ]
        if self.user is not None:
            lines.append(f"BasicAuth {self.user} {self.password}")
        config.write_text("\n".join(lines) + "\n")
        # -d: stay in the foreground, so this process owns it and can stop it.
        self._process = subprocess.Popen(
            ["tinyproxy", "-d", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_until_listening()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            stop_process(self._process)

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = self.log_path.read_text() if self.log_path.exists() else ""
                raise RuntimeError(f"tinyproxy exited at once:\n{log}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        raise RuntimeError(f"tinyproxy did not listen within {START_SECONDS} s")
