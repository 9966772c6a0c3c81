"""The `connector` commands as a user runs them, with a real keyring and a real cloud; and
afterwards no credential anywhere in the agent's home, its logs or a diagnostics bundle."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from cloud.local import LocalCloud
from tests.agent.runtime_harness import book_copy, new_company
from tests.support.keyring_session import KeyringSession


def test_the_commands_work_and_no_credential_leaks(tmp_path: Path) -> None:
    home = tmp_path / "agent-home"
    with KeyringSession(tmp_path / "user") as keyring, LocalCloud(tmp_path / "cloud") as cloud:
        env = {**keyring.env, "CONNECTOR_HOME": str(home)}

        def connector(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "agent.cli", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )

        company = new_company(cloud, "Harbor Lane")
        link_code = company.link_url.rsplit("/", 1)[1]
        assert (
            connector("link", company.link_url, "--book", str(book_copy(tmp_path))).returncode == 0
        )
        assert connector("run", "--headless", "--until-idle", "2").returncode == 0

        status = connector("status", "--json")
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        (link,) = report["links"]
        assert link["company_name"] == "Harbor Lane"
        assert link["pending_reports"] == 0
        # Nothing runs the agent now: that is what it says, with the cloud's view beside it.
        assert (report["condition"], link["summary"]) == ("not_running", "not running")
        assert link["cloud"]["connection_status"] == "Linked"
        in_cloud = {d["data_type"]: d["status"] for d in link["cloud"]["data_types"]}
        assert in_cloud["customers"] == "Complete"

        paused = connector("pause", "1h")
        assert paused.returncode == 0 and "Paused until" in paused.stdout
        synced = connector("sync", "suppliers")
        assert synced.returncode == 0 and "queued suppliers" in synced.stdout
        waiting = company.datasets("suppliers")[-1]
        assert waiting["status"] == "Queued"
        assert waiting["statusDescription"].startswith("Paused until ")
        assert connector("resume").returncode == 0
        assert connector("run", "--headless", "--until-idle", "2").returncode == 0
        assert company.datasets("suppliers")[-1]["status"] == "Complete"

        doctor = connector("doctor")
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        bundle = tmp_path / "support.zip"
        assert connector("diagnostics", "--output", str(bundle)).returncode == 0
        assert connector("window", "25:00-26:00").returncode == 2  # a usage error, in words

        # The refresh token, and the access token kept beside it for every process on the PC.
        kept = subprocess.run(
            [
                sys.executable,
                "-c",
                "import json, keyring, sys\n"
                "refresh = keyring.get_password('Connector', sys.argv[1])\n"
                "access = json.loads(keyring.get_password('Connector', sys.argv[1] + ' access'))\n"
                "print(refresh, access['accessToken'])",
                link["connection_id"],
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        token, access_token = kept
        assert len(token) > 20 and len(access_token) > 20

    secrets = [token.encode(), access_token.encode(), link_code.encode()]
    for path in home.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in secrets:
                assert secret not in content, f"a credential leaked into {path}"
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert any(name.startswith("logs/") for name in names)
        for name in names:
            for secret in secrets:
                assert secret not in archive.read(name), f"a credential leaked into {name}"
