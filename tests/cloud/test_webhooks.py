"""Webhooks: consumers through the official SDK against a real server, and deliveries to a real
consumer on loopback, on real SQLite. Retry delays are milliseconds, so nothing waits long.

The consumers listen on 127.0.0.1, which webhooks are only sent to when the operator allows it
(``test_webhook_targets.py`` shows what happens without): every cloud here allows it."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from codat_platform.models import errors, shared
from sqlalchemy import Engine

from cloud.local import free_port
from cloud.settings import CloudSettings
from cloud.store.db import open_database
from cloud.webhooks.delivery import WebhookDispatcher
from cloud.webhooks.events import (
    CONNECTION_CONNECTED,
    READ_COMPLETED,
    connection_event_payload,
    read_completed_payload,
)
from cloud.webhooks.targets import WebhookTargets
from protocol.clock import utc_now
from tests.cloud.served_cloud import ServedCloud, served
from tests.cloud.webhook_consumer import RecordingConsumer, signature_is_valid
from tests.support.cloud_harness import API_KEY
from tests.support.waiting import eventually

TINY = (timedelta(milliseconds=20),) * 3  # four attempts in all
# The consumers below listen on loopback: allowed, as an operator would for an internal host.
ON_LOOPBACK = WebhookTargets(["127.0.0.1"])


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cloud.db'}"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(_url(tmp_path))
    yield engine
    engine.dispose()


@pytest.fixture
def reopen(tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """Opens the test's database afresh each call, as a restarted cloud would."""
    engines: list[Engine] = []

    def open_again() -> Engine:
        engines.append(open_database(_url(tmp_path)))
        return engines[-1]

    yield open_again
    for engine in engines:
        engine.dispose()


@pytest.fixture
def dispatcher(engine: Engine) -> Iterator[WebhookDispatcher]:
    dispatcher = WebhookDispatcher(engine, retry_schedule=TINY, targets=ON_LOOPBACK)
    dispatcher.start()
    yield dispatcher
    dispatcher.stop()


@pytest.fixture
def consumer() -> Iterator[RecordingConsumer]:
    with RecordingConsumer() as consumer:
        yield consumer


@pytest.fixture(name="served")
def served_cloud(tmp_path: Path) -> Iterator[ServedCloud]:
    """The cloud app, webhooks and all, served by uvicorn on a free loopback port."""
    settings = CloudSettings(
        database_url=_url(tmp_path),
        api_key=API_KEY,
        public_url="http://cloud.test",
        webhook_retry_seconds=tuple(t.total_seconds() for t in TINY),
        webhook_allowed_hosts=("127.0.0.1",),
    )
    with served(settings) as cloud:
        yield cloud


def _read_completed(company_id: str = "c-1") -> dict[str, Any]:
    return read_completed_payload(
        company_id,
        "conn-1",
        [{"dataType": "customers", "status": "Complete", "recordsModified": True}],
        company_name="Acme Ltd",
    )


# The public API --------------------------------------------------------------------------------


def test_the_official_sdk_creates_lists_and_deletes_consumers(
    served: ServedCloud, consumer: RecordingConsumer
) -> None:
    sdk = served.sdk()
    first = sdk.webhooks.create_consumer(
        request={
            "url": consumer.url,
            "event_types": [READ_COMPLETED],
            "company_tags": ["region:uk"],
        }
    )
    assert first.id and first.url == consumer.url
    assert first.event_types == [READ_COMPLETED]
    assert first.company_tags == ["region:uk"]
    assert first.disabled is False
    second = sdk.webhooks.create_consumer(request={"url": consumer.url, "disabled": True})
    assert second.disabled is True and second.event_types == []

    listed = sdk.webhooks.list_consumers().results or []
    assert [c.id for c in listed] == [first.id, second.id]

    assert sdk.webhooks.delete_consumer(request={"webhook_id": first.id}) is None
    assert [c.id for c in sdk.webhooks.list_consumers().results or []] == [second.id]
    with pytest.raises(errors.ErrorMessage) as gone:
        sdk.webhooks.delete_consumer(request={"webhook_id": first.id})
    assert gone.value.status_code == 404


