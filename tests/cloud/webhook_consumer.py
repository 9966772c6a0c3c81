"""A real webhook consumer on loopback: records every POST, answers statuses from a script."""

from __future__ import annotations

import base64
import hashlib
import hmac
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

    A request counts as received once its body is read, before it is answered.
    """

    def __init__(
        self,
        script: Iterable[int] = (),
        *,
        default: int = 200,
        gate: threading.Event | None = None,
    ) -> None:
        self.received: list[Received] = []
        self._script = list(script)
        self._default = default
        self._gate = gate  # when given, answers wait until it is set
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="test-consumer", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

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
