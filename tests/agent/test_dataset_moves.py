"""One owner of a run's local state (agent/runtime/dataset_moves.py), and the outbox that only
sends: every move checked against the state machine, the typed report sent as it was built,
Complete stamped and entered when the cloud acknowledges it, a refused page ending the run by
a legal move. Against a real cloud on loopback and a real state.db."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.tokens import TokenKeeper
from agent.events import DatasetChanged, Event, UploadStaged
from agent.runtime.backoff import ErrorStreak
from agent.runtime.dataset_moves import DatasetMoves
from agent.runtime.local_state import LocalState
from agent.runtime.outbox import OutboxSender
from agent.runtime.outbox_entries import PageEntry
from cloud.local import LocalCloud
from protocol.clock import to_iso, utc_now
from protocol.states import DatasetStatus, IllegalTransition
from tests.agent.runtime_harness import Company, new_company
from tests.support.memory_keyring import memory_store

S = DatasetStatus


class _Recording(httpx.HTTPTransport):
    """The real transport, keeping the JSON body of each report it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/transitions"):
            self.reports.append(json.loads(request.content))
        return super().handle_request(request)


@dataclass
class Agent:
    company: Company
    state: LocalState
    moves: DatasetMoves
    sender: OutboxSender
    recording: _Recording
    events: list[Event]
    dataset_id: str


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane")
        with CloudClient(cloud.url) as anonymous:
            grant = anonymous.link(company.link_url.rsplit("/", 1)[1], ["customers"])
        keeper = TokenKeeper(grant.connection_id, memory_store(), first_grant=grant.tokens)
        recording = _Recording()
        with CloudClient(cloud.url, keeper, transport=recording) as client:
            dataset = client.poll(0)
            assert dataset is not None
            state = LocalState(tmp_path / "state.db")
            state.start_run(dataset.dataset_id, grant.connection_id, "customers", 60)
            events: list[Event] = []
            moves = DatasetMoves(state, grant.connection_id, publish=events.append)
            streak = ErrorStreak(grant.connection_id, lambda _event: None)
            sender = OutboxSender(
                state, client, grant.connection_id, streak, threading.Event(), moves=moves
            )
            yield Agent(company, state, moves, sender, recording, events, dataset.dataset_id)


def _to_processing(agent: Agent) -> None:
    for status in (S.FETCHING, S.MAPPING, S.VALIDATING, S.PROCESSING):
        agent.moves.enter(agent.dataset_id, status)
        agent.sender.drain()


def _entered(agent: Agent) -> list[str]:
    return [status for status, _at, _error in agent.state.timeline(agent.dataset_id)]


def test_an_illegal_move_is_refused_and_nothing_is_written(agent: Agent) -> None:
    with pytest.raises(IllegalTransition):
        agent.moves.enter(agent.dataset_id, S.COMPLETE)  # from Queued
    with pytest.raises(IllegalTransition):
        agent.moves.fail_upload(agent.dataset_id, "no pages were ever queued")  # from Queued
    run = agent.state.get_run(agent.dataset_id)
    assert run is not None and run.status == "Queued" and not run.finished
    assert agent.state.pending() == 0
    assert _entered(agent) == []
    assert agent.events == []


def test_complete_is_stamped_when_sent_and_entered_when_acknowledged(
    agent: Agent, tmp_path: Path
) -> None:
    _to_processing(agent)
    page = tmp_path / "page-00000.json"
    page.write_text('[{"id": "c1", "customerName": "A", "status": "Active"}]')
    complete = agent.moves.report(S.COMPLETE, chunks=1, recordCount=1, mode="full", deletedIds=[])
    agent.moves.stage(agent.dataset_id, [PageEntry(page=0, file=str(page))], complete)

    run = agent.state.get_run(agent.dataset_id)
    assert run is not None and run.status == "Processing" and run.staged and not run.finished
    assert isinstance(agent.events[-1], UploadStaged) and agent.events[-1].pages == 1
    sending = utc_now()
    agent.sender.drain()

    run = agent.state.get_run(agent.dataset_id)
    assert run is not None and run.status == "Complete" and run.finished and not run.error
    assert _entered(agent) == ["Fetching", "Mapping", "Validating", "Processing", "Complete"]
    last = agent.events[-1]
    assert isinstance(last, DatasetChanged) and last.status == S.COMPLETE
    # Sent as it was built: the model's given fields, the timestamp that of the sending.
    sent = agent.recording.reports[-1]
    assert sent.pop("timestamp") >= to_iso(sending)
    assert sent == {
        "status": "Complete",
        "chunks": 1,
        "recordCount": 1,
        "mode": "full",
        "deletedIds": [],
    }
    assert agent.recording.reports[0] == {
        "status": "Fetching",
        "timestamp": agent.recording.reports[0]["timestamp"],
    }
    assert agent.company.datasets("customers")[0]["status"] == "Complete"


def test_a_refused_page_ends_the_run_in_processing_error_by_a_legal_move(
    agent: Agent, tmp_path: Path
) -> None:
    """The cloud will not store a page (not JSON records: 400): the outbox tells the owner,
    which ends the run in ProcessingError from Processing, where it stands (before, the outbox
    wrote ProcessingError itself over a run already marked Complete, unchecked)."""
    _to_processing(agent)
    page = tmp_path / "page-00000.json"
    page.write_text("this is not a page of records")
    complete = agent.moves.report(S.COMPLETE, chunks=1, recordCount=1)
    agent.moves.stage(agent.dataset_id, [PageEntry(page=0, file=str(page))], complete)

    agent.sender.drain()

    run = agent.state.get_run(agent.dataset_id)
    assert run is not None and run.status == "ProcessingError" and run.finished
    assert run.error is not None and "refused the records" in run.error
    assert _entered(agent) == [
        "Fetching",
        "Mapping",
        "Validating",
        "Processing",
        "ProcessingError",
    ]
    assert agent.state.pending() == 0
    assert [r["status"] for r in agent.recording.reports][-1] == "ProcessingError"
    in_cloud = agent.company.datasets("customers")[0]
    assert in_cloud["status"] == "ProcessingError"
    assert "refused the records" in in_cloud["errorMessage"]
