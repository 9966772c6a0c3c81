"""The public API's answers are declared (pydantic response models, in the OpenAPI document)
and are, byte for byte, what the cloud sent before they were.

Before the models, every route returned ``dict[str, Any]``, which FastAPI serialises with
pydantic's ``dump_json``; each test here calls a route's own function for the dict it
builds, serialises it that way, and compares with what the HTTP answer carries. The real
cloud in-process on real SQLite.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import TypeAdapter

from cloud.api import companies_api, data_api, datasets_api, settings_api, webhooks_api
from cloud.api.paging import ListParams
from tests.cloud.drive import claim_type, complete, report
from tests.support.cloud_harness import CloudHarness

AS_BEFORE = TypeAdapter(dict[str, Any])  # how FastAPI wrote a route's dict before the models


def as_before(built: dict[str, Any]) -> bytes:
    return AS_BEFORE.dump_json(built)


def params(path: str, **given: Any) -> ListParams:
    """What a route's ``ListDep`` makes of ``path?given``."""
    return ListParams(
        page=int(given.get("page", 1)),
        page_size=int(given.get("pageSize", 100)),
        query=given.get("query"),
        order_by=given.get("orderBy"),
        path=path,
        params={k: str(v) for k, v in given.items()},
    )


CUSTOMERS: list[dict[str, Any]] = [
    {
        "id": "c1",
        "customerName": "Ærøskøbing Ltd ✓",
        "status": "Active",
        "balance": 1e16,
        "ratio": 0.1,
        "tiny": 1e-7,
        "contacts": [{"name": None, "phone": ["+45 1"]}],
        "supplementalData": {"content": {"gnucash": {"nested": {"deep": [1, 2.5, True]}}}},
    },
    {"id": "c2", "customerName": "Bravo", "status": "Archived", "metadata": {"source": "x"}},
]
COMPANY_RECORD = {
    "id": "book",
    "companyName": "Harbor Lane",
    "addresses": [{"type": "Billing", "line1": "1 Quay"}],
    "phoneNumbers": [{"number": "1", "type": "Primary"}],
    "webLinks": [],
    "taxNumber": None,
    "baseCurrency": "GBP",
    "supplementalData": {"content": {"gnucash": {"emailAddress": "a@b"}}},
    "anExtraField": 7,
}
MONTHS: list[dict[str, Any]] = [
    {
        "id": "2026-01",
        "currency": "GBP",
        "date": "2026-01-31T00:00:00",
        "netAssets": 10.5,
        "assets": {"value": 10.5, "name": "Assets", "items": [{"value": 10.5, "name": "Bank"}]},
    },
    {"id": "2026-02", "currency": "GBP", "date": "2026-02-28T00:00:00", "netAssets": 12},
]


READS = ["customers", "company", "balanceSheet", "bankAccounts", "invoices", "suppliers"]


@pytest.fixture
def world(cloud: CloudHarness) -> dict[str, str]:
    """Every shape in its variants: with and without optional fields, each connection
    status, datasets complete, failed and waiting, records with floats and Unicode."""
    json_type = {"description": "A studio", "tags": {"region": "north", "tier": "1"}}
    company_id = cloud.http.post(
        "/companies", json={"name": "Harbor Lane", **json_type}, headers=cloud.auth
    ).json()["id"]
    cloud.new_company("Plain Co")
    agent = cloud.linked_agent(company_id)
    revoked = cloud.new_connection(company_id)["id"]
    cloud.link(
        cloud.http.get(f"/companies/{company_id}/connections/{revoked}", headers=cloud.auth).json()[
            "linkUrl"
        ]
    )
    cloud.http.post(f"/companies/{company_id}/connections/{revoked}/revoke", headers=cloud.auth)
    cloud.new_connection(company_id)  # stays PendingAuth
    cloud.http.post(
        "/agent/v1/heartbeat",
        json={"agentVersion": "1.2.3", "hostname": "FRONT-DESK", "dataTypes": READS},
        headers=agent,
    )
    uploads: list[tuple[str, list[dict[str, Any]]]] = [
        ("customers", CUSTOMERS),
        ("company", [COMPANY_RECORD]),
        ("balanceSheet", MONTHS),
        ("bankAccounts", [{"id": "b1", "accountName": "Current", "balance": -0.5}]),
    ]
    for data_type, records in uploads:
        cloud.http.post(f"/companies/{company_id}/data/queue/{data_type}", headers=cloud.auth)
        complete(cloud, agent, claim_type(cloud, agent, data_type)["id"], records)
    cloud.http.post(f"/companies/{company_id}/data/queue/invoices", headers=cloud.auth)
    failed = claim_type(cloud, agent, "invoices")
    report(cloud, agent, failed["id"], "Fetching")
    report(cloud, agent, failed["id"], "FetchError", errorMessage="The book is locked.")
    queued = cloud.http.post(
        f"/companies/{company_id}/data/queue/suppliers", headers=cloud.auth
    ).json()
    connection_id = cloud.http.get(
        f"/companies/{company_id}/connections", headers=cloud.auth
    ).json()["results"][0]["id"]
    settings = [
        {
            "dataType": "customers",
            "fetchOnFirstLink": True,
            "syncSchedule": 6,
            "syncOrder": 1,
            "syncFromUtc": "2026-01-01T00:00:00Z",
            "syncFromWindow": 3,
            "monthsToSync": 12,
            "isLocked": True,
        },
        {"dataType": "bills", "fetchOnFirstLink": False, "syncSchedule": 0, "syncOrder": 2},
    ]
    for path in ("/profile/syncSettings", f"/companies/{company_id}/syncSettings"):
        answer = cloud.http.post(path, json={"settings": settings}, headers=cloud.auth)
        assert answer.status_code == 204, answer.text
    return {
        "company": company_id,
        "connection": connection_id,
        "revoked": revoked,
        "queued": queued["id"],
        "failed": failed["id"],
    }


