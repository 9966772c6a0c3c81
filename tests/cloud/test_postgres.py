"""The reference cloud on PostgreSQL, with two server processes sharing one database."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from cloud.local import LocalCloud
from cloud.portal import session as sessions
from cloud.store.db import database_url
from cloud.store.server_secret import ServerKeys
from tests.support.postgres import fresh_database


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[LocalCloud, LocalCloud]]:
    with fresh_database() as url:
        first = LocalCloud(tmp_path / "a", database_url=url)
        with first, LocalCloud(tmp_path / "b", database_url=url, api_key=first.api_key) as second:
            yield first, second


def _linked(cloud: LocalCloud) -> tuple[str, httpx.Client]:
    with cloud.client() as api:
        company_id = api.post("/companies", json={"name": "Acme"}).json()["id"]
        link_url = api.post(
            f"/companies/{company_id}/connections", json={"platformKey": "gncs"}
        ).json()["linkUrl"]
    grant = httpx.post(
        f"{cloud.url}/agent/v1/link", json={"linkCode": link_url.rsplit("/", 1)[1]}
    ).json()
    return company_id, httpx.Client(headers={"Authorization": f"Bearer {grant['accessToken']}"})


def _claim(agent: httpx.Client, cloud: LocalCloud, wait: float = 0) -> dict[str, str] | None:
    response = agent.post(f"{cloud.url}/agent/v1/poll", json={"waitSeconds": wait}, timeout=60)
    assert response.status_code == 200, response.text
    dataset: dict[str, str] | None = response.json()["dataset"]
    return dataset


def test_a_poll_on_one_server_is_woken_by_a_queue_on_the_other(
    two_servers: tuple[LocalCloud, LocalCloud],
) -> None:
    first, second = two_servers
    company_id, agent = _linked(first)
    while _claim(agent, second):  # drain the first-link datasets, through the other server
        pass
    answer: dict[str, object] = {}

    def long_poll() -> None:
        started = time.monotonic()
        answer["dataset"] = _claim(agent, first, wait=20)
        answer["waited"] = time.monotonic() - started

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(0.5)  # a head start for the long poll
    with second.client() as api:
        queued = api.post(f"/companies/{company_id}/data/queue/payments").json()
    poller.join(timeout=40)
    assert isinstance(answer["dataset"], dict)
    assert answer["dataset"]["id"] == queued["id"]
    assert isinstance(answer["waited"], float) and answer["waited"] < 15  # woken, not timed out


def test_two_servers_never_hand_out_one_dataset_twice(
    two_servers: tuple[LocalCloud, LocalCloud],
) -> None:
    first, second = two_servers
    company_id, agent = _linked(first)
    with first.client() as api:
        for data_type in ("payments", "billPayments", "journalEntries", "taxRates", "items"):
            api.post(f"/companies/{company_id}/data/queue/{data_type}")
    claimed: list[str] = []
    lock = threading.Lock()

    def drain(server: LocalCloud) -> None:
        while (dataset := _claim(agent, server)) is not None:
            with lock:
                claimed.append(dataset["id"])

    workers = [threading.Thread(target=drain, args=(s,)) for s in (first, second) * 2]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(claimed) == 11  # six first-link types and five more
    assert len(set(claimed)) == len(claimed)


def test_a_sync_completes_on_postgres(two_servers: tuple[LocalCloud, LocalCloud]) -> None:
    first, second = two_servers
    company_id, agent = _linked(first)
    dataset = _claim(agent, second)
    assert dataset is not None
    for status in ("Fetching", "Mapping", "Validating", "Processing"):
        moved = agent.post(
            f"{first.url}/agent/v1/datasets/{dataset['id']}/transitions",
            json={"status": status, "timestamp": "2020-01-01T00:00:00Z"},
        )
        assert moved.status_code == 200, moved.text
    body = b'{"records":[{"id":"r1","name":"Cash","type":"Asset","status":"Active"}]}'
    upload = agent.put(
        f"{second.url}/agent/v1/datasets/{dataset['id']}/chunks/0",
        content=body,
        headers={"X-Content-SHA256": hashlib.sha256(body).hexdigest()},
    )
    assert upload.status_code == 204, upload.text
    done = agent.post(
        f"{first.url}/agent/v1/datasets/{dataset['id']}/transitions",
        json={"status": "Complete", "timestamp": "2020-01-01T00:00:00Z", "chunks": 1},
    )
    assert done.status_code == 200, done.text
    with second.client() as api:
        history = api.get(f"/companies/{company_id}/data/history/{dataset['id']}").json()
        status = api.get(f"/companies/{company_id}/dataStatus").json()
    assert [s["status"] for s in history["statusHistory"]] == [
        "Queued",
        "Fetching",
        "Mapping",
        "Validating",
        "Processing",
        "Complete",
    ]
    assert status[dataset["dataType"]]["currentStatus"] == "Complete"


def test_both_servers_sign_with_the_one_secret_made_for_the_database(
    two_servers: tuple[LocalCloud, LocalCloud],
) -> None:
    first, second = two_servers
    with httpx.Client(base_url=first.url) as browser:
        form = browser.get("/portal/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        signed_in = browser.post(
            "/portal/sign-in",
            data={"csrf_token": token.group(1), "api_key": first.api_key, "next": "/portal"},
        )
        assert signed_in.status_code == 303, signed_in.text
        cookie = browser.cookies[sessions.COOKIE]
    # The other process accepts the session the first one signed.
    page = httpx.get(f"{second.url}/portal", cookies={sessions.COOKIE: cookie})
    assert page.status_code == 200 and "Companies" in page.text
    # One secret, in the database, made once; the cookie is signed with a key derived from it.
    engine = create_engine(database_url(first.database_url))
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT secret FROM server_secret")).scalars().all()
    finally:
        engine.dispose()
    assert len(stored) == 1
    keys = ServerKeys(bytes.fromhex(stored[0]))
    key = hmac.new(keys.portal_session, first.api_key.encode(), hashlib.sha256).digest()
    assert sessions.decode(cookie, key, datetime.now(UTC)) is not None


def test_one_refresh_token_sent_to_both_servers_at_once_gets_one_pair(
    two_servers: tuple[LocalCloud, LocalCloud],
) -> None:
    first, second = two_servers
    with first.client() as api:
        company_id = api.post("/companies", json={"name": "Acme"}).json()["id"]
        connection = api.post(
            f"/companies/{company_id}/connections", json={"platformKey": "gncs"}
        ).json()
    code = connection["linkUrl"].rsplit("/", 1)[1]
    grant = httpx.post(f"{first.url}/agent/v1/link", json={"linkCode": code}).json()
    for _ in range(3):  # each round rotates the token both servers were sent
        one, other = _at_once(
            [first, second], functools.partial(_refresh, refresh_token=grant["refreshToken"])
        )
        assert one.status_code == other.status_code == 200, (one.text, other.text)
        assert one.json()["refreshToken"] == other.json()["refreshToken"]
        assert one.json()["accessToken"] == other.json()["accessToken"]
        grant = one.json()
    with second.client() as api:
        state = api.get(f"/companies/{company_id}/connections/{connection['id']}").json()
    assert state["status"] == "Linked"


def _refresh(server: LocalCloud, refresh_token: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/agent/v1/token", json={"refreshToken": refresh_token}, timeout=30
    )


def _at_once(
    servers: list[LocalCloud], call: Callable[[LocalCloud], httpx.Response]
) -> list[httpx.Response]:
    """``call`` on every server from its own thread, released together."""
    start = threading.Barrier(len(servers))
    answers: dict[int, httpx.Response] = {}

    def one(index: int) -> None:
        start.wait(timeout=10)
        answers[index] = call(servers[index])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(servers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return [answers[i] for i in range(len(servers))]
