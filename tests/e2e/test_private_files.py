"""Everything the agent leaves in its home is its user's alone (files 0600, folders 0700), with
the umask most systems give (022): after a real link and sync to Complete through the CLI, the
tray's settings saved and a diagnostics bundle made."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from cloud.local import LocalCloud
from tests.agent.runtime_harness import book_copy, new_company
from tests.support.keyring_session import KeyringSession

USUAL_UMASK = 0o022


def modes_that_are_not_private(home: Path) -> dict[str, str]:
    """Every path under ``home`` (and ``home`` itself) whose mode lets others in, or that is
    not its kind's private mode exactly."""
    wrong = {}
    for path in [home, *home.rglob("*")]:
        mode = path.lstat().st_mode
        expected = 0o700 if stat.S_ISDIR(mode) else 0o600
        if stat.S_IMODE(mode) != expected:
            wrong[str(path.relative_to(home))] = oct(stat.S_IMODE(mode))
    return wrong


def test_a_link_and_a_sync_leave_only_private_files(tmp_path: Path) -> None:
    home = tmp_path / "agent-home"
    with KeyringSession(tmp_path / "user") as keyring, LocalCloud(tmp_path / "cloud") as cloud:
        env = {**keyring.env, "CONNECTOR_HOME": str(home)}

        def run(*command: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=120, umask=USUAL_UMASK
            )

        def connector(*args: str) -> subprocess.CompletedProcess[str]:
            return run(sys.executable, "-m", "agent.cli", *args)

        company = new_company(cloud, "Harbor Lane", first_link=("customers", "invoices"))
        linked = connector("link", company.link_url, "--book", str(book_copy(tmp_path, "xml-gzip")))
        assert linked.returncode == 0, linked.stderr
        ran = connector("run", "--headless", "--until-idle", "2")
        assert ran.returncode == 0, ran.stderr
        assert [d["status"] for d in company.datasets("customers")] == ["Complete"]
        assert [d["status"] for d in company.datasets("invoices")] == ["Complete"]

        saved = run(
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from ui.settings import UiSettings, "
            "save_ui_settings; save_ui_settings(Path(sys.argv[1]), UiSettings())",
            str(home / "config"),
        )
        assert saved.returncode == 0, saved.stderr
        bundle = tmp_path / "support" / "bundle.zip"
        made = connector("diagnostics", "--output", str(bundle))
        assert made.returncode == 0, made.stderr

    assert (home / "config" / "tray.json").is_file()
    assert (home / "logs" / "connector.log").is_file()
    assert (home / "data" / "state.db").is_file()
    assert modes_that_are_not_private(home) == {}
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o600  # in the user's folder, theirs alone
