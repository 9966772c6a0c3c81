"""What must hold after every episode, however hard it was hit. Each check reads the evidence
and returns one message per violation (none: it held)."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from protocol.clock import from_iso
from protocol.states import DatasetStatus, can_transition, is_terminal
from tests.chaos.books import COMPARED_TYPES, describe_difference, engine_view, served_view
from tests.chaos.evidence import AgentRun, Evidence

S = DatasetStatus
T = TypeVar("T")

# Ceilings for the agent process over a whole episode. It holds a small book, so anything near
# these means something is kept that should have been let go (its resting size here is about
# 60 MiB and 5 threads; see docs/CHAOS.md).
MAX_RSS_MIB = 250
MAX_THREADS = 24

# Moves the cloud makes on its own; the agent never reports them.
_CLOUD_ENDINGS = frozenset({S.INTERNAL_ERROR, S.AUTH_ERROR, S.NOT_SUPPORTED, S.CANCELLED})
_REAUTHORIZATION = re.compile(r"authorization lost|needs to be re-authorized", re.IGNORECASE)
_EXIT_REAUTHORIZE = 3  # agent/cli.py


@dataclass(frozen=True)
class Violation:
    invariant: str
    message: str


def terminal(evidence: Evidence) -> list[str]:
    return [
        f"{op['dataType']} {op['id']} ended {op['status']} "
        f"({op.get('statusDescription') or 'no description'})"
        for op in evidence.history
        if not is_terminal(S(op["status"]))
    ]


def history_legal(evidence: Evidence) -> list[str]:
    found = []
    for op in evidence.history:
        steps = op["statusHistory"]
        statuses = [S(step["status"]) for step in steps]
        stamps = [from_iso(step["timestamp"]) for step in steps]
        name = f"{op['dataType']} {op['id']}"
        if not statuses or statuses[0] != S.QUEUED:
            found.append(f"{name} does not start Queued: {_names(statuses)}")
        for before, after in itertools.pairwise(statuses):
            if not can_transition(before, after):
                found.append(f"{name} moved {before} -> {after}: {_names(statuses)}")
        if stamps != sorted(stamps):
            found.append(f"{name} has its history out of time order: {_steps(steps)}")
        if statuses and statuses[-1] != op["status"]:
            found.append(f"{name} is {op['status']} but its history ends {statuses[-1]}")
    return found


def transitions_match(evidence: Evidence) -> list[str]:
    """The cloud's history against what the agent's state.db says it entered and sent."""
    found = []
    if evidence.outbox_left:
        found.append(f"{evidence.outbox_left} reports or pages were never acknowledged")
    for op in evidence.history:
        name = f"{op['dataType']} {op['id']}"
        told = [S(step["status"]) for step in op["statusHistory"] if step["status"] != S.QUEUED]
        run = evidence.agent_runs.get(op["id"])
        if run is None:
            invented = [s for s in told if s not in _CLOUD_ENDINGS]
            if invented:
                found.append(f"{name}: the cloud has {_names(invented)}, the agent no record of it")
            continue
        entered = [S(status) for status, _at, _error in run.states if status != S.QUEUED]
        if told and told[-1] in _CLOUD_ENDINGS and told.count(told[-1]) > entered.count(told[-1]):
            told = told[:-1]  # the cloud ended it on its own
        for status, count in Counter(told).items():
            if count > entered.count(status):
                found.append(
                    f"{name}: {status} is in the cloud's history {count} times, entered "
                    f"{entered.count(status)} times by the agent "
                    f"(cloud {_names(told)}, agent {_names(entered)})"
                )
        if not _in_order_within(told, entered):
            found.append(
                f"{name}: the cloud's {_names(told)} is not the agent's {_names(entered)} in order"
            )
        # Earlier attempts were taken back, and the agent dropped their rest; the last one,
        # unless the cloud refused it too, must have reached the cloud whole.
        told_last = _last_attempt(op["statusHistory"], lambda step: step["status"])
        entered_last = _last_attempt(list(run.states), lambda state: state[0])
        if told_last and told_last[-1] in _CLOUD_ENDINGS and told_last[-1] not in entered_last:
            told_last = told_last[:-1]
        if not _abandoned(run) and run.finished and told_last != entered_last:
            lost = [s for s in entered_last if told_last.count(s) < entered_last.count(s)]
            found.append(
                f"{name}: the agent's last attempt entered {_names(entered_last)} and dropped "
                "none, "
                f"the cloud's has {_names(told_last)}"
                + (f" (lost: {_names(lost)})" if lost else "")
            )
    return found


def data_matches_book(evidence: Evidence) -> list[str]:
    """What the cloud serves equals what the engine reads from the book as it stood when the
    last Complete dataset of the type read it."""
    found = []
    versions = evidence.book.versions
    for data_type in COMPARED_TYPES:
        completes = [
            op
            for op in evidence.history
            if op["dataType"] == data_type and op["status"] == "Complete"
        ]
        if not completes:
            continue
        last = max(completes, key=lambda op: op["statusHistory"][-1]["timestamp"])
        start, end = _read_window(last, evidence.agent_runs.get(last["id"]))
        candidates = sorted(evidence.book.standing_between(start, end))
        served = served_view(data_type, evidence.records[data_type])
        views = {v: engine_view(data_type, versions.truth(v)) for v in candidates}
        if any(served == view for view in views.values()):
            continue
        differences = "; ".join(
            f"v{v}: {describe_difference(served, view)}" for v, view in views.items()
        )
        found.append(
            f"{data_type}: the cloud serves {len(served)} records matching none of the book "
            f"versions {candidates} standing while {last['id']} read it ({differences})"
        )
    return found


def no_false_auth_error(evidence: Evidence) -> list[str]:
    """The connection was never revoked: any sign of lost authorization is false."""
    found = [
        f"{op['dataType']} {op['id']} ended AuthError: {op.get('errorMessage')}"
        for op in evidence.history
        if any(step["status"] == S.AUTH_ERROR for step in op["statusHistory"])
    ]
    lines = [line for line in evidence.agent_log.splitlines() if _REAUTHORIZATION.search(line)]
    found += [f"agent log: {line.strip()}" for line in lines[:3]]
    if len(lines) > 3:
        found.append(f"agent log: {len(lines) - 3} more such lines")
    found += [
        f"the agent exited {exit.code} (needs re-authorization)"
        for exit in evidence.agent_exits
        if exit.code == _EXIT_REAUTHORIZE
    ]
    refused = [r for r in evidence.cli_results if _REAUTHORIZATION.search(r.output)]
    if refused:
        first = refused[0]
        said = next(line for line in first.output.splitlines() if _REAUTHORIZATION.search(line))
        found.append(
            f"{len(refused)} of {len(evidence.cli_results)} CLI commands were told to "
            f"re-authorize, first `connector {first.command}`: {said.strip()}"
        )
    if evidence.connection_status != "Linked":
        found.append(f"the connection is {evidence.connection_status}, not Linked")
    return found


def no_duplicate_records(evidence: Evidence) -> list[str]:
    found = []
    for data_type, records in evidence.records.items():
        twice = [i for i, n in Counter(r["id"] for r in records).items() if n > 1]
        if twice:
            found.append(f"{data_type}: ids served more than once: {twice[:5]}")
    return found


def book_untouched(evidence: Evidence) -> list[str]:
    expected = evidence.book.versions.digest(evidence.book.current)
    if evidence.book_digest_after != expected:
        return [f"the book's bytes are not version {evidence.book.current}'s any more"]
    return []


def resources_bounded(evidence: Evidence) -> list[str]:
    if not evidence.samples:
        return ["the agent was never sampled"]
    rss = max(s.rss_kib for s in evidence.samples) / 1024
    threads = max(s.threads for s in evidence.samples)
    found = []
    if rss > MAX_RSS_MIB:
        found.append(f"the agent's VmRSS reached {rss:.0f} MiB (ceiling {MAX_RSS_MIB})")
    if threads > MAX_THREADS:
        found.append(f"the agent ran {threads} threads (ceiling {MAX_THREADS})")
    return found


def processes_alive(evidence: Evidence) -> list[str]:
    """Neither process ended on its own (an exit for re-authorization is counted above)."""
    found = [
        f"the agent exited {e.code}: …{e.output_tail[-400:]}"
        for e in evidence.agent_exits
        if e.code != _EXIT_REAUTHORIZE
    ]
    found += [f"the cloud exited {e.code}: …{e.output_tail[-400:]}" for e in evidence.cloud_exits]
    return found


INVARIANTS: dict[str, tuple[str, Callable[[Evidence], list[str]]]] = {
    "terminal": ("every dataset ends in a terminal state", terminal),
    "history-legal": ("every statusHistory is legal and in time order", history_legal),
    "transitions-match": ("no transition lost or duplicated", transitions_match),
    "data-matches-book": ("served data = the engine's reading of the book", data_matches_book),
    "no-false-auth-error": ("no AuthError, no re-authorization asked", no_false_auth_error),
    "no-duplicate-records": ("record ids unique per data type", no_duplicate_records),
    "book-untouched": ("the book's bytes unchanged by the agent", book_untouched),
    "resources-bounded": ("agent VmRSS and threads under their ceilings", resources_bounded),
    "processes-alive": ("agent and cloud never exit on their own", processes_alive),
}


def check(evidence: Evidence) -> list[Violation]:
    return [
        Violation(name, message)
        for name, (_what, rule) in INVARIANTS.items()
        for message in rule(evidence)
    ]


def _abandoned(run: AgentRun) -> bool:
    """The agent dropped the rest of this run because the cloud refused it (outbox.py): its
    error is not that of any state it entered."""
    return run.finished and run.error is not None and all(e != run.error for *_, e in run.states)


def _last_attempt(steps: list[T], status_of: Callable[[T], str]) -> list[S]:
    """The states after the last Queued (the cloud's, or the agent's mark where the cloud
    handed the dataset out again)."""
    statuses = [S(status_of(step)) for step in steps]
    if S.QUEUED in statuses:
        statuses = statuses[len(statuses) - statuses[::-1].index(S.QUEUED) :]
    return statuses


def _in_order_within(told: list[S], entered: list[S]) -> bool:
    remaining = iter(entered)
    return all(any(status == e for e in remaining) for status in told)


def _read_window(op: dict[str, Any], run: AgentRun | None) -> tuple[float, float]:
    """From when the dataset's last attempt entered Fetching until it entered Complete.

    Every read of an attempt comes before its upload is staged, and Complete is entered after
    that (on the PC when the cloud acknowledges it; in the cloud as it is sent). No state of
    its own marks the staging, and earlier states do not bound the read: an agent restarted in
    Mapping, Validating or even Processing (before its pages were staged) reads the book again,
    possibly a newer version, with no second Fetching in its timeline.
    """
    if run is not None and run.states:
        steps = [(S(status), from_iso(at).timestamp()) for status, at, _error in run.states]
    else:
        steps = [
            (S(s["status"]), from_iso(s["timestamp"]).timestamp()) for s in op["statusHistory"]
        ]
    queued = [index for index, (status, _at) in enumerate(steps) if status == S.QUEUED]
    if queued:  # handed out again: only the last attempt published what is served
        steps = steps[queued[-1] :]
    starts = [at for status, at in steps if status == S.FETCHING]
    start = min(starts) if starts else steps[0][1]
    completed = [at for status, at in steps if status == S.COMPLETE]
    end = min(completed) if completed else steps[-1][1]
    return start, end


def _names(statuses: list[S]) -> str:
    return "[" + ", ".join(str(s) for s in statuses) + "]"


def _steps(steps: list[dict[str, Any]]) -> str:
    return ", ".join(f"{s['status']}@{s['timestamp'][11:23]}" for s in steps)
