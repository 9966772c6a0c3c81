"""The official Codat SDKs against a real cloud process: every answer must pass the SDK's checks.

``codat-platform`` and ``codat-lending`` validate the status code of every answer and parse every
body into their response models, so a call that returns here is a call an integrator's code
accepts. The cloud runs as its own process on loopback (``LocalCloud``), shared by the tests of
this module; each test makes its own company. Where a test needs an agent, it either plays the
agent's part over the agent API with httpx, or runs the real ``connector`` CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from codat_lending import CodatLending
from codat_lending.models import errors as lending_errors
from codat_lending.models import shared as lending_shared
from codat_lending.utils import RetryConfig as LendingRetryConfig
from codat_platform import CodatPlatform
from codat_platform.models import errors, shared
from codat_platform.utils import RetryConfig

from cloud.local import LocalCloud
from protocol.clock import to_iso, utc_now
from protocol.datatypes import ACCOUNTING_DATA_TYPES, FETCH_ON_FIRST_LINK
from tests.support.paths import SAMPLE_BOOKS


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path_factory.mktemp("cloud")) as running:
        yield running


@pytest.fixture(scope="module")
def platform(cloud: LocalCloud) -> CodatPlatform:
    return CodatPlatform(
        server_url=cloud.url,
        security=shared.Security(auth_header=cloud.auth_header),
        retry_config=RetryConfig("none", None, False),
    )


@pytest.fixture(scope="module")
def lending(cloud: LocalCloud) -> CodatLending:
    return CodatLending(
        server_url=cloud.url,
        security=lending_shared.Security(auth_header=cloud.auth_header),
        retry_config=LendingRetryConfig("none", None, False),
    )


@pytest.fixture(scope="module")
def api(cloud: LocalCloud) -> Iterator[httpx.Client]:
    """Plain HTTP on the public API, to see exactly what the cloud sent."""
    with cloud.client() as client:
        yield client


def new_company(platform: CodatPlatform, name: str = "Harbor Lane Design Studio") -> str:
    company_id: str = platform.companies.create(request={"name": name}).id
    return company_id


def new_connection(platform: CodatPlatform, company_id: str) -> shared.Connection:
    return platform.connections.create(
        request={"company_id": company_id, "request_body": {"platform_key": "gncs"}}
    )


class Agent:
    """Plays a linked agent's part over the agent API (``docs/PROTOCOL.md``)."""

    def __init__(self, cloud: LocalCloud, link_url: str, data_types: list[str]) -> None:
        self._http = httpx.Client(base_url=cloud.url, timeout=10.0)
        body = {
            "linkCode": link_url.rsplit("/", 1)[1],
            "agentVersion": "test",
            "hostname": "h",
            "dataTypes": data_types,
        }
        linked = self._http.post("/agent/v1/link", json=body)
        assert linked.status_code == 200, linked.text
        self._http.headers["Authorization"] = f"Bearer {linked.json()['accessToken']}"

    def close(self) -> None:
        self._http.close()

    def claim(self, data_type: str) -> str:
        """Take the next dataset, which must be of ``data_type``; returns its id."""
        polled = self._http.post("/agent/v1/poll", json={"waitSeconds": 0})
        assert polled.status_code == 200, polled.text
        dataset = polled.json()["dataset"]
        assert dataset is not None, f"no {data_type} dataset was handed out"
        assert dataset["dataType"] == data_type
        dataset_id: str = dataset["id"]
        return dataset_id

    def report(self, dataset_id: str, status: str, **extra: Any) -> None:
        body = {"status": status, "timestamp": to_iso(utc_now()), **extra}
        moved = self._http.post(f"/agent/v1/datasets/{dataset_id}/transitions", json=body)
        assert moved.status_code == 200, moved.text

    def complete(self, dataset_id: str, records: list[dict[str, Any]]) -> None:
        for status in ("Fetching", "Mapping", "Validating", "Processing"):
            self.report(dataset_id, status)
        body = json.dumps({"records": records}).encode()
        uploaded = self._http.put(
            f"/agent/v1/datasets/{dataset_id}/chunks/0",
            content=body,
            headers={"X-Content-SHA256": hashlib.sha256(body).hexdigest()},
        )
        assert uploaded.status_code == 204, uploaded.text
        self.report(dataset_id, "Complete", chunks=1)

    def fail(self, dataset_id: str, message: str) -> None:
        self.report(dataset_id, "Fetching")
        self.report(dataset_id, "FetchError", errorMessage=message)


