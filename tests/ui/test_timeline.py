from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.ui.fake_connector import dataset
from ui.link_input import link_url_from
from ui.timeline import duration_text, progress, running, steps

START = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def test_each_state_lasts_until_the_next_and_the_running_one_until_now() -> None:
    record = dataset(states=("Queued", "Fetching"), start=START, step_seconds=20)
    timeline = steps(record, START + timedelta(seconds=95))
    assert [(s.status, s.duration, s.running) for s in timeline] == [
        ("Queued", timedelta(seconds=20), False),
        ("Fetching", timedelta(seconds=75), True),
    ]
    assert progress(record) == 12
    done = dataset(states=("Queued", "Complete"), start=START)
    assert steps(done, START)[-1].duration is None
    assert progress(done) is None
    assert running((done, record)) is record


def test_durations_in_plain_words() -> None:
    assert duration_text(None) == ""
    assert duration_text(timedelta(milliseconds=300)) == "under 1 s"
    assert duration_text(timedelta(seconds=59)) == "59 s"
    assert duration_text(timedelta(seconds=120)) == "2 min"
    assert duration_text(timedelta(seconds=3725)) == "1 h 2 min"


def test_a_link_from_a_url_or_a_code() -> None:
    assert link_url_from(" https://c.example/link/AB-CD ", "") == "https://c.example/link/AB-CD"
    assert link_url_from("https://c.example/", "") is None
    assert link_url_from("AB-CD", "https://c.example/") == "https://c.example/link/AB-CD"
    assert link_url_from("AB-CD", "") is None
    assert link_url_from("", "https://c.example") is None
