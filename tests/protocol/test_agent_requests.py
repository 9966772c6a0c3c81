"""The agent API's requests are defined once (protocol/agent_requests.py): the cloud parses with
them and publishes them in its OpenAPI document, the agent's client builds its bodies from them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.tokens import TokenKeeper
from cloud.local import LocalCloud
from protocol import agent_requests
from protocol.agent_requests import TransitionReport
from protocol.clock import to_iso
from protocol.states import DatasetStatus
from tests.agent.runtime_harness import new_company
from tests.support.cloud_harness import CloudHarness
from tests.support.memory_keyring import memory_store

REQUESTS = {
    "/agent/v1/link": "LinkRequest",
    "/agent/v1/token": "RefreshRequest",
    "/agent/v1/heartbeat": "HeartbeatRequest",
    "/agent/v1/queue": "QueueRequest",
    "/agent/v1/poll": "PollRequest",
    "/agent/v1/datasets/{dataset_id}/transitions": "TransitionReport",
}


def test_the_clouds_routes_take_the_protocols_request_models(cloud: CloudHarness) -> None:
    document = cloud.http.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    for path, name in REQUESTS.items():
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": f"#/components/schemas/{name}"}, path
        model = getattr(agent_requests, name)
        # The cloud's schema is the protocol model's, field for field.
        assert set(schemas[name]["properties"]) == set(model.model_fields), name


class _Recording(httpx.HTTPTransport):
    """The real transport, keeping each JSON body it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: dict[str, dict[str, Any]] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.content:
            self.bodies[request.url.path.rsplit("/", 1)[1]] = json.loads(request.content)
        return super().handle_request(request)


def test_the_agent_sends_bodies_the_models_write(tmp_path: Path) -> None:
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Acme", first_link=("customers",))
        recording = _Recording()
        with CloudClient(cloud.url, transport=recording) as anonymous:
            grant = anonymous.link(company.link_url.rsplit("/", 1)[1], ["customers"])
        keeper = TokenKeeper(grant.connection_id, memory_store(), first_grant=grant.tokens)
        moment = datetime(2026, 1, 31, 9, 0, 0, 123456, tzinfo=UTC)
        with CloudClient(cloud.url, keeper, transport=recording) as client:
            client.heartbeat(["customers"], wait_reason=None)
            assignment = client.poll(5.0)
            assert assignment is not None
            client.report(
                assignment.dataset_id,
                TransitionReport(status=DatasetStatus.FETCHING, timestamp=moment),
            )
    bodies = recording.bodies
    assert bodies["link"]["linkCode"] == company.link_url.rsplit("/", 1)[1]
    assert bodies["heartbeat"]["waitReason"] is None  # said, not left out
    assert bodies["poll"] == {"waitSeconds": 5.0}
    # Only the fields given go on the wire, the timestamp as protocol/clock.py writes it.
    assert bodies["transitions"] == {"status": "Fetching", "timestamp": to_iso(moment)}
    models: list[tuple[str, type[BaseModel]]] = [
        ("link", agent_requests.LinkRequest),
        ("heartbeat", agent_requests.HeartbeatRequest),
        ("poll", agent_requests.PollRequest),
        ("transitions", agent_requests.TransitionReport),
    ]
    for name, model in models:
        model.model_validate(bodies[name])  # what the agent sent, the cloud's model takes
    assert agent_requests.TransitionReport.model_validate(bodies["transitions"]).timestamp == moment


def test_the_baseline_query_and_the_page_body_are_the_protocols(cloud: CloudHarness) -> None:
    """Both sides take them from protocol/agent_requests.py: the cloud's baseline route takes
    BaselineQuery's fields with its bounds, and documents a page's body with PAGE_SCHEMA."""
    document = cloud.http.get("/openapi.json").json()
    route = document["paths"]["/agent/v1/datasets/{dataset_id}/baseline"]["get"]
    query = {p["name"]: p["schema"] for p in route["parameters"] if p["in"] == "query"}
    assert set(query) == set(agent_requests.BaselineQuery.model_fields)
    limit = agent_requests.BaselineQuery.model_json_schema()["properties"]["limit"]
    assert (query["limit"]["minimum"], query["limit"]["maximum"]) == (
        limit["minimum"],
        limit["maximum"],
    )
    page = document["paths"]["/agent/v1/datasets/{dataset_id}/chunks/{chunk}"]["put"]
    body = page["requestBody"]["content"]["application/json"]["schema"]
    assert body == agent_requests.PAGE_SCHEMA
    assert agent_requests.page_body(b'[{"id": "c1"}]') == b'{"records":[{"id": "c1"}]}'
