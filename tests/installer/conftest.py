"""One build of the frozen bundle and the .deb per test run (parallel workers share it),
unpacked into a temporary root.

The package is unpacked with ``dpkg-deb -x`` rather than installed with ``dpkg -i``: CI runs as
root on a machine that later sessions reuse, and an installed package would outlive the run.
Unpacking gives exactly the files ``dpkg -i`` would put down, which is what the tests need; the
maintainer scripts are run by hand where a test cares about them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

from installer.build_package import build_package
from tests.support.installed_package import InstalledPackage
from tests.support.system import require, require_commands


@pytest.fixture(scope="session")
def installed_package(tmp_path_factory: pytest.TempPathFactory) -> InstalledPackage:
    require_commands("dpkg", "dpkg-deb")
    require_commands("binutils", "strip", "objdump")
    pyinstaller = shutil.which("pyinstaller", path=str(Path(sys.executable).parent))
    require(
        pyinstaller is not None,
        "pyinstaller",
        "the bundle builder",
        source="PyPI package (pip install -e '.[installer]')",
    )
    assert pyinstaller is not None
    # One build for the whole run: parallel workers (pytest-xdist) share the run's temporary
    # folder's parent; the first to come builds under the lock, the others wait and reuse it.
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    work = shared / "installer"
    with FileLock(shared / "installer.lock"):
        built = work / "built.json"
        if not built.exists():
            shutil.rmtree(work, ignore_errors=True)  # what a build that failed midway left
            started = time.monotonic()
            deb = build_package(work / "dist", Path(pyinstaller))
            subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "root")], check=True)
            record = {"deb": str(deb), "seconds": time.monotonic() - started}
            built.write_text(json.dumps(record))
        record = json.loads(built.read_text())
    return InstalledPackage(Path(record["deb"]), work / "root", record["seconds"])
