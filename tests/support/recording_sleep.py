"""A stand-in for ``time.sleep`` that returns at once, for code that takes its sleep as a
parameter: the test runs without waiting and reads what would have been waited."""

from __future__ import annotations


class RecordingSleep:
    """A ``sleep`` that returns at once and remembers what it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
