"""The tray's own settings (notifications, start at login), in ``tray.json`` beside the agent's
config (the log level and the proxy are the agent's, set through the facade). The agent never
reads them, so they stay out of its schema; the file is written atomically, like the agent's,
so a crash leaves the old or the new settings whole."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal, get_args

from agent.support.config import write_atomically
from agent.support.private_files import make_private_dir

log = logging.getLogger(__name__)

SETTINGS_FILE = "tray.json"
SCHEMA_VERSION = 1

NotificationLevel = Literal["all", "errors", "none"]
NOTIFICATION_LEVELS: tuple[NotificationLevel, ...] = get_args(NotificationLevel)
NOTIFICATION_TEXT: dict[NotificationLevel, str] = {
    "all": "All (problems, and when they are solved)",
    "errors": "Only problems I must act on",
    "none": "None",
}


@dataclass(frozen=True)
class UiSettings:
    notifications: NotificationLevel = "all"
    start_at_login: bool = False
    schema_version: int = SCHEMA_VERSION


def settings_path(config_dir: Path) -> Path:
    return config_dir / SETTINGS_FILE


def load_ui_settings(config_dir: Path) -> UiSettings:
    """The saved settings; defaults for a missing file, and for one that cannot be read (a
    broken settings file must not keep the tray from starting: it is logged and replaced on
    the next save)."""
    path = settings_path(config_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UiSettings()
    except (OSError, ValueError) as error:
        log.warning("Ignoring the unreadable tray settings in %s: %s", path, error)
        return UiSettings()
    settings = UiSettings()
    if not isinstance(raw, dict):
        return settings
    if raw.get("notifications") in NOTIFICATION_LEVELS:
        settings = replace(settings, notifications=raw["notifications"])
    if isinstance(raw.get("start_at_login"), bool):
        settings = replace(settings, start_at_login=raw["start_at_login"])
    return settings


def save_ui_settings(config_dir: Path, settings: UiSettings) -> None:
    make_private_dir(config_dir)
    body = json.dumps(asdict(settings), indent=2, sort_keys=True)
    write_atomically(settings_path(config_dir), body)
