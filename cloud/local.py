"""A throwaway reference cloud on a free loopback port, in its own process.

The demo and the end-to-end tests use it so that agent and cloud talk real HTTP, exactly as
they would across the internet.
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class CloudTls:
    """https for a :class:`LocalCloud`: its certificate and key, the name the certificate is for
    (the host in the cloud's URL, so link URLs carry it), and the authority that signed it,
    which clients must trust."""

    cert_file: Path
    key_file: Path
    ca_file: Path
    host_name: str

    def client_context(self) -> ssl.SSLContext:
        """Trusts this cloud's authority alone: what the test's own public API calls use."""
        return ssl.create_default_context(cafile=str(self.ca_file))


class LocalCloud:
    """Runs ``connector-cloud serve`` for the length of a ``with`` block: plain http on
    loopback, or https (``tls``) on ``bind_host``."""

    def __init__(
        self,
        workdir: Path,
        *,
        api_key: str | None = None,
        database_url: str | None = None,
        extra_args: tuple[str, ...] = (),
        bind_host: str = "127.0.0.1",
        tls: CloudTls | None = None,
    ) -> None:
        self.workdir = workdir
        self.api_key = api_key or secrets.token_urlsafe(32)
        self.port = free_port()
        self.bind_host = bind_host
        self.tls = tls
        if tls is None:
            self.url = f"http://{bind_host}:{self.port}"
        else:
            self.url = f"https://{tls.host_name}:{self.port}"
        self.database_path = workdir / "cloud.db"
        self.database_url = database_url or f"sqlite:///{self.database_path.resolve()}"
        self.extra_args = extra_args
        self.log_path = workdir / "cloud.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (benchmarks read its memory from /proc)."""
        return None if self._process is None else self._process.pid

    def exit_code(self) -> int | None:
        """The server's exit status once it has ended on its own; None while it runs (or when
        it was never started or was stopped)."""
        return None if self._process is None else self._process.poll()

    @property
    def auth_header(self) -> str:
        return "Basic " + base64.b64encode(self.api_key.encode()).decode()

    def client(self) -> httpx.Client:
        """An httpx client for the public API, authorised with the API key."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": self.auth_header},
            verify=self._verify(),
            trust_env=False,  # straight to the server, whatever proxy a test sets for the agent
        )

    def _verify(self) -> ssl.SSLContext | bool:
        return True if self.tls is None else self.tls.client_context()

    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server (again, after :meth:`stop`: same port, same database)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "cloud.cli",
            "serve",
            "--host",
            self.bind_host,
            "--port",
            str(self.port),
            "--database",
            self.database_url,
            "--log-level",
            "warning",
            *self._tls_args(),
            *self.extra_args,
        ]
        env = {**os.environ, "CONNECTOR_CLOUD_API_KEY": self.api_key}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        self._wait_until_healthy(timeout=30.0)

    def _tls_args(self) -> tuple[str, ...]:
        if self.tls is None:
            return ()
        files = ("--tls-cert", str(self.tls.cert_file), "--tls-key", str(self.tls.key_file))
        if self.tls.host_name == self.bind_host:
            return files  # the server's default public URL, https://HOST:PORT, is right
        # Link URLs must carry the name the certificate is for, not the address bound.
        return (*files, "--public-url", self.url)

    def stop(self, *, abrupt: bool = False) -> None:
        """Stop the server; ``abrupt`` kills it as a crash or a pulled plug would."""
        if self._process is not None:
            if abrupt:
                self._process.kill()
            else:
                self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def _wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        verify = self._verify()
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"The cloud exited early:\n{self.log_path.read_text()}")
            try:
                health = httpx.get(
                    f"{self.url}/health", timeout=1.0, verify=verify, trust_env=False
                )
                if health.status_code == 204:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"The cloud did not come up within {timeout} s")
