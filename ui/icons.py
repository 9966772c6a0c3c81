"""The tray's icons: one SVG per :class:`~ui.model.TrayState`, in ``resources/icons``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

from ui.model import TrayState

ICON_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons"


def icon_path(state: TrayState) -> Path:
    return ICON_DIR / f"{state.value}.svg"


@cache
def icon_for(state: TrayState) -> QIcon:
    """The icon for ``state``; cached, because QIcon re-renders an SVG for every size asked."""
    path = icon_path(state)
    if not path.is_file():  # QIcon would silently show nothing: name the missing file instead
        raise FileNotFoundError(f"The tray icon {path} is missing from this installation.")
    return QIcon(str(path))


def app_icon() -> QIcon:
    return icon_for(TrayState.IDLE)
