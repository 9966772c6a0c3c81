"""What an episode leaves behind to judge it by: the cloud's history and data (read through the
public API), the agent's ``state.db`` and logs, the processes' exits, the CLI's answers, the
book's timeline, and the samples taken from ``/proc``."""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.chaos.books import COMPARED_TYPES, LiveBook
from tests.chaos.processes import CliResult, Exit, Sample
from tests.chaos.schedule import EpisodePlan

# The data types whose records are read back to look for duplicates, by read path.
READ_PATHS = {**COMPARED_TYPES, "invoices": "invoices", "bills": "bills"}


@dataclass(frozen=True)
class AgentRun:
    """A dataset as the agent's ``state.db`` has it: the run, and every state it entered."""

    dataset_id: str
    data_type: str
    status: str
    finished: bool
    error: str | None
    states: tuple[tuple[str, str, str | None], ...]  # (status, at, error), in order


@dataclass
class Evidence:
    plan: EpisodePlan
    workdir: Path
    book: LiveBook
    book_digest_after: str = ""
    settled: bool = False
    settle_seconds: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by data type
    connection_status: str = ""
    agent_runs: dict[str, AgentRun] = field(default_factory=dict)
    outbox_left: int = 0
    agent_log: str = ""
    agent_output: str = ""
    agent_exits: list[Exit] = field(default_factory=list)
    cloud_exits: list[Exit] = field(default_factory=list)
    cli_results: list[CliResult] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    network_journal: list[str] = field(default_factory=list)


def read_all(api: httpx.Client, path: str) -> list[dict[str, Any]]:
    """Every result of a paged public list, page after page."""
    results: list[dict[str, Any]] = []
    page = 1
    while True:
        response = api.get(path, params={"page": page, "pageSize": 5000})
        response.raise_for_status()
        body = response.json()
        results += body["results"]
        if len(results) >= body["totalResults"] or not body["results"]:
            return results
        page += 1


def read_cloud(evidence: Evidence, api: httpx.Client, company_id: str, connection_id: str) -> None:
    evidence.history = read_all(api, f"/companies/{company_id}/data/history")
    for data_type, read_path in READ_PATHS.items():
        try:
            found = read_all(api, f"/companies/{company_id}/data/{read_path}")
        except httpx.HTTPStatusError as refused:
            if refused.response.status_code != 409:
                raise
            found = []  # never synced: no dataset of the type completed in this episode
        evidence.records[data_type] = found
    connection = api.get(f"/companies/{company_id}/connections/{connection_id}")
    connection.raise_for_status()
    evidence.connection_status = connection.json()["status"]


def read_state_db(path: Path) -> tuple[dict[str, AgentRun], int]:
    """The agent's runs and how many outbox entries it never had acknowledged."""
    if not path.exists():
        return {}, 0
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        states: dict[str, list[tuple[str, str, str | None]]] = {}
        for dataset_id, status, at, error in db.execute(
            "SELECT dataset_id, status, at, error FROM run_states ORDER BY rowid"
        ):
            states.setdefault(dataset_id, []).append((status, at, error))
        runs = {
            row[0]: AgentRun(
                dataset_id=row[0],
                data_type=row[1],
                status=row[2],
                finished=bool(row[3]),
                error=row[4],
                states=tuple(states.get(row[0], [])),
            )
            for row in db.execute("SELECT dataset_id, data_type, status, finished, error FROM runs")
        }
        left = int(db.execute("SELECT count(*) FROM outbox").fetchone()[0])
    return runs, left


def read_logs(log_dir: Path) -> str:
    """The agent's log files, oldest first, as one text."""
    files = sorted(log_dir.glob("connector.log*"), key=lambda p: (-len(p.name), p.name))
    ordered = [p for p in files if p.name != "connector.log"]
    ordered.sort(key=lambda p: -int(p.suffix[1:]))
    if (log_dir / "connector.log").exists():
        ordered.append(log_dir / "connector.log")
    return "".join(p.read_text(errors="replace") for p in ordered)
