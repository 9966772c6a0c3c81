"""The venv is the one requirements/dev.lock describes, and the lock covers pyproject.toml.

``make`` installs with the lock as constraints, so a venv made another way (or from a lock
that changed since) fails here before the suite's results are trusted; a dependency added to
pyproject.toml without ``make lock`` fails too.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "dev.lock"
LOCKED_EXTRAS = ("dev", "installer", "postgres")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def locked_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_the_lock_says_how_it_is_made() -> None:
    header = LOCK.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert "pip-compile" in header
    assert all(f"--extra={extra}" in header for extra in LOCKED_EXTRAS)
    assert "lock:" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_every_locked_distribution_is_installed_at_its_pin() -> None:
    pins = locked_pins()
    assert len(pins) > 50  # the parse found the pins, not a header
    wrong: dict[str, tuple[str, str | None]] = {}
    for name, pinned in pins.items():
        try:
            installed: str | None = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != pinned:
            wrong[name] = (pinned, installed)
    assert wrong == {}, "the venv is not the lock's: make clean && make .venv/.installed"


def test_the_lock_pins_every_requirement_of_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in LOCKED_EXTRAS:
        requirements += project["optional-dependencies"][extra]
    pins = locked_pins()
    unpinned = [r for r in requirements if canonicalize_name(Requirement(r).name) not in pins]
    assert unpinned == [], "pyproject.toml changed since the lock: run make lock"
    outside_floor = [
        r
        for r in requirements
        if not Requirement(r).specifier.contains(pins[canonicalize_name(Requirement(r).name)])
    ]
    assert outside_floor == []
