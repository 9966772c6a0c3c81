"""Try again (the facade's ``retry_link``): a link that stopped is served again with the
credential the store holds now, and a link that is being served is never served twice.

A real cloud on loopback; the connection is linked again from a second facade on the same
folders, as ``connector link`` in a terminal does beside the running tray app.
"""

from __future__ import annotations

import threading
from pathlib import Path

from agent.events import Event, NeedsReauthorization
from agent.facade import Connector
from cloud.local import LocalCloud
from tests.agent.runtime_harness import agent_home, book_copy, new_company
from tests.support.waiting import eventually


def _state(connector: Connector, connection_id: str) -> str:
    return next(s.state for s in connector.status().links if s.connection_id == connection_id)


def _link_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("connector-link-")]


def test_try_again_serves_a_stopped_link_with_the_credential_the_store_holds_now(
    tmp_path: Path,
) -> None:
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane")
        paths = agent_home(tmp_path)
        book = book_copy(tmp_path)
        connector = Connector(paths)
        connector.link(company.link_url, book, insecure_file_store=True)
        events: list[Event] = []
        connector.subscribe(events.append)
        connector.start()
        try:
            eventually(lambda: company.latest_status("customers") == "Complete")
            with cloud.client() as api:
                base = f"/companies/{company.company_id}/connections/{company.connection_id}"
                api.post(f"{base}/revoke").raise_for_status()
            eventually(lambda: [e for e in events if isinstance(e, NeedsReauthorization)])
            assert _state(connector, company.connection_id) == "needs_reauthorization"

            # Linked again elsewhere on this PC (a terminal), while the tray still waits.
            Connector(paths).link(company.connection()["linkUrl"], book, insecure_file_store=True)
            connector.retry_link(company.connection_id)
            assert _state(connector, company.connection_id) != "needs_reauthorization"
            company.queue("suppliers")
            eventually(lambda: company.latest_status("suppliers") == "Complete")
            assert _state(connector, company.connection_id) in ("idle", "syncing")
        finally:
            connector.stop()


def test_try_again_on_a_link_being_served_does_not_serve_it_twice(tmp_path: Path) -> None:
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane", first_link=())
        connector = Connector(agent_home(tmp_path))
        connector.link(company.link_url, book_copy(tmp_path), insecure_file_store=True)
        before = set(_link_threads())
        connector.start()
        try:
            serving = set(_link_threads()) - before
            assert len(serving) == 1
            connector.retry_link(company.connection_id)
            assert set(_link_threads()) - before == serving
        finally:
            connector.stop(now=True)
