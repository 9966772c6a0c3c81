"""mitmproxy as a company firewall that inspects encrypted traffic: it ends the agent's TLS with
a certificate its own authority forged for the cloud's name, reads the requests, and opens its
own TLS to the real cloud.

mitmproxy runs from a virtual environment of its own (``.venv/mitmproxy``, made here on first
use): its releases pin old versions of libraries the project also uses (mitmproxy 11, the last
for Python 3.11, wants ``cryptography<44.1`` and ``h11<0.15``; the project's venv has newer ones,
and h11 before 0.16 has a request-smuggling flaw), so installing it beside the project would
downgrade them.
"""

from __future__ import annotations

import contextlib
import fcntl
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path
from types import TracebackType

from cloud.local import free_port
from tests.support.processes import stop_process
from tests.support.system import require

MITMPROXY_REQUIREMENT = "mitmproxy>=11,<13"
VENV_DIR = Path(sys.prefix) / "mitmproxy"
START_SECONDS = 30.0


def mitmdump_command() -> Path:
    """``mitmdump`` from its own venv, built once (about 30 s) and then reused."""
    mitmdump = VENV_DIR / "bin" / "mitmdump"
    stamp = VENV_DIR / ".installed"
    VENV_DIR.parent.mkdir(parents=True, exist_ok=True)
    with (VENV_DIR.parent / ".mitmproxy.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be building it right now
        if stamp.exists() and stamp.read_text() == MITMPROXY_REQUIREMENT and mitmdump.exists():
            return mitmdump
        venv.create(VENV_DIR, with_pip=True, clear=True)
        installed = subprocess.run(
            [str(VENV_DIR / "bin" / "python"), "-m", "pip", "install", "-q", MITMPROXY_REQUIREMENT],
            capture_output=True,
            text=True,
            timeout=300,
        )
        require(
            installed.returncode == 0 and mitmdump.exists(),
            MITMPROXY_REQUIREMENT,
            f"a TLS-inspecting proxy in its own venv (pip said: {installed.stderr[-500:]})",
            source="PyPI package",
        )
        stamp.write_text(MITMPROXY_REQUIREMENT)
    return mitmdump


class InspectingProxy:
    """mitmdump on a free loopback port for the length of a ``with`` block; it trusts only
    ``upstream_ca`` on its way to the cloud."""

    def __init__(self, folder: Path, upstream_ca: Path) -> None:
        self.folder = folder
        self.upstream_ca = upstream_ca
        self.port = free_port()
        self.log_path = folder / "mitmdump.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        """The authority it forges certificates with: what IT hands out to trust."""
        return self.folder / "mitmproxy-ca-cert.pem"

    def seen(self) -> str:
        """What it logged: one line per request it read (method and URL) and its answer."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> InspectingProxy:
        mitmdump = mitmdump_command()
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            str(mitmdump),
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            str(self.port),
            "--set",
            f"confdir={self.folder}",  # its authority is made here on first start
            "--set",
            f"ssl_verify_upstream_trusted_ca={self.upstream_ca}",
        ]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
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
                raise RuntimeError(f"mitmdump exited at once:\n{self.seen()}")
            if self.ca_file.exists():
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", self.port)),
                ):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"mitmdump did not listen within {START_SECONDS} s:\n{self.seen()}")
