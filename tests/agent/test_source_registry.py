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


# The same package, now with the look at a book that linking and the self-test ask for.
OTHER_SOURCE_WITH_PREVIEW = (
    OTHER_SOURCE
    + """
    @staticmethod
    def preview(book_path, workdir, *, sleep=None):
        from agent.sources.base import BookPreview
        return BookPreview(book_path, "Other Co", None, 3, 2, 1, suppliers=4, open_in="OtherBooks")
"""
)

COMMANDS_PROBE = """
import json, sys
from pathlib import Path
from agent.commands.linking import preview_book
from agent.facade import Connector
from agent.support.config import AgentConfig, Link, Paths, save_config

home = Path(sys.argv[1])
preview = preview_book(home / "other.books", home / "work", source="otherbooks")
paths = Paths(home / "config", home / "data", home / "logs")
link = Link("http://127.0.0.1:9", "co", "Other Co", "conn", str(home / "other.books"), "2026",
            source="otherbooks")
save_config(paths, AgentConfig(links=(link,), credential_store="file"))
checks = Connector(paths).doctor()
book = next(check for check in checks if check.name == "Other Co: book")
print(json.dumps([preview.company_name, preview.suppliers, book.ok, book.detail]))
"""


def test_linking_and_the_self_test_read_a_book_through_its_packages_source(
    tmp_path: Path,
) -> None:
    """A second package is previewed before linking and checked by ``connector doctor``
    through the registry alone: the commands name no package."""
    (tmp_path / "otherbooks.py").write_text(OTHER_SOURCE_WITH_PREVIEW)
    metadata = tmp_path / "otherbooks-1.0.dist-info"
    metadata.mkdir()
    (metadata / "METADATA").write_text("Metadata-Version: 2.1\nName: otherbooks\nVersion: 1.0\n")
    (metadata / "entry_points.txt").write_text(
        "[connector.sources]\notherbooks = otherbooks:OtherBooks\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    env.pop("CONNECTOR_HOME", None)
    result = subprocess.run(
        [sys.executable, "-c", COMMANDS_PROBE, str(home)], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    company, suppliers, book_ok, detail = json.loads(result.stdout)
    assert (company, suppliers, book_ok) == ("Other Co", 4, True)
    assert detail == (
        f"{home / 'other.books'} can be read (3 accounts, 2 customers, 4 suppliers). It is open "
        "in OtherBooks right now, which is fine: Connector reads a copy."
    )
