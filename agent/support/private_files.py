"""Connector's files are its user's alone: files 0600, folders 0700, whatever the umask.

Its folders hold the business's ledger (snapshots of the book, mapped records, pages waiting to
be sent), its state and its log, so nobody else on the PC may read them. Folders are created
0700, each missing level (as the XDG base directory spec asks); SQLite files and log files are
created 0600 before anything opens them (SQLite then gives a database's ``-wal`` and ``-shm``
files the database's own mode); atomic writes go through ``mkstemp``, which creates 0600. An
install from before this was so is tightened at start (:func:`tighten`).

On Windows and macOS the platformdirs folders (under ``%LOCALAPPDATA%``, ``~/Library``) are the
user's own already, by the system's defaults; the chmod calls are harmless there (on Windows
they can only set or clear the read-only flag, and these modes leave files writable).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def make_private_dir(path: Path) -> Path:
    """Create ``path`` and every missing folder above it, each 0700 (an existing folder is left
    as it is: :func:`tighten` sees to those); returns ``path``."""
    missing: list[Path] = []
    folder = path
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:
            continue  # made meanwhile by another thread, which makes it private too
        folder.chmod(PRIVATE_FOLDER)  # the umask may have taken more than group and others
    return path


def create_private_file(path: Path) -> Path:
    """Make sure ``path`` is a file only its owner may read and write, before a library that
    creates files with the umask's mode (SQLite, logging) opens it; returns ``path``."""
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE)
    os.close(descriptor)
    path.chmod(PRIVATE_FILE)
    return path


def tighten(folders: Iterable[Path]) -> None:
    """Make everything under ``folders`` (Connector's own) private: folders 0700, files 0600.
    Symlinks are neither changed nor followed; what cannot be changed is logged and left."""
    for top in folders:
        if top.is_symlink() or not top.is_dir():
            continue
        _chmod(top, PRIVATE_FOLDER)
        for folder, subfolders, files in os.walk(top):  # never descends into a symlink
            for name in subfolders:
                _chmod(Path(folder, name), PRIVATE_FOLDER)
            for name in files:
                _chmod(Path(folder, name), PRIVATE_FILE)


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.is_symlink() or (path.lstat().st_mode & 0o777) == mode:
            return
        path.chmod(mode)
    except OSError as error:
        log.warning("Could not make %s private: %s", path, error)
