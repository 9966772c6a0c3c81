"""A property-based fuzz of the whole public API and agent API, from the cloud's own OpenAPI
document (``app.openapi()``), with schemathesis: every answer is below 500 and matches the
schema the document declares for it.

The real cloud in-process on real SQLite; each request is aimed at real things with the
right credentials (``tests/cloud/fuzz_world.py``), so that it gets past authentication and
404s to the handlers. ``FUZZ_EXAMPLES`` examples an operation (20 here, so the whole run
takes a few minutes on two CPUs); a longer run is ``make fuzz EXAMPLES=1000``. The run is
derandomised unless ``FUZZ_RANDOM`` is set, so that what fails in CI fails again locally;
``FUZZ_POSTGRES`` runs it on PostgreSQL (``CONNECTOR_TEST_POSTGRES``) instead of SQLite.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from cloud.app import create_app
from cloud.settings import CloudSettings
from tests.cloud.fuzz_world import World
from tests.support.cloud_harness import API_KEY, CloudHarness, cloud_on
from tests.support.fake_clock import FakeClock
from tests.support.postgres import fresh_database

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
# Long polls answer at once when nothing waits: a fuzz that waited 25 s a poll would do little.
SETTINGS: dict[str, Any] = {"api_key": API_KEY, "max_poll_wait_seconds": 0.05}

# The document as the cloud serves it; no server runs for this (the database is in memory).
schema = schemathesis.openapi.from_dict(
    create_app(
        CloudSettings(database_url="sqlite://", public_url="http://cloud.test", **SETTINGS),
        run_maintenance=False,
    ).openapi()
)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudHarness]:
    with ExitStack() as stack:
        if os.environ.get("FUZZ_POSTGRES"):
            url = stack.enter_context(fresh_database())
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'cloud.db'}"
        yield stack.enter_context(cloud_on(url, FakeClock(), max_poll_wait_seconds=0.05))


@pytest.fixture(scope="module")
def http(cloud: CloudHarness) -> TestClient:
    """A client of the same app that gets a 500 as an answer, as a real client would, rather
    than the server's exception (schemathesis reports it, with a command that reproduces it;
    the traceback is in the captured log under the answer's correlation id)."""
    return TestClient(cloud.http.app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def world(cloud: CloudHarness, http: TestClient) -> World:
    lease = cloud.services.datasets.lease.total_seconds()

    def unstick() -> None:
        cloud.clock.advance(2 * lease + 1)
        cloud.sweep()

    return World(http, API_KEY, unstick)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_below_500_and_matches_its_schema(
    case: schemathesis.Case[Any], http: TestClient, world: World
) -> None:
    credential = world.aim(case.method.upper(), case.path, case.path_parameters or {})
    sent = case.as_transport_kwargs(base_url="http://cloud.test")
    headers = {**sent["headers"], **credential}
    if sent.get("cookies"):  # none of the documented operations takes one
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in sent["cookies"].items())
    content: bytes | None = None
    if "json" in sent:
        content = json.dumps(sent["json"]).encode()
    elif sent.get("data") is not None:
        data = sent["data"]
        content = data if isinstance(data, bytes) else str(data).encode()
    if case.path.endswith("/chunks/{chunk}"):
        headers["X-Content-SHA256"] = world.checksum(
            content or b"", headers.get("X-Content-SHA256")
        )
    answer = http.request(
        sent["method"],
        sent["url"],
        params=sent.get("params"),
        headers={k: v for k, v in headers.items() if v is not None},
        content=content,
    )
    case.validate_response(answer, checks=[not_a_server_error, response_schema_conformance])
