"""The real GnuCash engine, for tests: is it here, and what does it say a book holds?

The engine's Python bindings only load in Debian's own interpreter, so tests (which run in the
project's venv) reach it through a subprocess running ``tests/support/gnucash_oracle.py``.
"""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support.system import require

ENGINE_PYTHON = "/usr/bin/python3"
ORACLE = Path(__file__).resolve().parent / "gnucash_oracle.py"

F = TypeVar("F", bound=Callable[..., Any])


@functools.cache
def engine_available() -> bool:
    """True when Debian's interpreter can import the GnuCash bindings."""
    try:
        subprocess.run(
            [ENGINE_PYTHON, "-c", "import gnucash"],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def require_gnucash() -> None:
    """Skip the running test when the engine is missing; on CI (``CI=true``) fail instead."""
    require(engine_available(), "python3-gnucash", "the GnuCash engine")


def requires_gnucash(test: F) -> F:
    """Decorate a test that needs the engine: see :func:`require_gnucash`."""

    @functools.wraps(test)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        require_gnucash()
        return test(*args, **kwargs)

    marked: F = pytest.mark.gnucash(guarded)
    return marked


def run_oracle(book_path: Path) -> dict[str, Any]:
    """What the GnuCash engine reads from ``book_path`` (it opens a private copy)."""
    require_gnucash()
    done = subprocess.run(
        [ENGINE_PYTHON, str(ORACLE), str(book_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"the GnuCash oracle failed on {book_path}:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result
