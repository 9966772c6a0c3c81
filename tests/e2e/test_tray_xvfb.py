"""The real tray app on a real X display with a real tray host (trayer), a real agent and the
reference cloud on loopback: the icon docks in the tray, the first sync completes, a second
launch raises the status window, the wizard previews a book; revoking the connection turns the
icon to needs-re-authorization with a notification, the re-authorization dialog re-links with a
fresh code, and the next dataset completes with the icon back to idle. Screenshots go to
test-artifacts/tray/.

The app is started with ``CONNECTOR_TEST_COMMANDS=1``, so lines written to its single-instance
socket drive its real windows (``TrayApp.run_test_command``); the icon's states and the
notifications are read from its log ("icon: ...", "notified: ...")."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cloud.local import LocalCloud
from tests.agent.runtime_harness import book_copy, new_company
from tests.support.keyring_session import KeyringSession
from tests.support.processes import stop_process
from tests.support.xdisplay import XDisplay
from ui.single_instance import server_name

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "tray"


def send_command(home: Path, line: str) -> None:
    """Write one test command to the running app's single-instance socket (QLocalServer puts
    it in the temporary folder on Unix)."""
    path = Path(tempfile.gettempdir()) / server_name(str(home))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(str(path))
        client.sendall(line.encode() + b"\n")
        time.sleep(0.5)  # let the app read it before the connection closes


def icons(text: str) -> list[str]:
    """The icon states the app logged, in order."""
    return [line.split("icon: ", 1)[1].strip() for line in text.splitlines() if "icon: " in line]


def test_the_tray_icon_docks_syncs_and_recovers_from_a_revoked_link(tmp_path: Path) -> None:
    home = tmp_path / "agent-home"
    log = home / "logs" / "connector.log"
    with (
        XDisplay(tmp_path / "x") as display,
        KeyringSession(tmp_path / "user") as keyring,
        LocalCloud(tmp_path / "cloud") as cloud,
    ):
        env = {
            **keyring.env,
            **display.env,
            "CONNECTOR_HOME": str(home),
            "CONNECTOR_TEST_COMMANDS": "1",
        }
        company = new_company(cloud, "Harbor Lane")
        book = str(book_copy(tmp_path))
        linked = subprocess.run(
            [sys.executable, "-m", "agent.cli", "link", company.link_url, "--book", book],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert linked.returncode == 0, linked.stderr
        before = set(display.embedded_names())
        app = subprocess.Popen(
            [sys.executable, "-m", "connector"],
            env=env,
            stdout=(tmp_path / "app.out").open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            display.wait_for_icon(log, before)
            display.wait_for(
                lambda: company.datasets("customers")[-1]["status"] == "Complete",
                "the first dataset to complete",
                timeout=120,
            )
            display.wait_for(
                lambda: icons(log.read_text())[-1:] == ["idle"],
                "the icon to turn idle on the completion event",
            )
            display.screenshot(ARTIFACTS / "tray.png")
            # A second launch finds the first and raises its status window, then exits.
            second = subprocess.run(
                [sys.executable, "-m", "connector"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert second.returncode == 0, second.stderr
            assert "already running" in second.stderr
            display.wait_for(
                lambda: any('"Connector"' in line for line in display.tree()),
                "the status window",
            )
            display.screenshot(ARTIFACTS / "status-window.png")
            assert app.poll() is None, (tmp_path / "app.out").read_text()
            assert "icon: idle" in log.read_text()

            # The wizard reads a book for its verify page without spending a link code.
            send_command(home, f"wizard {company.link_url} {book}")
            display.wait_for(
                lambda: any('"Set up Connector"' in line for line in display.tree()), "the wizard"
            )
            display.wait_for(  # the preview is read off the GUI thread
                lambda: "book preview shown" in log.read_text(), "the wizard's book preview"
            )
            display.screenshot(ARTIFACTS / "wizard.png")
            send_command(home, "close-wizard")

            # The cloud revokes this PC's connection: the icon and a notification say so.
            with company.api() as api:
                revoked = api.post(
                    f"/companies/{company.company_id}/connections/{company.connection_id}/revoke"
                )
                assert revoked.status_code == 200, revoked.text
            display.wait_for(
                lambda: "icon: needs_reauthorization" in log.read_text(),
                "the icon to ask for re-authorization",
                timeout=60,
            )
            display.wait_for(
                lambda: (
                    "notified: Harbor Lane: Connector needs to be re-authorized" in log.read_text()
                ),
                "the re-authorization notification",
            )
            display.screenshot(ARTIFACTS / "tray-needs-reauthorization.png")

            # The re-authorization dialog re-links with a fresh code; the next dataset runs.
            done = len(company.datasets("customers"))
            send_command(
                home, f"reauthorize {company.connection_id} {company.connection()['linkUrl']}"
            )
            display.wait_for(
                lambda: company.connection()["status"] == "Linked", "the connection to be linked"
            )
            display.wait_for(
                lambda: icons(log.read_text())[-1] in ("idle", "syncing"),
                "the icon to leave needs-re-authorization after re-linking",
            )
            company.queue("customers")
            display.wait_for(
                lambda: (
                    len(company.datasets("customers")) > done
                    and company.datasets("customers")[-1]["status"] == "Complete"
                ),
                "the next dataset to complete",
                timeout=120,
            )
            display.wait_for(
                lambda: icons(log.read_text())[-1] == "idle", "the icon to be idle again"
            )
            assert "needs_reauthorization" in icons(log.read_text())
            display.screenshot(ARTIFACTS / "tray-after-reauthorization.png")
            assert app.poll() is None, (tmp_path / "app.out").read_text()
        finally:
            stop_process(app, grace=30)
