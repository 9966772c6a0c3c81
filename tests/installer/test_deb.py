"""The Linux package as a user gets it: built from installer/connector.spec and
installer/linux/build_deb.sh, unpacked, and the frozen ``connector`` run with no Python of ours
around it: the version, the self-test, a full headless link and sync against the reference cloud,
and the tray icon docking under Xvfb with trayer. ``-m 'not installer'`` deselects these."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cloud.local import LocalCloud
from protocol.version import __version__
from tests.agent.runtime_harness import book_copy, new_company
from tests.support.installed_package import InstalledPackage, frozen_env
from tests.support.keyring_session import KeyringSession
from tests.support.processes import stop_process
from tests.support.xdisplay import XDisplay

pytestmark = pytest.mark.installer

INSTALLED_SIZE_LIMIT = 150 * 1024 * 1024


def _tree_size(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def test_the_package_puts_everything_in_place(installed_package: InstalledPackage) -> None:
    root = installed_package.root
    fields = subprocess.run(
        ["dpkg-deb", "-f", str(installed_package.deb), "Package", "Version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Package: connector" in fields
    assert f"Version: {__version__}" in fields
    assert installed_package.executable.is_file()
    assert str((root / "usr" / "bin" / "connector").readlink()) == "/opt/connector/connector"
    desktop = (root / "usr/share/applications/connector.desktop").read_text()
    assert "Exec=/usr/bin/connector" in desktop and "Icon=connector" in desktop
    assert (root / "usr/share/icons/hicolor/scalable/apps/connector.svg").is_file()
    assert (root / "usr/share/connector/connector-autostart.desktop").is_file()
    copyright_text = (root / "usr/share/doc/connector/copyright").read_text()
    assert "Apache License" in copyright_text and "Version 2.0" in copyright_text
    internal = root / "opt" / "connector" / "_internal"
    assert sorted(p.name for p in (internal / "resources" / "icons").iterdir()) == sorted(
        p.name for p in (Path(__file__).resolve().parents[2] / "resources" / "icons").iterdir()
    )
    plugins = internal / "PySide6" / "Qt" / "plugins"
    assert sorted(str(p.relative_to(plugins)) for p in plugins.rglob("*.so")) == [
        "iconengines/libqsvgicon.so",
        "imageformats/libqsvg.so",
        "platforms/libqminimal.so",
        "platforms/libqoffscreen.so",
        "platforms/libqxcb.so",
        "xcbglintegrations/libqxcb-egl-integration.so",
        "xcbglintegrations/libqxcb-glx-integration.so",
    ]
    # The reference cloud and its web stack stay out of the end user's bundle.
    assert not any((internal / name).exists() for name in ("cloud", "fastapi", "sqlalchemy"))
    assert not [p for p in internal.rglob("*") if p.is_symlink() and not p.exists()]
    assert _tree_size(root) <= INSTALLED_SIZE_LIMIT


def test_removing_the_package_says_where_the_data_stays(
    installed_package: InstalledPackage, tmp_path: Path
) -> None:
    control = tmp_path / "DEBIAN"
    subprocess.run(["dpkg-deb", "-e", str(installed_package.deb), str(control)], check=True)
    removed = subprocess.run(
        ["sh", str(control / "postrm"), "remove"], capture_output=True, text=True, check=True
    )
    for where in (
        "~/.config/Connector",
        "~/.local/share/Connector",
        "~/.local/state/Connector/log",
    ):
        assert where in removed.stdout


def test_the_frozen_app_links_and_syncs_to_complete(
    installed_package: InstalledPackage, tmp_path: Path
) -> None:
    home = tmp_path / "agent-home"
    with KeyringSession(tmp_path / "user") as keyring, LocalCloud(tmp_path / "cloud") as cloud:
        env = frozen_env(**{**keyring.env, "CONNECTOR_HOME": str(home)})
        env.pop("PYTHON_KEYRING_BACKEND", None)

        def connector(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(installed_package.executable), *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )

        version = connector("--version")
        assert version.returncode == 0, version.stderr
        assert version.stdout.strip() == f"connector {__version__}"

        # A fresh install: the keyring works (keyring found its Secret Service backend in the
        # frozen app), and the one problem is that nothing is linked yet.
        doctor = connector("doctor")
        assert doctor.returncode == 4, doctor.stdout + doctor.stderr
        assert "FAIL  Links - Connector is not linked to any company yet" in doctor.stdout
        assert "FAIL  Credential store" not in doctor.stdout
        assert "1 of" in doctor.stdout

        company = new_company(cloud, "Harbor Lane")
        linked = connector("link", company.link_url, "--book", str(book_copy(tmp_path)))
        assert linked.returncode == 0, linked.stdout + linked.stderr
        ran = connector("run", "--headless", "--until-idle", "2")
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert company.datasets("customers")[-1]["status"] == "Complete"

        status = connector("status", "--json")
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        (link,) = report["links"]
        in_cloud = {d["data_type"]: d["status"] for d in link["cloud"]["data_types"]}
        assert in_cloud["customers"] == "Complete"
        assert connector("doctor").returncode == 0


def test_the_frozen_tray_icon_docks(installed_package: InstalledPackage, tmp_path: Path) -> None:
    home = tmp_path / "agent-home"
    log = home / "logs" / "connector.log"
    with (
        XDisplay(tmp_path / "x") as display,
        KeyringSession(tmp_path / "user") as keyring,
        LocalCloud(tmp_path / "cloud") as cloud,
    ):
        env = frozen_env(**{**keyring.env, **display.env, "CONNECTOR_HOME": str(home)})
        env.pop("PYTHON_KEYRING_BACKEND", None)
        company = new_company(cloud, "Harbor Lane")
        linked = subprocess.run(
            [
                str(installed_package.executable),
                "link",
                company.link_url,
                "--book",
                str(book_copy(tmp_path)),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert linked.returncode == 0, linked.stderr
        before = set(display.embedded_names())
        out = tmp_path / "app.out"
        app = subprocess.Popen(
            [str(installed_package.executable)],
            env=env,
            stdout=out.open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            display.wait_for_icon(log, before, app="the frozen app")
            display.wait_for(
                lambda: company.datasets("customers")[-1]["status"] == "Complete",
                "the first dataset to complete",
                timeout=120,
                evidence=lambda: _what_happened(company.datasets("customers"), log, out),
            )
            assert app.poll() is None, out.read_text()
        finally:
            stop_process(app, grace=30)


def _what_happened(datasets: list[dict[str, Any]], log: Path, out: Path) -> str:
    """The datasets' states, and the ends of the app's log and output: what a timeout shows."""
    states = ", ".join(f"{d['id'][:8]} {d['status']}" for d in datasets) or "none"
    tails = [
        f"--- last lines of {path.name}:\n"
        + "\n".join(path.read_text(errors="replace").splitlines()[-40:])
        for path in (log, out)
        if path.is_file()
    ]
    return "\n".join([f"customers datasets: {states}", *tails])
