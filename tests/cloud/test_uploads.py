"""Uploads: paged, checksummed, idempotent; published whole at Complete."""

from __future__ import annotations

from typing import Any

from protocol.record_hash import record_hash
from tests.cloud.drive import claim_type, complete, report, upload_chunk
from tests.support.cloud_harness import CloudHarness

ALICE = {"id": "a", "customerName": "Alice", "status": "Active"}
BOB = {"id": "b", "customerName": "Bob", "status": "Active"}


def _processing(cloud: CloudHarness, agent: dict[str, str]) -> str:
    dataset = claim_type(cloud, agent, "customers")
    for status in ("Fetching", "Mapping", "Validating", "Processing"):
        report(cloud, agent, dataset["id"], status)
    return str(dataset["id"])


def _customers(cloud: CloudHarness, company_id: str) -> list[dict[str, Any]]:
    body = cloud.http.get(f"/companies/{company_id}/data/customers", headers=cloud.auth).json()
    results: list[dict[str, Any]] = body["results"]
    return results


def test_a_retried_page_never_doubles_data(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    dataset_id = _processing(cloud, agent)
    for _ in range(3):
        assert upload_chunk(cloud, agent, dataset_id, 0, [ALICE]).status_code == 204
    assert upload_chunk(cloud, agent, dataset_id, 1, [BOB]).status_code == 204
    done = report(cloud, agent, dataset_id, "Complete", chunks=2, recordCount=2)
    assert done.status_code == 200, done.text
    assert [c["id"] for c in _customers(cloud, company_id)] == ["a", "b"]


def test_a_damaged_page_is_refused(cloud: CloudHarness) -> None:
    agent = cloud.linked_agent(cloud.new_company())
    dataset_id = _processing(cloud, agent)
    damaged = upload_chunk(cloud, agent, dataset_id, 0, [ALICE], checksum="0" * 64)
    assert damaged.status_code == 400
    assert "checksum" in damaged.json()["error"]


def test_complete_must_match_what_arrived(cloud: CloudHarness) -> None:
    agent = cloud.linked_agent(cloud.new_company())
    dataset_id = _processing(cloud, agent)
    upload_chunk(cloud, agent, dataset_id, 0, [ALICE, BOB])
    wrong = report(cloud, agent, dataset_id, "Complete", chunks=1, recordCount=3)
    assert wrong.status_code == 409
    assert "3 records were announced, 2 arrived" in wrong.json()["error"]


def test_deleted_records_stay_flagged_and_only_changes_move_modified_date(
    cloud: CloudHarness,
) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    first = claim_type(cloud, agent, "customers")
    complete(cloud, agent, first["id"], [ALICE, BOB])
    before = {c["id"]: c for c in _customers(cloud, company_id)}

    cloud.clock.advance(60)
    cloud.http.post(f"/companies/{company_id}/data/queue/customers", headers=cloud.auth)
    second = claim_type(cloud, agent, "customers")
    renamed = {**ALICE, "customerName": "Alice Ltd"}
    complete(cloud, agent, second["id"], [renamed])
    after = {c["id"]: c for c in _customers(cloud, company_id)}

    assert after["a"]["customerName"] == "Alice Ltd"
    assert after["a"]["modifiedDate"] > before["a"]["modifiedDate"]
    assert after["b"]["metadata"] == {"isDeleted": True}
    assert after["b"]["modifiedDate"] > before["b"]["modifiedDate"]

    cloud.clock.advance(60)
    cloud.http.post(f"/companies/{company_id}/data/queue/customers", headers=cloud.auth)
    third = claim_type(cloud, agent, "customers")
    complete(cloud, agent, third["id"], [renamed])
    unchanged = {c["id"]: c for c in _customers(cloud, company_id)}
    assert unchanged["a"]["modifiedDate"] == after["a"]["modifiedDate"]

    live = cloud.http.get(
        f"/companies/{company_id}/data/customers",
        params={"query": "metadata.isDeleted!=true"},
        headers=cloud.auth,
    ).json()
    assert [c["id"] for c in live["results"]] == ["a"]


def test_a_delta_upload_changes_only_what_it_carries(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    first = claim_type(cloud, agent, "customers")
    complete(cloud, agent, first["id"], [ALICE, BOB])

    cloud.http.post(f"/companies/{company_id}/data/queue/customers", headers=cloud.auth)
    second = claim_type(cloud, agent, "customers")
    baseline = cloud.http.get(f"/agent/v1/datasets/{second['id']}/baseline", headers=agent)
    assert set(baseline.json()["recordHashes"]) == {"a", "b"}
    assert baseline.json()["recordHashes"]["a"] == record_hash(ALICE)

    carol = {"id": "c", "customerName": "Carol", "status": "Active"}
    for status in ("Fetching", "Mapping", "Validating", "Processing"):
        report(cloud, agent, second["id"], status)
    upload_chunk(cloud, agent, second["id"], 0, [carol])
    done = report(
        cloud,
        agent,
        second["id"],
        "Complete",
        chunks=1,
        recordCount=1,
        mode="delta",
        deletedIds=["b"],
    )
    assert done.status_code == 200, done.text
    after = {c["id"]: c for c in _customers(cloud, company_id)}
    assert after["a"]["metadata"] == {"isDeleted": False}  # not carried, not touched
    assert after["b"]["metadata"] == {"isDeleted": True}
    assert after["c"]["customerName"] == "Carol"


def test_the_baseline_comes_in_pages_in_record_id_order(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    first = claim_type(cloud, agent, "customers")
    customers = [{**ALICE, "id": f"c{n:02d}"} for n in reversed(range(25))]
    complete(cloud, agent, first["id"], customers)
    cloud.http.post(f"/companies/{company_id}/data/queue/customers", headers=cloud.auth)
    second = claim_type(cloud, agent, "customers")
    path = f"/agent/v1/datasets/{second['id']}/baseline"

    whole = cloud.http.get(path, headers=agent).json()  # no parameters: the first page
    assert list(whole["recordHashes"]) == [f"c{n:02d}" for n in range(25)]
    assert whole["nextAfter"] is None

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 10}
    for expected_next in ("c09", "c19", None):
        page = cloud.http.get(path, params=params, headers=agent).json()
        seen += page["recordHashes"]
        assert page["nextAfter"] == expected_next
        params = {"limit": 10, "after": expected_next}
    assert seen == list(whole["recordHashes"])

    exact = cloud.http.get(path, params={"limit": 25}, headers=agent).json()
    assert len(exact["recordHashes"]) == 25 and exact["nextAfter"] is None
    past = cloud.http.get(path, params={"after": "c24"}, headers=agent).json()
    assert past == {"recordHashes": {}, "nextAfter": None}
    for limit in (0, 10_001):
        refused = cloud.http.get(path, params={"limit": limit}, headers=agent)
        assert refused.status_code == 400, refused.text
        assert "limit" in refused.json()["error"]


def test_a_record_too_deeply_nested_to_store_is_refused(cloud: CloudHarness) -> None:
    agent = cloud.linked_agent(cloud.new_company())
    dataset_id = _processing(cloud, agent)
    nested: dict[str, Any] = {}
    deepest = nested
    for _ in range(300):
        deepest["a"] = {}
        deepest = deepest["a"]
    refused = upload_chunk(cloud, agent, dataset_id, 0, [{**ALICE, "notes": nested}])
    assert refused.status_code == 400, refused.text
    assert "Record 'a' (chunk 0)" in refused.json()["error"]
