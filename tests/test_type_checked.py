"""Every package Connector ships is type-checked strictly by ``make lint`` (and the pre-commit
hook that mirrors it): mypy's ``packages`` in pyproject.toml name them all, the tray app too."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Packages at the root that are not shipped: the suite itself is not type-checked as a package.
NOT_SHIPPED = {"tests"}


def test_mypy_checks_every_shipped_package_strictly() -> None:
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    shipped = {
        init.parent.name
        for init in ROOT.glob("*/__init__.py")
        if init.parent.name not in NOT_SHIPPED
    }
    assert mypy["strict"] is True
    assert shipped == {"agent", "cloud", "connector", "protocol", "ui"}
    assert shipped <= set(mypy["files"]), sorted(shipped - set(mypy["files"]))
