"""The outbox against a real cloud that took a dataset back while its pages waited to go."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.tokens import TokenKeeper
from agent.runtime.backoff import ErrorStreak
from agent.runtime.dataset_moves import DatasetMoves
from agent.runtime.local_state import LocalState
from agent.runtime.outbox import OutboxSender
from agent.runtime.outbox_entries import PageEntry
from cloud.local import LocalCloud
from protocol.agent_requests import TransitionReport
from protocol.clock import utc_now
from protocol.states import DatasetStatus
from tests.agent.runtime_harness import Company, new_company
from tests.support.memory_keyring import memory_store

S = DatasetStatus


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    with LocalCloud(
        tmp_path / "cloud", extra_args=("--lease-seconds", "1", "--sweep-seconds", "0.2")
    ) as local:
        yield local


def test_a_page_the_cloud_no_longer_takes_drops_the_attempt_without_failing_it(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    """The agent was killed after its Processing report and before its pages, and came back
    after its lease lapsed: the cloud took the dataset back, and refuses the pages (409). That
    attempt is over, as for a refused report; it did not fail, so the agent must not enter
    ProcessingError nor report it (found by the chaos suite: the local timeline showed a
    failure the cloud never had)."""
    company = new_company(cloud, "Harbor Lane")
    with CloudClient(cloud.url) as anonymous:
        grant = anonymous.link(company.link_url.rsplit("/", 1)[1], ["customers"])
    keeper = TokenKeeper(grant.connection_id, memory_store(), first_grant=grant.tokens)
    state = LocalState(tmp_path / "state.db")
    with CloudClient(cloud.url, keeper) as client:
        dataset = client.poll(0)
        assert dataset is not None
        for status in (S.FETCHING, S.MAPPING, S.VALIDATING, S.PROCESSING):
            client.report(dataset.dataset_id, TransitionReport(status=status, timestamp=utc_now()))
        _wait_until_taken_back(company)

        page = tmp_path / "page-00000.json"
        page.write_text('[{"id": "c1", "customerName": "A", "status": "Active"}]')
        state.start_run(dataset.dataset_id, grant.connection_id, "customers", 1.0)
        # Where the killed agent stood: in Processing (its report acknowledged), pages staged.
        state.enter(dataset.dataset_id, grant.connection_id, S.PROCESSING, [])
        moves = DatasetMoves(state, grant.connection_id)
        complete = moves.report(S.COMPLETE, chunks=1, recordCount=1)
        moves.stage(dataset.dataset_id, [PageEntry(page=0, file=str(page))], complete)
        streak = ErrorStreak(grant.connection_id, lambda _event: None)
        OutboxSender(state, client, grant.connection_id, streak, threading.Event()).drain()

    entered = [status for status, _at, _error in state.timeline(dataset.dataset_id)]
    assert S.PROCESSING_ERROR not in entered
    assert state.pending() == 0
    run = state.get_run(dataset.dataset_id)
    # Dropped quietly: over, marked so, and no error for the user to see.
    assert run is not None and run.finished and run.dropped and run.error is None
    history = company.datasets("customers")[0]
    assert history["status"] == "Queued"  # waiting to be handed out again, not failed


def _wait_until_taken_back(company: Company, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while company.datasets("customers")[0]["status"] != "Queued":
        if time.monotonic() > deadline:
            raise AssertionError(f"the cloud did not take the dataset back in {timeout} s")
        time.sleep(0.2)