def test_creating_answers_201_with_the_signing_secret_and_needs_the_api_key(
    served: ServedCloud, consumer: RecordingConsumer
) -> None:
    with served.http() as http:
        refused = http.post("/webhooks", json={"url": consumer.url})
        assert refused.status_code == 401
        assert refused.json()["statusCode"] == 401

        created = http.post("/webhooks", json={"url": consumer.url}, headers=served.auth)
        assert created.status_code == 201
        assert created.headers["content-type"] == "application/json"
        body = created.json()
        secret = body["signingSecret"]
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32

        listed = http.get("/webhooks", headers=served.auth).json()["results"]
        assert listed == [{k: v for k, v in body.items() if k != "signingSecret"}]
        fetched = http.get(f"/webhooks/{body['id']}/secret", headers=served.auth)
        assert fetched.json() == {"key": secret}

        for bad in ({"url": "ftp://example.com/x"}, {}, {"url": consumer.url, "eventTypes": [""]}):
            wrong = http.post("/webhooks", json=bad, headers=served.auth)
            assert wrong.status_code == 400, bad
        assert http.get("/webhooks/nope/secret", headers=served.auth).status_code == 404


def test_a_consumer_made_with_the_sdk_receives_signed_read_completed_events(
    served: ServedCloud, consumer: RecordingConsumer
) -> None:
    made = served.sdk().webhooks.create_consumer(
        request={"url": consumer.url, "event_types": [READ_COMPLETED]}
    )
    with served.http() as http:
        secret = http.get(f"/webhooks/{made.id}/secret", headers=served.auth).json()["key"]

    message_id = served.dispatcher.publish(READ_COMPLETED, "c-1", _read_completed())

    (received,) = consumer.wait_for(1)
    assert received.path == "/hooks"
    assert received.headers["content-type"] == "application/json"
    assert received.headers["webhook-id"] == message_id
    assert signature_is_valid(secret, received)
    event = shared.ReadCompletedWebhook.from_dict(json.loads(received.body))
    assert event is not None and event.payload is not None
    assert event.id == message_id and event.event_type == READ_COMPLETED
    assert event.generated_date
    assert event.payload.reference_company is not None
    assert event.payload.reference_company.id == "c-1"
    assert event.payload.reference_company.name == "Acme Ltd"
    (summary,) = event.payload.data_types or []
    assert (summary.data_type, summary.status, summary.connection_id) == (
        "customers",
        "Complete",
        "conn-1",
    )
    assert summary.records_modified is True


# Delivery --------------------------------------------------------------------------------------


def test_a_failed_delivery_is_retried_with_the_same_message_until_a_2xx(
    dispatcher: WebhookDispatcher, consumer: RecordingConsumer
) -> None:
    made = dispatcher.store.create_consumer(consumer.url)
    consumer.answer(500, 503)
    message_id = dispatcher.publish(READ_COMPLETED, "c-1", _read_completed())

    attempts = consumer.wait_for(3)
    assert {a.headers["webhook-id"] for a in attempts} == {message_id}
    assert {a.body for a in attempts} == {attempts[0].body}
    assert all(signature_is_valid(made["secret"], a) for a in attempts)

    (delivery,) = eventually(
        lambda: [d for d in dispatcher.store.deliveries_of(message_id) if d["status"] != "Pending"]
    )
    assert delivery["status"] == "Succeeded" and delivery["attempts"] == 3
    assert delivery["next_attempt_at"] is None
    logged = dispatcher.store.attempts_of(message_id, made["id"])
    assert [a["response_status"] for a in logged] == [500, 503, 200]
    assert [a["succeeded"] for a in logged] == [False, False, True]


def test_a_delivery_is_marked_failed_when_the_schedule_runs_out(
    dispatcher: WebhookDispatcher,
) -> None:
    with RecordingConsumer(default=500) as consumer:
        made = dispatcher.store.create_consumer(consumer.url)
        message_id = dispatcher.publish(READ_COMPLETED, "c-1", _read_completed())
        consumer.wait_for(len(TINY) + 1)
        (delivery,) = eventually(
            lambda: [
                d for d in dispatcher.store.deliveries_of(message_id) if d["status"] == "Failed"
            ]
        )
        time.sleep(0.2)  # ten times the retry delay: no further attempt may come
        assert len(consumer.received) == len(TINY) + 1
    assert delivery["attempts"] == len(TINY) + 1
    assert delivery["last_response_status"] == 500
    assert len(dispatcher.store.attempts_of(message_id, made["id"])) == len(TINY) + 1