@pytest.fixture
def agents() -> Iterator[list[Agent]]:
    made: list[Agent] = []
    yield made
    for agent in made:
        agent.close()


def link(agents: list[Agent], cloud: LocalCloud, link_url: str, data_types: list[str]) -> Agent:
    agent = Agent(cloud, link_url, data_types)
    agents.append(agent)
    return agent


# Companies --------------------------------------------------------------------------------------


def test_a_company_is_created_read_updated_replaced_and_deleted(
    platform: CodatPlatform, cloud: LocalCloud
) -> None:
    created = platform.companies.create(
        request={"name": "Acme Ltd", "description": "Bookkeeping", "tags": {"region": "uk"}}
    )
    assert created.name == "Acme Ltd"
    assert created.redirect.startswith(f"{cloud.url}/link")
    assert created.data_connections == []

    read = platform.companies.get(request={"company_id": created.id})
    assert (read.id, read.name, read.description, read.tags) == (
        created.id,
        "Acme Ltd",
        "Bookkeeping",
        {"region": "uk"},
    )
    assert read.created == created.created

    patched = platform.companies.update(
        request={"company_id": created.id, "company_update_request": {"name": "Acme Group"}}
    )
    # PATCH changes what it names and keeps the rest.
    assert (patched.name, patched.description, patched.tags) == (
        "Acme Group",
        "Bookkeeping",
        {"region": "uk"},
    )

    replaced = platform.companies.replace(
        request={"company_id": created.id, "company_request_body": {"name": "Acme plc"}}
    )
    # PUT replaces the whole company: what the body leaves out is gone.
    assert replaced.name == "Acme plc"
    assert not replaced.description
    assert not replaced.tags
    assert platform.companies.get(request={"company_id": created.id}).name == "Acme plc"

    assert platform.companies.delete(request={"company_id": created.id}) is None
    with pytest.raises(errors.ErrorMessage) as missing:
        platform.companies.get(request={"company_id": created.id})
    assert missing.value.status_code == 404
    assert missing.value.data.status_code == 404
    assert created.id in (missing.value.data.error or "")


def test_companies_are_listed_in_pages(platform: CodatPlatform) -> None:
    token = secrets.token_hex(4)
    ids = [new_company(platform, f"paging-{token}-{n}") for n in range(3)]
    query = f"name~{token}"

    first = platform.companies.list(request={"page": 1, "page_size": 2, "query": query})
    assert (first.page_number, first.page_size, first.total_results) == (1, 2, 3)
    assert len(first.results) == 2
    assert first.links.next is not None
    assert first.links.previous is None

    second = platform.companies.list(request={"page": 2, "page_size": 2, "query": query})
    assert (second.page_number, second.page_size, second.total_results) == (2, 2, 3)
    assert len(second.results) == 1
    assert second.links.next is None
    assert second.links.previous is not None

    assert [c.id for c in first.results + second.results] == ids
    everything = platform.companies.list(request={"page_size": 5000})
    assert everything.total_results >= 3
    assert set(ids) <= {c.id for c in everything.results}


# Connections ------------------------------------------------------------------------------------


