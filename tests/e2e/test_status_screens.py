"""Screenshots of the status window and the tray's menu side by side, in four states the real
app goes through (up to date, paused, some data did not sync, needs re-authorization), under
Xvfb with a real tray host, for a person to read as a bookkeeper would. They go to
test-artifacts/one-truth/. The app is driven through its test commands (see
``TrayApp.run_test_command``); its log says when each state and each menu is on screen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cloud.local import LocalCloud
from tests.agent.runtime_harness import book_copy, new_company
from tests.e2e.test_tray_xvfb import icons, send_command
from tests.support.keyring_session import KeyringSession
from tests.support.processes import stop_process
from tests.support.xdisplay import XDisplay

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "one-truth"


def test_the_window_and_the_menu_in_four_states(tmp_path: Path) -> None:
    home = tmp_path / "agent-home"
    log = home / "logs" / "connector.log"
    with (
        XDisplay(tmp_path / "x", screen="1280x800x24") as display,
        KeyringSession(tmp_path / "user") as keyring,
        LocalCloud(tmp_path / "cloud") as cloud,
    ):
        env = {**keyring.env, **display.env, "CONNECTOR_HOME": str(home)}
        company = new_company(cloud, "Harbor Lane Bakery", first_link=("customers", "suppliers"))
        book = book_copy(tmp_path)
        linked = subprocess.run(
            [sys.executable, "-m", "agent.cli", "link", company.link_url, "--book", str(book)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert linked.returncode == 0, linked.stderr
        before = set(display.embedded_names())
        app = subprocess.Popen(
            [sys.executable, "-m", "connector"],
            env={**env, "CONNECTOR_TEST_COMMANDS": "1"},
            stdout=(tmp_path / "app.out").open("wb"),
            stderr=subprocess.STDOUT,
        )

        def evidence() -> str:
            return "\n".join(log.read_text().splitlines()[-30:]) if log.is_file() else ""

        def shoot(state: str) -> None:
            """The window at the top left, the menu beside the icon, on one screenshot."""
            shown = log.read_text().count("menu shown")
            send_command(home, "window")
            send_command(home, "menu")
            display.wait_for(
                lambda: log.read_text().count("menu shown") > shown,
                f"the menu in state {state}",
                evidence=evidence,
            )
            display.screenshot(ARTIFACTS / f"{state}.png")
            send_command(home, "close-menu")

        def icon_is(state: str) -> None:
            display.wait_for(
                lambda: icons(log.read_text())[-1:] == [state],
                f"the icon to show {state}",
                timeout=120,
                evidence=evidence,
            )

        try:
            display.wait_for_icon(log, before)
            display.wait_for(
                lambda: all(
                    company.datasets(t)[-1]["status"] == "Complete"
                    for t in ("customers", "suppliers")
                ),
                "the first sync",
                timeout=120,
                evidence=evidence,
            )
            icon_is("idle")
            shoot("1-up-to-date")

            send_command(home, "trigger pause_1h")
            icon_is("paused")
            shoot("2-paused")
            send_command(home, "trigger resume")
            icon_is("idle")

            hidden = book.with_name("moved-away.gnucash")
            book.rename(hidden)
            company.queue("customers")
            icon_is("error")
            shoot("3-some-data-did-not-sync")
            hidden.rename(book)

            with company.api() as api:
                revoked = api.post(
                    f"/companies/{company.company_id}/connections/{company.connection_id}/revoke"
                )
                assert revoked.status_code == 200, revoked.text
            icon_is("needs_reauthorization")
            shoot("4-needs-reauthorization")
            assert app.poll() is None, (tmp_path / "app.out").read_text()
        finally:
            stop_process(app, grace=30)
