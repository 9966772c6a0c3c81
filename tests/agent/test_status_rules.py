"""The rules behind the one status snapshot: each link's verdict, the agent's, and their words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.cloud_api.cloud_view import (
    CloudView,
    DataTypeInCloud,
    UnreadableStatus,
    read_cloud_status,
)
from agent.runtime.local_state import LocalState
from agent.status.link_status import LinkStatus, RecentRun, assess_link, summarize
from agent.status.status_rules import STUCK_AFTER, Condition, LatestResult, when
from agent.support.config import Link
from protocol.states import DatasetStatus as S
from tests.agent.status_answers import status_answer

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LINKED = NOW - timedelta(hours=1)
LINK = Link("https://cloud.example", "co", "Acme Ltd", "conn", "/books/acme.gnucash", "")
RELINKED = Link(
    "https://cloud.example", "co", "Acme Ltd", "conn", "/books/acme.gnucash", LINKED.isoformat()
)


def assessed(activity: str = "idle", link: Link = RELINKED, **kwargs: object) -> LinkStatus:
    return assess_link(link, activity=activity, **kwargs)  # type: ignore[arg-type]


def overall(*links: LinkStatus, paused_until: datetime | None = None) -> Condition:
    return summarize(
        links, running=True, paused_until=paused_until, pause_reason=None, now=NOW
    ).condition


def cloud(*entries: DataTypeInCloud, status: str = "Linked", at: datetime = NOW) -> CloudView:
    return CloudView(status, at, entries)


def in_cloud(data_type: str, status: S | None, requested: datetime | None) -> DataTypeInCloud:
    return DataTypeInCloud(data_type, status, None, "ds", requested)


def ran(updated: datetime) -> RecentRun:
    return RecentRun("ds-0", "invoices", S.COMPLETE, True, None, updated, ())


def test_no_links_is_not_linked() -> None:
    status = summarize((), running=True, paused_until=None, pause_reason=None, now=NOW)
    assert status.condition == Condition.NOT_LINKED
    assert status.headline == "Not linked to a company yet"


def test_the_worst_link_decides() -> None:
    failed = assessed(results=[LatestResult("customers", S.FETCH_ERROR, "Locked")])
    assert failed.condition == Condition.ERROR
    assert (
        overall(assessed("needs_reauthorization"), failed, assessed("offline"))
        == Condition.NEEDS_REAUTHORIZATION
    )
    assert overall(failed, assessed("offline"), assessed("not_running")) == Condition.ERROR
    assert overall(assessed("not_running"), assessed("offline")) == Condition.NOT_RUNNING
    assert overall(assessed("offline"), assessed("syncing", syncing="x")) == Condition.OFFLINE
    assert overall(assessed("syncing", syncing="x"), assessed("paused")) == Condition.SYNCING
    assert overall(assessed("paused"), assessed()) == Condition.PAUSED
    assert overall(assessed()) == Condition.IDLE


def test_a_stopped_link_is_an_error_that_says_why() -> None:
    stopped = assessed("stopped", stop_reason="The credential is missing from the keyring.")
    assert stopped.condition == Condition.ERROR
    assert stopped.summary == "stopped"
    assert [p.message for p in stopped.problems] == [
        "Syncing stopped: The credential is missing from the keyring."
    ]


def test_a_pause_shows_unless_a_sync_is_still_finishing_and_a_lapsed_one_is_none() -> None:
    forever = datetime.max.replace(tzinfo=UTC)
    paused = summarize(
        [assessed("paused", user_paused=True)],
        running=True,
        paused_until=forever,
        pause_reason="Paused",
        now=NOW,
    )
    assert paused.condition == Condition.PAUSED
    assert paused.pause_line == paused.headline == "Paused until you resume"
    assert paused.pause_note is None  # said once
    assert paused.links[0].summary == "paused"
    finishing = assessed("syncing", syncing="invoices")
    assert overall(finishing, paused_until=forever) == Condition.SYNCING
    lapsed = summarize(
        [assessed()],
        running=True,
        paused_until=NOW - timedelta(minutes=1),
        pause_reason=None,
        now=NOW,
    )
    assert lapsed.condition == Condition.IDLE
    assert lapsed.pause_line is None
    assert assessed("paused").summary == "waiting for its sync window"


def test_a_later_success_clears_an_earlier_error_of_its_type_only(tmp_path: Path) -> None:
    state = LocalState(tmp_path / "state.db")
    for dataset_id, data_type, status, error in (
        ("d1", "customers", S.FETCH_ERROR, "The book is locked."),
        ("d2", "invoices", S.MAP_ERROR, "Invoice 7 has no customer."),
        ("d3", "customers", S.COMPLETE, None),
        ("d4", "suppliers", S.COMPLETE, None),
        ("d5", "suppliers", S.VALIDATION_ERROR, "Two suppliers have the id 9."),
        ("d6", "invoices", S.FETCHING, None),  # running again: the error stands until it ends
    ):
        state.start_run(dataset_id, "conn", data_type, 60)
        finished = status != S.FETCHING
        state.enter(dataset_id, "conn", status, [], finished=finished, error=error)
    results = [
        LatestResult(run.data_type, S(run.status), run.error)
        for run in state.latest_finished_runs("conn")
    ]
    link = assessed(results=results)
    assert [p.message for p in link.problems] == [
        "Invoices did not sync: Invoice 7 has no customer.",
        "Suppliers did not sync: Two suppliers have the id 9.",
    ]
    assert link.condition == Condition.ERROR
    assert link.summary == "invoices did not sync; suppliers did not sync"
    state.start_run("d7", "conn", "suppliers", 60)
    state.enter("d7", "conn", S.COMPLETE, [], finished=True)
    results = [
        LatestResult(run.data_type, S(run.status), run.error)
        for run in state.latest_finished_runs("conn")
    ]
    assert [p.data_type for p in assessed(results=results).problems] == ["invoices"]


def test_not_supported_is_not_a_problem() -> None:
    link = assessed(results=[LatestResult("projects", S.NOT_SUPPORTED, "GnuCash has none.")])
    assert link.condition == Condition.IDLE


def test_cloud_auth_errors_count_unless_a_reauthorization_came_after_them() -> None:
    after = in_cloud("customers", S.AUTH_ERROR, LINKED + timedelta(minutes=5))
    before = in_cloud("invoices", S.AUTH_ERROR, LINKED - timedelta(minutes=5))
    link = assessed(cloud=cloud(after, before))
    assert link.condition == Condition.ERROR
    assert [p.data_type for p in link.problems] == ["customers"]
    assert link.summary == "customers did not sync"
    # Re-authorized after both: neither counts any more.
    relinked = Link(
        LINK.cloud_url,
        "co",
        "Acme Ltd",
        "conn",
        LINK.book_path,
        (NOW - timedelta(minutes=1)).isoformat(),
    )
    assert assessed(link=relinked, cloud=cloud(after, before)).condition == Condition.IDLE
    # A PC's own word on a data type is better than the cloud's echo of it.
    here = assessed(
        cloud=cloud(after), results=[LatestResult("customers", S.AUTH_ERROR, "Access denied.")]
    )
    assert [p.message for p in here.problems] == ["Customers did not sync: Access denied."]


def test_a_connection_the_cloud_deauthorized_needs_reauthorization() -> None:
    link = assessed(cloud=cloud(status="Deauthorized"))
    assert link.condition == Condition.NEEDS_REAUTHORIZATION
    assert link.summary == "needs re-authorization"


def test_a_dataset_stuck_in_queued_counts_only_while_the_agent_takes_work_and_idles() -> None:
    old = in_cloud("customers", S.QUEUED, NOW - STUCK_AFTER - timedelta(seconds=1))
    stuck = assessed(cloud=cloud(old))
    assert stuck.condition == Condition.ERROR
    assert stuck.summary == "customers stuck in the cloud"
    assert "The customers sync has been waiting in the cloud since" in stuck.problems[0].message
    young = in_cloud("customers", S.QUEUED, NOW - STUCK_AFTER + timedelta(seconds=5))
    assert assessed(cloud=cloud(young)).condition == Condition.IDLE
    # Waiting its turn behind datasets this PC ran a moment ago is not stuck.
    busy = assessed(cloud=cloud(old), recent=(ran(NOW - timedelta(seconds=30)),))
    assert busy.condition == Condition.IDLE
    quiet = assessed(cloud=cloud(old), recent=(ran(NOW - STUCK_AFTER),))
    assert quiet.condition == Condition.ERROR
    assert assessed("paused", cloud=cloud(old)).condition == Condition.PAUSED
    assert assessed("not_running", cloud=cloud(old)).problems == ()
    assert assessed("syncing", syncing="x", cloud=cloud(old)).condition == Condition.SYNCING


SYNC_ID = "2b1e8c52-9d7f-4e0a-8f3c-6d2a1b0c9e7f"


def test_the_cloud_answer_is_read_into_typed_values_on_this_pcs_clock() -> None:
    answer = status_answer(
        {
            "invoices": {"dataType": "invoices"},
            "customers": {
                "dataType": "customers",
                "currentStatus": "Queued",
                "lastSuccessfulSync": "2026-03-02T11:00:00Z",
                "latestSyncId": SYNC_ID,
            },
        },
        requested={"customers": "2026-03-02T11:55:00Z"},
        # The cloud's clock is ten minutes behind this PC's.
        serverTime="2026-03-02T11:50:00Z",
    )
    view = read_cloud_status(answer, NOW)
    customers, invoices = view.data_types
    assert customers == DataTypeInCloud(
        "customers",
        S.QUEUED,
        datetime(2026, 3, 2, 11, 10, tzinfo=UTC),
        SYNC_ID,
        datetime(2026, 3, 2, 12, 5, tzinfo=UTC),
    )
    assert invoices == DataTypeInCloud("invoices", None, None, None, None)
    assert view.last_successful_sync == datetime(2026, 3, 2, 11, 10, tzinfo=UTC)
    with pytest.raises(UnreadableStatus):
        read_cloud_status(status_answer({"x": {"dataType": "x", "currentStatus": "Sleeping"}}), NOW)


def test_plain_words() -> None:
    assert when(None, NOW) == "never"
    assert when(NOW - timedelta(seconds=5), NOW) == "just now"
    assert when(NOW - timedelta(minutes=12), NOW) == "12 min ago"
    assert assessed("syncing", syncing="customers").line == "Acme Ltd: syncing customers"
    failed = [LatestResult(t, S.FETCH_ERROR, "x") for t in ("a", "b", "c")]
    assert assessed(results=failed).summary == "3 data types need attention"
    assert assessed("offline").summary == "offline: cannot reach the cloud"
    chart = [LatestResult("chartOfAccounts", S.MAP_ERROR, "Account 9 has no type.")]
    assert assessed(results=chart).summary == "chart of accounts did not sync"
    assert assessed(results=chart).problems[0].message == (
        "Chart of accounts did not sync: Account 9 has no type."
    )