def test_a_connection_is_created_unlinked_only_once_linked_and_deleted(
    platform: CodatPlatform, cloud: LocalCloud, agents: list[Agent]
) -> None:
    company_id = new_company(platform)
    created = new_connection(platform, company_id)
    assert created.status == shared.DataConnectionStatus.PENDING_AUTH
    assert created.integration_key == "gncs"
    assert created.source_type == shared.SourceType.ACCOUNTING
    assert created.platform_name == "GnuCash"
    assert created.link_url.startswith(f"{cloud.url}/link/")

    ids = {"company_id": company_id, "connection_id": created.id}
    assert platform.connections.get(request=ids).id == created.id
    listed = platform.connections.list(request={"company_id": company_id})
    assert listed.total_results == 1
    assert [c.id for c in listed.results] == [created.id]
    company = platform.companies.get(request={"company_id": company_id})
    assert [c.id for c in company.data_connections or []] == [created.id]

    # Only a Linked connection can be unlinked. codat-platform documents no 400 for this call,
    # so the refusal reaches the caller as SDKError, carrying the public error body.
    with pytest.raises(errors.SDKError) as refused:
        platform.connections.unlink(
            request={**ids, "update_connection_status": {"status": "Unlinked"}}
        )
    assert refused.value.status_code == 400
    refusal = json.loads(refused.value.body)
    assert refusal["statusCode"] == 400
    assert refusal["error"] == "Only a Linked connection can be unlinked; this one is PendingAuth."
    assert platform.connections.get(request=ids).status == shared.DataConnectionStatus.PENDING_AUTH

    link(agents, cloud, created.link_url, ["customers"])
    linked = platform.connections.get(request=ids)
    assert linked.status == shared.DataConnectionStatus.LINKED
    assert linked.connection_info is not None
    assert linked.connection_info["agentVersion"] == "test"

    unlinked = platform.connections.unlink(
        request={**ids, "update_connection_status": {"status": "Unlinked"}}
    )
    assert unlinked.status == shared.DataConnectionStatus.UNLINKED
    assert platform.connections.get(request=ids).status == shared.DataConnectionStatus.UNLINKED

    assert platform.connections.delete(request=ids) is None
    with pytest.raises(errors.ErrorMessage) as missing:
        platform.connections.get(request=ids)
    assert missing.value.status_code == 404
    assert platform.connections.list(request={"company_id": company_id}).total_results == 0


# Syncs ------------------------------------------------------------------------------------------


def test_a_sync_is_queued_and_a_second_one_in_progress_is_refused(
    platform: CodatPlatform,
) -> None:
    company_id = new_company(platform)
    connection = new_connection(platform, company_id)

    queued = platform.refresh_data.by_data_type(
        request={"company_id": company_id, "data_type": "customers"}
    )
    assert (queued.company_id, queued.connection_id, queued.data_type) == (
        company_id,
        connection.id,
        "customers",
    )
    assert queued.status == shared.DatasetStatus.QUEUED
    assert (queued.progress, queued.is_completed, queued.is_errored) == (0, False, False)
    assert queued.completed is None

    with pytest.raises(errors.ErrorMessage) as refused:
        platform.refresh_data.by_data_type(
            request={"company_id": company_id, "data_type": "customers"}
        )
    assert refused.value.status_code == 400
    assert refused.value.data.error == (
        f"DatasetAlreadyInProgressException: Cannot queue customers sync for {company_id} "
        f"as previous sync {queued.id} is still in progress"
    )

    fetched = platform.refresh_data.get_pull_operation(
        request={"company_id": company_id, "dataset_id": queued.id}
    )
    assert fetched == queued


def test_refresh_all_queues_the_fetch_on_first_link_types_once_each(
    platform: CodatPlatform,
) -> None:
    company_id = new_company(platform)
    new_connection(platform, company_id)
    customers = platform.refresh_data.by_data_type(
        request={"company_id": company_id, "data_type": "customers"}
    )

    assert platform.refresh_data.all(request={"company_id": company_id}) is None

    history = platform.refresh_data.list_pull_operations(request={"company_id": company_id})
    by_type: dict[str, list[str]] = {}
    for operation in history.results:
        by_type.setdefault(operation.data_type, []).append(operation.id)
        assert operation.status == shared.DatasetStatus.QUEUED
    assert set(by_type) == set(FETCH_ON_FIRST_LINK)
    # customers was already in progress: left alone, not queued twice.
    assert by_type["customers"] == [customers.id]
    assert history.total_results == len(FETCH_ON_FIRST_LINK)