def test_an_unreachable_consumer_is_retried_then_failed(dispatcher: WebhookDispatcher) -> None:
    made = dispatcher.store.create_consumer(f"http://127.0.0.1:{free_port()}/hooks")
    message_id = dispatcher.publish(READ_COMPLETED, "c-1", _read_completed())
    (delivery,) = eventually(
        lambda: [d for d in dispatcher.store.deliveries_of(message_id) if d["status"] == "Failed"]
    )
    assert delivery["attempts"] == len(TINY) + 1
    assert delivery["last_response_status"] is None
    assert "ConnectError" in delivery["last_error"]
    logged = dispatcher.store.attempts_of(message_id, made["id"])
    assert all(a["response_status"] is None for a in logged)


def test_only_enabled_consumers_that_want_the_event_type_get_it(
    dispatcher: WebhookDispatcher, consumer: RecordingConsumer
) -> None:
    store = dispatcher.store
    reads = store.create_consumer(consumer.url + "/reads", event_types=[READ_COMPLETED])
    links = store.create_consumer(consumer.url + "/links", event_types=[CONNECTION_CONNECTED])
    every = store.create_consumer(consumer.url + "/every")
    store.create_consumer(consumer.url + "/off", disabled=True)

    read = dispatcher.publish(READ_COMPLETED, "c-1", _read_completed())
    assert {d["consumer_id"] for d in store.deliveries_of(read)} == {reads["id"], every["id"]}
    linked = dispatcher.publish(
        CONNECTION_CONNECTED, "c-1", connection_event_payload({"id": "x"}, company_id="c-1")
    )
    assert {d["consumer_id"] for d in store.deliveries_of(linked)} == {links["id"], every["id"]}

    received = consumer.wait_for(4)
    time.sleep(0.1)  # room for a wrong fifth delivery to show up
    assert len(consumer.received) == 4
    assert sorted(r.path for r in received) == [
        "/hooks/every",
        "/hooks/every",
        "/hooks/links",
        "/hooks/reads",
    ]


def test_company_tags_narrow_a_consumer_to_companies_carrying_one(
    dispatcher: WebhookDispatcher, consumer: RecordingConsumer
) -> None:
    store = dispatcher.store
    tagged = store.create_consumer(consumer.url, company_tags=["region:uk", "tier:gold"])
    untagged = store.create_consumer(consumer.url)

    def receivers(tags: dict[str, str] | None) -> set[str]:
        message = dispatcher.publish(READ_COMPLETED, "c-1", _read_completed(), company_tags=tags)
        return {d["consumer_id"] for d in store.deliveries_of(message)}

    assert receivers({"region": "uk"}) == {tagged["id"], untagged["id"]}
    assert receivers({"region": "UK"}) == {untagged["id"]}  # tags are case-sensitive
    assert receivers(None) == {untagged["id"]}


def test_publishing_never_waits_for_the_consumer(engine: Engine) -> None:
    gate = threading.Event()
    dispatcher = WebhookDispatcher(engine, retry_schedule=TINY, targets=ON_LOOPBACK)
    with RecordingConsumer(gate=gate) as consumer:
        dispatcher.store.create_consumer(consumer.url)
        dispatcher.start()
        try:
            assert "cloud-webhooks" in {t.name for t in threading.enumerate()}
            dispatcher.publish(READ_COMPLETED, "c-1", _read_completed())
            consumer.wait_for(1)  # the first delivery now hangs until the gate opens
            published = threading.Event()

            def publish_five() -> None:
                for _ in range(5):
                    dispatcher.publish(READ_COMPLETED, "c-1", _read_completed())
                published.set()

            threading.Thread(target=publish_five, daemon=True).start()
            # The gate opens only after this: publishing that waited for the consumer would
            # never finish, and the wait below would fail (its bound is for a slow machine).
            assert published.wait(timeout=60), "publishing waited for the hanging consumer"
        finally:
            gate.set()
            dispatcher.stop()
    assert "cloud-webhooks" not in {t.name for t in threading.enumerate()}


def test_a_message_published_before_a_restart_is_delivered_after_it(
    reopen: Callable[[], Engine], consumer: RecordingConsumer
) -> None:
    before = WebhookDispatcher(reopen(), retry_schedule=TINY, targets=ON_LOOPBACK)
    made = before.store.create_consumer(consumer.url)
    message_id = before.publish(READ_COMPLETED, "c-1", _read_completed())  # never started

    after = WebhookDispatcher(reopen(), retry_schedule=TINY, targets=ON_LOOPBACK)
    after.start()
    try:
        (received,) = consumer.wait_for(1)
    finally:
        after.stop()
    assert received.headers["webhook-id"] == message_id
    assert signature_is_valid(made["secret"], received)


