"""Incremental sync: an unchanged book is not read again; a changed one sends only changes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.facade import Connector
from cloud.local import LocalCloud
from tests.agent.runtime_harness import agent_home, book_copy, new_company


def _sync(connector: Connector) -> list[int | None]:
    summary = connector.run(until_idle=2)
    return [o.uploaded for r in summary.results.values() for o in r.outcomes]


def test_only_what_changed_in_the_book_is_sent(tmp_path: Path) -> None:
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane")
        book = book_copy(tmp_path)
        connector = Connector(agent_home(tmp_path))
        connector.link(company.link_url, book, insecure_file_store=True)

        assert _sync(connector) == [6]
        first = {c["id"]: c for c in company.records("customers")}

        # Unchanged book: the sync completes without reading it, and nothing moves.
        company.queue("customers")
        assert _sync(connector) == [0]
        assert company.datasets("customers")[-1]["status"] == "Complete"
        assert {c["id"]: c for c in company.records("customers")} == first

        # The user renames one customer and deletes another in GnuCash (here: in the copy).
        renamed, removed = sorted(first)[:2]
        with sqlite3.connect(book) as db:
            db.execute("UPDATE customers SET name = 'Renamed Ltd' WHERE guid = ?", (renamed,))
            db.execute("DELETE FROM customers WHERE guid = ?", (removed,))
        company.queue("customers")
        assert _sync(connector) == [1]

        after = {c["id"]: c for c in company.records("customers")}
        assert after[renamed]["customerName"] == "Renamed Ltd"
        assert after[renamed]["modifiedDate"] > first[renamed]["modifiedDate"]
        assert after[removed]["metadata"] == {"isDeleted": True}
        for customer_id in set(first) - {renamed, removed}:
            assert after[customer_id] == first[customer_id]  # untouched, same modifiedDate


def test_the_facade_keeps_each_datasets_timeline_and_the_last_success(tmp_path: Path) -> None:
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane")
        connector = Connector(agent_home(tmp_path))
        link = connector.link(company.link_url, book_copy(tmp_path), insecure_file_store=True)
        connector.run(until_idle=2)
        (record,) = connector.recent_runs(link.connection_id)
        assert record.data_type == "customers" and record.finished
        assert [str(e.status) for e in record.timeline] == [
            "Fetching",
            "Mapping",
            "Validating",
            "Processing",
            "Complete",
        ]
        (status,) = connector.status().links
        # The later of this PC's and the cloud's word (the cloud marks it when the last report
        # arrives, a moment after the PC did).
        assert status.cloud is not None and status.cloud.last_successful_sync is not None
        assert status.last_successful_sync == max(record.updated, status.cloud.last_successful_sync)
