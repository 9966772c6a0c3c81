"""A stand-in for the cloud that answers the agent API as a test scripts it: a hostile or broken
cloud on a free loopback port.

Unscripted calls get the answers a well-behaved cloud would give (new UUIDs and tokens, an
empty long poll held briefly, every report and page accepted), so a test scripts only the
answer that attacks. Scripted answers go out once each, in order, per call; then the defaults
come back. A real HTTP server on loopback, so the agent's real ``CloudClient`` (httpx, its
limits and its refusals) is what is tested, from the agent's own processes too.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from cloud.local import free_port

PREFIX = "/agent/v1"
# The calls of the agent API, by the name tests script them under.
CALLS: dict[str, tuple[str, re.Pattern[str]]] = {
    "link": ("POST", re.compile(r"/link")),
    "token": ("POST", re.compile(r"/token")),
    "heartbeat": ("POST", re.compile(r"/heartbeat")),
    "queue": ("POST", re.compile(r"/queue")),
    "status": ("GET", re.compile(r"/status")),
    "poll": ("POST", re.compile(r"/poll")),
    "lease": ("POST", re.compile(r"/datasets/(?P<id>.+?)/lease")),
    "transition": ("POST", re.compile(r"/datasets/(?P<id>.+?)/transitions")),
    "baseline": ("GET", re.compile(r"/datasets/(?P<id>.+?)/baseline")),
    "chunk": ("PUT", re.compile(r"/datasets/(?P<id>.+?)/chunks/\d+")),
    "health": ("GET", re.compile(r"/health")),  # outside the API: GET /health
}
EMPTY_POLL_HOLD = 0.3  # seconds an unscripted poll is held, as a long poll is (at most its wait)
CAPTIVE_PORTAL = (
    b"<!DOCTYPE html><html><head><title>Welcome to Cafe WiFi</title></head>"
    b"<body><h1>Please accept the terms to continue</h1>"
    b'<form method="post" action="/accept"><button>Accept</button></form></body></html>'
)


@dataclass(frozen=True)
class Answer:
    """Bytes to answer with, as they are."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def json_answer(body: Any, status: int = 200) -> Answer:
    return Answer(json.dumps(body).encode(), status)


def html_answer(status: int = 200) -> Answer:
    return Answer(CAPTIVE_PORTAL, status, "text/html; charset=utf-8")


def redirect(location: str, status: int = 307) -> Answer:
    return Answer(b"", status, "text/plain", (("Location", location),))


@dataclass(frozen=True)
class Endless:
    """A body of ``size`` bytes written in pieces as the client reads, never built in memory;
    with ``declared`` its Content-Length says so up front, else the body ends when the
    connection closes. ``start`` opens it, so that it begins like the answer it stands in."""

    size: int
    declared: bool = False
    start: bytes = b'{"dataset": null, "padding": "'
    encoding: str | None = None  # a Content-Encoding header to send (the bytes are not encoded)


@dataclass
class Seen:
    """One request as the stand-in received it."""

    call: str | None
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HostileCloud:
    """Serves on ``url`` for the length of a ``with`` block."""

    port: int = field(default_factory=free_port)
    requests: list[Seen] = field(default_factory=list)
    # Bytes of each Endless answer that went out before the client hung up, as they finish.
    endless_sent: list[int] = field(default_factory=list)
    _script: dict[str, deque[Answer | Endless]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _finished: threading.Condition = field(init=False)
    _server: http.server.ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self._finished = threading.Condition(self._lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def link_url(self, code: str = "K7QM-3TXA") -> str:
        return f"{self.url}/link/{code}"

    def script(self, call: str, *answers: Answer | Endless) -> None:
        """Answer the next calls of ``call`` (a key of :data:`CALLS`) with ``answers``."""
        assert call in CALLS, call
        with self._lock:
            self._script[call].extend(answers)

    def seen(self, call: str | None = None) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if call is None or r.call == call]

    def wait_for_endless(self, count: int = 1, timeout: float = 60.0) -> list[int]:
        """The bytes sent by the first ``count`` Endless answers, once they have all ended."""
        with self._finished:
            if not self._finished.wait_for(lambda: len(self.endless_sent) >= count, timeout):
                raise AssertionError(f"only {len(self.endless_sent)} endless answers ended")
            return list(self.endless_sent)

    def __enter__(self) -> HostileCloud:
        cloud = self

        class Handler(_Handler):
            hostile = cloud

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, name="hostile-cloud", daemon=True
        ).start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # What the handler asks -------------------------------------------------------------------

    def _receive(self, seen: Seen) -> Answer | Endless | None:
        with self._lock:
            self.requests.append(seen)
            queue = self._script.get(seen.call or "")
            return queue.popleft() if queue else None

    def _endless_ended(self, sent: int) -> None:
        with self._finished:
            self.endless_sent.append(sent)
            self._finished.notify_all()


