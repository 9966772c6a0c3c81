"""A real webhook consumer on loopback: records every POST, answers statuses from a script;
over TLS too, recording the server name each client asked for."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


class RecordingConsumer:
    """Answers each request with the next status of its script, then ``default``.

    A request counts as received once its body is read, before it is answered. ``location``
    is sent as the ``Location`` header of every answer (to offer a redirect); with ``tls``
    (a server context) the consumer speaks https, and ``server_names`` records the TLS server
    name (SNI) of each handshake.
    """

    def __init__(
        self,
        script: Iterable[int] = (),
        *,
        default: int = 200,
        gate: threading.Event | None = None,
        location: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.received: list[Received] = []
        self.server_names: list[str | None] = []
        self._script = list(script)
        self._default = default
        self._gate = gate  # when given, answers wait until it is set
        self._location = location
        self._scheme = "https" if tls is not None else "http"
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        if tls is not None:
            tls.sni_callback = self._on_server_name
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="test-consumer", daemon=True
        )

    @property
    def url(self) -> str:
        return self.url_at(str(self._server.server_address[0]))

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url_at(self, host: str) -> str:
        """This consumer's URL with ``host`` spelled as given (it must reach 127.0.0.1)."""
        return f"{self._scheme}://{host}:{self.port}/hooks"

    def _on_server_name(self, _socket: object, name: str | None, _context: object) -> None:
        with self._changed:
            self.server_names.append(name)

    def answer(self, *statuses: int) -> None:
        """Queue statuses for the next requests."""
        with self._changed:
            self._script.extend(statuses)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The first ``count`` requests, once they have arrived."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.received) >= count, timeout)
            assert arrived, f"expected {count} request(s), got {len(self.received)}"
            return list(self.received[:count])

    def __enter__(self) -> RecordingConsumer:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _next_status(self) -> int:
        with self._changed:
            return self._script.pop(0) if self._script else self._default

    def _record(self, received: Received) -> None:
        with self._changed:
            self.received.append(received)
            self._changed.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        consumer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                consumer._record(Received(self.path, headers, body))
                if consumer._gate is not None:
                    consumer._gate.wait(10)
                self.send_response(consumer._next_status())
                if consumer._location is not None:
                    self.send_header("location", consumer._location)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the test output quiet

        return Handler


def signature_is_valid(secret: str, received: Received, *, tolerance: float = 300.0) -> bool:
    """Verify a delivery as a Standard Webhooks consumer does, independently of the cloud."""
    message_id = received.headers["webhook-id"]
    timestamp = received.headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + received.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = received.headers["webhook-signature"].split(" ")
    return any(hmac.compare_digest(expected, candidate) for candidate in given)
