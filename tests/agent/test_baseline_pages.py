"""The cloud's baseline read a page at a time, against a real cloud on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.tokens import TokenKeeper
from cloud.local import LocalCloud
from protocol.agent_requests import TransitionReport
from protocol.clock import utc_now
from protocol.record_hash import record_hash
from protocol.states import DatasetStatus
from tests.agent.runtime_harness import Company, new_company
from tests.support.memory_keyring import memory_store

COUNT = 10_050  # one more page than the cloud's default page (10,000) holds
PAGE = 1_000


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path_factory.mktemp("cloud")) as local:
        yield local


@pytest.fixture(scope="module")
def synced(cloud: LocalCloud) -> Iterator[tuple[Company, CloudClient, list[dict[str, Any]]]]:
    """A company whose cloud holds COUNT customers, uploaded through the agent's client."""
    company = new_company(cloud, "Acme", first_link=("customers",))
    with CloudClient(cloud.url) as anonymous:
        grant = anonymous.link(company.link_url.rsplit("/", 1)[1], ["customers"])
    keeper = TokenKeeper(grant.connection_id, memory_store(), first_grant=grant.tokens)
    customers = [
        {"id": f"cust-{n:05d}", "customerName": f"Customer {n}", "status": "Active"}
        for n in reversed(range(COUNT))
    ]
    with CloudClient(cloud.url, keeper, transport=_Recording()) as client:
        dataset_id = _claim(client)
        for status in ("Fetching", "Mapping", "Validating", "Processing"):
            client.report(
                dataset_id, TransitionReport(status=DatasetStatus(status), timestamp=utc_now())
            )
        pages = [customers[i : i + PAGE] for i in range(0, COUNT, PAGE)]
        for number, page in enumerate(pages):
            client.upload_page(dataset_id, number, json.dumps(page).encode())
        complete = TransitionReport(
            status=DatasetStatus.COMPLETE, timestamp=utc_now(), chunks=len(pages), recordCount=COUNT
        )
        client.report(dataset_id, complete)
        yield company, client, customers


class _Recording(httpx.HTTPTransport):
    """The real transport, noting each URL it sends."""

    sent: ClassVar[list[str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(str(request.url))
        return super().handle_request(request)


def _claim(client: CloudClient) -> str:
    assignment = client.poll(0)
    assert assignment is not None and assignment.data_type == "customers"
    return assignment.dataset_id


def test_baseline_hashes_yields_every_record_page_by_page_in_id_order(
    synced: tuple[Company, CloudClient, list[dict[str, Any]]],
) -> None:
    company, client, customers = synced
    company.queue("customers")
    dataset_id = _claim(client)
    expected = sorted((c["id"], record_hash(c)) for c in customers)

    requests = _Recording.sent
    requests.clear()
    hashes = client.baseline_hashes(dataset_id, page_size=3_000)
    assert next(hashes) == expected[0]
    assert len(requests) == 1  # the later pages are fetched only as the caller goes on
    assert [expected[0], *hashes] == expected
    assert len(requests) == 4 and "after=cust-02999" in requests[1]

    # The cloud's default page (10,000) is smaller than the baseline: every page is still read.
    assert list(client.baseline_hashes(dataset_id)) == expected
