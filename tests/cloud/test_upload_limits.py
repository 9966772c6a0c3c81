"""An upload's work is bounded: pages per dataset, records per page, the length of an id, and
no answer grows with a number the agent chose (issue #12, point 5).

The real cloud in-process on real SQLite, with its default limits.
"""

from __future__ import annotations

from sqlalchemy import func, select

from cloud.settings import CloudSettings
from cloud.store.db import staged_chunks
from tests.cloud.drive import claim_type, report, upload_chunk
from tests.support.cloud_harness import CloudHarness

SMALL_ANSWER = 2_000  # bytes: an error says what is wrong, it does not list everything


def processing(cloud: CloudHarness) -> tuple[dict[str, str], str]:
    agent = cloud.linked_agent(cloud.new_company())
    dataset = claim_type(cloud, agent, "customers")
    for status in ("Fetching", "Mapping", "Validating", "Processing"):
        assert report(cloud, agent, dataset["id"], status).status_code == 200
    return agent, str(dataset["id"])


def staged_pages(cloud: CloudHarness, dataset_id: str) -> int:
    with cloud.services.db.reading() as conn:
        query = select(func.count()).where(staged_chunks.c.dataset_id == dataset_id)
        return int(conn.execute(query).scalar_one())


def status_of(cloud: CloudHarness, agent: dict[str, str], dataset_id: str) -> str:
    body = cloud.http.get("/agent/v1/status", headers=agent).json()
    return str(
        next(
            s["currentStatus"]
            for s in body["dataStatus"].values()
            if s.get("latestSyncId") == dataset_id
        )
    )


def test_complete_announcing_a_million_pages_is_refused_at_once_in_a_few_words(
    cloud: CloudHarness,
) -> None:
    agent, dataset_id = processing(cloud)
    announced = 1_000_000  # ten times the default limit (the attack sent 10,000,000)
    assert announced > CloudSettings.max_pages
    answer = report(cloud, agent, dataset_id, "Complete", chunks=announced)
    assert answer.status_code == 413, answer.text[:300]
    assert len(answer.content) < SMALL_ANSWER
    assert f"{CloudSettings.max_pages:,} pages" in answer.json()["error"]
    assert status_of(cloud, agent, dataset_id) == "Processing"


def test_pages_that_never_arrived_are_counted_and_only_the_first_few_named(
    cloud: CloudHarness,
) -> None:
    agent, dataset_id = processing(cloud)
    for page in (0, 3):
        assert upload_chunk(cloud, agent, dataset_id, page, [{"id": str(page)}]).status_code == 204
    answer = report(cloud, agent, dataset_id, "Complete", chunks=50_000)
    assert answer.status_code == 409, answer.text[:300]
    assert len(answer.content) < SMALL_ANSWER
    error = answer.json()["error"]
    assert "49,998 of the 50,000 record pages never arrived (pages 1, 2, 4, 5, 6, ...)" in error
    assert status_of(cloud, agent, dataset_id) == "Processing"


def test_a_page_number_past_the_limit_is_refused_and_nothing_staged(cloud: CloudHarness) -> None:
    agent, dataset_id = processing(cloud)
    for page in (CloudSettings.max_pages, 2**63, 2**70):
        answer = upload_chunk(cloud, agent, dataset_id, page, [{"id": "a"}])
        assert answer.status_code == 413, answer.text
        assert f"{CloudSettings.max_pages:,} pages" in answer.json()["error"]
    assert upload_chunk(cloud, agent, dataset_id, -1, [{"id": "a"}]).status_code == 400
    assert staged_pages(cloud, dataset_id) == 0


def test_a_page_of_more_records_than_the_limit_is_refused(cloud: CloudHarness) -> None:
    agent, dataset_id = processing(cloud)
    records = [{"id": str(n)} for n in range(CloudSettings.max_page_records + 1)]
    answer = upload_chunk(cloud, agent, dataset_id, 0, records)
    assert answer.status_code == 413, answer.text
    assert f"at most {CloudSettings.max_page_records:,}" in answer.json()["error"]
    assert staged_pages(cloud, dataset_id) == 0
    # The agent's own pages (500 records) are far inside it.
    assert upload_chunk(cloud, agent, dataset_id, 0, records[:500]).status_code == 204


def test_an_overlong_record_id_is_refused_and_not_repeated_back_at_length(
    cloud: CloudHarness,
) -> None:
    agent, dataset_id = processing(cloud)
    answer = upload_chunk(cloud, agent, dataset_id, 0, [{"id": "x" * 1_000_000}])
    assert answer.status_code == 400, answer.text[:300]
    assert len(answer.content) < SMALL_ANSWER
    assert "longer than an id may be (256 characters)" in answer.json()["error"]
    assert staged_pages(cloud, dataset_id) == 0
