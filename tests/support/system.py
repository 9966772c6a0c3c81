"""System packages the suite needs: a missing one skips its tests, except in CI where it fails.

CI (``CI=true``) must run everything, so there a missing package is an error, not a skip.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require(available: bool, package: str, purpose: str, *, source: str = "Debian package") -> None:
    """Skip (or, under CI, fail) the calling test when ``package`` is not installed."""
    if available:
        return
    reason = f"needs {purpose} ({source} {package})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, which CI must have: .ci/run installs it", pytrace=False)
    pytest.skip(reason)


def require_commands(package: str, *commands: str) -> None:
    missing = [command for command in commands if shutil.which(command) is None]
    require(not missing, package, f"the command(s) {', '.join(missing or commands)}")
