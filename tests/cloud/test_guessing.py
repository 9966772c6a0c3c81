"""The cloud against guessing: the API key, link codes, and what a captured cookie gives away."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from cloud.app import create_app
from cloud.http.throttle import API_KEY_FAILURES, LINK_CODE_FAILURES
from cloud.local import LocalCloud
from cloud.portal import session as sessions
from cloud.settings import MAKE_AN_API_KEY, CloudSettings, SettingsRefused
from tests.support.cloud_harness import API_KEY, CloudHarness
from tests.support.fake_clock import FakeClock


def test_a_captured_anonymous_cookie_does_not_verify_with_a_key_derived_from_the_api_key(
    cloud: CloudHarness,
) -> None:
    cloud.http.get("/portal/sign-in")
    captured = cloud.http.cookies[sessions.COOKIE]
    # How the key was derived before: anyone holding a cookie could test API-key guesses
    # against its signature offline.
    from_api_key = hmac.new(
        API_KEY.encode(), b"connector portal session v1", hashlib.sha256
    ).digest()
    assert sessions.decode(captured, from_api_key, cloud.clock()) is None
    # It is signed with a key the server keeps to itself.
    server_key = sessions.secret_of(cloud.services)
    assert sessions.decode(captured, server_key, cloud.clock()) is not None


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("Zq", "it has 2 characters; it needs at least 32"),
        ("ab" * 20, "it uses only 2 different characters; it needs at least 10"),
    ],
)
def test_a_weak_api_key_is_refused_at_start_up_saying_how_to_make_one(
    tmp_path: Path, key: str, problem: str
) -> None:
    database = tmp_path / "cloud.db"
    command = [sys.executable, "-m", "cloud.cli", "serve", "--database", f"sqlite:///{database}"]
    started = subprocess.run(
        [*command, "--api-key", key], capture_output=True, text=True, timeout=60, check=False
    )
    assert started.returncode == 2
    assert f"The API key is too weak: {problem}" in started.stderr
    assert MAKE_AN_API_KEY in started.stderr
    assert key not in started.stderr.replace(MAKE_AN_API_KEY, "")
    assert not database.exists()  # refused before anything was made
    with pytest.raises(SettingsRefused, match="too weak"):
        CloudSettings(database_url=f"sqlite:///{database}", api_key=key, public_url="http://x")


def _wrong_key(http: TestClient | httpx.Client, **headers: str) -> httpx.Response:
    wrong = "Basic " + base64.b64encode(b"not-the-key").decode()
    answer: httpx.Response = http.get("/companies", headers={"Authorization": wrong, **headers})
    return answer


def _assert_throttled(answer: httpx.Response) -> None:
    assert answer.status_code == 429, answer.text
    body = answer.json()
    assert body["statusCode"] == 429 and body["service"] == "PublicApi"  # the public shape
    assert body["error"].startswith("Too many requests with a wrong API key from your address")
    assert 1 <= int(answer.headers["retry-after"]) <= 60


def test_the_31st_wrong_api_key_within_a_minute_is_429_and_other_clients_are_untouched(
    cloud: CloudHarness,
) -> None:
    for _ in range(API_KEY_FAILURES):
        assert _wrong_key(cloud.http).status_code == 401
        cloud.clock.advance(1)
    _assert_throttled(_wrong_key(cloud.http))
    # Even the right key is refused now, or the answers would tell a guesser it had found it.
    _assert_throttled(cloud.http.get("/companies", headers=cloud.auth))
    # Another client with the right key is served as ever.
    other = TestClient(cloud.http.app, client=("198.51.100.7", 40000))
    assert other.get("/companies", headers=cloud.auth).status_code == 200
    # A minute after the first failure, the first client may try again.
    cloud.clock.advance(31)
    assert cloud.http.get("/companies", headers=cloud.auth).status_code == 200


def test_wrong_keys_at_the_portal_and_the_public_api_count_together(cloud: CloudHarness) -> None:
    form = cloud.http.get("/portal/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    for _ in range(API_KEY_FAILURES - 1):
        assert _wrong_key(cloud.http).status_code == 401
    signing_in = {"csrf_token": token.group(1), "api_key": "a-guess", "next": "/portal"}
    assert cloud.http.post("/portal/sign-in", data=signing_in).status_code == 401
    _assert_throttled(_wrong_key(cloud.http))


@pytest.fixture
def behind_a_proxy(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[TestClient, TestClient]]:
    """A cloud told to trust 10.0.0.5: a client through that proxy, and one straight in."""
    settings = CloudSettings(
        database_url=f"sqlite:///{tmp_path / 'cloud.db'}",
        api_key=API_KEY,
        public_url="http://cloud.test",
        trusted_proxies=("10.0.0.5",),
    )
    app = create_app(settings, clock=clock, run_maintenance=False)
    with TestClient(app, client=("10.0.0.5", 50000)) as proxy:
        yield proxy, TestClient(app, client=("203.0.113.50", 50000))


def test_x_forwarded_for_names_the_client_only_when_a_trusted_proxy_sends_it(
    behind_a_proxy: tuple[TestClient, TestClient],
) -> None:
    proxy, direct = behind_a_proxy
    # Straight in, a forged header changes nothing: the peer is the client.
    for n in range(API_KEY_FAILURES):
        assert _wrong_key(direct, **{"X-Forwarded-For": f"192.0.2.{n}"}).status_code == 401
    _assert_throttled(_wrong_key(direct, **{"X-Forwarded-For": "192.0.2.200"}))
    # Through the trusted proxy, each forwarded address is its own client...
    for n in range(API_KEY_FAILURES + 5):
        assert _wrong_key(proxy, **{"X-Forwarded-For": f"192.0.2.{n}"}).status_code == 401
    # ...and one of them, failing too often, is held alone.
    for _ in range(API_KEY_FAILURES - 1):
        assert _wrong_key(proxy, **{"X-Forwarded-For": "192.0.2.1"}).status_code == 401
    _assert_throttled(_wrong_key(proxy, **{"X-Forwarded-For": "192.0.2.1"}))
    ok = proxy.get("/companies", headers={"X-Forwarded-For": "192.0.2.99", **_basic()})
    assert ok.status_code == 200


def _basic() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(API_KEY.encode()).decode()}


@pytest.mark.parametrize("trusted", [False, True])
def test_connector_cloud_serve_trusts_forwarded_addresses_only_from_trusted_proxy(
    tmp_path: Path, trusted: bool
) -> None:
    """uvicorn alone would believe X-Forwarded-For from 127.0.0.1; the server must not."""
    extra = ("--trusted-proxy", "127.0.0.1") if trusted else ()
    with LocalCloud(tmp_path, extra_args=extra) as local, httpx.Client(base_url=local.url) as http:
        for n in range(API_KEY_FAILURES):
            assert _wrong_key(http, **{"X-Forwarded-For": f"192.0.2.{n}"}).status_code == 401
        last = _wrong_key(http, **{"X-Forwarded-For": "192.0.2.250"})
        if trusted:
            assert last.status_code == 401
        else:
            _assert_throttled(last)


def test_a_trusted_proxy_must_be_an_address() -> None:
    with pytest.raises(SettingsRefused, match="neither an IP address nor a network"):
        CloudSettings(
            database_url="sqlite://",
            api_key=API_KEY,
            public_url="http://x",
            trusted_proxies=("proxy.internal",),
        )


# Link codes -----------------------------------------------------------------------------------

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B


def _code_of(connection: dict[str, str]) -> str:
    return connection["linkUrl"].rsplit("/", 1)[1]


def test_link_codes_are_long_grouped_and_unambiguous(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    codes = {_code_of(cloud.new_connection(company_id)) for _ in range(20)}
    assert len(codes) == 20
    for code in codes:
        groups = code.split("-")
        assert [len(group) for group in groups] == [5, 5, 5, 5]
        assert set("".join(groups)) <= set(ALPHABET)
    assert 20 * math.log2(len(ALPHABET)) >= 80


def test_link_codes_are_stored_only_as_hashes(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    connection = cloud.new_connection(company_id)
    code = _code_of(connection)
    engine = cloud.services.db.engine
    with engine.connect() as conn:
        (row,) = conn.execute(text("SELECT * FROM connections")).mappings().all()
        every_table = [
            value
            for table in inspect(conn).get_table_names()
            for stored in conn.execute(text(f"SELECT * FROM {table}")).all()
            for value in stored
        ]
    compact = code.replace("-", "")
    assert not any(compact in str(value) or code in str(value) for value in every_table)
    assert row["link_code_hash"] == hashlib.sha256(compact.encode()).hexdigest()
    # The public API still serves the code in the linkUrl, every time (Codat compatibility).
    again = cloud.http.get(
        f"/companies/{company_id}/connections/{connection['id']}", headers=cloud.auth
    ).json()
    assert again["linkUrl"] == connection["linkUrl"]


def _wrong_link(http: TestClient) -> httpx.Response:
    answer: httpx.Response = http.post(
        "/agent/v1/link", json={"linkCode": "ACDEF-GHJKM-NPQRT-UVWXY"}
    )
    return answer


def test_link_code_guessing_is_throttled_at_the_agent_api(cloud: CloudHarness) -> None:
    code = _code_of(cloud.new_connection(cloud.new_company()))
    for _ in range(LINK_CODE_FAILURES):
        assert _wrong_link(cloud.http).status_code == 401
    held = cloud.http.post("/agent/v1/link", json={"linkCode": code})
    assert held.status_code == 429
    assert held.json()["statusCode"] == 429
    assert "Too many link codes that are not valid" in held.json()["error"]
    assert 1 <= int(held.headers["retry-after"]) <= 60
    # Another client with the good code links.
    other = TestClient(cloud.http.app, client=("198.51.100.7", 40000))
    assert other.post("/agent/v1/link", json={"linkCode": code}).status_code == 200


def test_link_code_guessing_is_throttled_at_the_link_page_too(cloud: CloudHarness) -> None:
    code = _code_of(cloud.new_connection(cloud.new_company()))
    assert cloud.http.get(f"/link/{code}").status_code == 200
    for n in range(LINK_CODE_FAILURES):
        if n % 2:
            assert _wrong_link(cloud.http).status_code == 401
        else:
            assert cloud.http.get("/link/ACDEF-GHJKM-NPQRT-UVWXY").status_code == 404
    # The page would name the company of a good code: now it says nothing but "wait".
    held = cloud.http.get(f"/link/{code}")
    assert held.status_code == 429
    assert "Acme Ltd" not in held.text and code not in held.text
    assert 1 <= int(held.headers["retry-after"]) <= 60
    cloud.clock.advance(61)
    assert cloud.http.get(f"/link/{code}").status_code == 200
