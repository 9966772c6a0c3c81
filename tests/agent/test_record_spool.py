"""The record spool: what changed against the cloud's baseline, read back from disk."""

from __future__ import annotations

import json
from pathlib import Path

from agent.runtime.record_spool import RecordSpool
from protocol.limits import MAX_PAGE_BYTES
from protocol.record_hash import record_hash


def _customer(number: int, name: str) -> dict[str, object]:
    return {"id": f"c{number}", "customerName": name, "status": "Active"}


def test_only_what_the_cloud_lacks_is_paged_and_what_it_alone_holds_is_deleted(
    tmp_path: Path,
) -> None:
    spool = RecordSpool(tmp_path / "records.db")
    mapped = [_customer(n, f"Customer {n}") for n in range(5)]
    spool.add(iter(mapped[:3]))
    spool.add(iter(mapped[3:]))  # added in several goes, as a stream
    held = [
        ("c0", record_hash(mapped[0])),  # unchanged
        ("c1", "0" * 64),  # changed since
        ("c9", "1" * 64),  # gone from the book
    ]

    assert spool.duplicate_id() is None
    spool.hold(iter(held))

    assert spool.count == 5
    pages = [[json.loads(body) for body in page] for page in spool.pages(3, changed_only=True)]
    assert sum(len(page) for page in pages) == 4
    assert pages == [[mapped[1], mapped[2], mapped[3]], [mapped[4]]]  # in mapping order
    assert [len(page) for page in spool.pages(2, changed_only=False)] == [2, 2, 1]
    assert spool.deleted_ids() == ["c9"]

    spool.close()
    assert not (tmp_path / "records.db").exists()


def test_a_repeated_id_is_found_and_a_leftover_spool_is_started_afresh(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    path.write_bytes(b"left by a run that was killed")
    spool = RecordSpool(path)
    spool.add(iter([_customer(1, "Ada"), _customer(2, "Bo"), _customer(1, "Ada again")]))
    assert spool.duplicate_id() == "c1"
    spool.close()


def test_a_page_is_cut_before_it_passes_the_byte_budget_the_cloud_takes(tmp_path: Path) -> None:
    spool = RecordSpool(tmp_path / "records.db")
    # Invoices of a thousand lines: sixty of them, far fewer than a page's 500 records, make
    # 7 MB, more than a page may carry (protocol/limits.py).
    line = {"description": "x" * 100, "unitAmount": 1.5, "quantity": 2}
    spool.add({"id": f"inv{n}", "lineItems": [line] * 1000} for n in range(60))
    pages = list(spool.pages(500, changed_only=False))
    sizes = [len(("[" + ",".join(page) + "]").encode()) for page in pages]
    assert len(pages) > 1 and all(size <= MAX_PAGE_BYTES for size in sizes), sizes
    assert sum(len(page) for page in pages) == 60
    assert [json.loads(b)["id"] for page in pages for b in page] == [f"inv{n}" for n in range(60)]
    spool.close()
