"""The reference cloud served by uvicorn on a loopback port, in this process: real HTTP for the
agent and for ``connector`` commands run as other processes, and the cloud's own services at
hand for what a test must set up inside it. It can be stopped and started again on the same
port and database (the agent then finds it unreachable, then back)."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn

from cloud.app import create_app
from cloud.local import free_port
from cloud.services import Services
from cloud.settings import CloudSettings
from tests.support.cloud_harness import API_KEY


class ServedCloud:
    def __init__(self, workdir: Path, *, max_poll_wait_seconds: float = 10.0) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = CloudSettings(
            database_url=f"sqlite:///{workdir / 'cloud.db'}",
            api_key=API_KEY,
            public_url=self.url,
            max_poll_wait_seconds=max_poll_wait_seconds,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.services: Services | None = None

    def client(self) -> httpx.Client:
        """The public API, authorised with the API key (what ``runtime_harness`` expects)."""
        key = base64.b64encode(API_KEY.encode()).decode()  # Codat's Basic: the key alone
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Basic {key}"}, timeout=30.0
        )

    def start(self) -> None:
        app = create_app(self.settings, run_maintenance=False)
        self.services = app.state.services
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                timeout_graceful_shutdown=1,  # a stop cuts the waiting long polls short
            )
        )
        thread = threading.Thread(target=server.run, name="test-served-cloud", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The served cloud did not start on port {self.port}")
            time.sleep(0.05)
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(30)
        self._server = self._thread = None

    def __enter__(self) -> ServedCloud:
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()
