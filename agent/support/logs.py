"""Logging: a rotating file in the log folder (for diagnostics ids) and concise stderr lines."""

from __future__ import annotations

import logging
import logging.handlers
import re
from io import TextIOWrapper
from pathlib import Path

from agent.support import redaction
from agent.support.config import LOG_LEVELS
from agent.support.private_files import create_private_file, make_private_dir

LOG_FILE_NAME = "connector.log"

# connector.log and its rotations (connector.log.1 .. .5); nothing else in the folder.
_LOG_NAME = re.compile(re.escape(LOG_FILE_NAME) + r"(\.\d+)?")


def setup_logging(log_dir: Path, *, verbose: bool = False, level: str = "INFO") -> Path:
    """Send agent logs to ``log_dir/connector.log`` (rotated) and to stderr; return the file.

    ``level`` is the saved setting (DEBUG, INFO, WARNING, ERROR); ``verbose`` means DEBUG."""
    if verbose or level not in LOG_LEVELS:
        level = "DEBUG" if verbose else "INFO"
    make_private_dir(log_dir)
    log_file = log_dir / LOG_FILE_NAME
    file_handler = PrivateLogFile(log_file, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    file_handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    console.setLevel(logging.DEBUG if verbose else logging.INFO)
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(file_handler)
    root.addHandler(console)
    # Both handlers, so a token never reaches the file or the screen.
    redaction.install(file_handler)
    redaction.install(console)
    # httpx logs every request line at INFO; our own lines say what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return log_file


class PrivateLogFile(logging.handlers.RotatingFileHandler):
    """The rotating log, each of its files created 0600: logging creates them with the umask's
    mode, and the log names the business's customers and books."""

    def _open(self) -> TextIOWrapper:
        create_private_file(Path(self.baseFilename))
        return super()._open()


def log_files(log_dir: Path) -> list[Path]:
    """The agent's log files in ``log_dir``, newest first; symlinks and other files left out."""
    if not log_dir.is_dir():
        return []
    found = [
        path
        for path in log_dir.iterdir()
        if _LOG_NAME.fullmatch(path.name) and path.is_file() and not path.is_symlink()
    ]
    return sorted(found, key=lambda path: (len(path.name), path.name))
