"""Scratch SQLite files: data Connector can rebuild from the book if lost, so kept cheaply."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.support.private_files import create_private_file


def open_scratch(path: Path) -> sqlite3.Connection:
    """A new connection to ``path`` with no rollback journal and no waiting for the disk: a
    crash may leave the file damaged, which is fine for a file that is rebuilt, never read
    after a restart."""
    db = sqlite3.connect(create_private_file(path))
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    return db
