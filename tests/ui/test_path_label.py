"""The path label: folders shortened in the middle, the book's file name kept whole."""

from __future__ import annotations

import pytest

from ui.path_label import PathLabel

FOLDERS = "/home/bob/Documents/Accounts/Harbor Lane Bakery/2026 financial year/books"
NAME = "harbor-lane-bakery-main-ledger.gnucash"


def _shown(qtbot, path: str, width: int) -> PathLabel:  # type: ignore[no-untyped-def]
    """The label on screen at ``width`` pixels (Qt resizes a hidden widget only when shown)."""
    label = PathLabel(path)
    qtbot.addWidget(label)
    label.show()
    label.resize(width, 20)
    qtbot.waitUntil(lambda: label.width() == width)
    return label


@pytest.mark.parametrize("separator", ["/", "\\"])
def test_the_file_name_stays_whole_and_the_folders_give_way(qtbot, separator: str) -> None:
    path = (FOLDERS + "/" + NAME).replace("/", separator)
    name_width = PathLabel().fontMetrics().horizontalAdvance(separator + NAME)
    label = _shown(qtbot, path, name_width + 60)  # room for the name and a little of its folders
    assert label.text().endswith(separator + NAME)
    start, _, _ = label.text().partition("…")
    assert start and path.startswith(start)  # where it is, from the top
    assert label.toolTip() == path


def test_a_name_too_long_for_the_room_is_shortened_in_its_middle(qtbot) -> None:
    label = _shown(qtbot, FOLDERS + "/" + NAME, 130)
    assert "…" in label.text()
    assert label.fontMetrics().horizontalAdvance(label.text()) <= 130


def test_a_path_that_fits_is_shown_whole(qtbot) -> None:
    label = _shown(qtbot, "/home/bob/acme.gnucash", 600)
    assert label.text() == "/home/bob/acme.gnucash"
