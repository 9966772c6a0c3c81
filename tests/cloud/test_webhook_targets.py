"""Where webhooks may go: never to an address inside the cloud's network unless the operator
allows the host; checked when a consumer is made and again, after DNS, before every attempt,
which then connects to the very address checked. A real cloud in this process, real consumers
on loopback, real SQLite, the system's resolver; a made-up resolver only where a test needs a
name to resolve to an address of its choosing (real DNS cannot be set up here)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from cloud.local import LocalCloud
from cloud.settings import CloudSettings
from cloud.store.db import open_database
from cloud.webhooks.delivery import WebhookDispatcher
from cloud.webhooks.events import READ_COMPLETED, read_completed_payload
from cloud.webhooks.targets import WebhookTargets
from tests.cloud.served_cloud import ServedCloud, served
from tests.cloud.webhook_consumer import RecordingConsumer
from tests.support.cloud_harness import API_KEY
from tests.support.tls_server import write_certificates
from tests.support.waiting import eventually

TINY = (timedelta(milliseconds=20),)  # two attempts in all
PUBLIC = "93.184.215.14"  # a public address; no test sends a packet to it


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'cloud.db'}")
    yield engine
    engine.dispose()


def _cloud(tmp_path: Path, allowed: Sequence[str] = ()) -> CloudSettings:
    return CloudSettings(
        database_url=f"sqlite:///{tmp_path / 'cloud.db'}",
        api_key=API_KEY,
        public_url="http://cloud.test",
        webhook_retry_seconds=tuple(t.total_seconds() for t in TINY),
        webhook_allowed_hosts=tuple(allowed),
    )


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[ServedCloud]:
    """A cloud as it starts by default: no host allowed."""
    with served(_cloud(tmp_path)) as cloud:
        yield cloud


def _create(cloud: ServedCloud, url: str) -> httpx.Response:
    with cloud.http() as http:
        return http.post("/webhooks", json={"url": url}, headers=cloud.auth)


def _publish(dispatcher: WebhookDispatcher) -> str:
    payload = read_completed_payload(
        "c-1", "conn-1", [{"dataType": "customers", "status": "Complete"}]
    )
    return dispatcher.publish(READ_COMPLETED, "c-1", payload)


def _settled(dispatcher: WebhookDispatcher, message_id: str) -> dict[str, object]:
    (delivery,) = eventually(
        lambda: [d for d in dispatcher.store.deliveries_of(message_id) if d["status"] != "Pending"]
    )
    return dict(delivery)


# At creation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1/hooks", "a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://10.0.0.1/hooks", "a private address"),
        ("http://[::1]/hooks", "a loopback address"),
        ("http://0.0.0.0/hooks", "an unspecified address"),
        ("https://192.168.1.20:8443/hooks", "a private address"),
        ("http://224.0.0.1/hooks", "a multicast address"),
        ("http://240.0.0.1/hooks", "a reserved address"),
        ("http://100.64.0.1/hooks", "not on the public internet"),
        ("http://[fc00::1]/hooks", "a private address"),
        ("http://[fe80::1%25eth0]/hooks", "a link-local address"),
        # The spellings a resolver reads as an address, and addresses inside addresses.
        ("http://127.1/hooks", "a loopback address"),
        ("http://0x7f000001/hooks", "a loopback address"),
        ("http://2130706433/hooks", "a loopback address"),
        ("http://[::ffff:127.0.0.1]/hooks", "a loopback address (inside the IPv6 address"),
        ("http://[::ffff:a9fe:a9fe]/", "a link-local address (inside the IPv6 address"),
        ("http://[2002:a00:1::]/hooks", "a private address (inside the IPv6 address"),
        ("http://[64:ff9b::a00:1]/hooks", "a private address (inside the IPv6 address"),
        ("http://good.example@127.0.0.1/hooks", "a loopback address"),
        ("http://localhost/hooks", "a loopback address"),
        ("http://LOCALHOST./hooks", "a loopback address"),
        ("http://hooks.localhost/hooks", "a loopback address"),
    ],
)
def test_a_consumer_at_an_inside_address_is_refused_saying_why_and_what_allows_it(
    strict: ServedCloud, url: str, kind: str
) -> None:
    answer = _create(strict, url)

    assert answer.status_code == 400
    body = answer.json()
    assert body["statusCode"] == 400
    assert kind in body["error"]
    assert "only sent to public internet addresses" in body["error"]
    assert "--webhook-allow-host" in body["error"]
    with strict.http() as http:
        assert http.get("/webhooks", headers=strict.auth).json()["results"] == []


@pytest.mark.parametrize(
    "url",
    [
        f"https://{PUBLIC}/hooks",
        "https://hooks.example.com/codat",
        "https://hooks.example.com./codat",  # a fully qualified name: judged after DNS
        "http://[2606:4700:4700::1111]/hooks",
    ],
)
def test_public_addresses_and_names_are_accepted_at_creation(strict: ServedCloud, url: str) -> None:
    assert _create(strict, url).status_code == 201


def test_an_allowed_host_may_be_made_in_any_spelling_of_it(tmp_path: Path) -> None:
    with served(_cloud(tmp_path, ["127.0.0.1", "Hooks.Internal.", "10.0.0.1"])) as cloud:
        for url in (
            "http://127.0.0.1:9000/hooks",
            "http://127.1:9000/hooks",  # the same address
            "http://hooks.internal/x",
            "http://10.0.0.1/x",
        ):
            assert _create(cloud, url).status_code == 201, url
        refused = _create(cloud, "http://10.0.0.2/x")
        assert refused.status_code == 400
        assert "--webhook-allow-host 10.0.0.2" in refused.json()["error"]


def test_the_serve_option_allows_a_host(tmp_path: Path) -> None:
    allowing = LocalCloud(tmp_path / "allowing", extra_args=("--webhook-allow-host", "127.0.0.1"))
    with allowing, allowing.client() as api:
        assert api.post("/webhooks", json={"url": "http://127.0.0.1/x"}).status_code == 201
        assert api.post("/webhooks", json={"url": "http://10.0.0.1/x"}).status_code == 400


# At delivery ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "says"),
    [
        ("127.0.0.1", "host 127.0.0.1 is a loopback address"),
        ("localhost", "host localhost resolves to 127.0.0.1, a loopback address"),
        ("127.1", "host 127.1 resolves to 127.0.0.1, a loopback address"),
        ("0x7f000001", "resolves to 127.0.0.1, a loopback address"),
        ("[::ffff:127.0.0.1]", "a loopback address (inside the IPv6 address"),
        ("good.example@127.0.0.1", "host 127.0.0.1 is a loopback address"),
    ],
)
def test_without_the_allowance_delivery_to_loopback_is_refused_and_recorded(
    engine: Engine, host: str, says: str
) -> None:
    """A consumer stored before its address was checked (an earlier version accepted it)."""
    dispatcher = WebhookDispatcher(engine, retry_schedule=TINY)
    with RecordingConsumer() as consumer:
        made = dispatcher.store.create_consumer(consumer.url_at(host))
        dispatcher.start()
        try:
            message_id = _publish(dispatcher)
            delivery = _settled(dispatcher, message_id)
        finally:
            dispatcher.stop()
        assert consumer.received == []
    assert delivery["status"] == "Failed"
    assert delivery["attempts"] == len(TINY) + 1
    assert delivery["last_response_status"] is None
    error = str(delivery["last_error"])
    assert error.startswith("TargetRefused: ")
    assert says in error
    assert "--webhook-allow-host" in error
    logged = dispatcher.store.attempts_of(message_id, made["id"])
    assert [a["succeeded"] for a in logged] == [False, False]
    assert all(a["error"] == delivery["last_error"] for a in logged)


def test_with_the_allowance_the_same_consumer_receives_it(engine: Engine) -> None:
    dispatcher = WebhookDispatcher(
        engine, retry_schedule=TINY, targets=WebhookTargets(["localhost"])
    )
    with RecordingConsumer() as consumer:
        dispatcher.store.create_consumer(consumer.url_at("localhost"))
        dispatcher.start()
        try:
            message_id = _publish(dispatcher)
            (received,) = consumer.wait_for(1)
        finally:
            dispatcher.stop()
    assert received.headers["webhook-id"] == message_id
    assert received.headers["host"] == f"localhost:{consumer.port}"


def test_a_redirect_is_not_followed(engine: Engine) -> None:
    dispatcher = WebhookDispatcher(
        engine, retry_schedule=TINY, targets=WebhookTargets(["127.0.0.1"])
    )
    with (
        RecordingConsumer() as inside,
        RecordingConsumer(default=307, location=inside.url) as outside,
    ):
        dispatcher.store.create_consumer(outside.url)
        dispatcher.start()
        try:
            delivery = _settled(dispatcher, _publish(dispatcher))
        finally:
            dispatcher.stop()
        assert len(outside.received) == len(TINY) + 1
        assert inside.received == []
    assert delivery["status"] == "Failed"
    assert delivery["last_response_status"] == 307


def test_a_proxy_from_the_environment_cannot_carry_a_delivery_past_the_check(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy resolves and connects on its own: deliveries never go through one."""
    dispatcher = WebhookDispatcher(engine, retry_schedule=TINY)
    with RecordingConsumer() as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        dispatcher.store.create_consumer("http://10.0.0.7/hooks")
        dispatcher.start()
        try:
            delivery = _settled(dispatcher, _publish(dispatcher))
        finally:
            dispatcher.stop()
        assert proxy.received == []
    assert "host 10.0.0.7 is a private address" in str(delivery["last_error"])


