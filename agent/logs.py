"""Logging: a rotating file in the log folder (for diagnostics ids) and concise stderr lines."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FILE_NAME = "connector.log"


def setup_logging(log_dir: Path, *, verbose: bool = False) -> Path:
    """Send agent logs to ``log_dir/connector.log`` (rotated) and to stderr; return the file."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / LOG_FILE_NAME
    file_handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=5_000_000, backupCount=5, encoding="utf-8"
    )
    file_handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    console.setLevel(logging.DEBUG if verbose else logging.INFO)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.addHandler(file_handler)
    root.addHandler(console)
    # httpx logs every request line at INFO; our own lines say what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return log_file