class _Handler(http.server.BaseHTTPRequestHandler):
    hostile: HostileCloud
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        call, match = _call_of(self.command, path)
        seen = Seen(call, self.command, self.path, dict(self.headers.items()), body)
        answer = self.hostile._receive(seen)
        if answer is None:
            answer = _default(call, match, body)
        if isinstance(answer, Endless):
            self._send_endless(answer)
        else:
            self._send(answer)

    def _send(self, answer: Answer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            # The agent hanging up on an answer it will not read whole is what some tests want.
            self.close_connection = True

    def _send_endless(self, answer: Endless) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if answer.declared:
            self.send_header("Content-Length", str(answer.size))
        else:
            self.send_header("Connection", "close")  # the body ends when the connection does
            self.close_connection = True
        if answer.encoding:
            self.send_header("Content-Encoding", answer.encoding)
        self.end_headers()
        sent = 0
        try:
            for piece in _pieces(answer):
                self.wfile.write(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.close_connection = True
            self.hostile._endless_ended(sent)


def _pieces(answer: Endless, size: int = 64 * 1024) -> Iterator[bytes]:
    yield answer.start
    left = answer.size - len(answer.start)
    filler = b"x" * size
    while left > 0:
        yield filler[: min(size, left)]
        left -= size


def _call_of(method: str, path: str) -> tuple[str | None, re.Match[str] | None]:
    if path == "/health" and method == "GET":
        return "health", None
    if path.startswith(PREFIX):
        for name, (call_method, pattern) in CALLS.items():
            match = pattern.fullmatch(path[len(PREFIX) :])
            if match and method == call_method:
                return name, match
    return None, None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _tokens() -> dict[str, Any]:
    expires = datetime.now(UTC) + timedelta(days=90)
    return {
        "accessToken": f"access-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "accessTokenExpiresIn": 3600,
        "refreshToken": f"refresh-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "refreshTokenExpires": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def _connection() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "integrationId": "gnucash",
        "integrationKey": "gncs",
        "sourceId": "gnucash",
        "sourceType": "Accounting",
        "platformName": "GnuCash",
        "linkUrl": "http://127.0.0.1/link/K7QM-3TXA",
        "status": "Linked",
        "created": _now(),
        "connectionInfo": {"agentOnline": True},
    }


def _default(call: str | None, match: re.Match[str] | None, body: bytes) -> Answer:
    """What a well-behaved cloud would answer."""
    request: dict[str, Any] = json.loads(body) if body.strip().startswith(b"{") else {}
    if call == "link":
        return json_answer(
            {
                "companyId": str(uuid.uuid4()),
                "companyName": "Harbor Lane",
                "connectionId": str(uuid.uuid4()),
                **_tokens(),
            }
        )
    if call == "token":
        return json_answer(_tokens())
    if call == "heartbeat":
        return json_answer({"serverTime": _now(), "pollWaitSeconds": 1, "leaseSeconds": 60})
    if call == "queue":
        return json_answer({"queued": [], "alreadyInProgress": []})
    if call == "status":
        return json_answer({"connection": _connection(), "dataStatus": {}})
    if call == "poll":
        time.sleep(min(float(request.get("waitSeconds", 0)), EMPTY_POLL_HOLD))
        return json_answer({"dataset": None})
    if call == "lease":
        return json_answer({"leaseUntil": _now(), "leaseSeconds": 60})
    if call == "transition":
        assert match is not None
        return json_answer(
            {"id": match["id"], "status": request.get("status"), "serverTime": _now()}
        )
    if call == "baseline":
        return json_answer({"recordHashes": {}, "nextAfter": None})
    if call in ("chunk", "health"):
        return Answer(b"", 204)
    return json_answer({"statusCode": 404, "error": "Not Found"}, 404)


def dataset(dataset_id: str | None = None, data_type: str = "customers") -> dict[str, Any]:
    """A poll answer handing out one dataset."""
    return {
        "dataset": {
            "id": dataset_id or str(uuid.uuid4()),
            "dataType": data_type,
            "requested": _now(),
            "leaseSeconds": 60,
        }
    }