def test_the_history_is_filtered_by_query_and_sorted_by_order_by(
    platform: CodatPlatform, cloud: LocalCloud, agents: list[Agent]
) -> None:
    company_id = new_company(platform)
    connection = new_connection(platform, company_id)
    first = platform.refresh_data.by_data_type(
        request={"company_id": company_id, "data_type": "customers"}
    )
    # An agent that reads only suppliers: its first poll ends the waiting customers dataset
    # NotSupported (and the other first-link types with it), so customers can be queued again.
    agent = link(agents, cloud, connection.link_url, ["suppliers"])
    agent.claim("suppliers")
    second = platform.refresh_data.by_data_type(
        request={"company_id": company_id, "data_type": "customers"}
    )
    assert second.status == shared.DatasetStatus.NOT_SUPPORTED
    assert "cannot read customers" in (second.error_message or "")

    newest_first = platform.refresh_data.list_pull_operations(
        request={"company_id": company_id, "query": "dataType=customers", "order_by": "-requested"}
    )
    assert [op.id for op in newest_first.results] == [second.id, first.id]
    assert newest_first.total_results == 2
    assert {op.status for op in newest_first.results} == {shared.DatasetStatus.NOT_SUPPORTED}

    oldest_first = platform.refresh_data.list_pull_operations(
        request={"company_id": company_id, "query": "dataType=customers", "order_by": "requested"}
    )
    assert [op.id for op in oldest_first.results] == [first.id, second.id]

    everything = platform.refresh_data.list_pull_operations(request={"company_id": company_id})
    assert everything.total_results > 2
    assert {op.data_type for op in everything.results} > {"customers"}

    ended = platform.refresh_data.get_pull_operation(
        request={"company_id": company_id, "dataset_id": first.id}
    )
    assert ended.status == shared.DatasetStatus.NOT_SUPPORTED
    assert ended.requested == first.requested
    assert "cannot read customers" in (ended.error_message or "")


# dataStatus -------------------------------------------------------------------------------------


def test_the_sdk_rejects_data_status_while_a_data_type_was_never_synced(
    platform: CodatPlatform, api: httpx.Client
) -> None:
    """Documents a known conflict rather than a wish: the cloud serves the seed's shape for a
    never-synced data type, ``{"dataType": "suppliers"}`` alone, and codat-platform's
    ``DataStatus`` requires ``currentStatus``, so the SDK cannot parse the whole answer."""
    company_id = new_company(platform)
    raw = api.get(f"/companies/{company_id}/dataStatus")
    assert raw.status_code == 200
    assert raw.json()["suppliers"] == {"dataType": "suppliers"}

    with pytest.raises(errors.ResponseValidationError) as rejected:
        platform.refresh_data.get(request={"company_id": company_id})
    assert rejected.value.status_code == 200
    assert "currentStatus" in str(rejected.value)


