"""The agent keeps to the sizes the cloud takes (``protocol/limits.py``), against a real cloud
on loopback: too many deletions for a delta become a full upload, and an overlong error
message is cut short instead of being refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.tokens import TokenKeeper
from agent.facade import Connector
from agent.runtime import runner
from cloud.local import LocalCloud
from protocol.agent_requests import TransitionReport, error_text
from protocol.clock import utc_now
from protocol.limits import MAX_ERROR_MESSAGE_LENGTH
from protocol.states import DatasetStatus
from tests.agent.runtime_harness import agent_home, book_copy, new_company
from tests.support.memory_keyring import memory_store


def test_more_deletions_than_a_delta_may_name_are_sent_as_a_full_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real limit is 10,000 ids; a book losing that many records is too slow to build
    # here, so the test lowers the agent's limit to what its book can exceed.
    monkeypatch.setattr(runner, "MAX_DELETED_IDS", 1, raising=False)
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane")
        book = book_copy(tmp_path)
        connector = Connector(agent_home(tmp_path))
        connector.link(company.link_url, book, insecure_file_store=True)
        connector.run(until_idle=2)
        first = sorted(c["id"] for c in company.records("customers"))

        removed = first[:2]
        with sqlite3.connect(book) as db:
            db.executemany("DELETE FROM customers WHERE guid = ?", [(g,) for g in removed])
        company.queue("customers")
        summary = connector.run(until_idle=2)
        (outcome,) = [o for r in summary.results.values() for o in r.outcomes]
        assert outcome.status == DatasetStatus.COMPLETE
        assert outcome.uploaded == len(first) - 2  # everything the book still has

        after = {c["id"]: c["metadata"]["isDeleted"] for c in company.records("customers")}
        assert {rid for rid, gone in after.items() if gone} == set(removed)


def test_an_error_message_longer_than_the_cloud_takes_is_cut_short(tmp_path: Path) -> None:
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Acme", first_link=("customers",))
        with CloudClient(cloud.url) as anonymous:
            grant = anonymous.link(company.link_url.rsplit("/", 1)[1], ["customers"])
        keeper = TokenKeeper(grant.connection_id, memory_store(), first_grant=grant.tokens)
        with CloudClient(cloud.url, keeper) as client:
            assignment = client.poll(0)
            assert assignment is not None
            client.report(
                assignment.dataset_id,
                TransitionReport(status=DatasetStatus.FETCHING, timestamp=utc_now()),
            )
            message = "The book could not be read: " + "x" * 10_000
            failed = TransitionReport(
                status=DatasetStatus.FETCH_ERROR,
                timestamp=utc_now(),
                errorMessage=error_text(message),  # as DatasetMoves builds every report
            )
            client.report(assignment.dataset_id, failed)
        (dataset,) = company.datasets("customers")
        assert dataset["status"] == "FetchError"
        assert len(dataset["errorMessage"]) == MAX_ERROR_MESSAGE_LENGTH
        assert dataset["errorMessage"].startswith("The book could not be read: ")
        assert dataset["errorMessage"].endswith("\u2026")
