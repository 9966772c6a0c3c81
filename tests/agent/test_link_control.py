"""Several links on one agent: re-authorization stops only the link concerned; pause, the
sync window and fairness between links."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agent.events import CloudViewUpdated, DatasetChanged, Event, NeedsReauthorization
from agent.facade import Connector
from cloud.local import LocalCloud
from tests.agent.runtime_harness import agent_home, book_copy, new_company
from tests.support.waiting import eventually


def test_a_revoked_link_stops_alone_and_resumes_after_relinking(tmp_path: Path) -> None:
    with LocalCloud(tmp_path / "cloud") as cloud:
        ours, theirs = new_company(cloud, "Ours"), new_company(cloud, "Theirs")
        connector = Connector(agent_home(tmp_path))
        book = book_copy(tmp_path)
        connector.link(ours.link_url, book, insecure_file_store=True)
        connector.link(theirs.link_url, book, insecure_file_store=True)
        events: list[Event] = []
        connector.subscribe(events.append)
        connector.start()
        try:
            eventually(lambda: ours.latest_status("customers") == "Complete")
            eventually(lambda: theirs.latest_status("customers") == "Complete")

            with cloud.client() as api:
                api.post(f"/companies/{ours.company_id}/connections/{ours.connection_id}/revoke")
            lost = eventually(
                lambda: [e for e in events if isinstance(e, NeedsReauthorization)], timeout=20
            )
            assert [e.connection_id for e in lost] == [ours.connection_id]
            status = {s.connection_id: s.state for s in connector.status().links}
            assert status[ours.connection_id] == "needs_reauthorization"

            # The other company goes on syncing.
            theirs.queue("suppliers")
            eventually(lambda: theirs.latest_status("suppliers") == "Complete")

            # Re-linking with the fresh code in the same linkUrl resumes our company.
            connector.link(ours.connection()["linkUrl"], book, insecure_file_store=True)
            ours.queue("suppliers")
            eventually(lambda: ours.latest_status("suppliers") == "Complete")
            status = {s.connection_id: s.state for s in connector.status().links}
            assert status[ours.connection_id] in ("idle", "syncing")
        finally:
            connector.stop()


PAUSED = "Paused on the connector until the user resumes it"


def _with_reason(dataset: dict[str, Any], reason: str) -> dict[str, Any] | None:
    """The dataset, once its status description starts with ``reason``."""
    description = dataset.get("statusDescription") or ""
    return dataset if description.startswith(reason) else None


def test_pause_holds_datasets_with_the_reason_and_resume_releases_them(tmp_path: Path) -> None:
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane", first_link=())
        connector = Connector(agent_home(tmp_path))
        connector.link(company.link_url, book_copy(tmp_path), insecure_file_store=True)
        connector.start()
        try:
            eventually(lambda: connector.status().links[0].state == "idle")  # in a long poll
            connector.pause(None)
            company.queue("customers")
            # The reason on the queued dataset is what the agent tells the cloud once it has
            # seen the pause and the queue; from then on the dataset must still be Queued.
            waiting = eventually(
                lambda: _with_reason(company.datasets("customers")[-1], PAUSED),
                what="the pause's reason on the queued dataset",
            )
            assert waiting is not None and waiting["status"] == "Queued"
            assert connector.status().links[0].state == "paused"
            assert company.datasets("customers")[-1]["status"] == "Queued"
            connector.resume()
            eventually(lambda: company.latest_status("customers") == "Complete")
        finally:
            connector.stop()


def test_outside_the_sync_window_datasets_wait_and_say_until_when(tmp_path: Path) -> None:
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane", first_link=())
        connector = Connector(agent_home(tmp_path))
        connector.link(company.link_url, book_copy(tmp_path), insecure_file_store=True)
        now = datetime.now().astimezone()
        closed = f"{(now + timedelta(hours=2)):%H:%M}-{(now + timedelta(hours=3)):%H:%M}"
        connector.set_sync_window(closed)
        connector.start()
        try:
            company.queue("customers")
            # As for a pause: the reason arrives once the agent has seen the window and the
            # queue, and the dataset is still Queued then.
            waiting = eventually(
                lambda: _with_reason(
                    company.datasets("customers")[-1],
                    f"Outside the connector's sync window ({closed}); it syncs again from ",
                ),
                what="the sync window's reason on the queued dataset",
            )
            assert waiting is not None and waiting["status"] == "Queued"
            opened = f"{(now - timedelta(hours=1)):%H:%M}-{(now + timedelta(hours=1)):%H:%M}"
            connector.set_sync_window(opened)
            eventually(lambda: company.latest_status("customers") == "Complete")
        finally:
            connector.stop()


def test_two_links_are_served_side_by_side(tmp_path: Path) -> None:
    """Neither company waits for the other's queue to empty."""
    types = ("customers", "suppliers", "chartOfAccounts")
    with LocalCloud(tmp_path / "cloud") as cloud:
        first, second = (new_company(cloud, name, first_link=types) for name in ("A", "B"))
        connector = Connector(agent_home(tmp_path))
        book = book_copy(tmp_path)
        connector.link(first.link_url, book, insecure_file_store=True)
        connector.link(second.link_url, book, insecure_file_store=True)
        completed: list[str] = []
        lock = threading.Lock()

        def note(event: Event) -> None:
            if isinstance(event, DatasetChanged) and event.status == "Complete":
                with lock:
                    completed.append(event.connection_id)

        connector.subscribe(note)
        summary = connector.run(until_idle=3)
        assert sorted(len(r.outcomes) for r in summary.results.values()) == [3, 3]
        # Interleaved: the second company's first dataset finished before the first's last.
        first_done = [i for i, c in enumerate(completed) if c == first.connection_id]
        second_done = [i for i, c in enumerate(completed) if c == second.connection_id]
        assert second_done[0] < first_done[-1] and first_done[0] < second_done[-1]