def test_retry_state_survives_a_restart(reopen: Callable[[], Engine]) -> None:
    hour = (timedelta(hours=1),)
    with RecordingConsumer([500]) as consumer:
        before = WebhookDispatcher(reopen(), retry_schedule=hour, targets=ON_LOOPBACK)
        before.store.create_consumer(consumer.url)
        before.start()
        message_id = before.publish(READ_COMPLETED, "c-1", _read_completed())
        consumer.wait_for(1)
        eventually(lambda: before.store.deliveries_of(message_id)[0]["attempts"] == 1)
        before.stop()

        # Restarted two hours later: the retry is overdue and goes out at once.
        after = WebhookDispatcher(
            reopen(),
            retry_schedule=hour,
            targets=ON_LOOPBACK,
            clock=lambda: utc_now() + timedelta(hours=2),
        )
        after.start()
        try:
            retried = consumer.wait_for(2)[1]
            (delivery,) = eventually(
                lambda: [
                    d for d in after.store.deliveries_of(message_id) if d["status"] == "Succeeded"
                ]
            )
        finally:
            after.stop()
    assert retried.headers["webhook-id"] == message_id
    assert delivery["attempts"] == 2


def test_two_cloud_processes_on_one_database_deliver_each_message_once(
    reopen: Callable[[], Engine], consumer: RecordingConsumer
) -> None:
    first = WebhookDispatcher(reopen(), retry_schedule=TINY, targets=ON_LOOPBACK)
    second = WebhookDispatcher(reopen(), retry_schedule=TINY, targets=ON_LOOPBACK)
    first.store.create_consumer(consumer.url)
    first.start()
    second.start()
    try:
        published = {
            (first if n % 2 else second).publish(READ_COMPLETED, "c-1", _read_completed())
            for n in range(20)
        }
        consumer.wait_for(20)
        time.sleep(0.1)  # room for a duplicate to show up
    finally:
        first.stop()
        second.stop()
    assert sorted(r.headers["webhook-id"] for r in consumer.received) == sorted(published)


def test_publish_in_commits_or_rolls_back_with_the_callers_transaction(
    engine: Engine, dispatcher: WebhookDispatcher, consumer: RecordingConsumer
) -> None:
    dispatcher.store.create_consumer(consumer.url)

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), engine.begin() as conn:
        dropped = dispatcher.publish_in(conn, READ_COMPLETED, "c-1", _read_completed())
        raise Abandoned
    assert dispatcher.store.deliveries_of(dropped) == []

    with engine.begin() as conn:
        kept = dispatcher.publish_in(conn, READ_COMPLETED, "c-1", _read_completed())
    dispatcher.wake()
    (received,) = consumer.wait_for(1)
    assert received.headers["webhook-id"] == kept


def test_deleting_a_consumer_drops_its_pending_deliveries(engine: Engine) -> None:
    dispatcher = WebhookDispatcher(
        engine, retry_schedule=(timedelta(hours=1),), targets=ON_LOOPBACK
    )
    with RecordingConsumer(default=500) as consumer:
        made = dispatcher.store.create_consumer(consumer.url)
        dispatcher.start()
        try:
            message_id = dispatcher.publish(READ_COMPLETED, "c-1", _read_completed())
            consumer.wait_for(1)
            eventually(lambda: dispatcher.store.attempts_of(message_id, made["id"]))
            dispatcher.store.delete_consumer(made["id"])
        finally:
            dispatcher.stop()
    assert dispatcher.store.deliveries_of(message_id) == []
    assert dispatcher.store.next_due() is None


# Payloads --------------------------------------------------------------------------------------


def test_connection_events_parse_with_the_sdks_model() -> None:
    connection = {
        "id": "conn-1",
        "integrationId": "6b2a6a59-9c3e-4d0b-9c58-1e0f6f4a9c11",
        "integrationKey": "gncs",
        "sourceId": "0d9d1a7e-5f0c-4b7e-8f37-2a6f3f1b6d42",
        "sourceType": "Accounting",
        "platformName": "GnuCash",
        "linkUrl": "http://cloud.test/link",
        "status": "Linked",
        "created": "2024-01-01T12:00:00.000000Z",
    }
    payload = connection_event_payload(connection, company_id="c-1", company_name="Acme Ltd")
    envelope = {
        "id": "m-1",
        "eventType": CONNECTION_CONNECTED,
        "generatedDate": "2024-01-01T12:00:00.000000Z",
        "payload": payload,
    }
    event = shared.ConnectionWebhook.from_dict(envelope)
    assert event is not None and event.payload is not None
    assert event.payload.connection is not None
    assert event.payload.connection.status == "Linked"
    assert event.payload.reference_company is not None
    assert event.payload.reference_company.id == "c-1"


