"""The Linux package's installed size (target: at most 150 MB) and the frozen app's cold start:
to ``--version``, and to the tray icon in the notification area under Xvfb with trayer (target:
at most 2 s).

    .venv/bin/python benchmarks/installer_size.py [--deb dist/connector_X_amd64.deb] [--runs 5]

Without ``--deb`` it builds one (PyInstaller, then installer/linux/build_deb.sh) in a temporary
folder and reports how long that took. The tray figure needs Xvfb, trayer and xwininfo.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from installer.build_package import build_package  # noqa: E402

LIMIT_MB = 150.0
TRAY_LIMIT_S = 2.0


def build(work: Path) -> tuple[Path, float]:
    started = time.monotonic()
    deb = build_package(work)
    return deb, time.monotonic() - started


def tree_bytes(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def frozen_env(**extra: str) -> dict[str, str]:
    drop = {"PYTHON_KEYRING_BACKEND", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


def drop_caches() -> bool:
    """Empty the page cache for a truly cold start; only root can, and only on a real host."""
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def version_start(executable: Path, runs: int) -> tuple[float | None, list[float]]:
    cold = None
    if drop_caches():
        started = time.perf_counter()
        subprocess.run(
            [str(executable), "--version"], check=True, capture_output=True, env=frozen_env()
        )
        cold = time.perf_counter() - started
    warm = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [str(executable), "--version"], check=True, capture_output=True, env=frozen_env()
        )
        warm.append(time.perf_counter() - started)
    return cold, warm


def tray_start(executable: Path, work: Path, runs: int) -> list[float] | None:
    if not all(shutil.which(c) for c in ("Xvfb", "trayer", "xwininfo")):
        return None
    from tests.support.xdisplay import TRAY_FOUND, XDisplay

    times = []
    with XDisplay(work / "x") as display:
        for run in range(runs):
            home = work / f"home-{run}"
            log = home / "logs" / "connector.log"
            drop_caches()
            started = time.perf_counter()
            app = subprocess.Popen(
                [str(executable)],
                env=frozen_env(**display.env, CONNECTOR_HOME=str(home)),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                deadline = started + 30
                while not (log.is_file() and TRAY_FOUND in log.read_text()):
                    if time.perf_counter() > deadline:
                        raise TimeoutError("the tray icon never showed")
                    time.sleep(0.01)
                times.append(time.perf_counter() - started)
            finally:
                app.terminate()
                app.wait(timeout=30)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deb", type=Path, help="a built package; default: build one")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        deb, build_s = (args.deb, None) if args.deb else build(work)
        root = work / "root"
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        executable = root / "opt" / "connector" / "connector"
        size_mb = tree_bytes(root) / 1e6
        deb_mb = deb.stat().st_size / 1e6
        print(f"package:          {deb.name}, {deb_mb:.1f} MB download")
        if build_s is not None:
            print(f"build:            {build_s:.1f} s (PyInstaller + dpkg-deb)")
        verdict = "OK" if size_mb <= LIMIT_MB else "OVER"
        print(f"installed size:   {size_mb:.1f} MB (target <= {LIMIT_MB:.0f} MB: {verdict})")
        cold, warm = version_start(executable, args.runs)
        if cold is not None:
            print(f"--version cold:   {cold:.2f} s (page cache dropped)")
        print(f"--version warm:   median {statistics.median(warm):.2f} s over {len(warm)} runs")
        tray = tray_start(executable, work, args.runs)
        if tray is None:
            print("tray cold start:  skipped (needs Xvfb, trayer, xwininfo)")
        else:
            median = statistics.median(tray)
            verdict = "OK" if median <= TRAY_LIMIT_S else "OVER"
            print(
                f"tray icon shown:  median {median:.2f} s, first {tray[0]:.2f} s over {len(tray)} "
                f"runs (target <= {TRAY_LIMIT_S:.0f} s: {verdict})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
