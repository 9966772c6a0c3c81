"""Record pages sent to a real cloud on loopback are let go as they are sent."""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import Iterator
from typing import ClassVar

import httpx
import pytest

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.tokens import TokenKeeper
from cloud.local import LocalCloud
from protocol.agent_requests import TransitionReport
from protocol.clock import utc_now
from protocol.states import DatasetStatus
from tests.agent.runtime_harness import new_company
from tests.support.memory_keyring import memory_store

PAGES = 20
RECORDS = 200  # a page of about 0.4 MB


@pytest.fixture
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path_factory.mktemp("cloud")) as local:
        yield local


class _Framing(httpx.HTTPTransport):
    """The real transport, noting how each request body is framed."""

    seen: ClassVar[list[tuple[str | None, str | None]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        framing = (request.headers.get("Content-Length"), request.headers.get("Transfer-Encoding"))
        self.seen.append(framing)
        return super().handle_request(request)


def test_uploaded_pages_are_not_kept_until_the_cycle_collector_runs(cloud: LocalCloud) -> None:
    # httpx leaves every response in a reference cycle that reaches its request: with the cycle
    # collector off, a page still referenced from there would stay in memory after its upload.
    company = new_company(cloud, "Acme", first_link=("customers",))
    with CloudClient(cloud.url) as anonymous:
        grant = anonymous.link(company.link_url.rsplit("/", 1)[1], ["customers"])
    keeper = TokenKeeper(grant.connection_id, memory_store(), first_grant=grant.tokens)
    with CloudClient(cloud.url, keeper, transport=_Framing()) as client:
        assignment = client.poll(0)
        assert assignment is not None
        dataset_id = assignment.dataset_id
        for status in ("Fetching", "Mapping", "Validating", "Processing"):
            client.report(
                dataset_id, TransitionReport(status=DatasetStatus(status), timestamp=utc_now())
            )
        pages = [
            json.dumps(
                [
                    {"id": f"cust-{p:02d}-{n:03d}", "customerName": f"Customer {n} " + "x" * 2000}
                    for n in range(RECORDS)
                ]
            ).encode()
            for p in range(PAGES)
        ]
        page_bytes = sum(len(page) for page in pages)
        client.upload_page(dataset_id, 0, pages[0])  # connection set up before measuring
        _Framing.seen.clear()
        gc.collect()
        gc.disable()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for number in range(1, PAGES):
                client.upload_page(dataset_id, number, pages[number])
            kept = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
            gc.enable()

    # Each page is sent framed by its length, as plain bytes would be: not chunked.
    assert len(_Framing.seen) == PAGES - 1
    assert all(length is not None and chunked is None for length, chunked in _Framing.seen)
    # Before the fix, every page sent (about 8 MB here) was still held; now a few requests'
    # small objects are.
    assert kept < page_bytes / 10, f"{kept:,} bytes kept after sending {page_bytes:,}"
