"""Connector's own files: named here, and deleted only inside Connector's own folders.

Nothing that comes over the network names a file. The cloud's ids are checked on arrival
(canonical UUIDs, :mod:`protocol.agent_api`), and even so the folder of a link or a dataset is
named from its id by a digest (:func:`link_folder_name`, :func:`dataset_folder_name`): letters
and digits of a fixed length, never a path, ``..`` or an absolute name, whatever an older
version kept in its state or its config.

Every file or folder the agent deletes goes through :func:`remove_inside`, which deletes only
what lies strictly inside the folder it is given, and never follows a symlink out of it.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

_DIGEST_CHARACTERS = 24  # 96 bits: no two ids of one agent share a folder


def link_folder_name(connection_id: str) -> str:
    """The name of a link's working folder (in the staging folder)."""
    return _local_name("link", connection_id)


def dataset_folder_name(dataset_id: str) -> str:
    """The name of a dataset's working folder (in its link's folder)."""
    return _local_name("dataset", dataset_id)


def credential_lock_name(connection_id: str) -> str:
    """The name of the lock file around a link's credential (in the locks folder)."""
    return _local_name("credential", connection_id) + ".lock"


def _local_name(kind: str, remote_id: str) -> str:
    digest = hashlib.sha256(remote_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{kind}-{digest[:_DIGEST_CHARACTERS]}"


def remove_inside(root: Path, path: Path) -> bool:
    """Delete ``path`` (a file, or a folder with everything in it) if it lies strictly inside
    ``root``; True when it is gone (or never was there).

    Refused, with an error logged and False returned: ``root`` itself, anything outside it once
    the folders above ``path`` are resolved (``..``, an absolute path elsewhere, a folder that
    is a symlink out), and ``path`` when it is itself a symlink pointing out of ``root``. A
    symlink is only ever removed as a link; inside a folder being deleted, symlinks are removed
    and never followed (``shutil.rmtree`` guarantees that where the platform can).
    """
    real_root = root.resolve()
    entry = path.parent.resolve() / path.name  # the folders above resolved, the entry not
    if path.name in ("", ".", "..") or not _strictly_inside(entry, real_root):
        log.error("Refused to delete %s: it is not inside %s", path, real_root)
        return False
    try:
        if entry.is_symlink():
            if not _strictly_inside(entry.resolve(), real_root):
                log.error("Refused to delete %s: a symlink out of %s", path, real_root)
                return False
            entry.unlink()
        elif entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink(missing_ok=True)
    except FileNotFoundError:
        pass  # gone meanwhile: what was asked for
    except OSError as error:
        log.warning("Could not delete %s: %s", entry, error)
        return False
    return True


def _strictly_inside(path: Path, root: Path) -> bool:
    return path != root and path.is_relative_to(root)
