"""Publication of thousands of records over several pages: full, then full again, then delta.

What the cache serves afterwards is compared, record by record, with a model of the rules:
positions follow the upload (a delta's new records after everything held), ``modifiedDate``
moves only for records whose content changed, and records that went away stay, flagged.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from cloud.store.db import records as records_table
from cloud.store.db import staged_chunks
from protocol.record_hash import canonical_json, record_hash
from tests.cloud.drive import claim_type, report, upload_chunk
from tests.support.cloud_harness import CloudHarness, cloud_on
from tests.support.fake_clock import FakeClock
from tests.support.postgres import fresh_database

COUNT = 5_000
PAGE = 1_000  # records a page; cloud.store.ingest.BATCH (2,000) cuts across pages


@dataclass
class Held:
    """What the cache should hold for one record."""

    record: dict[str, Any]
    position: int
    modified: str  # the label of the sync that last changed it
    deleted: bool = False


def _entry(number: int, note: str = "") -> dict[str, Any]:
    return {
        "id": f"je-{number:05d}",
        "description": f"Entry {number}{note} é",  # non-ASCII: stored and hashed as UTF-8
        "postedOn": "2025-03-01T00:00:00.000000Z",
        "journalLines": [
            {"netAmount": 12.5 + number, "currency": "EUR", "accountRef": {"id": "a1"}},
            {"netAmount": -(12.5 + number), "currency": "EUR", "accountRef": {"id": "a2"}},
        ],
    }


class Sync:
    """Drives one journalEntries dataset of one agent through to Complete."""

    def __init__(self, cloud: CloudHarness, company_id: str, agent: dict[str, str]) -> None:
        self.cloud = cloud
        self.company_id = company_id
        self.agent = agent
        self.stamps: dict[str, str] = {}  # sync label -> modifiedDate it gave

    def start(self) -> str:
        queued = self.cloud.http.post(
            f"/companies/{self.company_id}/data/queue/journalEntries", headers=self.cloud.auth
        )
        assert queued.status_code == 200, queued.text
        dataset_id = str(claim_type(self.cloud, self.agent, "journalEntries")["id"])
        for status in ("Fetching", "Mapping", "Validating", "Processing"):
            assert report(self.cloud, self.agent, dataset_id, status).status_code == 200
        return dataset_id

    def upload(self, dataset_id: str, records: list[dict[str, Any]], **complete: Any) -> Any:
        pages = [records[i : i + PAGE] for i in range(0, len(records), PAGE)]
        for number, page in enumerate(pages):
            assert upload_chunk(self.cloud, self.agent, dataset_id, number, page).status_code == 204
        return report(
            self.cloud,
            self.agent,
            dataset_id,
            "Complete",
            chunks=len(pages),
            recordCount=len(records),
            **complete,
        )

    def run(self, label: str, records: list[dict[str, Any]], **complete: Any) -> None:
        self.cloud.clock.advance(60)
        done = self.upload(self.start(), records, **complete)
        assert done.status_code == 200, done.text
        served = self.served()
        self.stamps[label] = max(r["modifiedDate"] for r in served)

    def served(self) -> list[dict[str, Any]]:
        """Every record the public API serves, in its order (position, then id)."""
        served: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.cloud.http.get(
                f"/companies/{self.company_id}/data/journalEntries",
                params={"page": page, "pageSize": 5000},
                headers=self.cloud.auth,
            ).json()
            served += body["results"]
            if len(served) >= body["totalResults"]:
                return served
            page += 1

    def baseline(self, dataset_id: str, limit: int) -> tuple[dict[str, str], int]:
        hashes: dict[str, str] = {}
        params: dict[str, Any] = {"limit": limit}
        pages = 0
        while True:
            response = self.cloud.http.get(
                f"/agent/v1/datasets/{dataset_id}/baseline", params=params, headers=self.agent
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert list(body["recordHashes"]) == sorted(body["recordHashes"])
            hashes.update(body["recordHashes"])
            pages += 1
            if body["nextAfter"] is None:
                return hashes, pages
            assert body["nextAfter"] == list(body["recordHashes"])[-1]
            params = {"limit": limit, "after": body["nextAfter"]}


def _check(sync: Sync, model: dict[str, Held]) -> None:
    served = sync.served()
    ordered = sorted(model.items(), key=lambda item: (item[1].position, item[0]))
    assert [r["id"] for r in served] == [record_id for record_id, _ in ordered]
    for record in served:
        held = model[record["id"]]
        assert record["metadata"] == {"isDeleted": held.deleted}, record["id"]
        assert record["modifiedDate"] == sync.stamps[held.modified], record["id"]
        content = {k: v for k, v in record.items() if k not in ("modifiedDate", "metadata")}
        assert content == held.record, record["id"]


@pytest.fixture(params=["sqlite", "postgresql"])
def cloud_db(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[CloudHarness]:
    """The in-process cloud on SQLite, and again on PostgreSQL (tests/support/postgres.py)."""
    if request.param == "sqlite":
        with cloud_on(f"sqlite:///{tmp_path / 'cloud.db'}", clock) as harness:
            yield harness
        return
    with fresh_database() as url, cloud_on(url, clock) as harness:
        yield harness


@pytest.fixture
def sync(cloud_db: CloudHarness) -> Sync:
    cloud = cloud_db
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    while (dataset := claim_type_or_none(cloud, agent)) is not None:  # first-link datasets
        assert report(cloud, agent, dataset, "NotSupported").status_code == 200
    return Sync(cloud, company_id, agent)


def claim_type_or_none(cloud: CloudHarness, agent: dict[str, str]) -> str | None:
    response = cloud.http.post("/agent/v1/poll", json={"waitSeconds": 0}, headers=agent)
    dataset = response.json()["dataset"]
    return None if dataset is None else str(dataset["id"])


def test_full_full_delta_over_thousands_of_records(sync: Sync) -> None:
    rng = random.Random(7)
    first = [_entry(n) for n in range(COUNT)]
    rng.shuffle(first)  # the upload's order, not the ids', is the order served
    sync.run("first", first)
    model = {r["id"]: Held(r, i, "first") for i, r in enumerate(first)}
    _check(sync, model)

    # A second full sync: some records gone, some edited, some new, the rest the same but
    # shifted by the new ones (their modifiedDate stays).
    kept = first[100:]
    gone = {r["id"] for r in first[:100]}
    edited = {r["id"] for r in rng.sample(kept, 200)}
    second = [_entry(int(r["id"][3:]), " (edited)") if r["id"] in edited else r for r in kept]
    fresh = [_entry(n) for n in range(COUNT, COUNT + 50)]
    second = second[:2500] + fresh + second[2500:]
    sync.run("second", second)
    for record_id in gone:
        model[record_id].deleted = True
        model[record_id].modified = "second"
    for i, record in enumerate(second):
        old = model.get(record["id"])
        same = old is not None and record_hash(old.record) == record_hash(record)
        model[record["id"]] = Held(record, i, old.modified if old and same else "second")
    _check(sync, model)
    assert sync.stamps["second"] > sync.stamps["first"]

    # A delta: the agent reads the baseline page by page, then sends only what changed.
    dataset_id = sync.start()
    hashes, pages = sync.baseline(dataset_id, limit=1_000)
    live = {rid: h for rid, h in model.items() if not h.deleted}
    assert pages == -(-len(live) // 1_000)
    assert hashes == {rid: record_hash(h.record) for rid, h in live.items()}
    unchanged_ids = sorted(live)
    changes = [_entry(int(rid[3:]), " (delta)") for rid in rng.sample(unchanged_ids, 300)]
    revived = [_entry(int(rid[3:])) for rid in sorted(gone)[:10]]  # back in the book
    newer = [_entry(n) for n in range(COUNT + 50, COUNT + 70)]
    deleted = rng.sample(
        [rid for rid in unchanged_ids if rid not in {r["id"] for r in changes}], 40
    )
    already_gone = sorted(gone)[50]  # flagged before: its modifiedDate must not move
    sent = changes + newer + revived
    sync.cloud.clock.advance(60)
    done = sync.upload(dataset_id, sent, mode="delta", deletedIds=[*deleted, already_gone])
    assert done.status_code == 200, done.text
    stamp = max(r["modifiedDate"] for r in sync.served())
    sync.stamps["delta"] = stamp
    highest = max(h.position for h in model.values())
    for i, record in enumerate(sent):
        old = model.get(record["id"])
        position = old.position if old else highest + 1 + i
        model[record["id"]] = Held(record, position, "delta")
    for record_id in deleted:
        model[record_id].deleted = True
        model[record_id].modified = "delta"
    _check(sync, model)


def test_a_record_id_uploaded_twice_is_refused_and_nothing_is_published(sync: Sync) -> None:
    records = [_entry(n) for n in range(2_500)]
    sync.run("first", records)
    dataset_id = sync.start()
    twice = [*[_entry(n, " (new)") for n in range(1_500)], _entry(3)]
    done = sync.upload(dataset_id, twice)
    assert done.status_code == 409
    assert "'je-00003' was uploaded twice" in done.json()["error"]
    assert all("(new)" not in r["description"] for r in sync.served())


def test_a_wrong_record_count_publishes_nothing(sync: Sync) -> None:
    dataset_id = sync.start()
    records = [_entry(n) for n in range(3_000)]
    for number in range(3):
        page = records[number * PAGE : (number + 1) * PAGE]
        assert upload_chunk(sync.cloud, sync.agent, dataset_id, number, page).status_code == 204
    done = report(sync.cloud, sync.agent, dataset_id, "Complete", chunks=3, recordCount=3_001)
    assert done.status_code == 409
    assert "3001 records were announced, 3000 arrived" in done.json()["error"]
    # Still Processing, nothing published: the right count goes through afterwards.
    done = report(sync.cloud, sync.agent, dataset_id, "Complete", chunks=3, recordCount=3_000)
    assert done.status_code == 200, done.text
    assert len(sync.served()) == 3_000


def test_pages_staged_by_the_previous_version_still_publish(sync: Sync) -> None:
    """A page staged before an upgrade holds the records as sent, not canonical triples."""
    dataset_id = sync.start()
    records = [_entry(n) for n in range(10)]
    assert upload_chunk(sync.cloud, sync.agent, dataset_id, 0, records[:5]).status_code == 204
    with sync.cloud.services.db.writing() as conn:
        conn.execute(
            insert(staged_chunks).values(
                dataset_id=dataset_id, chunk=1, payload=json.dumps(records[5:])
            )
        )
    done = report(sync.cloud, sync.agent, dataset_id, "Complete", chunks=2, recordCount=10)
    assert done.status_code == 200, done.text
    served = sync.served()
    assert [r["id"] for r in served] == [r["id"] for r in records]
    with sync.cloud.services.db.reading() as conn:
        stored = conn.execute(select(records_table.c.record_id, records_table.c.payload)).all()
    assert dict(stored) == {r["id"]: canonical_json(r) for r in records}
