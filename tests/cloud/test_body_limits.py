"""Request bodies are bounded: past its limit a body is refused with 413 and the rest of it is
never read (issue #12, point 5).

The real cloud in-process on real SQLite, called through httpx's ASGI transport with a body
that counts how much of it the server pulled; and the real server process on loopback, fed
through a plain socket that counts how much it managed to send.
"""

from __future__ import annotations

import hashlib
import json
import select as sockets
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from sqlalchemy import func, select

from cloud.local import LocalCloud
from cloud.store.db import staged_chunks
from tests.cloud.drive import claim_type, report
from tests.support.cloud_harness import CloudHarness, cloud_on
from tests.support.fake_clock import FakeClock

REQUEST_LIMIT = 4 * 1024
PAGE_LIMIT = 64 * 1024
PIECE = 1024  # what the client hands the server at a time
HUGE = 10 * 1024 * 1024  # what the client would send if it were let


@pytest.fixture
def cloud(tmp_path: Path, clock: FakeClock) -> Iterator[CloudHarness]:
    with cloud_on(
        f"sqlite:///{tmp_path / 'cloud.db'}",
        clock,
        max_request_bytes=REQUEST_LIMIT,
        max_page_bytes=PAGE_LIMIT,
    ) as harness:
        yield harness


def stream(
    cloud: CloudHarness,
    method: str,
    path: str,
    headers: dict[str, str],
    *,
    total: int = HUGE,
    declared: bool,
) -> tuple[httpx.Response, int]:
    """Send ``total`` bytes a piece at a time, with or without a Content-Length; the answer,
    and how many bytes the server pulled before it."""
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        while pulled < total:
            pulled += PIECE
            yield b" " * PIECE

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=cloud.http.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as client:
            length = {"Content-Length": str(total)} if declared else {}
            return await client.request(method, path, content=body(), headers={**headers, **length})

    return anyio.run(send), pulled


def too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["connection"] == "close"  # the rest of the body was never read
    body = response.json()
    assert body["statusCode"] == 413
    assert {"service", "error", "correlationId"} <= body.keys()
    assert f"{limit:,} bytes" in body["error"]


def staged_pages(cloud: CloudHarness, dataset_id: str) -> int:
    with cloud.services.db.reading() as conn:
        query = select(func.count()).where(staged_chunks.c.dataset_id == dataset_id)
        return int(conn.execute(query).scalar_one())


def processing_dataset(cloud: CloudHarness) -> tuple[dict[str, str], str]:
    agent = cloud.linked_agent(cloud.new_company())
    dataset = claim_type(cloud, agent, "customers")
    for status in ("Fetching", "Mapping", "Validating", "Processing"):
        assert report(cloud, agent, dataset["id"], status).status_code == 200
    return agent, str(dataset["id"])


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_page_past_its_limit_is_refused_before_the_rest_is_read(
    cloud: CloudHarness, declared: bool
) -> None:
    agent, dataset_id = processing_dataset(cloud)
    headers = {**agent, "X-Content-SHA256": "0" * 64, "Content-Type": "application/json"}
    path = f"/agent/v1/datasets/{dataset_id}/chunks/0"
    answer, pulled = stream(cloud, "PUT", path, headers, declared=declared)
    too_large(answer, PAGE_LIMIT)
    # A declared length over the limit is refused unread; a streamed body once past it.
    assert pulled <= (0 if declared else PAGE_LIMIT + PIECE)
    assert staged_pages(cloud, dataset_id) == 0


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_json_body_past_the_request_limit_is_refused_before_the_rest_is_read(
    cloud: CloudHarness, declared: bool
) -> None:
    json_type = {"Content-Type": "application/json"}
    answer, pulled = stream(
        cloud, "POST", "/companies", {**cloud.auth, **json_type}, declared=declared
    )
    too_large(answer, REQUEST_LIMIT)
    assert pulled <= (0 if declared else REQUEST_LIMIT + PIECE)
    assert cloud.public("GET", "/companies").json()["totalResults"] == 0  # type: ignore[attr-defined]

    agent, dataset_id = processing_dataset(cloud)
    path = f"/agent/v1/datasets/{dataset_id}/transitions"
    answer, pulled = stream(cloud, "POST", path, {**agent, **json_type}, declared=declared)
    too_large(answer, REQUEST_LIMIT)
    assert pulled <= (0 if declared else REQUEST_LIMIT + PIECE)