def test_data_status_parses_once_every_data_type_has_had_a_dataset(
    platform: CodatPlatform, cloud: LocalCloud, agents: list[Agent]
) -> None:
    company_id = new_company(platform)
    connection = new_connection(platform, company_id)
    readable = ["customers", "suppliers"]
    # The first link queues the fetch-on-first-link types; what the agent cannot read ends
    # NotSupported at once, customers and suppliers wait for it.
    agent = link(agents, cloud, connection.link_url, readable)
    unreadable: dict[str, str] = {}
    for data_type in ACCOUNTING_DATA_TYPES:
        if data_type in readable:
            continue
        operation = platform.refresh_data.by_data_type(
            request={"company_id": company_id, "data_type": data_type}
        )
        assert operation.status == shared.DatasetStatus.NOT_SUPPORTED, data_type
        unreadable[data_type] = operation.id

    customers_ok = agent.claim("customers")
    agent.complete(customers_ok, [{"id": "c1", "customerName": "Bluewater", "status": "Active"}])
    suppliers_ok = agent.claim("suppliers")
    agent.complete(suppliers_ok, [{"id": "s1", "supplierName": "Portside", "status": "Active"}])
    platform.refresh_data.by_data_type(request={"company_id": company_id, "data_type": "customers"})
    customers_failed = agent.claim("customers")
    agent.fail(customers_failed, "The book could not be opened.")

    statuses = platform.refresh_data.get(request={"company_id": company_id})

    by_type: dict[str, dict[str, Any]] = statuses.model_dump(mode="json", by_alias=True)
    assert set(by_type) == set(ACCOUNTING_DATA_TYPES)

    def completed(dataset_id: str) -> str:
        when = platform.refresh_data.get_pull_operation(
            request={"company_id": company_id, "dataset_id": dataset_id}
        ).completed
        assert when, f"dataset {dataset_id} has no completion time"
        return str(when)

    # The seed's "last sync failed although a previous sync was successful".
    assert by_type["customers"] == {
        "dataType": "customers",
        "lastSuccessfulSync": completed(customers_ok),
        "currentStatus": "FetchError",
        "latestSyncId": customers_failed,
        "latestSuccessfulSyncId": customers_ok,
    }
    # The seed's "sync was successful".
    assert by_type["suppliers"] == {
        "dataType": "suppliers",
        "lastSuccessfulSync": completed(suppliers_ok),
        "currentStatus": "Complete",
        "latestSyncId": suppliers_ok,
        "latestSuccessfulSyncId": suppliers_ok,
    }
    # Never successful: no lastSuccessfulSync, no latestSuccessfulSyncId.
    for data_type, dataset_id in unreadable.items():
        assert by_type[data_type] == {
            "dataType": data_type,
            "currentStatus": "NotSupported",
            "latestSyncId": dataset_id,
        }, data_type


# Sync settings ----------------------------------------------------------------------------------


def _setting(settings: list[shared.SyncSetting], data_type: str) -> shared.SyncSetting:
    return next(s for s in settings if s.data_type == data_type)


def test_profile_sync_settings_round_trip(platform: CodatPlatform) -> None:
    before = platform.settings.get_sync_settings()
    assert before.overrides_defaults is False
    assert {s.data_type for s in before.settings} == set(ACCOUNTING_DATA_TYPES)
    items = _setting(before.settings, "items")
    assert items.sync_schedule != 6

    changed = {
        "data_type": "items",
        "fetch_on_first_link": items.fetch_on_first_link,
        "sync_schedule": 6,
        "sync_order": items.sync_order,
    }
    try:
        answer = platform.settings.update_sync_settings(
            request={
                "client_id": before.client_id,
                "settings": [changed],
                "overrides_defaults": True,
            }
        )
        assert answer is None

        after = platform.settings.get_sync_settings()
        assert after.client_id == before.client_id
        assert after.overrides_defaults is True
        assert _setting(after.settings, "items").sync_schedule == 6
        untouched = [s for s in after.settings if s.data_type != "items"]
        assert untouched == [s for s in before.settings if s.data_type != "items"]
        # Every company inherits the profile's settings until it has its own.
        company = platform.companies.get_company_sync_settings(
            request={"company_id": new_company(platform)}
        )
        assert company.overrides_defaults is False
        assert _setting(company.settings, "items").sync_schedule == 6
    finally:
        # Leave the shared cloud's profile as it was for the other tests.
        platform.settings.update_sync_settings(
            request={"client_id": before.client_id, "settings": [], "overrides_defaults": False}
        )
    assert platform.settings.get_sync_settings() == before


