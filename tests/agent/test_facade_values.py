"""The facade hands out typed values only: no raw cloud JSON, no ``Any``, no bare dicts, and the
link states the views compare as an enum, so that the CLI and the tray app never parse an answer
or repeat a string of their own."""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from agent.cloud_api.cloud_client import QueuedDataset, SyncQueued
from agent.facade import Connector
from agent.status.status_rules import LinkActivity
from agent.support.config import LogLevel
from cloud.local import LocalCloud
from protocol.states import DatasetStatus
from tests.agent.runtime_harness import agent_home, book_copy, new_company

# Our own packages: the values defined there are walked into; others (datetime, Path) are leaves.
OURS = ("agent", "protocol")


def _untyped(hint: object, where: str, seen: set[type]) -> Iterator[str]:
    """Where ``hint``, or any value reachable from it (dataclass fields, properties, type
    arguments), is ``Any``, ``object`` or a ``dict``."""
    if hint is Any or hint is object:
        yield f"{where}: {hint}"
        return
    if hint is dict or get_origin(hint) is dict:
        yield f"{where}: {hint} (a bare dict; a frozen dataclass or a Mapping of typed values)"
    for argument in get_args(hint):
        yield from _untyped(argument, f"{where}[]", seen)
    if not isinstance(hint, type) or hint in seen or hint.__module__.split(".")[0] not in OURS:
        return
    seen.add(hint)
    if dataclasses.is_dataclass(hint):
        fields = get_type_hints(hint)
        for field in dataclasses.fields(hint):
            yield from _untyped(fields[field.name], f"{hint.__name__}.{field.name}", seen)
    for name, member in inspect.getmembers(hint, lambda m: isinstance(m, property)):
        if not name.startswith("_"):
            returns = get_type_hints(member.fget).get("return")
            yield from _untyped(returns, f"{hint.__name__}.{name}", seen)


def test_every_public_method_of_the_facade_returns_typed_values() -> None:
    seen: set[type] = set()
    found: list[str] = []
    for name, member in inspect.getmembers(Connector):
        if name.startswith("_"):
            continue
        function = member.fget if isinstance(member, property) else member
        if callable(function):
            hints = get_type_hints(function)
            assert "return" in hints, f"Connector.{name} says nothing of what it returns"
            found += _untyped(hints["return"], f"Connector.{name}", seen)
    assert found == []
    # The walk did reach the values the views show (so an empty list means something).
    assert {"AgentStatus", "LinkStatus", "CloudView", "SyncQueued", "RunSummary"} <= {
        kind.__name__ for kind in seen
    }


def test_sync_now_answers_with_what_the_cloud_queued_as_values(tmp_path: Path) -> None:
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane", first_link=())
        connector = Connector(agent_home(tmp_path))
        connector.link(company.link_url, book_copy(tmp_path), insecure_file_store=True)

        first = connector.sync_now(["suppliers"])
        again = connector.sync_now(["suppliers", "customers"])  # no agent runs: still queued
        suppliers_id = company.datasets("suppliers")[-1]["id"]

    answer = first[company.connection_id]
    assert isinstance(answer, SyncQueued)
    (queued,) = answer.queued
    assert isinstance(queued, QueuedDataset)
    assert (queued.data_type, queued.status) == ("suppliers", DatasetStatus.QUEUED)
    assert queued.dataset_id == suppliers_id
    assert answer.already_in_progress == ()
    later = again[company.connection_id]
    assert [d.data_type for d in later.queued] == ["customers"]
    assert later.already_in_progress == ("suppliers",)


def test_a_links_state_is_a_link_activity(tmp_path: Path) -> None:
    with LocalCloud(tmp_path / "cloud") as cloud:
        company = new_company(cloud, "Harbor Lane", first_link=())
        connector = Connector(agent_home(tmp_path))
        connector.link(company.link_url, book_copy(tmp_path), insecure_file_store=True)
        (link,) = connector.status().links
    assert link.state is LinkActivity.NOT_RUNNING  # linked, but no agent serves it


def test_the_log_level_is_a_log_level(tmp_path: Path) -> None:
    connector = Connector(agent_home(tmp_path))
    root = logging.getLogger()
    before = root.level
    try:
        connector.set_log_level("WARNING")
    finally:
        root.setLevel(before)  # set_log_level applies at once, to this whole process
    assert connector.config().log_level is LogLevel.WARNING
    assert connector.status().log_level is LogLevel.WARNING
