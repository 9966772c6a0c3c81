"""The tray's icons: one SVG per :class:`~agent.status.status_rules.Condition`.

The files are in ``resources/icons``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

from agent.status.status_rules import Condition

ICON_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons"


def icon_path(condition: Condition) -> Path:
    return ICON_DIR / f"{condition.value}.svg"


@cache
def icon_for(condition: Condition) -> QIcon:
    """The icon for ``condition``; cached, because QIcon re-renders an SVG for every size."""
    path = icon_path(condition)
    if not path.is_file():  # QIcon would silently show nothing: name the missing file instead
        raise FileNotFoundError(f"The tray icon {path} is missing from this installation.")
    return QIcon(str(path))


def app_icon() -> QIcon:
    return icon_for(Condition.IDLE)
