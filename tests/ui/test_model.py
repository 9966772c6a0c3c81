from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.ui.fake_connector import FOREVER, agent_status, link
from ui.model import TrayState, link_line, overall_state, pause_text, when


def test_no_links_is_not_linked() -> None:
    assert overall_state(agent_status()) == TrayState.NOT_LINKED


def test_the_worst_company_decides() -> None:
    status = agent_status(
        link(cid="a", state="syncing", syncing="customers"),
        link(cid="b", state="needs_reauthorization"),
        link(cid="c", state="offline"),
    )
    assert overall_state(status) == TrayState.NEEDS_REAUTHORIZATION
    assert overall_state(agent_status(link(state="idle", last_error="boom"))) == TrayState.ERROR
    assert overall_state(agent_status(link(state="stopped"))) == TrayState.ERROR
    assert overall_state(agent_status(link(state="offline"))) == TrayState.OFFLINE
    assert overall_state(agent_status(link(state="idle"))) == TrayState.IDLE


def test_a_pause_shows_unless_a_sync_is_still_finishing() -> None:
    paused = agent_status(link(state="paused"), paused_until=FOREVER)
    assert overall_state(paused) == TrayState.PAUSED
    assert pause_text(paused) == "Paused until you resume"
    finishing = agent_status(link(state="syncing", syncing="invoices"), paused_until=FOREVER)
    assert overall_state(finishing) == TrayState.SYNCING


def test_a_lapsed_pause_is_not_a_pause() -> None:
    lapsed = agent_status(link(), paused_until=datetime(2020, 1, 1, tzinfo=UTC))
    lapsed = lapsed.__class__(**{**lapsed.__dict__, "pause_reason": None})
    assert overall_state(lapsed) == TrayState.IDLE
    assert pause_text(lapsed) is None


def test_plain_words() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert when(None, now) == "never"
    assert when(now - timedelta(seconds=5), now) == "just now"
    assert when(now - timedelta(minutes=12), now) == "12 min ago"
    assert link_line(link(state="syncing", syncing="customers")) == "Acme Ltd: syncing customers"
    assert link_line(link(last_error="x")) == "Acme Ltd: up to date; last sync failed"
