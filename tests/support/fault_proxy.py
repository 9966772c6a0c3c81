"""A fault-injecting HTTP/1.1 proxy between the agent and the cloud, on asyncio.

It relays one request and its response at a time per connection (HTTP/1.1 without pipelining,
as httpx speaks it), so every fault lands at a known point of an exchange:

- ``latency``: the request and the response each wait before they go on;
- ``bandwidth``: both go on at a few tens of kilobytes a second;
- ``reset-mid-request``: part of the request reaches the cloud, then both sides get a TCP reset;
- ``reset-mid-response``: the cloud handled the request, the agent gets part of the answer and a
  reset (the case that loses a rotated token or an acknowledged report on the way back);
- ``truncated-body``: the answer's head and part of its body, then a clean close;
- ``half-open``: the request is taken and never answered; the connection stays open until the
  agent gives up on it;
- ``error-burst``: the proxy itself answers the next few requests 502 or 503 (sometimes with
  ``Retry-After``), as a load balancer in front of a restarting service does.

Which fault (at most one) strikes each request is drawn from a seeded :class:`random.Random`,
so a run of requests in the same order meets the same faults. The proxy runs its event loop on
a thread of its own; :meth:`FaultProxy.set_profile` switches the faults on and off from any
thread. When the cloud cannot be reached, the agent's connection is reset, as a refused
connection would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType


class NetworkFault(StrEnum):
    LATENCY = "latency"
    BANDWIDTH = "bandwidth"
    RESET_MID_REQUEST = "reset-mid-request"
    RESET_MID_RESPONSE = "reset-mid-response"
    TRUNCATED_BODY = "truncated-body"
    HALF_OPEN = "half-open"
    ERROR_BURST = "error-burst"


@dataclass(frozen=True)
class NetworkProfile:
    """How often each fault strikes a request while the profile is on, and how hard."""

    rates: Mapping[NetworkFault, float] = field(default_factory=dict)
    latency_seconds: tuple[float, float] = (0.05, 0.8)
    bytes_per_second: tuple[int, int] = (20_000, 150_000)
    burst_length: tuple[int, int] = (2, 6)

    @classmethod
    def calm(cls) -> NetworkProfile:
        """No faults: the proxy relays everything as it comes."""
        return cls()

    @classmethod
    def only(cls, fault: NetworkFault, rate: float = 1.0) -> NetworkProfile:
        return cls({fault: rate})


@dataclass(frozen=True)
class Injected:
    """One fault as it struck, for the episode's journal."""

    at: float  # time.time()
    fault: NetworkFault
    request: str  # the request line, e.g. "POST /agent/v1/token"


_MAX_HEAD = 64 * 1024
_HTTP_STATUS = {502: "Bad Gateway", 503: "Service Unavailable"}


class _Gone(Exception):
    """A side of the exchange closed or broke: this connection is over."""


