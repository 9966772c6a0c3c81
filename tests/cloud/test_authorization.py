"""The agent's authorization: rotating tokens, revocation, expiry, and re-linking."""

from __future__ import annotations

from typing import Any

from tests.cloud.drive import claim, claim_type, complete, report
from tests.support.cloud_harness import CloudHarness


def _link(cloud: CloudHarness, company_id: str) -> dict[str, Any]:
    connection = cloud.new_connection(company_id)
    grant = cloud.link(connection["linkUrl"])
    return {**grant, "connection": connection}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refresh(cloud: CloudHarness, refresh_token: str) -> Any:
    return cloud.http.post("/agent/v1/token", json={"refreshToken": refresh_token})


def test_an_expired_access_token_is_refused_and_a_refresh_rotates_both(
    cloud: CloudHarness,
) -> None:
    grant = _link(cloud, cloud.new_company())
    assert grant["accessTokenExpiresIn"] == 3600
    cloud.clock.advance(3601)
    expired = cloud.http.post(
        "/agent/v1/poll", json={"waitSeconds": 0}, headers=_bearer(grant["accessToken"])
    )
    assert expired.status_code == 401

    renewed = _refresh(cloud, grant["refreshToken"])
    assert renewed.status_code == 200
    fresh = renewed.json()
    assert fresh["refreshToken"] != grant["refreshToken"]
    ok = cloud.http.post(
        "/agent/v1/poll", json={"waitSeconds": 0}, headers=_bearer(fresh["accessToken"])
    )
    assert ok.status_code == 200


def test_revoking_ends_open_datasets_and_relinking_restores_syncing(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    grant = _link(cloud, company_id)
    agent = _bearer(grant["accessToken"])
    connection_id = grant["connectionId"]
    running = claim_type(cloud, agent, "customers")
    assert report(cloud, agent, running["id"], "Fetching").status_code == 200

    revoked = cloud.http.post(
        f"/companies/{company_id}/connections/{connection_id}/revoke", headers=cloud.auth
    )
    assert revoked.status_code == 200
    connection = revoked.json()
    assert connection["status"] == "Deauthorized"
    assert connection["connectionInfo"]["statusReason"] == "revoked"
    fresh_code = connection["linkUrl"].rsplit("/", 1)[1]
    assert fresh_code not in grant["connection"]["linkUrl"]

    history = cloud.http.get(f"/companies/{company_id}/data/history", headers=cloud.auth).json()
    statuses = {d["dataType"]: d for d in history["results"]}
    assert statuses["customers"]["status"] == "AuthError"
    assert "re-link" in statuses["customers"]["errorMessage"]
    assert all(d["status"] in ("AuthError", "Complete", "NotSupported") for d in history["results"])

    # The agent is shut out; a dataset queued now fails at once, saying what to do.
    shut_out = cloud.http.post("/agent/v1/poll", json={"waitSeconds": 0}, headers=agent)
    assert shut_out.status_code == 401
    queued = cloud.http.post(f"/companies/{company_id}/data/queue/customers", headers=cloud.auth)
    assert queued.json()["status"] == "AuthError"
    assert "linkUrl" in queued.json()["errorMessage"]

    # Re-linking through the same linkUrl: Linked again, and the next dataset completes.
    relinked = cloud.link(connection["linkUrl"])
    assert relinked["connectionId"] == connection_id
    agent = _bearer(relinked["accessToken"])
    cloud.http.post(f"/companies/{company_id}/data/queue/customers", headers=cloud.auth)
    dataset = claim_type(cloud, agent, "customers")
    complete(cloud, agent, dataset["id"], [{"id": "c1", "customerName": "A", "status": "Active"}])
    status = cloud.http.get(f"/companies/{company_id}/dataStatus", headers=cloud.auth).json()
    assert status["customers"]["currentStatus"] == "Complete"
    again = cloud.http.get(
        f"/companies/{company_id}/connections/{connection_id}", headers=cloud.auth
    ).json()
    assert again["status"] == "Linked"


def test_an_expired_refresh_token_deauthorizes_the_connection(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    grant = _link(cloud, company_id)
    cloud.clock.advance(91 * 24 * 3600)
    cloud.sweep()
    connection = cloud.http.get(
        f"/companies/{company_id}/connections/{grant['connectionId']}", headers=cloud.auth
    ).json()
    assert connection["status"] == "Deauthorized"
    assert "expired" in connection["connectionInfo"]["statusReason"]
    assert _refresh(cloud, grant["refreshToken"]).status_code == 401
    first_link = cloud.http.get(f"/companies/{company_id}/data/history", headers=cloud.auth)
    assert {d["status"] for d in first_link.json()["results"]} == {"AuthError"}


def test_only_a_linked_connection_can_be_unlinked_and_unlinking_shuts_the_agent_out(
    cloud: CloudHarness,
) -> None:
    company_id = cloud.new_company()
    pending = cloud.new_connection(company_id)
    refused = cloud.http.patch(
        f"/companies/{company_id}/connections/{pending['id']}",
        json={"status": "Unlinked"},
        headers=cloud.auth,
    )
    assert refused.status_code == 400
    grant = _link(cloud, company_id)
    unlinked = cloud.http.patch(
        f"/companies/{company_id}/connections/{grant['connectionId']}",
        json={"status": "Unlinked"},
        headers=cloud.auth,
    )
    assert unlinked.json()["status"] == "Unlinked"
    assert claim_or_401(cloud, _bearer(grant["accessToken"])) == 401


def claim_or_401(cloud: CloudHarness, agent: dict[str, str]) -> int:
    return int(
        cloud.http.post("/agent/v1/poll", json={"waitSeconds": 0}, headers=agent).status_code
    )


def test_the_agent_api_never_accepts_the_api_key_and_the_public_api_never_a_token(
    cloud: CloudHarness,
) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    assert cloud.http.post("/agent/v1/poll", json={}, headers=cloud.auth).status_code == 401
    assert cloud.http.get(f"/companies/{company_id}", headers=agent).status_code == 401
    assert claim(cloud, agent) is not None
