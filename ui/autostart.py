"""Start at login: one code path that says what to write on each OS, and a small step that
writes it. Linux gets an XDG autostart ``.desktop`` file, macOS a LaunchAgent plist, Windows a
value under the user's ``Run`` key; the text is built the same way for all three, so the tests
check exactly what each would write without touching a registry or launchd."""

from __future__ import annotations

import contextlib
import os
import plistlib
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agent.support.config import write_atomically

DESKTOP_FILE = "connector.desktop"
LAUNCH_AGENT_LABEL = "com.connector.tray"
RUN_KEY = r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Connector"


@dataclass(frozen=True)
class AutostartEntry:
    """Where the entry goes and its exact text (for Windows, a ``.reg`` file's text)."""

    platform: str  # "linux", "darwin" or "win32"
    location: str  # a file path, or the registry key
    text: str
    command: tuple[str, ...]


def launch_command() -> tuple[str, ...]:
    """How this installation starts the tray app: the frozen executable, or this Python."""
    if getattr(sys, "frozen", False):
        return (sys.executable,)
    return (sys.executable, "-m", "connector")


def _family(platform: str) -> str:
    if platform.startswith("win"):
        return "win32"
    if platform == "darwin":
        return "darwin"
    return "linux"


def autostart_entry(
    command: tuple[str, ...],
    *,
    platform: str = sys.platform,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> AutostartEntry:
    env = os.environ if environ is None else environ
    home = home or Path.home()
    family = _family(platform)
    if family == "win32":
        return AutostartEntry(family, RUN_KEY, _reg_text(command), command)
    if family == "darwin":
        path = home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
        return AutostartEntry(family, str(path), _plist_text(command), command)
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    path = config_home / "autostart" / DESKTOP_FILE
    return AutostartEntry(family, str(path), _desktop_text(command), command)


def _desktop_text(command: tuple[str, ...]) -> str:
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=Connector",
            "Comment=Keeps your GnuCash books in sync with the cloud",
            f"Exec={shlex.join(command)}",
            "Icon=connector",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )


def _plist_text(command: tuple[str, ...]) -> str:
    body = {
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "ProcessType": "Interactive",
    }
    return plistlib.dumps(body).decode("utf-8")


def _windows_command(command: tuple[str, ...]) -> str:
    return subprocess.list2cmdline(list(command))


def _reg_text(command: tuple[str, ...]) -> str:
    value = _windows_command(command).replace("\\", "\\\\").replace('"', '\\"')
    return f'Windows Registry Editor Version 5.00\r\n\r\n[{RUN_KEY}]\r\n"{RUN_VALUE}"="{value}"\r\n'


def apply(entry: AutostartEntry, enabled: bool) -> None:
    """Write or remove ``entry``. On Windows through ``winreg`` (the same command string the
    ``.reg`` text holds); elsewhere a file, written atomically."""
    if entry.platform == "win32":  # pragma: no cover - only runs on Windows
        _apply_windows(entry, enabled)
        return
    path = Path(entry.location)
    if not enabled:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, entry.text)


def _apply_windows(entry: AutostartEntry, enabled: bool) -> None:  # pragma: no cover
    # The platform check also tells mypy, on Linux, to skip the Windows-only module.
    if sys.platform != "win32":
        raise OSError("The Run key exists only on Windows.")
    else:
        import winreg

        key_path = RUN_KEY.split("\\", 1)[1]
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key_path, 0, winreg.KEY_SET_VALUE) as key:
            if enabled:
                command = _windows_command(entry.command)
                winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, command)
            else:
                with contextlib.suppress(FileNotFoundError):
                    winreg.DeleteValue(key, RUN_VALUE)
