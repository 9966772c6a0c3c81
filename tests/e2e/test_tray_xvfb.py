"""The real tray app on a real X display with a real tray host (trayer), a real agent and the
reference cloud on loopback: the icon docks in the tray, the first sync completes, and a
second launch raises the status window. Screenshots go to test-artifacts/tray/."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from cloud.local import LocalCloud
from tests.agent.runtime_harness import book_copy, new_company
from tests.keyring_session import KeyringSession
from tests.xdisplay import XDisplay

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "tray"


def test_the_tray_icon_docks_and_the_first_sync_completes(tmp_path: Path) -> None:
    home = tmp_path / "agent-home"
    log = home / "logs" / "connector.log"
    with (
        XDisplay(tmp_path / "x") as display,
        KeyringSession(tmp_path / "user") as keyring,
        LocalCloud(tmp_path / "cloud") as cloud,
    ):
        env = {**keyring.env, **display.env, "CONNECTOR_HOME": str(home)}
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
            [sys.executable, "-m", "agent.cli"],
            env=env,
            stdout=(tmp_path / "app.out").open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            display.wait_for(
                lambda: (
                    log.is_file() and "tray icon is in the notification area" in log.read_text()
                ),
                "the app to find the tray host",
            )
            display.wait_for(
                lambda: set(display.embedded_names()) - before, "the icon to dock in the tray"
            )
            display.wait_for(
                lambda: company.datasets("customers")[-1]["status"] == "Complete",
                "the first dataset to complete",
                timeout=120,
            )
            time.sleep(1)  # the icon turns idle on the completion event
            display.screenshot(ARTIFACTS / "tray.png")
            # A second launch finds the first and raises its status window, then exits.
            second = subprocess.run(
                [sys.executable, "-m", "agent.cli"],
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
            time.sleep(1)
            display.screenshot(ARTIFACTS / "status-window.png")
            assert app.poll() is None, (tmp_path / "app.out").read_text()
        finally:
            app.terminate()
            app.wait(timeout=30)
