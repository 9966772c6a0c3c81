"""Sources are found through their ``connector.sources`` entry points, not wired by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import UnknownSource
from agent.sources import registry
from agent.sources.gnucash.source import GnuCashSource

ROOT = Path(__file__).resolve().parents[2]


def test_gnucash_is_found_through_the_installed_metadata() -> None:
    assert "gnucash" in registry.available()
    assert registry.source_kind("gnucash") is GnuCashSource
    assert registry.source_kind() is GnuCashSource  # every link so far is a GnuCash book


def test_an_unknown_package_is_refused_with_words() -> None:
    with pytest.raises(UnknownSource) as refused:
        registry.source_kind("no-such-package")
    assert refused.value.title == "Connector cannot read this accounting package"
    assert "gnucash" in refused.value.message


# A second accounting package: a module and its distribution's metadata, nothing edited here.
OTHER_SOURCE = """
class OtherBooks:
    def __init__(self, book_path, workdir, *, report_months):
        self.book_path = book_path

    @staticmethod
    def data_types():
        return ["accounts", "customers"]
"""

PROBE = """
import json
from pathlib import Path
from agent.sources import registry
kind = registry.source_kind("otherbooks")
made = kind(Path("b"), Path("w"), report_months=None)
print(json.dumps([registry.available(), kind.data_types(), made.book_path.name]))
"""


def test_a_second_package_is_a_module_and_one_entry_point(tmp_path: Path) -> None:
    (tmp_path / "otherbooks.py").write_text(OTHER_SOURCE)
    metadata = tmp_path / "otherbooks-1.0.dist-info"
    metadata.mkdir()
    (metadata / "METADATA").write_text("Metadata-Version: 2.1\nName: otherbooks\nVersion: 1.0\n")
    (metadata / "entry_points.txt").write_text(
        "[connector.sources]\notherbooks = otherbooks:OtherBooks\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(result.stdout) == [["gnucash", "otherbooks"], ["accounts", "customers"], "b"]
