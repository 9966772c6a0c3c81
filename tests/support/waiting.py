"""Waiting for something to become so, instead of sleeping a fixed time and hoping."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 60.0, *, what: str = "the condition") -> T:
    """``check()``'s first truthy result, asked every 50 ms; fails the test if none comes within
    ``timeout`` seconds (generous: a loaded CI machine is slow, and only a failure waits it out)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never held within {timeout} s")
        time.sleep(0.05)