def test_relinking_the_only_link_serves_it_again_without_a_new_start(tmp_path: Path) -> None:
    """Its worker ended with the lost authorization, so no link was being served; the agent
    was still started, and a re-authorization must put it back to work (and the snapshot must
    say so), as the tray's re-authorization dialog expects."""
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane")
        connector = Connector(agent_home(tmp_path))
        book = book_copy(tmp_path)
        connector.link(company.link_url, book, insecure_file_store=True)
        events: list[Event] = []
        connector.subscribe(events.append)
        connector.start()
        try:
            eventually(lambda: company.latest_status("customers") == "Complete")
            with cloud.client() as api:
                api.post(
                    f"/companies/{company.company_id}/connections/{company.connection_id}/revoke"
                )
            eventually(lambda: [e for e in events if isinstance(e, NeedsReauthorization)])
            eventually(lambda: connector.status().condition == "needs_reauthorization")
            assert connector.running  # started, and not stopped: only the link waits

            connector.link(company.connection()["linkUrl"], book, insecure_file_store=True)
            company.queue("suppliers")
            eventually(lambda: company.latest_status("suppliers") == "Complete")
            eventually(lambda: connector.status().condition == "idle")
        finally:
            connector.stop()
        assert not connector.running


def test_sync_now_shows_the_clouds_answer_in_the_status_at_once(tmp_path: Path) -> None:
    """After "Sync now" the running agent asks the cloud for its view before returning, so the
    snapshot already holds what became of the queued datasets."""
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane", first_link=())
        connector = Connector(agent_home(tmp_path))
        connector.link(company.link_url, book_copy(tmp_path), insecure_file_store=True)
        views: list[CloudViewUpdated] = []
        connector.subscribe(lambda e: views.append(e) if isinstance(e, CloudViewUpdated) else None)
        connector.start()
        try:
            eventually(lambda: views)  # the worker's first look, on start
            seen = len(views)
            connector.sync_now(["suppliers"])
            assert len(views) > seen  # before sync_now returned
            (link,) = connector.status().links
            assert link.cloud is not None
            in_cloud = {d.data_type: d.status for d in link.cloud.data_types}
            assert in_cloud["suppliers"] is not None  # queued, or further already
        finally:
            connector.stop()