def check(
    cloud: CloudHarness, path: str, build: Callable[[], dict[str, Any]], **query: Any
) -> None:
    answer = cloud.http.get(path, params=query, headers=cloud.auth)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.content == as_before(build()), path


def test_companies_and_connections_answer_as_before(
    cloud: CloudHarness, world: dict[str, str]
) -> None:
    services = cloud.services
    company = world["company"]
    check(cloud, "/companies", lambda: companies_api.list_companies(services, params("/companies")))
    check(
        cloud,
        "/companies",
        lambda: companies_api.list_companies(services, params("/companies", page=2, pageSize=1)),
        page=2,
        pageSize=1,
    )
    check(cloud, f"/companies/{company}", lambda: companies_api.get_company(company, services))
    path = f"/companies/{company}/connections"
    check(cloud, path, lambda: companies_api.list_connections(company, services, params(path)))
    for connection in (world["connection"], world["revoked"]):
        check(
            cloud,
            f"{path}/{connection}",
            functools.partial(companies_api.get_connection, company, connection, services),
        )
    created = cloud.http.post(path, json={"platformKey": "gncs"}, headers=cloud.auth)
    assert created.content == as_before(
        companies_api.get_connection(company, created.json()["id"], services)
    )
    patched = cloud.http.patch(f"/companies/{company}", json={"name": "Harbor"}, headers=cloud.auth)
    assert patched.content == as_before(companies_api.get_company(company, services))


def test_datasets_and_data_status_answer_as_before(
    cloud: CloudHarness, world: dict[str, str]
) -> None:
    services = cloud.services
    company = world["company"]
    check(
        cloud,
        f"/companies/{company}/dataStatus",
        lambda: datasets_api.data_status(company, services),
    )
    path = f"/companies/{company}/data/history"
    check(cloud, path, lambda: datasets_api.history(company, services, params(path)))
    filtered = {"query": "status!=Complete", "orderBy": "-requested", "page": 1, "pageSize": 1}
    check(
        cloud,
        path,
        lambda: datasets_api.history(company, services, params(path, **filtered)),
        **filtered,
    )
    for dataset in (world["queued"], world["failed"]):
        check(
            cloud,
            f"{path}/{dataset}",
            functools.partial(datasets_api.dataset, company, dataset, services),
        )


def test_sync_settings_and_webhooks_answer_as_before(
    cloud: CloudHarness, world: dict[str, str]
) -> None:
    services = cloud.services
    company = world["company"]
    check(cloud, "/profile/syncSettings", lambda: settings_api.get_profile_settings(services))
    check(
        cloud,
        f"/companies/{company}/syncSettings",
        lambda: settings_api.get_company_settings(company, services),
    )
    created = cloud.http.post(
        "/webhooks",
        json={"url": "https://example.com/hook", "eventTypes": ["read.completed"]},
        headers=cloud.auth,
    )
    assert created.status_code == 201
    row = cloud.http.app.state.webhooks.store.get_consumer(created.json()["id"])  # type: ignore[attr-defined]
    assert created.content == as_before(
        {**webhooks_api.consumer(row), "signingSecret": row["secret"]}
    )
    webhooks = cloud.http.app.state.webhooks  # type: ignore[attr-defined]
    check(cloud, "/webhooks", lambda: webhooks_api.list_consumers(webhooks))
    check(
        cloud,
        f"/webhooks/{row['id']}/secret",
        lambda: webhooks_api.consumer_secret(row["id"], webhooks),
    )


def test_synced_data_answers_as_before(cloud: CloudHarness, world: dict[str, str]) -> None:
    services = cloud.services
    company, connection = world["company"], world["connection"]
    path = f"/companies/{company}/data/customers"
    check(cloud, path, lambda: data_api.read_records(company, "customers", services, params(path)))
    query = {"query": "customerName~bravo", "orderBy": "-id"}
    check(
        cloud,
        path,
        lambda: data_api.read_records(company, "customers", services, params(path, **query)),
        **query,
    )
    check(cloud, f"{path}/c1", lambda: data_api.read_record(company, "customers", "c1", services))
    check(
        cloud, f"/companies/{company}/data/info", lambda: data_api.company_info(company, services)
    )
    banks = f"/companies/{company}/connections/{connection}/data/bankAccounts"
    check(
        cloud, banks, lambda: data_api.bank_accounts(company, connection, services, params(banks))
    )
    sheet = {"periodLength": 1, "periodsToCompare": 3}
    check(
        cloud,
        f"/companies/{company}/data/financials/balanceSheet",
        lambda: data_api.financial_report(company, "balanceSheet", services, 1, 3),
        **sheet,
    )


def test_every_public_answer_has_a_declared_schema(cloud: CloudHarness) -> None:
    document = cloud.http.get("/openapi.json").json()
    undeclared = []
    for path, operations in document["paths"].items():
        if path.startswith("/agent/"):
            continue  # the agent API's answers are another change's
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if not status.startswith("2") or schema is None or "$ref" in schema:
                    continue
                if path.endswith("/{record_id}") and schema.get("type") == "object":
                    continue  # one record, whatever the agent uploaded
                undeclared.append(f"{method.upper()} {path} {status}")
            assert "422" not in operation["responses"], f"{method} {path}: 422 is never sent"
            assert "4XX" in operation["responses"], f"{method} {path}: errors undeclared"
    assert undeclared == []
