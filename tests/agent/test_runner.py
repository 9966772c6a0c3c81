"""The runner against a real cloud on loopback: each failure ends in the right state, in words."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.tokens import TokenKeeper
from agent.errors import BookUnreadable, RecordsInvalid, RecordUnmappable
from agent.runtime.backoff import ErrorStreak
from agent.runtime.local_state import LocalState
from agent.runtime.outbox import OutboxSender
from agent.runtime.runner import DatasetRunner
from agent.sources.base import Record, Source
from agent.sources.gnucash.reading.book_limits import MAX_SPLITS_PER_TRANSACTION
from agent.sources.gnucash.source import GnuCashSource
from cloud.local import LocalCloud
from protocol.datatypes import ACCOUNTING_DATA_TYPES
from protocol.states import DatasetStatus
from tests.agent.hostile_books import (
    crowded_sqlite,
    endless_view,
    external_entity_xml,
    sqlite_book,
    write_xml,
)
from tests.agent.stub_source import CustomersOnlySource
from tests.support.memory_keyring import memory_store


class Linked:
    def __init__(
        self,
        cloud: LocalCloud,
        client: CloudClient,
        company_id: str,
        connection_id: str,
        workdir: Path,
    ) -> None:
        self.cloud = cloud
        self.client = client
        self.company_id = company_id
        self.connection_id = connection_id
        self.state = LocalState(workdir / "state.db")
        self.workdir = workdir

    def runner(
        self, source: Source, publish: Callable[[Any], None] = lambda _event: None
    ) -> DatasetRunner:
        """A runner wired as the agent wires it: local state, outbox, staging folder."""
        streak = ErrorStreak(self.connection_id, lambda _event: None)
        sender = OutboxSender(
            self.state, self.client, self.connection_id, streak, threading.Event()
        )
        return DatasetRunner(
            self.connection_id,
            self.client,
            source,
            self.state,
            sender,
            self.workdir / "staging",
            publish=publish,
        )

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        with self.cloud.client() as api:
            body: dict[str, Any] = api.get(
                f"/companies/{self.company_id}/data/history/{dataset_id}"
            ).json()
            return body


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path_factory.mktemp("cloud")) as local:
        yield local


@pytest.fixture
def linked(cloud: LocalCloud, tmp_path: Path) -> Iterator[Linked]:
    with cloud.client() as api:
        company_id = api.post("/companies", json={"name": "Acme"}).json()["id"]
        link_url = api.post(
            f"/companies/{company_id}/connections", json={"platformKey": "gncs"}
        ).json()["linkUrl"]
    with CloudClient(cloud.url) as anonymous:
        # Claims every type, so that the runner, not the cloud, decides what it can read.
        grant = anonymous.link(link_url.rsplit("/", 1)[1], list(ACCOUNTING_DATA_TYPES))
    keeper = TokenKeeper(grant.connection_id, memory_store(), first_grant=grant.tokens)
    with CloudClient(cloud.url, keeper) as client:
        yield Linked(cloud, client, company_id, grant.connection_id, tmp_path)


def _next_of(linked: Linked, data_type: str) -> Any:
    while (assignment := linked.client.poll(0)) is not None:
        if assignment.data_type == data_type:
            return assignment
    raise AssertionError(f"no {data_type} dataset was queued")


def test_a_missing_book_is_a_fetch_error_naming_the_file(linked: Linked, tmp_path: Path) -> None:
    book = tmp_path / "gone.gnucash"
    source = GnuCashSource(book, tmp_path / "work", sleep=lambda _seconds: None)
    runner = linked.runner(source)
    outcome = runner.run(_next_of(linked, "customers"))
    assert outcome.status == DatasetStatus.FETCH_ERROR
    dataset = linked.dataset(outcome.dataset_id)
    assert dataset["status"] == "FetchError" and dataset["isErrored"] is True
    assert str(book) in dataset["errorMessage"]
    assert [s["status"] for s in dataset["statusHistory"]] == ["Queued", "Fetching", "FetchError"]


def _entity_book(folder: Path) -> Path:
    folder.mkdir()
    secret = folder / "secret.txt"
    secret.write_text("not for the cloud")
    return write_xml(folder / "Entity.gnucash", external_entity_xml(secret), compress=True)


def _view_book(folder: Path) -> Path:
    folder.mkdir()
    return sqlite_book(folder, *endless_view("slots"))


def _crowded_book(folder: Path) -> Path:
    folder.mkdir()
    return crowded_sqlite(folder, MAX_SPLITS_PER_TRANSACTION + 1)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_entity_book, "declares an XML document type"),
        (_view_book, 'it holds a view named "slots"'),
        (_crowded_book, "with 10,001 splits"),
    ],
    ids=["xml-external-entity", "sqlite-view", "sqlite-crowded-transaction"],
)
def test_a_hostile_book_ends_the_dataset_in_fetch_error(
    linked: Linked, tmp_path: Path, make: Callable[[Path], Path], says: str
) -> None:
    """tests/agent/test_gnucash_hostile_books.py has them all; here, through the runner to
    the cloud, a journal entries dataset (the ledger is the part that streams)."""
    book = make(tmp_path / "My Books")
    with linked.cloud.client() as api:
        queued = f"/companies/{linked.company_id}/data/queue/journalEntries"
        api.post(queued).raise_for_status()
    source = GnuCashSource(book, tmp_path / "work", sleep=lambda _seconds: None)
    outcome = linked.runner(source).run(_next_of(linked, "journalEntries"))
    dataset = linked.dataset(outcome.dataset_id)
    assert outcome.status == DatasetStatus.FETCH_ERROR
    assert dataset["status"] == "FetchError"
    assert says in dataset["errorMessage"]
    assert "not for the cloud" not in dataset["errorMessage"]
    assert [s["status"] for s in dataset["statusHistory"]] == ["Queued", "Fetching", "FetchError"]


class _Source(CustomersOnlySource):
    """A package whose mapping fails in a chosen way."""

    def __init__(self, failure: Exception) -> None:
        self.failure = failure

    def map(self, data_type: str, fetched: object) -> Iterable[Record]:
        raise self.failure


class _Streaming(_Source):
    """Maps one good customer, then meets the failure while streaming the next."""

    def map(self, data_type: str, fetched: object) -> Iterable[Record]:
        yield {"id": "c1", "customerName": "Ada", "status": "Active"}
        raise self.failure


def test_a_damaged_record_met_while_streaming_is_a_map_error(linked: Linked) -> None:
    """The book's ledger streams during Mapping: a transaction it cannot read there is named
    as the reader names it, in the phase it was found (FetchError is no longer possible)."""
    damage = BookUnreadable('The book b.gnucash has the transaction "Stamps" (f00) ...')
    outcome = linked.runner(_Streaming(damage)).run(_next_of(linked, "customers"))
    dataset = linked.dataset(outcome.dataset_id)
    assert outcome.status == DatasetStatus.MAP_ERROR
    assert dataset["errorMessage"] == damage.message
    assert [s["status"] for s in dataset["statusHistory"]] == [
        "Queued",
        "Fetching",
        "Mapping",
        "MapError",
    ]


def test_a_rule_broken_while_streaming_is_a_validation_error(linked: Linked) -> None:
    broken = RecordsInvalid("customers record 'c2': its customerRef 'x' is not a record")
    outcome = linked.runner(_Streaming(broken)).run(_next_of(linked, "customers"))
    dataset = linked.dataset(outcome.dataset_id)
    assert dataset["errorMessage"] == broken.message
    assert [s["status"] for s in dataset["statusHistory"]][-3:] == [
        "Mapping",
        "Validating",
        "ValidationError",
    ]


def test_an_unmappable_record_is_a_map_error(linked: Linked) -> None:
    source = _Source(RecordUnmappable("Customer 000042 has no name."))
    outcome = linked.runner(source).run(_next_of(linked, "customers"))
    dataset = linked.dataset(outcome.dataset_id)
    assert dataset["status"] == "MapError"
    assert dataset["errorMessage"] == "Customer 000042 has no name."


def test_a_bug_is_an_internal_error_whose_id_finds_the_traceback(
    linked: Linked, caplog: pytest.LogCaptureFixture
) -> None:
    source = _Source(KeyError("surprise"))
    with caplog.at_level(logging.ERROR):
        outcome = linked.runner(source).run(_next_of(linked, "customers"))
    dataset = linked.dataset(outcome.dataset_id)
    assert dataset["status"] == "InternalError"
    diagnostic = dataset["errorMessage"].split("diagnostic id ")[1].split(")")[0]
    logged = [r for r in caplog.records if diagnostic in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "surprise" not in dataset["errorMessage"]


def test_invalid_records_are_a_validation_error_naming_the_record(linked: Linked) -> None:
    class Duplicates(_Source):
        def map(self, data_type: str, fetched: object) -> Iterable[Record]:
            twin = {"id": "c1", "customerName": "Twin", "status": "Active"}
            return [twin, {"id": "c0", "customerName": "Other", "status": "Active"}, dict(twin)]

    outcome = linked.runner(Duplicates(Exception())).run(_next_of(linked, "customers"))
    dataset = linked.dataset(outcome.dataset_id)
    assert dataset["status"] == "ValidationError"
    assert "'c1' appears twice" in dataset["errorMessage"]


def test_an_unsupported_data_type_ends_not_supported_with_the_reason(
    linked: Linked, tmp_path: Path
) -> None:
    runner = linked.runner(GnuCashSource(tmp_path / "book", tmp_path / "work"))
    with linked.cloud.client() as api:  # a type this agent cannot read
        api.post(f"/companies/{linked.company_id}/data/queue/items").raise_for_status()
    outcome = runner.run(_next_of(linked, "items"))
    dataset = linked.dataset(outcome.dataset_id)
    assert dataset["status"] == "NotSupported"
    assert [s["status"] for s in dataset["statusHistory"]] == ["Queued", "NotSupported"]
    assert "cannot read items" in dataset["errorMessage"]


def test_a_book_the_pc_will_not_let_us_read_is_an_auth_error(
    linked: Linked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root (as CI runs) reads any file, so the refusal is simulated where the book is opened."""
    book = tmp_path / "locked.gnucash"
    book.write_bytes(b"SQLite format 3\x00")
    real_open = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == book:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    events: list[object] = []
    runner = linked.runner(GnuCashSource(book, tmp_path / "work"), publish=events.append)
    outcome = runner.run(_next_of(linked, "customers"))
    dataset = linked.dataset(outcome.dataset_id)
    assert dataset["status"] == "AuthError"
    assert "not allowed to read the book" in dataset["errorMessage"]
    assert [type(e).__name__ for e in events][-1] == "BookAccessRefused"