class FaultProxy:
    """Listens on a free loopback port and relays to ``upstream_port`` with faults."""

    def __init__(self, upstream_port: int, seed: int, *, host: str = "127.0.0.1") -> None:
        self.upstream_port = upstream_port
        self.host = host
        self.port = 0
        self.journal: deque[Injected] = deque(maxlen=5000)
        self._random = random.Random(seed)
        self._profile = NetworkProfile.calm()
        self._burst_left = 0
        self._counts: Counter[NetworkFault] = Counter()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run_loop, name="chaos-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # Control, from any thread --------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        if not self._ready.wait(timeout=10) or self.port == 0:
            raise RuntimeError("the chaos proxy did not start listening")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None or not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def set_profile(self, profile: NetworkProfile) -> None:
        """Faults from the next request on; a calm profile also ends a burst under way."""
        with self._lock:
            self._profile = profile
            if not profile.rates:
                self._burst_left = 0

    def counts(self) -> Counter[NetworkFault]:
        with self._lock:
            return Counter(self._counts)

    # The event loop ------------------------------------------------------------------------

    def _run_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, self.host, 0, reuse_address=True)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()
            loop.run_forever()
        finally:
            self._ready.set()
            loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _serve(self, agent_in: asyncio.StreamReader, agent_out: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        cloud: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                request = await _read_message(agent_in, None)
                if request is None:
                    return  # the agent closed the connection between requests
                fault, burst = self._draw(request.line)
                if burst:
                    await self._answer_error(agent_out)
                    return
                if fault is NetworkFault.HALF_OPEN:
                    await _until_closed(agent_in)
                    return
                if cloud is None:
                    cloud = await self._connect_upstream()
                    if cloud is None:
                        _reset(agent_out)
                        return
                keep_open = await self._exchange(fault, request, agent_out, cloud)
                if not keep_open:
                    return
        except (_Gone, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            _reset(agent_out)
        except asyncio.CancelledError:
            # The proxy is shutting down: end the connection as a dropped one, and end this
            # handler normally (asyncio's stream callback reports a cancelled handler as an error).
            _reset(agent_out)
        finally:
            self._connections.discard(task)
            if cloud is not None:
                cloud[1].close()
            agent_out.close()

    async def _exchange(
        self,
        fault: NetworkFault | None,
        request: _Message,
        agent_out: asyncio.StreamWriter,
        cloud: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> bool:
        """Relay one request and its answer with ``fault``; whether the connection lives on."""
        cloud_in, cloud_out = cloud
        whole_request = request.raw
        if fault is NetworkFault.RESET_MID_REQUEST:
            cloud_out.write(whole_request[: self._cut(len(whole_request))])
            await cloud_out.drain()
            _reset(cloud_out)
            _reset(agent_out)
            return False
        await self._send(fault, cloud_out, whole_request)
        response = await _read_message(cloud_in, request.method)
        if response is None:
            raise _Gone("the cloud closed the connection before answering")
        raw = response.raw
        if fault is NetworkFault.RESET_MID_RESPONSE:
            agent_out.write(raw[: self._cut(len(raw))])
            await agent_out.drain()
            _reset(agent_out)
            return False
        if fault is NetworkFault.TRUNCATED_BODY and response.body_length > 1:
            head_length = len(raw) - response.body_length
            agent_out.write(raw[: head_length + self._cut(response.body_length)])
            await agent_out.drain()
            agent_out.close()  # a clean close (FIN) before the promised length: a short body
            return False
        await self._send(fault, agent_out, raw)
        return not response.closes

    async def _send(
        self, fault: NetworkFault | None, out: asyncio.StreamWriter, data: bytes
    ) -> None:
        profile = self._profile
        if fault is NetworkFault.LATENCY:
            await asyncio.sleep(self._random.uniform(*profile.latency_seconds))
        if fault is NetworkFault.BANDWIDTH:
            rate = self._random.randint(*profile.bytes_per_second)
            slice_size = max(rate // 20, 512)
            for start in range(0, len(data), slice_size):
                out.write(data[start : start + slice_size])
                await out.drain()
                await asyncio.sleep(slice_size / rate)
            return
        out.write(data)
        await out.drain()

    async def _connect_upstream(
        self,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            return await asyncio.open_connection(self.host, self.upstream_port, limit=_MAX_HEAD)
        except OSError:
            return None  # the cloud is down (killed, restarting)

    async def _answer_error(self, agent_out: asyncio.StreamWriter) -> None:
        status = self._random.choice(sorted(_HTTP_STATUS))
        retry_after = self._random.random() < 0.5
        body = b'{"statusCode": %d, "error": "The chaos proxy answered for the cloud."}' % status
        head = [
            f"HTTP/1.1 {status} {_HTTP_STATUS[status]}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        if retry_after:
            head.append("Retry-After: 1")
        agent_out.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await agent_out.drain()

    # Drawing faults ------------------------------------------------------------------------

    def _draw(self, request_line: str) -> tuple[NetworkFault | None, bool]:
        """The fault for the next request, and whether a burst of errors answers it."""
        with self._lock:
            profile = self._profile
            if self._burst_left > 0:
                self._burst_left -= 1
                return None, True
            roll = self._random.random()
            chosen: NetworkFault | None = None
            for fault in NetworkFault:  # a fixed order, so a seed always means the same
                rate = profile.rates.get(fault, 0.0)
                if roll < rate:
                    chosen = fault
                    break
                roll -= rate
            if chosen is None:
                return None, False
            self._counts[chosen] += 1
            self.journal.append(Injected(time.time(), chosen, request_line))
            if chosen is NetworkFault.ERROR_BURST:
                self._burst_left = self._random.randint(*profile.burst_length) - 1
                return None, True
            return chosen, False

    def _cut(self, length: int) -> int:
        """Somewhere strictly inside ``length`` bytes (at least one byte goes, one stays)."""
        return self._random.randint(1, max(length - 1, 1))


@dataclass(frozen=True)
class _Message:
    raw: bytes  # head and body exactly as read
    line: str  # the request line or status line, without the HTTP version
    method: str | None
    body_length: int
    closes: bool  # "Connection: close", or a body delimited by the close


async def _read_message(reader: asyncio.StreamReader, method: str | None) -> _Message | None:
    """One request (``method`` None) or the response to a ``method`` request; None at a clean
    end of stream before its first byte."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    lines = head.decode("latin-1").split("\r\n")
    first = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    is_request = method is None
    status = 0 if is_request else int(first[1])
    closes = headers.get("connection", "").lower() == "close"
    if not is_request and (status < 200 or status in (204, 304) or method == "HEAD"):
        body = b""
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif is_request:
        body = b""
    else:
        body, closes = await reader.read(), True  # delimited by the close
    line = " ".join(first[:2]) if is_request else " ".join(first[1:])
    return _Message(
        raw=head + body,
        line=line,
        method=first[0] if is_request else None,
        body_length=len(body),
        closes=closes,
    )


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    raw = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        raw += size_line
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            raw += await reader.readuntil(b"\r\n")  # no trailers from either side here
            return bytes(raw)
        raw += await reader.readexactly(size + 2)


async def _until_closed(reader: asyncio.StreamReader) -> None:
    """Swallow whatever arrives until the other side gives up and closes."""
    while await reader.read(65536):
        pass


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (RST), as a dropped connection looks to the other side."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
