"""The chaos proxy does to an exchange what each fault says, against a real HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.support.fault_proxy import FaultProxy, NetworkFault, NetworkProfile

BIG = 200_000  # bytes in the /big answer: several TCP segments, so cuts land inside the body


class _Upstream(BaseHTTPRequestHandler):
    """Answers JSON with a Content-Length over keep-alive connections, and counts the requests
    it received whole."""

    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # head and body in one write (flushed per request), so Nagle never waits
    handled: list[str] = []  # noqa: RUF012  (one server per test module; reset by the fixture)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.handled.append(body.decode())
        self._answer({"echo": body.decode()})

    def do_GET(self) -> None:
        self.handled.append(self.path)
        if self.path == "/big":
            self._answer({"pad": "x" * BIG})
        elif self.path == "/empty":
            self.send_response(204)
            self.end_headers()
        else:
            self._answer({"path": self.path})

    def _answer(self, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a connection reset mid-request is what these tests cause, not an error


@pytest.fixture(scope="module")
def upstream() -> Iterator[int]:
    server = _Server(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def proxy(upstream: int) -> Iterator[FaultProxy]:
    _Upstream.handled.clear()
    with FaultProxy(upstream, seed=1234) as running:
        yield running


def client(proxy: FaultProxy, timeout: float = 10.0) -> httpx.Client:
    return httpx.Client(base_url=proxy.url, timeout=timeout)


def test_a_calm_proxy_relays_requests_and_answers_over_one_connection(proxy: FaultProxy) -> None:
    with client(proxy) as http:
        answers = [http.post("/echo", content=f"ping {n}").json() for n in range(5)]
        big = http.get("/big").json()
        empty = http.get("/empty")
    assert [a["echo"] for a in answers] == [f"ping {n}" for n in range(5)]
    assert len(big["pad"]) == BIG
    assert empty.status_code == 204
    assert sum(proxy.counts().values()) == 0


@pytest.mark.parametrize("fault", [NetworkFault.LATENCY, NetworkFault.BANDWIDTH])
def test_slow_faults_deliver_everything_intact(proxy: FaultProxy, fault: NetworkFault) -> None:
    proxy.set_profile(
        NetworkProfile(
            rates={fault: 1.0}, latency_seconds=(0.01, 0.1), bytes_per_second=(400_000, 400_000)
        )
    )
    with client(proxy) as http:
        big = http.get("/big").json()
        echo = http.post("/echo", content="slow").json()
    assert len(big["pad"]) == BIG
    assert echo == {"echo": "slow"}
    assert proxy.counts()[fault] == 2


def test_a_reset_mid_request_leaves_the_server_without_the_whole_request(
    proxy: FaultProxy,
) -> None:
    proxy.set_profile(NetworkProfile.only(NetworkFault.RESET_MID_REQUEST))
    with client(proxy) as http, pytest.raises(httpx.TransportError):
        http.post("/echo", content="x" * 10_000)
    assert _Upstream.handled == []
    assert proxy.counts()[NetworkFault.RESET_MID_REQUEST] == 1


def test_a_reset_mid_response_comes_after_the_server_handled_the_request(
    proxy: FaultProxy,
) -> None:
    proxy.set_profile(NetworkProfile.only(NetworkFault.RESET_MID_RESPONSE))
    with client(proxy) as http, pytest.raises(httpx.TransportError):
        http.get("/big")
    assert _Upstream.handled == ["/big"]


def test_a_truncated_body_ends_cleanly_before_its_length(proxy: FaultProxy) -> None:
    proxy.set_profile(NetworkProfile.only(NetworkFault.TRUNCATED_BODY))
    with client(proxy) as http, pytest.raises(httpx.RemoteProtocolError):
        http.get("/big")
    assert _Upstream.handled == ["/big"]
    assert proxy.counts()[NetworkFault.TRUNCATED_BODY] == 1


def test_a_half_open_connection_never_answers(proxy: FaultProxy) -> None:
    proxy.set_profile(NetworkProfile.only(NetworkFault.HALF_OPEN))
    # The client's own read timeout is what ends it, as the agent's does; nothing is timed here.
    with client(proxy, timeout=0.5) as http, pytest.raises(httpx.ReadTimeout):
        http.get("/anything")
    assert _Upstream.handled == []


def test_an_error_burst_answers_several_requests_then_lets_them_through(
    proxy: FaultProxy,
) -> None:
    proxy.set_profile(NetworkProfile({NetworkFault.ERROR_BURST: 1.0}, burst_length=(3, 3)))
    with client(proxy) as http:
        burst = [http.get(f"/n{n}") for n in range(3)]
        proxy.set_profile(NetworkProfile.calm())
        after = http.get("/after")
    assert {r.status_code for r in burst} <= {502, 503}
    assert all(r.json()["error"] for r in burst)
    assert after.status_code == 200
    assert _Upstream.handled == ["/after"]
    assert proxy.counts() == {NetworkFault.ERROR_BURST: 1}


def test_a_cloud_that_is_down_resets_the_agents_connection() -> None:
    with (
        FaultProxy(upstream_port=_closed_port(), seed=1) as proxy,
        client(proxy) as http,
        pytest.raises(httpx.TransportError),
    ):
        http.get("/health")


def test_the_same_seed_draws_the_same_faults_for_the_same_requests(upstream: int) -> None:
    profile = NetworkProfile(
        {NetworkFault.LATENCY: 0.3, NetworkFault.ERROR_BURST: 0.1},
        latency_seconds=(0.0, 0.01),
        burst_length=(1, 2),
    )

    def faults(seed: int) -> list[str]:
        with FaultProxy(upstream, seed=seed) as proxy, client(proxy) as http:
            proxy.set_profile(profile)
            for n in range(30):
                http.get(f"/{n}")
            return [f"{i.fault} {i.request}" for i in proxy.journal]

    first = faults(99)
    assert first == faults(99)
    assert first  # not vacuous: some faults struck
    assert first != faults(100)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