class _Rebinding:
    """A name server for one made-up name that answers a public address the first time and a
    loopback one afterwards: the DNS rebinding trick, on demand."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        return [PUBLIC] if len(self.asked) == 1 else ["127.0.0.1"]


def test_the_attempt_connects_to_the_address_it_checked(engine: Engine) -> None:
    resolver = _Rebinding()
    connected: list[httpx.Request] = []

    def network(request: httpx.Request) -> httpx.Response:
        # Stands in for the network below the check: no public consumer can run here.
        connected.append(request)
        return httpx.Response(204)

    dispatcher = WebhookDispatcher(
        engine,
        retry_schedule=(),
        targets=WebhookTargets(resolve=resolver),
        transport=httpx.MockTransport(network),
    )
    made = dispatcher.store.create_consumer("https://hooks.example:8443/codat?x=1")
    dispatcher.start()
    try:
        first = _settled(dispatcher, _publish(dispatcher))
        second = _settled(dispatcher, _publish(dispatcher))
    finally:
        dispatcher.stop()

    # One resolution per attempt, and the connection went to the address it gave.
    assert resolver.asked == [("hooks.example", 8443), ("hooks.example", 8443)]
    (request,) = connected
    assert request.url == httpx.URL(f"https://{PUBLIC}:8443/codat?x=1")
    assert request.headers["host"] == "hooks.example:8443"
    assert request.extensions["sni_hostname"] == "hooks.example"
    assert first["status"] == "Succeeded"
    # The second answer pointed inside: refused, and nothing was sent.
    assert second["status"] == "Failed"
    assert "resolves to 127.0.0.1, a loopback address" in str(second["last_error"])
    assert made["url"] == "https://hooks.example:8443/codat?x=1"


def test_over_tls_the_name_is_kept_for_the_certificate_and_the_host_header(
    engine: Engine, tmp_path: Path
) -> None:
    """A real TLS consumer whose certificate names only hooks.test, reached at 127.0.0.1: the
    handshake succeeds only if the server name sent, and checked, is the host's name."""
    ca_file, cert_file, key_file = write_certificates(
        tmp_path, dns_names=("hooks.test",), ip_addresses=()
    )
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert_file, key_file)
    trusting = ssl.create_default_context(cafile=str(ca_file))
    with RecordingConsumer(tls=server_side) as consumer:
        dispatcher = WebhookDispatcher(
            engine,
            retry_schedule=TINY,
            # The made-up name resolves to the consumer; the operator allowed it.
            targets=WebhookTargets(["hooks.test"], resolve=lambda host, port: ["127.0.0.1"]),
            transport=httpx.HTTPTransport(verify=trusting),
        )
        dispatcher.store.create_consumer(consumer.url_at("hooks.test"))
        dispatcher.start()
        try:
            message_id = _publish(dispatcher)
            (received,) = consumer.wait_for(1)
            delivery = _settled(dispatcher, message_id)
        finally:
            dispatcher.stop()
    assert delivery["status"] == "Succeeded", delivery["last_error"]
    assert consumer.server_names[0] == "hooks.test"
    assert received.headers["host"] == f"hooks.test:{consumer.port}"
    assert json.loads(received.body)["id"] == message_id
