"""Chains of parents that lead back to where they started, which no GnuCash tree has.

Accounts have parent accounts, and GnuCash's per-document copies of a tax table name the table
they copy. Code that climbs from a child to the top of such a tree would climb a loop for ever,
and code that walks down from the top would never finish: a book with a loop is refused
before either runs.
"""

from __future__ import annotations

from collections.abc import Mapping


def first_loop(parents: Mapping[str, str | None]) -> list[str] | None:
    """The first chain of parents that leads back to where it started (in order), if any.

    GnuCash's trees (accounts, tax tables and their copies) have none, and code that climbs
    from a child to its root would climb one for ever: a book is refused before that. Each
    record is visited once, so this is linear in the number of records.
    """
    ends: set[str] = set()  # records whose chain of parents is known to end
    for start in parents:
        path: list[str] = []
        on_path: set[str] = set()
        guid: str | None = start
        while guid is not None and guid in parents and guid not in ends:
            if guid in on_path:
                return path[path.index(guid) :]
            on_path.add(guid)
            path.append(guid)
            guid = parents[guid]
        ends.update(path)
    return None
