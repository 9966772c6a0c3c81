"""The agent API: linking, claiming, reporting and uploading, and what each refuses."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

from cloud.local import LocalCloud
from protocol.clock import from_iso
from tests.cloud.drive import claim, claim_type, report, upload_chunk
from tests.support.cloud_harness import CloudHarness


def test_a_link_code_works_once_and_queues_the_first_link_types(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    connection = cloud.new_connection(company_id)
    code = connection["linkUrl"].rsplit("/", 1)[1]

    first = cloud.http.post("/agent/v1/link", json={"linkCode": code.lower().replace("-", "")})
    assert first.status_code == 200, first.text
    assert first.json()["companyId"] == company_id
    again = cloud.http.post("/agent/v1/link", json={"linkCode": code})
    assert again.status_code == 401

    linked = cloud.http.get(
        f"/companies/{company_id}/connections/{connection['id']}", headers=cloud.auth
    ).json()
    assert linked["status"] == "Linked"
    history = cloud.http.get(f"/companies/{company_id}/data/history", headers=cloud.auth).json()
    queued = [d["dataType"] for d in history["results"]]
    assert queued[:3] == ["company", "chartOfAccounts", "customers"]
    assert all(d["status"] == "Queued" for d in history["results"])


def test_agent_calls_need_a_valid_token(cloud: CloudHarness) -> None:
    assert cloud.http.post("/agent/v1/poll", json={}).status_code == 401
    bad = cloud.http.post("/agent/v1/poll", json={}, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_a_claimed_dataset_is_not_handed_out_twice(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    first = claim(cloud, agent)
    second = claim(cloud, agent)
    assert first is not None and second is not None
    assert first["id"] != second["id"]


def test_one_agent_never_sees_another_connections_datasets(cloud: CloudHarness) -> None:
    ours = cloud.linked_agent(cloud.new_company("Ours"))
    theirs = cloud.linked_agent(cloud.new_company("Theirs"))
    their_dataset = claim(cloud, theirs)
    assert their_dataset is not None
    response = report(cloud, ours, their_dataset["id"], "Fetching")
    assert response.status_code == 404
    upload = upload_chunk(cloud, ours, their_dataset["id"], 0, [])
    assert upload.status_code == 404
    lease = cloud.http.post(f"/agent/v1/datasets/{their_dataset['id']}/lease", headers=ours)
    assert lease.status_code == 404
    # Nor can it read their data or history through the public API: that needs the API key.
    assert cloud.http.get("/companies", headers=ours).status_code == 401


def test_transitions_are_checked_and_a_repeat_is_harmless(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    dataset = claim_type(cloud, agent, "customers")
    skipping = report(cloud, agent, dataset["id"], "Complete", chunks=0)
    assert skipping.status_code == 409
    assert "cannot move from Queued to Complete" in skipping.json()["error"]
    assert report(cloud, agent, dataset["id"], "Fetching").status_code == 200
    assert report(cloud, agent, dataset["id"], "Fetching").status_code == 200
    steps = cloud.http.get(
        f"/companies/{company_id}/data/history/{dataset['id']}", headers=cloud.auth
    ).json()["statusHistory"]
    assert [s["status"] for s in steps] == ["Queued", "Fetching"]


def test_uploads_are_accepted_only_while_processing(cloud: CloudHarness) -> None:
    agent = cloud.linked_agent(cloud.new_company())
    dataset = claim_type(cloud, agent, "customers")
    early = upload_chunk(cloud, agent, dataset["id"], 0, [])
    assert early.status_code == 409


def test_a_long_poll_is_woken_by_a_new_dataset(tmp_path: Path) -> None:
    """Over real HTTP: the poll returns with the dataset, not at the end of its wait."""
    with LocalCloud(tmp_path) as local, local.client() as api:
        company_id = api.post("/companies", json={"name": "Acme"}).json()["id"]
        link_url = api.post(
            f"/companies/{company_id}/connections", json={"platformKey": "gncs"}
        ).json()["linkUrl"]
        token = httpx.post(
            f"{local.url}/agent/v1/link", json={"linkCode": link_url.rsplit("/", 1)[1]}
        ).json()["accessToken"]
        agent = httpx.Client(base_url=local.url, headers={"Authorization": f"Bearer {token}"})
        # Drain what the first link queued, so the next poll has to wait.
        while agent.post("/agent/v1/poll", json={"waitSeconds": 0}).json()["dataset"]:
            pass

        answer: dict[str, object] = {}

        def long_poll() -> None:
            started = time.monotonic()
            response = agent.post("/agent/v1/poll", json={"waitSeconds": 20}, timeout=40)
            answer["dataset"] = response.json()["dataset"]
            answer["waited"] = time.monotonic() - started

        poller = threading.Thread(target=long_poll)
        poller.start()
        time.sleep(0.5)  # a head start for the long poll
        queued = api.post(f"/companies/{company_id}/data/queue/payments").json()
        poller.join(timeout=30)
        assert isinstance(answer["dataset"], dict)
        assert answer["dataset"]["id"] == queued["id"]
        # Woken by the queueing, not by its 20 s wait running out.
        assert isinstance(answer["waited"], float) and answer["waited"] < 15


def test_the_status_says_when_each_latest_dataset_was_queued_by_the_clouds_clock(
    cloud: CloudHarness,
) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)  # queues the first-link types now
    queued_at = cloud.clock.moment
    cloud.clock.advance(180)
    answer = cloud.http.get("/agent/v1/status", headers=agent).json()
    assert answer["dataStatus"]["customers"]["currentStatus"] == "Queued"
    requested = from_iso(answer["requested"]["customers"])
    assert queued_at - timedelta(seconds=1) < requested <= queued_at
    assert from_iso(answer["serverTime"]) > queued_at + timedelta(seconds=179)
    assert "transfers" not in answer["requested"]  # never asked for
