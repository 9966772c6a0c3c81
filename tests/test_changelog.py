"""CHANGELOG.md keeps the Keep a Changelog 1.1.0 form, so a reader finds what changed in one place.

Checked: the header names the format and Semantic Versioning, ``## [Unreleased]`` is the first
version heading, its subsections are only Keep a Changelog's names, and every entry is short
(three lines at most: a long story belongs in the docs or the commit, not here).
"""

from __future__ import annotations

import re
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"
SECTION_NAMES = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
MAX_ENTRY_LINES = 3
VERSION_HEADING = re.compile(r"^## \[(Unreleased|\d+\.\d+\.\d+)\]( - \d{4}-\d{2}-\d{2})?$")


def _lines() -> list[str]:
    return CHANGELOG.read_text(encoding="utf-8").splitlines()


def _entries(lines: list[str]) -> list[list[str]]:
    """Each list item with its indented continuation lines; a blank line or heading ends it."""
    entries: list[list[str]] = []
    current: list[str] | None = None
    for line in lines:
        if line.startswith("- "):
            current = [line]
            entries.append(current)
        elif current is not None and line.startswith("  ") and line.strip():
            current.append(line)
        else:
            current = None
    return entries


def test_the_header_names_the_format_and_semantic_versioning() -> None:
    header = "\n".join(_lines()[:8])
    assert _lines()[0] == "# Changelog"
    assert "https://keepachangelog.com/en/1.1.0/" in header
    assert "Semantic Versioning" in header


def test_unreleased_is_the_first_version_and_every_version_heading_is_well_formed() -> None:
    headings = [line for line in _lines() if line.startswith("## ")]
    assert headings and headings[0] == "## [Unreleased]"
    assert [h for h in headings if not VERSION_HEADING.match(h)] == []


def test_sections_are_only_keep_a_changelog_names() -> None:
    sections = [line[4:] for line in _lines() if line.startswith("### ")]
    assert sections
    assert [name for name in sections if name not in SECTION_NAMES] == []


def test_every_entry_sits_in_a_section_and_is_at_most_three_lines() -> None:
    lines = _lines()
    first_section = next(i for i, line in enumerate(lines) if line.startswith("### "))
    assert not any(line.startswith("- ") for line in lines[:first_section])
    long_entries = [e[0] for e in _entries(lines) if len(e) > MAX_ENTRY_LINES]
    assert long_entries == []
