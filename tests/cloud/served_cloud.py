"""The cloud app, webhooks and all, served by uvicorn in this process on a free loopback port."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

import httpx
import uvicorn
from codat_platform import CodatPlatform
from codat_platform.models import shared
from codat_platform.utils import RetryConfig

from cloud.app import create_app
from cloud.local import free_port
from cloud.settings import CloudSettings
from cloud.webhooks.delivery import WebhookDispatcher
from tests.support.cloud_harness import API_KEY
from tests.support.waiting import eventually


@dataclass
class ServedCloud:
    url: str
    dispatcher: WebhookDispatcher
    auth: ClassVar[dict[str, str]] = {
        "Authorization": "Basic " + base64.b64encode(API_KEY.encode()).decode()
    }

    def sdk(self) -> CodatPlatform:
        return CodatPlatform(
            server_url=self.url,
            security=shared.Security(auth_header=self.auth["Authorization"]),
            retry_config=RetryConfig("none", None, False),
        )

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url)


@contextmanager
def served(settings: CloudSettings) -> Iterator[ServedCloud]:
    """The app for ``settings`` (API key: ``tests.conftest.API_KEY``), without the sweep."""
    app = create_app(settings, run_maintenance=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    try:
        eventually(lambda: server.started, timeout=10)
        yield ServedCloud(f"http://127.0.0.1:{port}", app.state.webhooks)
    finally:
        server.should_exit = True
        thread.join(10)
