"""Reads at the public paths: lists, single records, /data/info, bank accounts by connection."""

from __future__ import annotations

from tests.cloud.drive import claim_type, complete
from tests.support.cloud_harness import CloudHarness


def _sync(
    cloud: CloudHarness,
    company_id: str,
    agent: dict[str, str],
    data_type: str,
    records: list[dict[str, object]],
) -> None:
    cloud.http.post(f"/companies/{company_id}/data/queue/{data_type}", headers=cloud.auth)
    complete(cloud, agent, claim_type(cloud, agent, data_type)["id"], records)


def test_company_info_is_one_record_served_bare(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    path = f"/companies/{company_id}/data/info"
    assert cloud.http.get(path, headers=cloud.auth).status_code == 409
    _sync(cloud, company_id, agent, "company", [{"id": "book", "companyName": "Harbor Lane"}])
    info = cloud.http.get(path, headers=cloud.auth).json()
    assert info["companyName"] == "Harbor Lane"
    assert info["metadata"] == {"isDeleted": False}


def test_single_records_and_an_unknown_path(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    _sync(
        cloud,
        company_id,
        agent,
        "suppliers",
        [{"id": "s1", "supplierName": "Paper Co", "status": "Active"}],
    )
    one = cloud.http.get(f"/companies/{company_id}/data/suppliers/s1", headers=cloud.auth)
    assert one.status_code == 200 and one.json()["supplierName"] == "Paper Co"
    missing = cloud.http.get(f"/companies/{company_id}/data/suppliers/s2", headers=cloud.auth)
    assert missing.status_code == 404
    nowhere = cloud.http.get(f"/companies/{company_id}/data/spaceships", headers=cloud.auth)
    assert nowhere.status_code == 404


def test_bank_accounts_are_read_under_their_connection(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    first_agent = cloud.linked_agent(company_id)
    second_agent = cloud.linked_agent(company_id)
    connections = cloud.http.get(f"/companies/{company_id}/connections", headers=cloud.auth).json()[
        "results"
    ]
    first, second = (c["id"] for c in connections)
    cloud.http.post(
        f"/companies/{company_id}/data/queue/bankAccounts",
        params={"connectionId": first},
        headers=cloud.auth,
    )
    complete(
        cloud,
        first_agent,
        claim_type(cloud, first_agent, "bankAccounts")["id"],
        [{"id": "b1", "accountName": "Checking"}],
    )
    cloud.http.post(
        f"/companies/{company_id}/data/queue/bankAccounts",
        params={"connectionId": second},
        headers=cloud.auth,
    )
    complete(
        cloud,
        second_agent,
        claim_type(cloud, second_agent, "bankAccounts")["id"],
        [{"id": "b2", "accountName": "Savings"}],
    )
    for connection_id, expected in ((first, ["b1"]), (second, ["b2"])):
        body = cloud.http.get(
            f"/companies/{company_id}/connections/{connection_id}/data/bankAccounts",
            headers=cloud.auth,
        ).json()
        assert [a["id"] for a in body["results"]] == expected
        # The second connection's sync did not mark the first one's account deleted.
        assert body["results"][0]["metadata"] == {"isDeleted": False}


def test_reads_filter_and_sort(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    customers: list[dict[str, object]] = [
        {"id": f"c{i}", "customerName": name, "status": status}
        for i, (name, status) in enumerate(
            [("Bravo", "Active"), ("alpha", "Active"), ("Charlie", "Archived")]
        )
    ]
    _sync(cloud, company_id, agent, "customers", customers)
    body = cloud.http.get(
        f"/companies/{company_id}/data/customers",
        params={"query": "status=Active", "orderBy": "customerName", "pageSize": 1, "page": 2},
        headers=cloud.auth,
    ).json()
    assert body["totalResults"] == 2
    assert [c["customerName"] for c in body["results"]] == ["Bravo"]
    bad = cloud.http.get(
        f"/companies/{company_id}/data/customers", params={"query": "status"}, headers=cloud.auth
    )
    assert bad.status_code == 400
