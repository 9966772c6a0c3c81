"""Claims and leases: a silent agent's dataset is taken back once, then ended."""

from __future__ import annotations

from tests.cloud.drive import claim, claim_type, complete, report
from tests.support.cloud_harness import CloudHarness


def _history(cloud: CloudHarness, company_id: str, dataset_id: str) -> dict[str, object]:
    body: dict[str, object] = cloud.http.get(
        f"/companies/{company_id}/data/history/{dataset_id}", headers=cloud.auth
    ).json()
    return body


def test_a_claimed_dataset_whose_lease_lapses_before_work_is_offered_again(
    cloud: CloudHarness,
) -> None:
    agent = cloud.linked_agent(cloud.new_company())
    first = claim(cloud, agent)
    assert first is not None
    cloud.clock.advance(61)
    again = claim(cloud, agent)
    assert again is not None and again["id"] == first["id"]


def test_a_lapsed_lease_mid_run_requeues_once_then_ends_in_internal_error(
    cloud: CloudHarness,
) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    dataset = claim_type(cloud, agent, "customers")
    assert report(cloud, agent, dataset["id"], "Fetching").status_code == 200

    cloud.clock.advance(30)
    cloud.sweep()
    assert _history(cloud, company_id, dataset["id"])["status"] == "Fetching"  # still leased

    cloud.clock.advance(31)
    cloud.sweep()
    taken_back = _history(cloud, company_id, dataset["id"])
    assert taken_back["status"] == "Queued"
    assert "stopped responding" in str(taken_back["statusDescription"])

    # The slow first attempt's late report is refused, with the state it is really in.
    late = report(cloud, agent, dataset["id"], "Mapping")
    assert late.status_code == 409
    assert late.json()["currentStatus"] == "Queued"

    retried = claim_type(cloud, agent, "customers")
    assert retried["id"] == dataset["id"]
    assert report(cloud, agent, dataset["id"], "Fetching").status_code == 200
    cloud.clock.advance(61)
    cloud.sweep()
    ended = _history(cloud, company_id, dataset["id"])
    assert ended["status"] == "InternalError"
    assert "stopped responding" in str(ended["errorMessage"])
    steps = [s["status"] for s in ended["statusHistory"]]  # type: ignore[attr-defined]
    assert steps == ["Queued", "Fetching", "Queued", "Fetching", "InternalError"]


def test_renewing_the_lease_keeps_a_long_phase_alive(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    dataset = claim_type(cloud, agent, "customers")
    report(cloud, agent, dataset["id"], "Fetching")
    for _ in range(5):
        cloud.clock.advance(40)
        renewed = cloud.http.post(f"/agent/v1/datasets/{dataset['id']}/lease", headers=agent)
        assert renewed.status_code == 200
        cloud.sweep()
    assert _history(cloud, company_id, dataset["id"])["status"] == "Fetching"
    complete_from_fetching(cloud, agent, dataset["id"])
    assert _history(cloud, company_id, dataset["id"])["status"] == "Complete"
    done = cloud.http.post(f"/agent/v1/datasets/{dataset['id']}/lease", headers=agent)
    assert done.status_code == 409


def complete_from_fetching(cloud: CloudHarness, agent: dict[str, str], dataset_id: str) -> None:
    # `complete` reports Fetching again first, which is the harmless repeat of a report.
    complete(cloud, agent, dataset_id, [{"id": "c1", "customerName": "A", "status": "Active"}])


def test_an_agent_cannot_put_a_dataset_back_in_the_queue(cloud: CloudHarness) -> None:
    agent = cloud.linked_agent(cloud.new_company())
    dataset = claim_type(cloud, agent, "customers")
    report(cloud, agent, dataset["id"], "Fetching")
    assert report(cloud, agent, dataset["id"], "Queued").status_code == 409


def test_a_late_report_from_an_attempt_taken_back_is_refused_even_where_the_move_is_legal(
    cloud: CloudHarness,
) -> None:
    """Queued -> Fetching (or -> FetchError) is a legal move, but after a take-back no agent
    holds the dataset: a report from the old attempt (resent after the agent restarted, say)
    must not start or end it (found by the chaos suite: the history showed Fetching twice)."""
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    dataset = claim_type(cloud, agent, "customers")
    assert report(cloud, agent, dataset["id"], "Fetching").status_code == 200
    cloud.clock.advance(61)
    cloud.sweep()
    assert _history(cloud, company_id, dataset["id"])["status"] == "Queued"

    for late_status in ("Fetching", "FetchError"):
        late = report(cloud, agent, dataset["id"], late_status)
        assert late.status_code == 409, late.text
        assert late.json()["currentStatus"] == "Queued"
    history = _history(cloud, company_id, dataset["id"])["statusHistory"]
    assert [s["status"] for s in history] == ["Queued", "Fetching", "Queued"]  # type: ignore[attr-defined]

    # Handed out again, the new attempt reports as usual.
    assert claim_type(cloud, agent, "customers")["id"] == dataset["id"]
    assert report(cloud, agent, dataset["id"], "Fetching").status_code == 200
