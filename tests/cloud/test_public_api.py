"""The public API's shapes and status codes, against the in-process cloud on real SQLite."""

from __future__ import annotations

import re
from typing import Any

from tests.cloud.drive import claim_type, complete, fail, report, upload_chunk
from tests.support.cloud_harness import CloudHarness

ERROR_KEYS = {
    "statusCode",
    "service",
    "error",
    "correlationId",
    "validation",
    "canBeRetried",
    "detailedErrorCode",
}


def test_a_company_is_created_with_200_and_its_required_fields(cloud: CloudHarness) -> None:
    response = cloud.http.post(
        "/companies", json={"name": "Acme", "description": "d"}, headers=cloud.auth
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert {"id", "name", "redirect"} <= body.keys()
    assert body["name"] == "Acme"


def test_every_call_needs_the_api_key_and_errors_have_the_public_shape(
    cloud: CloudHarness,
) -> None:
    response = cloud.http.post("/companies", json={"name": "Acme"})
    assert response.status_code == 401
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["statusCode"] == 401
    wrong = cloud.http.post(
        "/companies", json={"name": "Acme"}, headers={"Authorization": "Basic d3Jvbmc="}
    )
    assert wrong.status_code == 401


def test_a_gnucash_connection_starts_pending_with_a_link_code(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    connection = cloud.new_connection(company_id)
    assert connection["status"] == "PendingAuth"
    assert connection["integrationKey"] == "gncs"
    assert connection["platformName"] == "GnuCash"
    assert connection["sourceType"] == "Accounting"
    for field in ("id", "integrationId", "sourceId", "linkUrl", "created"):
        assert connection[field]
    code = connection["linkUrl"].removeprefix("http://cloud.test/link/")
    assert re.fullmatch(r"[A-Z0-9]{5}(-[A-Z0-9]{5}){3}", code), code


def test_an_unknown_platform_is_refused(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    response = cloud.http.post(
        f"/companies/{company_id}/connections", json={"platformKey": "xero"}, headers=cloud.auth
    )
    assert response.status_code == 400
    assert "gncs" in response.json()["error"]


def test_queueing_checks_the_company_and_the_data_type(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    cloud.new_connection(company_id)
    unknown_company = cloud.http.post("/companies/nope/data/queue/customers", headers=cloud.auth)
    assert unknown_company.status_code == 404
    unknown_type = cloud.http.post(
        f"/companies/{company_id}/data/queue/spaceships", headers=cloud.auth
    )
    assert unknown_type.status_code == 400


def test_queueing_answers_a_pull_operation_and_refuses_a_second_one_in_progress(
    cloud: CloudHarness,
) -> None:
    company_id = cloud.new_company()
    cloud.new_connection(company_id)
    first = cloud.http.post(f"/companies/{company_id}/data/queue/suppliers", headers=cloud.auth)
    assert first.status_code == 200
    operation = first.json()
    assert operation["status"] == "Queued"
    assert operation["progress"] == 0
    assert operation["isCompleted"] is False and operation["isErrored"] is False
    assert operation["statusHistory"] == [{"status": "Queued", "timestamp": operation["requested"]}]
    assert operation["statusDescription"].startswith("Waiting for the connector")
    second = cloud.http.post(f"/companies/{company_id}/data/queue/suppliers", headers=cloud.auth)
    assert second.status_code == 400
    assert second.json()["error"] == (
        f"DatasetAlreadyInProgressException: Cannot queue suppliers sync for {company_id} "
        f"as previous sync {operation['id']} is still in progress"
    )


def _status(cloud: CloudHarness, company_id: str) -> dict[str, Any]:
    response = cloud.http.get(f"/companies/{company_id}/dataStatus", headers=cloud.auth)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_data_status_follows_the_seed_in_all_four_cases(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)

    # Never synced: the data type alone.
    assert _status(cloud, company_id)["trackingCategories"] == {"dataType": "trackingCategories"}

    # First sync failed.
    first = claim_type(cloud, agent, "suppliers")
    fail(cloud, agent, first["id"], "The book is missing")
    assert _status(cloud, company_id)["suppliers"] == {
        "dataType": "suppliers",
        "currentStatus": "FetchError",
        "latestSyncId": first["id"],
    }

    # Success.
    queued = cloud.http.post(f"/companies/{company_id}/data/queue/suppliers", headers=cloud.auth)
    second = claim_type(cloud, agent, "suppliers")
    assert second["id"] == queued.json()["id"]
    complete(cloud, agent, second["id"], [{"id": "s1", "supplierName": "Paper Co"}])
    success = _status(cloud, company_id)["suppliers"]
    assert list(success) == [
        "dataType",
        "lastSuccessfulSync",
        "currentStatus",
        "latestSyncId",
        "latestSuccessfulSyncId",
    ]
    assert success["currentStatus"] == "Complete"
    assert success["latestSyncId"] == success["latestSuccessfulSyncId"] == second["id"]

    # Last sync failed although a previous one succeeded.
    cloud.http.post(f"/companies/{company_id}/data/queue/suppliers", headers=cloud.auth)
    third = claim_type(cloud, agent, "suppliers")
    fail(cloud, agent, third["id"], "The book is missing")
    assert _status(cloud, company_id)["suppliers"] == {
        "dataType": "suppliers",
        "lastSuccessfulSync": success["lastSuccessfulSync"],
        "currentStatus": "FetchError",
        "latestSyncId": third["id"],
        "latestSuccessfulSyncId": second["id"],
    }


def test_a_dataset_carries_its_whole_history(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    dataset = claim_type(cloud, agent, "customers")
    complete(cloud, agent, dataset["id"], [{"id": "c1", "customerName": "A", "status": "Active"}])
    response = cloud.http.get(
        f"/companies/{company_id}/data/history/{dataset['id']}", headers=cloud.auth
    )
    body = response.json()
    assert [step["status"] for step in body["statusHistory"]] == [
        "Queued",
        "Fetching",
        "Mapping",
        "Validating",
        "Processing",
        "Complete",
    ]
    stamps = [step["timestamp"] for step in body["statusHistory"]]
    assert stamps == sorted(stamps)
    assert body["isCompleted"] is True and body["progress"] == 100
    assert body["completed"] == stamps[-1]


def test_history_pages_in_the_envelope(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    cloud.linked_agent(company_id)  # queues the fetch-on-first-link types
    response = cloud.http.get(
        f"/companies/{company_id}/data/history", params={"pageSize": 2}, headers=cloud.auth
    )
    body = response.json()
    assert body["pageNumber"] == 1 and body["pageSize"] == 2
    assert body["totalResults"] >= 3
    assert len(body["results"]) == 2
    assert body["_links"]["self"]["href"] == f"/companies/{company_id}/data/history"
    assert "page=2" in body["_links"]["next"]["href"]
    assert "previous" not in body["_links"]


def test_records_are_readable_only_after_a_sync_and_all_at_once(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    path = f"/companies/{company_id}/data/customers"
    assert cloud.http.get(path, headers=cloud.auth).status_code == 409

    dataset = claim_type(cloud, agent, "customers")
    for status in ("Fetching", "Mapping", "Validating", "Processing"):
        report(cloud, agent, dataset["id"], status)
    upload_chunk(
        cloud, agent, dataset["id"], 0, [{"id": "c1", "customerName": "A", "status": "Active"}]
    )
    # Staged but not complete: readers still see nothing.
    assert cloud.http.get(path, headers=cloud.auth).status_code == 409
    # Complete cannot claim chunks that never arrived.
    assert report(cloud, agent, dataset["id"], "Complete", chunks=2).status_code == 409
    assert report(cloud, agent, dataset["id"], "Complete", chunks=1).status_code == 200

    body = cloud.http.get(path, headers=cloud.auth).json()
    assert body["totalResults"] == 1
    record = body["results"][0]
    assert record["customerName"] == "A"
    assert record["metadata"] == {"isDeleted": False}
    assert record["modifiedDate"]
