"""The books of the chaos episodes: versions made by the real GnuCash engine, swapped under the
agent while it reads, and what the engine says each version holds.

Version 0 is a sample book; version k is version k-1 edited by the engine (``book_edit.py``:
a customer more, a vendor renamed, a transfer posted). A :class:`LiveBook` is the file the
agent is linked to: the episode replaces it by renaming a finished version over it (as a save
by GnuCash does) or by rewriting it in place a few slices at a time (as a copy tool, or a
restore from backup, does), and keeps a timeline of which version stood when.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from tests.support.gnucash_engine import ENGINE_PYTHON, require_gnucash, run_oracle
from tests.support.paths import SAMPLE_BOOKS

BOOK_EDIT = Path(__file__).resolve().parent / "book_edit.py"
IN_PLACE_SLICES = 4
IN_PLACE_PAUSE_SECONDS = 0.02  # between slices: long enough for a reader to meet a torn book


class BookVersions:
    """Version 0..``count``-1 of the sample book in one format, and each one's oracle reading,
    made once per suite run and shared by its episodes."""

    def __init__(self, folder: Path, book_format: str, count: int) -> None:
        self.folder = folder
        self.book_format = book_format
        self.count = count
        self._lock = threading.Lock()
        self._paths: list[Path] = []
        self._truth: dict[int, dict[str, Any]] = {}

    def path(self, version: int) -> Path:
        self._prepare()
        return self._paths[version]

    def digest(self, version: int) -> str:
        return hashlib.sha256(self.path(version).read_bytes()).hexdigest()

    def truth(self, version: int) -> dict[str, Any]:
        """What the GnuCash engine reads from this version (``tests/support/gnucash_oracle.py``)."""
        path = self.path(version)
        with self._lock:
            if version not in self._truth:
                self._truth[version] = run_oracle(path)
            return self._truth[version]

    def _prepare(self) -> None:
        with self._lock:
            if self._paths:
                return
            require_gnucash()
            self.folder.mkdir(parents=True, exist_ok=True)
            first = self.folder / "v0.gnucash"
            shutil.copyfile(SAMPLE_BOOKS[self.book_format], first)
            paths = [first]
            for step in range(1, self.count):
                scratch = self.folder / f"edit-{step}"
                scratch.mkdir(exist_ok=True)
                edited = scratch / "book.gnucash"
                done = subprocess.run(
                    [ENGINE_PYTHON, str(BOOK_EDIT), str(paths[-1]), str(edited), str(step)],
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
                if done.returncode != 0:
                    raise RuntimeError(f"the engine could not edit the book:\n{done.stderr}")
                version = self.folder / f"v{step}.gnucash"
                edited.replace(version)
                shutil.rmtree(scratch)  # the engine's logs, lock and backups
                paths.append(version)
            self._paths = paths


@dataclass(frozen=True)
class Installed:
    """A version put in place: it may be read from ``began`` (a rewrite in place is under way),
    and the version before it may be read until ``ended``."""

    version: int
    began: float  # time.time()
    ended: float
    in_place: bool


class LiveBook:
    """The book file the agent is linked to, and which version stood when."""

    def __init__(self, path: Path, versions: BookVersions) -> None:
        self.path = path
        self.versions = versions
        self.timeline: list[Installed] = []

    @property
    def current(self) -> int:
        return self.timeline[-1].version

    def install_first(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.versions.path(0), self.path)
        now = time.time()
        self.timeline.append(Installed(0, now, now, in_place=False))

    def replace(self, version: int, *, in_place: bool) -> None:
        data = self.versions.path(version).read_bytes()
        began = time.time()
        if in_place:
            _rewrite_in_place(self.path, data)
        else:
            _rename_over(self.path, data)
        self.timeline.append(Installed(version, began, time.time(), in_place))

    def digest(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def standing_between(self, start: float, end: float) -> set[int]:
        """Every version a read between ``start`` and ``end`` may have seen."""
        seen = set()
        for index, installed in enumerate(self.timeline):
            following = self.timeline[index + 1] if index + 1 < len(self.timeline) else None
            gone = following.ended if following else float("inf")
            if installed.began <= end and gone >= start:
                seen.add(installed.version)
        return seen


def _rename_over(book: Path, data: bytes) -> None:
    """As GnuCash saves: the new book written beside the old one, then renamed over it."""
    temporary = book.with_name(f".{book.name}.chaos-new")
    temporary.write_bytes(data)
    temporary.replace(book)


def _rewrite_in_place(book: Path, data: bytes) -> None:
    """The same file (same inode) overwritten a slice at a time, then cut to the new length."""
    step = max(len(data) // IN_PLACE_SLICES, 1)
    with book.open("r+b") as file:
        for start in range(0, len(data), step):
            file.write(data[start : start + step])
            file.flush()
            time.sleep(IN_PLACE_PAUSE_SECONDS)
        file.truncate(len(data))


# What the cloud serves, and what the engine says, in the same terms -------------------------

COMPARED_TYPES = {"chartOfAccounts": "accounts", "customers": "customers", "suppliers": "suppliers"}
"""The data types whose served records are compared with the engine, and their read paths."""


def served_view(data_type: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The cloud's records of ``data_type`` that are not flagged deleted, reduced to what the
    engine can say about each."""
    live = [r for r in records if not r.get("metadata", {}).get("isDeleted")]
    if data_type == "chartOfAccounts":
        return {r["id"]: (r["name"], round(float(r["currentBalance"]), 2)) for r in live}
    name = "customerName" if data_type == "customers" else "supplierName"
    return {r["id"]: (r[name], r["status"] == "Active") for r in live}


def engine_view(data_type: str, truth: dict[str, Any]) -> dict[str, Any]:
    if data_type == "chartOfAccounts":
        return {
            a["guid"]: (a["name"], round(float(Fraction(a["balance"])), 2))
            for a in truth["accounts"]
        }
    owners = truth["customers"] if data_type == "customers" else truth["vendors"]
    return {o["guid"]: (o["name"], o["active"]) for o in owners}


def describe_difference(served: dict[str, Any], expected: dict[str, Any]) -> str:
    """A short account of how two views differ, for a violation's message."""
    missing = sorted(set(expected) - set(served))
    extra = sorted(set(served) - set(expected))
    changed = sorted(k for k in set(served) & set(expected) if served[k] != expected[k])
    parts = []
    if missing:
        parts.append(f"missing {[expected[k] for k in missing[:3]]}")
    if extra:
        parts.append(f"not in the book {[served[k] for k in extra[:3]]}")
    if changed:
        parts.append("different " + ", ".join(f"{served[k]} != {expected[k]}" for k in changed[:3]))
    return "; ".join(parts) or "equal"
