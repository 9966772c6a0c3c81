"""Every test is exactly one of unit, integration and e2e (tests/support/test_kinds.py), and a
unit test cannot reach outside its process, so ``make check`` (``-m unit``) stays fast and
needs nothing but the venv."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.test_kinds import KINDS, OutsideTheUnit, keep_within_the_unit

# A plugin for the collecting pytest below: writes each test's kinds once collection is done
# (after the conftest hook gave them).
DUMP_KINDS = """
import json, os

def pytest_collection_finish(session):
    kinds = {
        item.nodeid: sorted({m.name for m in item.iter_markers()} & {"unit", "integration", "e2e"})
        for item in session.items
    }
    with open(os.environ["KINDS_OUT"], "w") as out:
        json.dump(kinds, out)
"""


def collected_kinds(tmp_path: Path) -> dict[str, list[str]]:
    (tmp_path / "dump_kinds.py").write_text(DUMP_KINDS)
    out = tmp_path / "kinds.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "dump_kinds"],
        cwd=ROOT,
        env={**os.environ, "KINDS_OUT": str(out), "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    kinds: dict[str, list[str]] = json.loads(out.read_text())
    return kinds


def test_every_collected_test_has_exactly_one_kind(tmp_path: Path) -> None:
    kinds = collected_kinds(tmp_path)
    assert len(kinds) > 1000  # the whole suite, not a folder
    assert {test: found for test, found in kinds.items() if len(found) != 1} == {}
    # Spot checks, one a kind and way of telling it.
    by_file = {test.split("::")[0]: found[0] for test, found in kinds.items()}
    assert by_file["tests/e2e/test_cli.py"] == "e2e"  # its folder
    assert by_file["tests/agent/test_link_control.py"] == "integration"  # a LocalCloud
    assert by_file["tests/agent/test_gnucash_cases.py"] == "integration"  # the engine's books
    assert by_file["tests/agent/test_backoff.py"] == "unit"
    assert by_file["tests/cloud/test_leases.py"] == "unit"  # the in-process cloud
    assert set(by_file.values()) == set(KINDS)


def test_a_unit_test_cannot_start_a_process_or_open_a_network_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keep_within_the_unit(monkeypatch)
    with pytest.raises(OutsideTheUnit, match="started a process"):
        subprocess.run(["true"], check=False)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(OutsideTheUnit, match="network socket"):
            sock.bind(("127.0.0.1", 0))
        with pytest.raises(OutsideTheUnit, match="network socket"):
            sock.connect(("127.0.0.1", 9))
    # What asyncio's event loops use to wake themselves stays allowed.
    left, right = socket.socketpair()
    left.close()
    right.close()


def test_make_check_runs_lint_and_the_unit_tests_alone() -> None:
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("check:"))
    assert "lint" in lines[start].split(":", 1)[1].split()
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    assert "-m unit" in " ".join(recipe)