def test_read_completed_payload_refuses_what_the_sdk_would_refuse() -> None:
    with pytest.raises(ValueError, match="not a dataset status"):
        read_completed_payload("c-1", None, [{"dataType": "customers", "status": "Done"}])
    with pytest.raises(ValueError, match="not a data type"):
        read_completed_payload("c-1", None, [{"dataType": "spaceships", "status": "Complete"}])
    summary = read_completed_payload("c-1", None, [{"dataType": "bills", "status": "FetchError"}])
    assert summary["dataTypes"] == [{"dataType": "bills", "status": "FetchError", "issues": []}]


# The cloud's own events --------------------------------------------------------------------


def test_linking_a_sync_and_a_revocation_reach_the_consumer_signed(
    served: ServedCloud, consumer: RecordingConsumer
) -> None:
    """Real domain events, end to end: link, a dataset completes, the API user revokes."""
    with served.http() as http:
        made = http.post(
            "/webhooks",
            json={
                "url": consumer.url,
                "eventTypes": [
                    "connection.connected",
                    "read.completed",
                    "connection.disconnected",
                ],
            },
            headers=served.auth,
        ).json()
        company = http.post("/companies", json={"name": "Acme Ltd"}, headers=served.auth).json()
        connection = http.post(
            f"/companies/{company['id']}/connections",
            json={"platformKey": "gncs"},
            headers=served.auth,
        ).json()
        grant = http.post(
            "/agent/v1/link",
            json={
                "linkCode": connection["linkUrl"].rsplit("/", 1)[1],
                "dataTypes": ["customers"],
            },
        ).json()
        connected = consumer.wait_for(1)[0]
        # The first link queued types this agent cannot read: each ends NotSupported.
        agent = {"Authorization": f"Bearer {grant['accessToken']}"}
        dataset = http.post("/agent/v1/poll", json={"waitSeconds": 0}, headers=agent).json()[
            "dataset"
        ]
        assert dataset["dataType"] == "customers"
        http.post(
            f"/agent/v1/datasets/{dataset['id']}/transitions",
            json={"status": "Fetching", "timestamp": "2026-01-01T00:00:00Z"},
            headers=agent,
        )
        http.post(
            f"/agent/v1/datasets/{dataset['id']}/transitions",
            json={
                "status": "FetchError",
                "timestamp": "2026-01-01T00:00:00Z",
                "errorMessage": "The book is missing",
            },
            headers=agent,
        )
        http.post(
            f"/companies/{company['id']}/connections/{connection['id']}/revoke",
            headers=served.auth,
        )

    received = eventually(
        lambda: [r for r in consumer.received if b"connection.disconnected" in r.body] or None
    )
    assert received
    assert all(signature_is_valid(made["signingSecret"], r) for r in consumer.received)
    bodies = [json.loads(r.body) for r in consumer.received]
    kinds = [b["eventType"] for b in bodies]
    assert kinds[0] == "connection.connected"
    assert kinds[-1] == "connection.disconnected"

    hello = shared.ConnectionWebhook.from_dict(json.loads(connected.body))
    assert hello is not None
    assert bodies[0]["payload"]["connection"]["status"] == "Linked"
    assert bodies[0]["payload"]["referenceCompany"]["name"] == "Acme Ltd"
    assert bodies[-1]["payload"]["connection"]["status"] == "Deauthorized"

    reads = [b for b in bodies if b["eventType"] == "read.completed"]
    for read in reads:
        assert shared.ReadCompletedWebhook.from_dict(read) is not None
    by_type = {
        r["payload"]["dataTypes"][0]["dataType"]: r["payload"]["dataTypes"][0] for r in reads
    }
    assert by_type["customers"]["status"] == "FetchError"
    assert by_type["customers"]["issues"] == [{"type": "Error", "message": "The book is missing"}]
    assert by_type["invoices"]["status"] == "NotSupported"
