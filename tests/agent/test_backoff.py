"""Backoff while the cloud is away: capped, jittered, Retry-After first, announced once."""

from __future__ import annotations

from agent.errors import CloudUnavailable
from agent.events import CloudReconnected, CloudUnreachable, Event
from agent.runtime.backoff import CAP_SECONDS, ErrorStreak


def test_waits_double_up_to_the_cap_and_reset_after_success() -> None:
    events: list[Event] = []
    streak = ErrorStreak("link", events.append, random_fraction=lambda: 1.0)
    waits = [streak.failed(CloudUnavailable("down")) for _ in range(12)]
    assert waits[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(waits) == CAP_SECONDS
    streak.succeeded()
    assert streak.failed(CloudUnavailable("down again")) == 1.0


def test_jitter_spreads_waits_over_the_upper_half() -> None:
    low = ErrorStreak("link", lambda _e: None, random_fraction=lambda: 0.0)
    for _ in range(3):
        wait = low.failed(CloudUnavailable("down"))
    assert wait == 2.0  # half of 4 s


def test_retry_after_wins() -> None:
    streak = ErrorStreak("link", lambda _e: None, random_fraction=lambda: 1.0)
    assert streak.failed(CloudUnavailable("busy").with_retry_after("7")) == 7.0
    assert streak.failed(CloudUnavailable("busy").with_retry_after("soon")) == 2.0


def test_only_the_first_error_of_a_streak_and_one_reconnected_are_announced() -> None:
    events: list[Event] = []
    streak = ErrorStreak("link", events.append)
    for _ in range(5):
        streak.failed(CloudUnavailable("down"))
    streak.succeeded()
    streak.succeeded()
    assert events == [CloudUnreachable("link", "down"), CloudReconnected("link")]
