"""Builds the Linux package: the PyInstaller one-folder bundle, then the .deb from it.

    python installer/build_package.py OUTDIR      (what `make installer` runs)

One function serves `make installer`, the installer tests and the installer benchmark, so the
three always build the same thing. Needs PyInstaller (the `installer` extra), dpkg-deb and
binutils (strip).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_package(out: Path, pyinstaller: Path | None = None) -> Path:
    """Build the bundle into ``out/connector/`` and the .deb beside it; returns the .deb.

    PyInstaller's scratch files go to ``out/.work``.
    """
    pyinstaller = pyinstaller or Path(sys.executable).parent / "pyinstaller"
    subprocess.run(
        [
            str(pyinstaller),
            "--noconfirm",
            "--log-level",
            "WARN",
            "--workpath",
            str(out / ".work"),
            "--distpath",
            str(out),
            str(ROOT / "installer" / "connector.spec"),
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    built = subprocess.run(
        [
            str(ROOT / "installer" / "linux" / "build_deb.sh"),
            str(out / "connector"),
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(built.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTDIR", file=sys.stderr)
        return 2
    print(build_package(Path(argv[1]).resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
