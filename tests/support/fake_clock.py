"""A clock that tests move by hand, for the cloud's leases and expiries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Time that tests move by hand; each reading is a microsecond later than the last, so
    events keep their order as they would in real time."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(microseconds=1)
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)