def test_a_stranger_is_refused_on_the_length_alone_before_anything_else_runs(
    cloud: CloudHarness,
) -> None:
    # No credential at all: the declared length is refused before authentication is tried.
    for method, path in (("POST", "/companies"), ("PUT", "/agent/v1/datasets/x/chunks/0")):
        answer, pulled = stream(cloud, method, path, {}, declared=True)
        too_large(answer, PAGE_LIMIT if method == "PUT" else REQUEST_LIMIT)
        assert pulled == 0


def test_a_portal_form_past_the_request_limit_is_refused(cloud: CloudHarness) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answer, pulled = stream(cloud, "POST", "/portal/sign-in", form, declared=False)
    too_large(answer, REQUEST_LIMIT)
    assert pulled <= REQUEST_LIMIT + PIECE


def test_a_page_within_its_own_limit_is_taken_though_past_the_request_limit(
    cloud: CloudHarness,
) -> None:
    agent, dataset_id = processing_dataset(cloud)
    records = [{"id": str(n), "customerName": "x" * 100} for n in range(200)]
    body = json.dumps({"records": records}).encode()
    assert REQUEST_LIMIT < len(body) < PAGE_LIMIT
    headers = {**agent, "X-Content-SHA256": hashlib.sha256(body).hexdigest()}
    answer = cloud.http.put(
        f"/agent/v1/datasets/{dataset_id}/chunks/0", content=body, headers=headers
    )
    assert answer.status_code == 204, answer.text


# Over a real socket -----------------------------------------------------------------------

SERVER_PAGE_LIMIT = 1024 * 1024
ATTEMPT = 200 * 1024 * 1024  # the attack that was reproduced: a 200 MB page


def push_page(port: int, path: str, bearer: str, *, declared: bool) -> tuple[int, bytes]:
    """PUT a 200 MB page a piece at a time for as long as the server reads it; how much was
    sent, and the start of the answer (empty if the server reset the connection first)."""
    framing = f"Content-Length: {ATTEMPT}" if declared else "Transfer-Encoding: chunked"
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {bearer}\r\n"
        f"X-Content-SHA256: {'0' * 64}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    )
    piece = b" " * 65536
    frame = piece if declared else b"%x\r\n" % len(piece) + piece + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        sock.setblocking(False)
        pending = b""
        while sent < ATTEMPT:
            readable, writable, _ = sockets.select([sock], [sock], [], 30)
            assert readable or writable, "the server neither answered nor read for 30 s"
            if readable:
                break  # the server answered: stop, as a client that reads would
            pending = pending or frame
            try:
                written = sock.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                break
            pending = pending[written:]
            sent += written
        sock.setblocking(True)
        try:
            answer = sock.recv(65536)
        except ConnectionResetError:
            answer = b""
    return sent, answer


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_the_server_stops_reading_a_200_mb_page_at_its_limit(
    tmp_path: Path, declared: bool
) -> None:
    limits = ("--max-page-bytes", str(SERVER_PAGE_LIMIT))
    with LocalCloud(tmp_path, extra_args=limits) as running, running.client() as api:
        company_id = api.post("/companies", json={"name": "Acme"}).json()["id"]
        connection = api.post(
            f"/companies/{company_id}/connections", json={"platformKey": "gncs"}
        ).json()
        code = connection["linkUrl"].rsplit("/", 1)[1]
        grant = httpx.post(f"{running.url}/agent/v1/link", json={"linkCode": code}).json()
        agent = {"Authorization": f"Bearer {grant['accessToken']}"}
        polled = httpx.post(f"{running.url}/agent/v1/poll", json={"waitSeconds": 0}, headers=agent)
        dataset_id = polled.json()["dataset"]["id"]
        for status in ("Fetching", "Mapping", "Validating", "Processing"):
            moved = httpx.post(
                f"{running.url}/agent/v1/datasets/{dataset_id}/transitions",
                json={"status": status, "timestamp": "2026-01-01T00:00:00Z"},
                headers=agent,
            )
            assert moved.status_code == 200, moved.text
        path = f"/agent/v1/datasets/{dataset_id}/chunks/0"
        sent, answer = push_page(running.port, path, grant["accessToken"], declared=declared)
        # What the kernel's socket buffers hold on both sides comes on top of what the
        # server read; the 200 MB never got near it.
        assert sent < SERVER_PAGE_LIMIT + 32 * 1024 * 1024, f"{sent:,} bytes went in"
        if answer:  # unless the server's reset overtook its answer
            assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
