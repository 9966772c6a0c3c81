"""The facade's book preview (for the wizard's verify page) and the log level and proxy settings
(for the tray's settings dialog), against real books and real sockets."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.network import BadProxy, proxy_options
from agent.commands.linking import BookPreview
from agent.errors import BookUnreadable, ConnectorError
from agent.facade import Connector
from agent.support.config import AgentConfig, ConfigError, Paths, load_config
from agent.support.logs import setup_logging
from tests.support.paths import SAMPLE_BOOKS


@pytest.fixture
def connector(tmp_path: Path) -> Connector:
    return Connector(Paths.resolve({"CONNECTOR_HOME": str(tmp_path / "home")}))


@pytest.mark.parametrize("book_format", sorted(SAMPLE_BOOKS))
def test_a_preview_says_what_the_book_holds(connector: Connector, book_format: str) -> None:
    preview = connector.preview_book(SAMPLE_BOOKS[book_format])
    assert preview == BookPreview(
        book_path=SAMPLE_BOOKS[book_format].resolve(),
        company_name="Harbor Lane Design Studio",
        last_transaction=date(2026, 3, 31),
        accounts=27,
        customers=6,
        invoices=4,
        suppliers=3,
    )
    # Nothing linked, nothing saved: a preview spends no link code and changes no setting.
    assert load_config(connector.paths) == AgentConfig()


def test_a_preview_refuses_a_file_that_is_not_a_book(connector: Connector, tmp_path: Path) -> None:
    wrong = tmp_path / "letter.gnucash"
    wrong.write_text("Dear Sir,")
    with pytest.raises(BookUnreadable) as raised:
        connector.preview_book(wrong)
    assert "not a GnuCash file" in raised.value.message
    with pytest.raises(BookUnreadable):
        connector.preview_book(tmp_path / "missing.gnucash")


def test_the_log_level_is_saved_applied_and_used_by_the_next_start(
    connector: Connector, tmp_path: Path
) -> None:
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        connector.set_log_level("WARNING")
        assert root.level == logging.WARNING
        assert connector.status().log_level == "WARNING"
        root.setLevel(logging.INFO)
        setup_logging(tmp_path / "logs", level=connector.config().log_level)
        assert root.level == logging.WARNING
        logging.getLogger("agent.test").info("chatter")
        logging.getLogger("agent.test").warning("worth keeping")
        text = (tmp_path / "logs" / "connector.log").read_text()
        assert "worth keeping" in text and "chatter" not in text
        with pytest.raises(ConfigError):
            connector.set_log_level("LOUD")
    finally:
        for handler in root.handlers[:]:
            if handler not in before[0]:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(before[1])


def test_the_proxy_setting_is_checked_and_saved(connector: Connector) -> None:
    assert connector.status().proxy == "system"  # the default keeps the environment's proxy
    connector.set_proxy("http://proxy.example:3128")
    assert connector.config().proxy == "http://proxy.example:3128"
    connector.set_proxy(None)
    assert connector.config().proxy is None
    with pytest.raises(BadProxy):
        connector.set_proxy("proxy.example")
    assert connector.config().proxy is None
    assert proxy_options("system") == {"proxy": None, "trust_env": True}
    assert proxy_options(None) == {"proxy": None, "trust_env": False}
    assert proxy_options("http://p:1") == {"proxy": "http://p:1", "trust_env": False}


class _RecordingProxy:
    """A TCP listener that records the first request line it gets and answers 502."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                data = conn.recv(65536).decode("latin-1")
                self.lines.append(data.split("\r\n", 1)[0])
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def recording_proxy() -> Iterator[_RecordingProxy]:
    proxy = _RecordingProxy()
    yield proxy
    proxy.close()


def test_the_cloud_client_goes_through_the_chosen_proxy(
    recording_proxy: _RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud = "http://127.0.0.1:9"  # nothing listens there: only the proxy can answer
    with CloudClient(cloud, proxy=recording_proxy.url) as client, pytest.raises(ConnectorError):
        client.link("ABCD-EFGH", ["customers"])
    assert recording_proxy.lines == [f"POST {cloud}/agent/v1/link HTTP/1.1"]

    # "system" follows the environment; None ignores it and goes direct.
    monkeypatch.setenv("HTTP_PROXY", recording_proxy.url)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("no_proxy", raising=False)
    with CloudClient(cloud, proxy="system") as client, pytest.raises(ConnectorError):
        client.link("ABCD-EFGH", ["customers"])
    assert len(recording_proxy.lines) == 2
    with CloudClient(cloud, proxy=None) as client, pytest.raises(ConnectorError):
        client.link("ABCD-EFGH", ["customers"])
    assert len(recording_proxy.lines) == 2
