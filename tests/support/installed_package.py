"""The Linux package as a test sees it: the .deb, the root it was unpacked into, and the
environment a user's session gives the frozen app."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class InstalledPackage:
    deb: Path
    root: Path  # the unpacked package: root/opt/connector, root/usr/...
    build_seconds: float

    @property
    def executable(self) -> Path:
        return self.root / "opt" / "connector" / "connector"


def frozen_env(**extra: str) -> dict[str, str]:
    """The environment a user's session would give the frozen app: none of the test run's
    Python settings (the frozen app has its own Python and cannot import the tests' keyring)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHON_KEYRING_BACKEND", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    return {**env, **extra}
