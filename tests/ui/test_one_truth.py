"""One truth on screen (issue #13): the tray's icon, tooltip and menu, the status window, and
``connector status`` (text and JSON, run as another process) say the same thing in every state
the real agent goes through, against the real cloud on loopback.

Offscreen Qt (a tray icon needs no tray host to be read); the tray app is the real one
(``TrayApp``) with its real facade. Where the cloud must be made to hold something this agent
cannot cause by itself (a dataset stuck in Queued, a dataset ended AuthError behind the agent's
back), the test writes it into the cloud's own database with the cloud's own code, saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QSystemTrayIcon
from sqlalchemy import select, update

from agent.events import DatasetChanged, Event
from agent.facade import Connector
from agent.status.link_status import AgentStatus
from agent.status.status_rules import Condition
from agent.support.config import Paths
from cloud.store.dataset_moves import move
from cloud.store.db import datasets
from protocol.clock import to_iso
from protocol.states import DatasetStatus
from tests.agent.runtime_harness import Company, book_copy, new_company
from tests.support.served_cloud import ServedCloud
from ui.app import TrayApp

WAIT_MS = 90_000  # generous: two CPUs shared with other test runs


class HoldAt:
    """An observer that holds the agent's worker the first time a dataset of ``data_type``
    enters ``status``, as a slow book would, until released: "syncing" that stays put while
    the views are compared."""

    def __init__(self, data_type: str, status: DatasetStatus) -> None:
        self.data_type, self.status = data_type, status
        self.reached, self.released = threading.Event(), threading.Event()

    def __call__(self, event: Event) -> None:
        if (
            isinstance(event, DatasetChanged)
            and not self.reached.is_set()
            and (event.data_type, event.status) == (self.data_type, self.status)
        ):
            self.reached.set()
            self.released.wait(120)


class Scene:
    """The running tray app, its agent home, and ways to read every view."""

    def __init__(self, qtbot: Any, tray_app: TrayApp, home: Path) -> None:
        self.qtbot, self.app, self.home = qtbot, tray_app, home

    @property
    def status(self) -> AgentStatus:
        return self.app.feed.current

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "agent.cli", "status", *args],
            env={**os.environ, "CONNECTOR_HOME": str(self.home)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def menu_lines(self) -> list[str]:
        tray = self.app.tray
        assert tray is not None
        tray.menu.aboutToShow.emit()  # rebuilt as when the user opens it
        names = ("status_line", "company", "pause_line")
        return [a.text() for a in tray.menu.actions() if a.objectName() in names]

    def agree(self, expected: Condition, summary: str) -> AgentStatus:
        """Wait for the tray to show ``expected`` with ``summary``, then check that every other
        view says word for word the same."""
        tray = self.app.tray
        assert tray is not None
        try:
            self.qtbot.waitUntil(
                lambda: (
                    tray.state == expected and [li.summary for li in self.status.links] == [summary]
                ),
                timeout=WAIT_MS,
            )
        except self.qtbot.TimeoutError as exc:  # say where things stood, for a failure in CI
            (link,) = self.status.links
            raise AssertionError(
                f"Expected {expected} / {summary!r}; the tray shows {tray.state} / "
                f"{link.summary!r} ({link.state}); problems: {link.problems}"
            ) from exc
        status = self.status
        (link,) = status.links
        # The tray: icon, tooltip, menu.
        tooltip = tray.toolTip().splitlines()
        assert tooltip[0] == f"Connector: {status.headline}"
        menu = self.menu_lines()
        status = self.status  # opening the menu read a new snapshot for every view
        assert status.condition == expected
        (link,) = status.links
        assert menu[:2] == [status.headline, link.line]
        if status.pause_note:
            assert menu[2] == status.pause_note == tooltip[1]
        # The status window.
        window = self.app.window
        assert window.headline.text().split(". ")[0] == status.headline
        shown = window.findChild(QLabel, f"summary-{link.connection_id}")
        assert shown is not None and shown.text().lower() == link.summary.lower()
        # `connector status`, in another process that asks the cloud itself.
        report = json.loads(self.cli("--json"))
        assert (report["condition"], report["headline"]) == (expected, status.headline)
        assert [li["summary"] for li in report["links"]] == [link.summary]
        assert report["pause_line"] == status.pause_line
        text = self.cli().splitlines()
        assert text[0] == tooltip[0]
        assert link.line in text
        return status


@pytest.fixture
def scene(
    qtbot: Any, qapp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Scene, ServedCloud, Company, Path]]:
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(qapp, "quit", lambda: None)
    home = tmp_path / "agent"
    book = book_copy(tmp_path)
    with ServedCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane", first_link=())  # type: ignore[arg-type]
        connector = Connector(Paths.resolve({"CONNECTOR_HOME": str(home)}))
        connector.link(company.link_url, book, insecure_file_store=True)
        tray_app = TrayApp(qapp, connector)
        qtbot.addWidget(tray_app.window)
        tray_app.window.bring_forward()
        try:
            yield Scene(qtbot, tray_app, home), cloud, company, book
        finally:
            connector.stop(now=True)
            cloud.stop()  # ends the long polls at once
            connector.wait()  # no thread of this test's agent runs on into the next test
            tray_app.tasks.wait()
            tray_app.bridge.detach()
            if tray_app.tray is not None:
                tray_app.tray.hide()


def _write(cloud: ServedCloud, dataset_id: str, **values: object) -> None:
    assert cloud.services is not None
    with cloud.services.db.writing() as conn:
        conn.execute(update(datasets).where(datasets.c.id == dataset_id).values(**values))


def _end_in_auth_error(cloud: ServedCloud, dataset_id: str) -> None:
    assert cloud.services is not None
    db = cloud.services.db
    with db.writing() as conn:
        row = conn.execute(select(datasets).where(datasets.c.id == dataset_id)).mappings().one()
        message = "The connection was not authorized when this dataset was due."
        move(conn, row, DatasetStatus.AUTH_ERROR, db.now(), error_message=message, events=[])


def _latest(company: Company, data_type: str) -> dict[str, Any]:
    return company.datasets(data_type)[-1]


def test_every_view_tells_the_same_story_through_every_state(scene: Any) -> None:
    views, cloud, company, book = scene
    app = views.app
    connector: Connector = app.connector  # type: ignore[assignment]

    # Not running yet: the tray and a `connector status` elsewhere both say so.
    views.agree(Condition.NOT_RUNNING, "not running")

    # A dataset stuck in Queued. Stand-in, written into the cloud's database: it was queued
    # five minutes ago and is held by a claim the cloud never hears of again, so the cloud
    # does not hand it to this agent, which takes work and runs nothing.
    stuck_id = company.queue("customers")["id"]
    now = cloud.services.db.now()
    _write(
        cloud,
        stuck_id,
        requested=to_iso(now - timedelta(minutes=5)),
        lease_until=to_iso(now + timedelta(days=1)),
    )
    app.start_agent()
    stuck = views.agree(Condition.ERROR, "customers stuck in the cloud")
    assert "The customers sync has been waiting in the cloud since" in (
        stuck.links[0].problems[0].message
    )

    # The claim lapses: the agent takes the dataset; held at Mapping, it is "syncing".
    hold = HoldAt("customers", DatasetStatus.MAPPING)
    connector.subscribe(hold)
    _write(cloud, stuck_id, lease_until=None)
    views.agree(Condition.SYNCING, "syncing customers")

    # It completes: every view turns "Up to date" on that very event, none a moment later.
    seen_at_completion: list[tuple[Condition | None, str]] = []

    def on_event(event: Event) -> None:
        if isinstance(event, DatasetChanged) and event.status == DatasetStatus.COMPLETE:
            assert app.tray is not None
            seen_at_completion.append((app.tray.state, app.window.headline.text()))

    app.bridge.event_received.connect(on_event)  # after the feed: the views have re-rendered
    hold.released.set()
    views.qtbot.waitUntil(lambda: bool(seen_at_completion), timeout=WAIT_MS)
    assert seen_at_completion[0] == (Condition.IDLE, "Up to date")
    views.agree(Condition.IDLE, "up to date")

    # Paused from the tray's menu.
    views.menu_lines()
    assert app.tray is not None
    next(a for a in app.tray.menu.actions() if a.objectName() == "pause_1h").trigger()
    paused = views.agree(Condition.PAUSED, "paused")
    assert paused.pause_line is not None and paused.pause_line.startswith("Paused until ")
    assert paused.headline == paused.pause_line  # said once, not "Paused. Paused until ..."

    # A dataset ended AuthError behind the agent's back. Stand-in: queued while paused, then
    # ended by the cloud's own move in its database. The window's Refresh asks the cloud.
    lost_id = company.queue("suppliers")["id"]
    _end_in_auth_error(cloud, lost_id)
    connector.resume()
    app.window.refresh_button.click()
    views.agree(Condition.ERROR, "suppliers did not sync")

    # Offline: the cloud stops answering, then comes back.
    cloud.stop()
    views.agree(Condition.OFFLINE, "offline: cannot reach the cloud")
    cloud.start()
    views.agree(Condition.ERROR, "suppliers did not sync")

    # Needs re-authorization: the cloud revokes this PC while a dataset runs; the datasets
    # queued meanwhile end AuthError at once (the "Sync now" the issue saw lost).
    hold = HoldAt("invoices", DatasetStatus.MAPPING)
    connector.subscribe(hold)
    company.queue("invoices")
    views.agree(Condition.SYNCING, "syncing invoices; 1 other problem")
    with company.api() as api:
        revoked = api.post(
            f"/companies/{company.company_id}/connections/{company.connection_id}/revoke"
        )
        assert revoked.status_code == 200, revoked.text
    hold.released.set()
    views.agree(Condition.NEEDS_REAUTHORIZATION, "needs re-authorization")
    for data_type in ("customers", "chartOfAccounts"):
        assert company.queue(data_type)["status"] == "AuthError"
    views.agree(Condition.NEEDS_REAUTHORIZATION, "needs re-authorization")

    # Re-authorized: linked again with the fresh code. What the old authorization broke (the
    # AuthError datasets, the run it cut short) no longer counts.
    app.run_test_command(f"reauthorize {company.connection_id} {company.connection()['linkUrl']}")
    views.agree(Condition.IDLE, "up to date")

    # An error, then a success of another type (still an error), then of its own type.
    hidden = book.with_name("moved-away.gnucash")
    book.rename(hidden)
    company.queue("customers")
    views.agree(Condition.ERROR, "customers did not sync")
    hidden.rename(book)
    company.queue("suppliers")
    views.qtbot.waitUntil(
        lambda: _latest(company, "suppliers")["status"] == "Complete", timeout=WAIT_MS
    )
    views.agree(Condition.ERROR, "customers did not sync")
    company.queue("customers")
    views.agree(Condition.IDLE, "up to date")
