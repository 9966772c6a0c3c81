"""What the agent says it can read, whether it is online, and the sync schedule."""

from __future__ import annotations

from tests.cloud.drive import claim, claim_type, complete
from tests.support.cloud_harness import CloudHarness


def _link_with(
    cloud: CloudHarness, company_id: str, data_types: list[str]
) -> tuple[str, dict[str, str]]:
    connection = cloud.new_connection(company_id)
    code = connection["linkUrl"].rsplit("/", 1)[1]
    grant = cloud.http.post(
        "/agent/v1/link",
        json={"linkCode": code, "agentVersion": "9.9", "hostname": "desk", "dataTypes": data_types},
    ).json()
    return connection["id"], {"Authorization": f"Bearer {grant['accessToken']}"}


def test_types_the_agent_cannot_read_end_not_supported_at_once(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    _connection_id, agent = _link_with(cloud, company_id, ["customers", "chartOfAccounts"])
    history = cloud.http.get(f"/companies/{company_id}/data/history", headers=cloud.auth).json()
    by_type = {d["dataType"]: d for d in history["results"]}
    assert by_type["customers"]["status"] == "Queued"
    assert by_type["invoices"]["status"] == "NotSupported"
    assert "version 9.9" in by_type["invoices"]["errorMessage"]
    assert "it reads chartOfAccounts, customers" in by_type["invoices"]["errorMessage"]
    queued = cloud.http.post(f"/companies/{company_id}/data/queue/bills", headers=cloud.auth)
    assert queued.json()["status"] == "NotSupported"

    # A newer agent announces more in its heartbeat, and the cloud believes it.
    beat = cloud.http.post(
        "/agent/v1/heartbeat",
        json={"agentVersion": "10.0", "hostname": "desk", "dataTypes": ["customers", "bills"]},
        headers=agent,
    )
    assert beat.status_code == 200
    assert (
        cloud.http.post(f"/companies/{company_id}/data/queue/bills", headers=cloud.auth).json()[
            "status"
        ]
        == "Queued"
    )


def test_connection_info_says_whether_the_agent_is_online(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    connection_id, agent = _link_with(cloud, company_id, ["customers"])
    path = f"/companies/{company_id}/connections/{connection_id}"
    info = cloud.http.get(path, headers=cloud.auth).json()["connectionInfo"]
    assert info["agentOnline"] is True
    assert info["agentVersion"] == "9.9"
    assert info["agentDataTypes"] == ["customers"]

    cloud.clock.advance(600)
    assert cloud.http.get(path, headers=cloud.auth).json()["connectionInfo"]["agentOnline"] is False
    queued = cloud.http.post(f"/companies/{company_id}/data/queue/customers", headers=cloud.auth)
    assert queued.status_code == 400  # the first-link customers dataset is still waiting
    waiting = cloud.http.get(
        f"/companies/{company_id}/data/history",
        params={"query": "dataType=customers"},
        headers=cloud.auth,
    ).json()["results"][0]
    assert waiting["statusDescription"] == (
        "Waiting for the connector to come online; last seen 10 min ago"
    )
    claim(cloud, agent)  # the agent is back
    assert cloud.http.get(path, headers=cloud.auth).json()["connectionInfo"]["agentOnline"] is True


def test_a_scheduled_type_is_queued_when_it_falls_due(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    settings = cloud.http.post(
        f"/companies/{company_id}/syncSettings",
        json={
            "companyId": company_id,
            "settings": [
                {
                    "dataType": "customers",
                    "fetchOnFirstLink": True,
                    "syncSchedule": 1,
                    "syncOrder": 0,
                },
                {
                    "dataType": "invoices",
                    "fetchOnFirstLink": False,
                    "syncSchedule": 24,
                    "syncOrder": 1,
                },
            ],
            "overridesDefaults": True,
        },
        headers=cloud.auth,
    )
    assert settings.status_code == 204
    agent = cloud.linked_agent(company_id)
    first = claim_type(cloud, agent, "customers")
    complete(cloud, agent, first["id"], [{"id": "c", "customerName": "C", "status": "Active"}])

    def count(data_type: str) -> int:
        history = cloud.http.get(
            f"/companies/{company_id}/data/history",
            params={"query": f"dataType={data_type}"},
            headers=cloud.auth,
        ).json()
        return int(history["totalResults"])

    cloud.clock.advance(59 * 60)
    cloud.sweep()
    assert count("customers") == 1
    cloud.clock.advance(2 * 60)
    cloud.sweep()
    assert count("customers") == 2
    cloud.sweep()
    assert count("customers") == 2  # due once, not once per sweep
    assert count("invoices") == 0  # not fetched on first link: not scheduled


def test_queue_all_queues_the_first_link_types_and_skips_those_in_progress(
    cloud: CloudHarness,
) -> None:
    company_id = cloud.new_company()
    cloud.linked_agent(company_id)  # queues the first-link types once
    before = cloud.http.get(f"/companies/{company_id}/data/history", headers=cloud.auth).json()
    response = cloud.http.post(f"/companies/{company_id}/data/all", headers=cloud.auth)
    assert response.status_code == 204
    after = cloud.http.get(f"/companies/{company_id}/data/history", headers=cloud.auth).json()
    assert after["totalResults"] == before["totalResults"]  # all still in progress


def test_profile_settings_apply_until_a_company_has_its_own(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    profile = cloud.http.get("/profile/syncSettings", headers=cloud.auth).json()
    assert profile["overridesDefaults"] is False
    customers = next(s for s in profile["settings"] if s["dataType"] == "customers")
    assert customers == {
        "dataType": "customers",
        "fetchOnFirstLink": True,
        "syncSchedule": 24,
        "syncOrder": 2,
        "isLocked": False,
    }
    changed = cloud.http.post(
        "/profile/syncSettings",
        json={"settings": [{**customers, "syncSchedule": 6}]},
        headers=cloud.auth,
    )
    assert changed.status_code == 204
    company = cloud.http.get(f"/companies/{company_id}/syncSettings", headers=cloud.auth).json()
    assert company["overridesDefaults"] is False
    assert next(s for s in company["settings"] if s["dataType"] == "customers")["syncSchedule"] == 6
