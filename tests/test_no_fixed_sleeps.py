"""No test sleeps a fixed time and then asserts (later in the same block), and none asserts on
the wall clock: both fail on a loaded machine and pass on a broken one. A test waits for the
event or condition instead (tests/support/waiting.py); speed is for benchmarks/."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

CLOCKS = {"monotonic", "time", "perf_counter", "monotonic_ns", "time_ns", "perf_counter_ns"}
# Bounded negative checks, each a window for a wrong extra event to show up in (nothing is
# waited for: the right behaviour is that nothing comes), kept with the reason in place.
NEGATIVE_WINDOWS = {
    ("tests/cloud/test_webhooks.py", "no further attempt may come"),
    ("tests/cloud/test_webhooks.py", "room for a wrong fifth delivery to show up"),
    # A head start for a long poll: its assert holds however late the poll starts (a poll
    # that comes after the queueing takes the dataset at once), so no time is relied on.
    ("tests/cloud/test_agent_api.py", "a head start for the long poll"),
    ("tests/cloud/test_postgres.py", "a head start for the long poll"),
}


def _is_time_call(node: ast.AST, names: set[str]) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in names
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "time"
    )


def _test_files() -> list[Path]:
    return sorted((ROOT / "tests").rglob("*.py"))


def _findings(path: Path, relative: str) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assert) and any(
            _is_time_call(inner, CLOCKS) for inner in ast.walk(node)
        ):
            found.append(f"{relative}:{node.lineno}: an assert on the wall clock")
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for index, statement in enumerate(block):
                if not (
                    isinstance(statement, ast.Expr) and _is_time_call(statement.value, {"sleep"})
                ):
                    continue
                if not any(isinstance(later, ast.Assert) for later in block[index + 1 :]):
                    continue  # a poll's pause, or a sleep nothing checks after
                line = lines[statement.lineno - 1]
                if any(relative == f and why in line for f, why in NEGATIVE_WINDOWS):
                    continue
                found.append(f"{relative}:{statement.lineno}: a fixed sleep, then an assert")
    return found


def test_no_test_sleeps_then_asserts_or_asserts_on_the_clock() -> None:
    found = [
        f for path in _test_files() for f in _findings(path, path.relative_to(ROOT).as_posix())
    ]
    assert found == []


def test_the_check_finds_both(tmp_path: Path) -> None:
    sample = tmp_path / "test_sleepy.py"
    sample.write_text(
        "import time\n"
        "def test_x():\n"
        "    started = time.monotonic()\n"
        "    time.sleep(3)\n"
        "    assert True\n"
        "    assert time.monotonic() - started < 1.0\n"
    )
    assert sorted(_findings(sample, "test_sleepy.py")) == [
        "test_sleepy.py:4: a fixed sleep, then an assert",
        "test_sleepy.py:6: an assert on the wall clock",
    ]