def test_company_sync_settings_round_trip_and_decide_what_refresh_all_queues(
    platform: CodatPlatform,
) -> None:
    company_id = new_company(platform)
    other_id = new_company(platform)
    before = platform.companies.get_company_sync_settings(request={"company_id": company_id})
    assert before.company_id == company_id
    assert before.overrides_defaults is False
    invoices = _setting(before.settings, "invoices")
    assert invoices.fetch_on_first_link is True

    answer = platform.companies.set_company_sync_settings(
        request={
            "company_id": company_id,
            "request_body": {
                "company_id": company_id,
                "settings": [
                    {
                        "data_type": "invoices",
                        "fetch_on_first_link": False,
                        "sync_schedule": 48,
                        "sync_order": invoices.sync_order,
                    }
                ],
                "overrides_defaults": True,
            },
        }
    )
    assert answer is None

    after = platform.companies.get_company_sync_settings(request={"company_id": company_id})
    assert after.overrides_defaults is True
    changed = _setting(after.settings, "invoices")
    assert (changed.fetch_on_first_link, changed.sync_schedule) == (False, 48)
    assert [s for s in after.settings if s.data_type != "invoices"] == [
        s for s in before.settings if s.data_type != "invoices"
    ]
    # Another company keeps the defaults.
    other = platform.companies.get_company_sync_settings(request={"company_id": other_id})
    assert other.overrides_defaults is False
    assert other.settings == before.settings

    new_connection(platform, company_id)
    platform.refresh_data.all(request={"company_id": company_id})
    history = platform.refresh_data.list_pull_operations(request={"company_id": company_id})
    queued = {op.data_type for op in history.results}
    assert queued == set(FETCH_ON_FIRST_LINK) - {"invoices"}


# codat-lending over a real agent's sync ---------------------------------------------------------


def connector(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_codat_lending_reads_what_a_real_agent_synced(
    platform: CodatPlatform,
    lending: CodatLending,
    api: httpx.Client,
    tmp_path: Path,
) -> None:
    book = tmp_path / "books" / "Harbor Lane.gnucash"
    book.parent.mkdir()
    shutil.copyfile(SAMPLE_BOOKS["sqlite"], book)
    company_id = new_company(platform)
    connection = new_connection(platform, company_id)
    # The plain-file credential store spares this test a keyring daemon; the end-to-end test
    # covers the real keyring.
    env = {**os.environ, "CONNECTOR_HOME": str(tmp_path / "agent-home")}
    linked = connector(
        env, "link", connection.link_url, "--book", str(book), "--insecure-file-store"
    )
    assert linked.returncode == 0, linked.stderr

    # Linked, not yet synced: the read is refused with 409, which codat-lending documents.
    with pytest.raises(lending_errors.ErrorMessage) as not_yet:
        lending.accounts_receivable.customers.list(request={"company_id": company_id})
    assert not_yet.value.status_code == 409

    ran = connector(env, "run", "--headless", "--until-idle", "2")
    assert ran.returncode == 0, ran.stderr

    history = platform.refresh_data.list_pull_operations(
        request={"company_id": company_id, "query": "dataType=customers||dataType=suppliers"}
    )
    assert {(op.data_type, op.status) for op in history.results} == {
        ("customers", shared.DatasetStatus.COMPLETE),
        ("suppliers", shared.DatasetStatus.COMPLETE),
    }

    customers = lending.accounts_receivable.customers.list(
        request={"company_id": company_id, "page_size": 5000}
    )
    suppliers = lending.accounts_payable.suppliers.list(
        request={"company_id": company_id, "page_size": 5000}
    )
    served_customers = _read_all(api, f"/companies/{company_id}/data/customers")
    served_suppliers = _read_all(api, f"/companies/{company_id}/data/suppliers")

    assert customers.total_results == len(customers.results) == 6
    assert suppliers.total_results == len(suppliers.results) == 3
    assert {c.id: c.customer_name for c in customers.results} == {
        c["id"]: c["customerName"] for c in served_customers
    }
    assert {s.id: s.supplier_name for s in suppliers.results} == {
        s["id"]: s["supplierName"] for s in served_suppliers
    }

    one_customer = served_customers[0]
    got = lending.accounts_receivable.customers.get(
        request={"company_id": company_id, "customer_id": one_customer["id"]}
    )
    assert (got.id, got.customer_name) == (one_customer["id"], one_customer["customerName"])
    one_supplier = served_suppliers[0]
    got_supplier = lending.accounts_payable.suppliers.get(
        request={"company_id": company_id, "supplier_id": one_supplier["id"]}
    )
    assert (got_supplier.id, got_supplier.supplier_name) == (
        one_supplier["id"],
        one_supplier["supplierName"],
    )


def _read_all(api: httpx.Client, path: str) -> list[dict[str, Any]]:
    response = api.get(path, params={"pageSize": 5000})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results
