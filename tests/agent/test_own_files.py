"""Connector's own files: folders named from local names, and deletion only inside its folders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.support.own_files import dataset_folder_name, link_folder_name, remove_inside

HOSTILE_IDS = ["../../..", "/etc", "C:\\Windows", "..", ".", "", "a/../../b", "x\x00y", "\u202e"]


@pytest.mark.parametrize("remote_id", HOSTILE_IDS)
def test_a_folder_name_is_local_whatever_the_id(remote_id: str) -> None:
    for name in (link_folder_name(remote_id), dataset_folder_name(remote_id)):
        assert re.fullmatch(r"(link|dataset)-[0-9a-f]{24}", name)


def test_folder_names_tell_ids_apart() -> None:
    ids = [f"6f9619ff-8b86-d011-b42d-00c04fc964f{n:x}" for n in range(16)]
    assert len({dataset_folder_name(i) for i in ids}) == len(ids)
    assert link_folder_name(ids[0]) != dataset_folder_name(ids[0])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "home" / "staging"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """The user's own folder, beside the agent's home."""
    folder = tmp_path / "victim"
    folder.mkdir()
    (folder / "precious.txt").write_text("the user's own file")
    return folder


def test_it_deletes_a_file_and_a_folder_inside(root: Path) -> None:
    (root / "one").mkdir()
    (root / "one" / "page-00000.json").write_text("[]")
    (root / "records.db").write_text("")
    assert remove_inside(root, root / "one")
    assert remove_inside(root, root / "records.db")
    assert remove_inside(root, root / "never-there")
    assert list(root.iterdir()) == []


@pytest.mark.parametrize(
    "target",
    ["the root", "the root's parent", "dot-dot inside", "an absolute path outside"],
)
def test_it_refuses_anything_not_strictly_inside(
    target: str, root: Path, victim: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = {
        "the root": root,
        "the root's parent": root.parent,
        "dot-dot inside": root / ".." / ".." / "victim",
        "an absolute path outside": victim,
    }[target]
    assert remove_inside(root, path) is False
    assert (victim / "precious.txt").exists() and root.is_dir()
    assert "Refused to delete" in caplog.text


def test_it_refuses_a_symlink_out(root: Path, victim: Path) -> None:
    (root / "link").symlink_to(victim)
    assert remove_inside(root, root / "link") is False
    assert remove_inside(root, root / "link" / "precious.txt") is False  # through it, too
    assert (victim / "precious.txt").exists() and (root / "link").is_symlink()


def test_it_refuses_a_root_reached_through_a_symlink_out(tmp_path: Path, victim: Path) -> None:
    # The folder given as root is itself a symlink to the user's folder: its contents resolve
    # inside it, but never the root, and never its parent.
    root = tmp_path / "staging"
    root.symlink_to(victim)
    assert remove_inside(root, root) is False
    assert remove_inside(root, root / "..") is False
    assert (victim / "precious.txt").exists()


def test_a_symlink_inside_is_removed_as_a_link(root: Path, victim: Path) -> None:
    (root / "kept").mkdir()
    (root / "kept" / "data").write_text("kept")
    (root / "alias").symlink_to(root / "kept")
    assert remove_inside(root, root / "alias")
    assert not (root / "alias").exists() and (root / "kept" / "data").exists()


def test_a_folder_holding_a_symlink_out_is_deleted_without_following_it(
    root: Path, victim: Path
) -> None:
    (root / "dataset").mkdir()
    (root / "dataset" / "out").symlink_to(victim)
    assert remove_inside(root, root / "dataset")
    assert not (root / "dataset").exists()
    assert (victim / "precious.txt").read_text() == "the user's own file"
