"""What the agent is built from (agent/wiring.py): one keeper per link, one state.db, the
registered source reading each link's book."""

from __future__ import annotations

import threading
from pathlib import Path

from agent.sources.gnucash.source import GnuCashSource
from agent.support.config import AgentConfig, Link, Paths
from agent.wiring import Wiring
from protocol.clock import utc_now
from tests.support.memory_keyring import memory_store


def _wiring(tmp_path: Path) -> Wiring:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "logs")
    return Wiring(paths, clock=utc_now, publish=lambda _event: None, stopping=threading.Event())


LINK = Link(
    cloud_url="https://cloud.example",
    company_id="11111111-1111-4111-8111-111111111111",
    company_name="Acme",
    connection_id="22222222-2222-4222-8222-222222222222",
    book_path="/books/acme.gnucash",
    linked_at="2026-01-31T09:00:00Z",
)


def test_every_client_of_a_link_is_on_its_one_keeper(tmp_path: Path) -> None:
    wiring = _wiring(tmp_path)
    store = memory_store()
    keeper = wiring.keeper(LINK.connection_id, store)
    assert wiring.keeper(LINK.connection_id, store) is keeper
    with (
        wiring.client(LINK, store, AgentConfig()) as first,
        wiring.client(LINK, store, AgentConfig()) as second,
    ):
        assert first._keeper is keeper and second._keeper is keeper


def test_state_db_is_opened_once(tmp_path: Path) -> None:
    wiring = _wiring(tmp_path)
    (tmp_path / "data").mkdir()
    assert wiring.local_state() is wiring.local_state()


def test_a_links_book_is_read_by_the_registered_source(tmp_path: Path) -> None:
    wiring = _wiring(tmp_path)
    source = wiring.source(LINK, AgentConfig(report_months=3))
    assert isinstance(source, GnuCashSource)
    assert source.book_path == Path(LINK.book_path)
    assert source.report_months == 3
    assert source.workdir == tmp_path / "data" / "staging" / "snapshots"
