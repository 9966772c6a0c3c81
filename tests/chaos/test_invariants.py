"""The invariants catch what they say they catch, and pass what is fine; the plan is the same
for the same seed; a book's timeline says which versions a read may have met."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.chaos import invariants
from tests.chaos.books import BookVersions, Installed, LiveBook, engine_view
from tests.chaos.evidence import AgentRun, Evidence
from tests.chaos.processes import CliResult, Exit, Sample
from tests.chaos.schedule import PROFILES, plan_episode
from tests.support.gnucash_engine import requires_gnucash

HAPPY = ["Queued", "Fetching", "Mapping", "Validating", "Processing", "Complete"]
T0 = "2026-12-07T10:00:00."


def op(dataset_id: str, statuses: list[str], data_type: str = "customers") -> dict[str, Any]:
    return {
        "id": dataset_id,
        "dataType": data_type,
        "status": statuses[-1],
        "statusHistory": [
            {"status": s, "timestamp": f"{T0}{n:06d}Z"} for n, s in enumerate(statuses)
        ],
    }


def run(dataset_id: str, statuses: list[str], *, error: str | None = None) -> AgentRun:
    return AgentRun(
        dataset_id=dataset_id,
        data_type="customers",
        status=statuses[-1],
        finished=True,
        error=error,
        states=tuple((s, f"{T0}{n:06d}Z", None) for n, s in enumerate(statuses)),
    )


class _NoVersions(BookVersions):
    """For the checks that never read a version: any use is a mistake in the test."""

    def __init__(self) -> None:
        super().__init__(Path("/nonexistent"), "sqlite", 1)

    def digest(self, version: int) -> str:
        return f"digest-{version}"


@pytest.fixture
def evidence(tmp_path: Path) -> Evidence:
    plan = plan_episode(1, 1, PROFILES["short"], postgres_available=False)
    book = LiveBook(tmp_path / "book.gnucash", _NoVersions())
    book.timeline.append(Installed(0, 0.0, 0.0, in_place=False))
    found = Evidence(plan, tmp_path, book, connection_status="Linked")
    found.book_digest_after = "digest-0"
    found.samples = [Sample(rss_kib=60 * 1024, threads=5)]
    return found


def test_a_clean_episode_has_no_violations(evidence: Evidence) -> None:
    evidence.history = [op("d1", HAPPY)]
    evidence.agent_runs = {"d1": run("d1", HAPPY[1:])}
    evidence.records = {"customers": [{"id": "a"}, {"id": "b"}]}
    for name, (_what, rule) in invariants.INVARIANTS.items():
        if name != "data-matches-book":  # needs the engine: tested on its own below
            assert rule(evidence) == [], name


def test_a_dataset_left_running_is_not_terminal(evidence: Evidence) -> None:
    evidence.history = [op("d1", ["Queued", "Fetching"])]
    assert len(invariants.terminal(evidence)) == 1


def test_an_illegal_move_and_a_history_out_of_order_are_caught(evidence: Evidence) -> None:
    skipped = op("d1", ["Queued", "Fetching", "Processing", "Complete"])
    backwards = op("d2", HAPPY)
    backwards["statusHistory"][2]["timestamp"] = f"{T0}000000Z"
    evidence.history = [skipped, backwards]
    found = invariants.history_legal(evidence)
    assert any("Fetching -> Processing" in f for f in found)
    assert any("out of time order" in f for f in found)


def test_a_transition_the_cloud_lost_or_holds_twice_is_caught(evidence: Evidence) -> None:
    evidence.history = [
        op("lost", ["Queued", "Fetching", "Mapping", "Validating", "Processing"]),
        op("twice", ["Queued", "Fetching", "Fetching", "Mapping"]),
    ]
    evidence.agent_runs = {
        "lost": run("lost", HAPPY[1:]),
        "twice": run("twice", ["Fetching", "Mapping"]),
    }
    found = invariants.transitions_match(evidence)
    assert any("(lost: [Complete])" in f for f in found)
    assert any("Fetching is in the cloud's history 2 times" in f for f in found)


def test_an_attempt_taken_back_then_run_again_matches(evidence: Evidence) -> None:
    # The cloud took the first attempt back at Mapping; the agent's late Validating was refused
    # (and dropped); the dataset was handed out again and ran to the end.
    evidence.history = [op("d1", ["Queued", "Fetching", "Mapping", *HAPPY])]
    evidence.agent_runs = {"d1": run("d1", ["Fetching", "Mapping", "Validating", *HAPPY])}
    assert invariants.transitions_match(evidence) == []


def test_an_ending_the_cloud_made_itself_is_not_the_agents(evidence: Evidence) -> None:
    refused = "The cloud refused the status update (409: ...)"
    evidence.history = [op("d1", ["Queued", "Fetching", "Queued", "InternalError"])]
    evidence.agent_runs = {"d1": run("d1", ["Fetching", "Mapping"], error=refused)}
    assert invariants.transitions_match(evidence) == []


def test_reports_never_acknowledged_are_lost(evidence: Evidence) -> None:
    evidence.outbox_left = 3
    assert invariants.transitions_match(evidence) == ["3 reports or pages were never acknowledged"]


def test_every_sign_of_lost_authorization_is_caught(evidence: Evidence) -> None:
    evidence.history = [op("d1", ["Queued", "AuthError"])]
    evidence.agent_log = (
        "... ERROR connector-link-0 agent.runtime.link_worker: c1: authorization lost: x\n"
    )
    evidence.agent_exits = [Exit(0.0, 3, "Connector needs to be re-authorized")]
    evidence.cli_results = [
        CliResult(0.0, "status --json", 0, '"error": "Connector needs to be re-authorized: x"'),
        CliResult(0.0, "sync", 0, "queued customers"),
    ]
    evidence.connection_status = "Deauthorized"
    found = invariants.no_false_auth_error(evidence)
    assert len(found) == 5, found
    assert any("1 of 2 CLI commands" in f for f in found)


def test_an_id_served_twice_is_a_duplicate(evidence: Evidence) -> None:
    evidence.records = {"customers": [{"id": "a"}, {"id": "b"}, {"id": "a"}], "bills": []}
    assert invariants.no_duplicate_records(evidence) == [
        "customers: ids served more than once: ['a']"
    ]


def test_a_book_whose_bytes_changed_is_caught(evidence: Evidence) -> None:
    evidence.book_digest_after = "something else"
    assert len(invariants.book_untouched(evidence)) == 1


def test_memory_or_threads_past_their_ceiling_are_caught(evidence: Evidence) -> None:
    evidence.samples = [Sample(300 * 1024, 5), Sample(60 * 1024, 40)]
    assert len(invariants.resources_bounded(evidence)) == 2


def test_an_exit_nobody_asked_for_is_caught_once(evidence: Evidence) -> None:
    evidence.agent_exits = [Exit(0.0, 1, "Traceback ..."), Exit(0.0, 3, "re-authorize")]
    evidence.cloud_exits = [Exit(0.0, -9, "")]
    assert len(invariants.processes_alive(evidence)) == 2  # exit 3 is the auth check's


def test_a_read_may_meet_every_version_standing_during_it(tmp_path: Path) -> None:
    book = LiveBook(tmp_path / "book", _NoVersions())
    book.timeline = [
        Installed(0, 0.0, 0.0, in_place=False),
        Installed(1, 10.0, 10.0, in_place=False),
        Installed(2, 20.0, 21.0, in_place=True),  # torn between 20 and 21
    ]
    assert book.standing_between(1.0, 9.0) == {0}
    assert book.standing_between(9.0, 11.0) == {0, 1}
    assert book.standing_between(20.5, 20.6) == {1, 2}
    assert book.standing_between(22.0, 30.0) == {2}


@requires_gnucash
def test_served_data_must_match_a_version_standing_while_it_was_read(tmp_path: Path) -> None:
    versions = BookVersions(tmp_path / "versions", "sqlite", 2)
    book = LiveBook(tmp_path / "book.gnucash", versions)
    book.timeline = [Installed(0, 0.0, 0.0, in_place=False)]
    plan = plan_episode(1, 1, PROFILES["short"], postgres_available=False)
    evidence = Evidence(plan, tmp_path, book)
    served = _served_customers(engine_view("customers", versions.truth(0)))
    evidence.records = {"customers": served}
    evidence.history = [op("d1", HAPPY)]
    assert invariants.data_matches_book(evidence) == []

    # The same data, but the book was version 1 for the whole of the read.
    book.timeline = [Installed(1, 0.0, 0.0, in_place=False)]
    found = invariants.data_matches_book(evidence)
    assert len(found) == 1 and "Chaos Customer 1" in found[0], found

    # A customer the cloud serves flagged deleted is not compared.
    gone = {"id": "x", "customerName": "Gone Ltd", "status": "Active"}
    evidence.records = {"customers": [*served, {**gone, "metadata": {"isDeleted": True}}]}
    book.timeline = [Installed(0, 0.0, 0.0, in_place=False)]
    assert invariants.data_matches_book(evidence) == []


def test_the_same_seed_plans_the_same_episode() -> None:
    profile = PROFILES["default"]
    first = plan_episode(1234, 3, profile, postgres_available=True)
    assert first == plan_episode(1234, 3, profile, postgres_available=True)
    assert first != plan_episode(1234, 4, profile, postgres_available=True)
    # Without PostgreSQL only the database differs: the rest of the plan replays the same.
    without = plan_episode(1234, 3, profile, postgres_available=False)
    assert dataclasses.replace(without, database=first.database) == first


def _served_customers(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": guid,
            "customerName": name,
            "status": "Active" if active else "Archived",
            "metadata": {"isDeleted": False},
        }
        for guid, (name, active) in view.items()
    ]


def _version_1_from_150(tmp_path: Path) -> tuple[BookVersions, Evidence]:
    """Two versions of the sample book, version 0 standing until 150 s, version 1 from then."""
    versions = BookVersions(tmp_path / "versions", "sqlite", 2)
    book = LiveBook(tmp_path / "book.gnucash", versions)
    book.timeline = [
        Installed(0, 0.0, 0.0, in_place=False),
        Installed(1, 150.0, 150.0, in_place=False),
    ]
    plan = plan_episode(1, 1, PROFILES["short"], postgres_available=False)
    return versions, Evidence(plan, tmp_path, book)


@requires_gnucash
def test_only_the_last_attempt_of_a_dataset_handed_out_again_counts(tmp_path: Path) -> None:
    versions, evidence = _version_1_from_150(tmp_path)
    evidence.records = {"customers": _served_customers(engine_view("customers", versions.truth(1)))}
    evidence.history = [op("d1", HAPPY)]
    # The first attempt read version 0 and was taken back; the second read version 1.
    attempts: list[tuple[str, float]] = [("Fetching", 100), ("Mapping", 101)]
    attempts += [("Validating", 102), ("Queued", 200)]
    attempts += [(s, 201 + n) for n, s in enumerate(HAPPY[1:])]
    evidence.agent_runs = {"d1": _completed_run("d1", attempts)}
    assert invariants.data_matches_book(evidence) == []


def _completed_run(dataset_id: str, steps: list[tuple[str, float]]) -> AgentRun:
    """A customers run the agent finished Complete, its timeline at the given epoch seconds."""
    timeline = tuple((status, _iso(at), None) for status, at in steps)
    return AgentRun(dataset_id, "customers", "Complete", True, None, timeline)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@requires_gnucash
def test_a_resumed_run_is_judged_by_any_read_before_its_upload(
    tmp_path: Path,
) -> None:
    """Seen in a chaos episode: the agent read version 0 up to Validating, was put to sleep
    and killed, the book became version 1, and the restarted agent read the book again before
    it staged version 1's records (its timeline showing no second Fetching)."""
    versions, evidence = _version_1_from_150(tmp_path)
    evidence.history = [op("d1", HAPPY)]

    def served(version: int, processing_at: float) -> list[str]:
        view = engine_view("customers", versions.truth(version))
        evidence.records = {"customers": _served_customers(view)}
        steps: list[tuple[str, float]] = [("Fetching", 100), ("Mapping", 101)]
        steps += [("Validating", 102), ("Processing", processing_at)]
        steps += [("Complete", processing_at + 1)]
        evidence.agent_runs = {"d1": _completed_run("d1", steps)}
        return invariants.data_matches_book(evidence)

    assert served(1, processing_at=200) == []  # resumed after version 1 stood: read again
    assert served(0, processing_at=200) == []  # or staged before the kill: version 0
    assert served(1, processing_at=149.5) == []  # restarted in Processing, read before staging
    found = served(1, processing_at=103)  # completed before version 1 existed: wrong
    assert len(found) == 1 and "Chaos Customer 1" in found[0], found
