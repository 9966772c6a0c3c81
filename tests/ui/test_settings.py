"""The tray's own settings file and the start-at-login entries (no Qt needed)."""

from __future__ import annotations

import plistlib
from pathlib import Path

from ui import autostart
from ui.settings import UiSettings, load_ui_settings, save_ui_settings, settings_path

COMMAND = ("/opt/connector/bin/python", "-m", "connector")


def test_settings_round_trip_and_defaults(tmp_path: Path) -> None:
    assert load_ui_settings(tmp_path / "config") == UiSettings()
    chosen = UiSettings(notifications="errors", start_at_login=True)
    save_ui_settings(tmp_path / "config", chosen)
    assert load_ui_settings(tmp_path / "config") == chosen
    assert [p.name for p in (tmp_path / "config").iterdir()] == ["tray.json"]  # no temp left


def test_a_broken_or_foreign_file_falls_back_to_defaults(tmp_path: Path) -> None:
    settings_path(tmp_path).write_text("{not json")
    assert load_ui_settings(tmp_path) == UiSettings()
    settings_path(tmp_path).write_text('{"notifications": "loud", "log_level": "INFO"}')
    assert load_ui_settings(tmp_path) == UiSettings()


def test_linux_writes_an_xdg_autostart_file(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    entry = autostart.autostart_entry(COMMAND, platform="linux", home=tmp_path, environ=env)
    assert entry.location == str(tmp_path / "xdg" / "autostart" / "connector.desktop")
    autostart.apply(entry, True)
    text = Path(entry.location).read_text()
    assert text.startswith("[Desktop Entry]\nType=Application\nName=Connector\n")
    assert "Exec=/opt/connector/bin/python -m connector\n" in text
    autostart.apply(entry, False)
    assert not Path(entry.location).exists()
    autostart.apply(entry, False)  # already off: harmless
    default = autostart.autostart_entry(COMMAND, platform="linux", home=tmp_path, environ={})
    assert default.location == str(tmp_path / ".config" / "autostart" / "connector.desktop")


def test_macos_would_write_a_launch_agent(tmp_path: Path) -> None:
    entry = autostart.autostart_entry(COMMAND, platform="darwin", home=tmp_path, environ={})
    assert entry.location == str(tmp_path / "Library/LaunchAgents/com.connector.tray.plist")
    body = plistlib.loads(entry.text.encode())
    assert body == {
        "Label": "com.connector.tray",
        "ProgramArguments": list(COMMAND),
        "RunAtLoad": True,
        "ProcessType": "Interactive",
    }


def test_windows_would_write_the_run_key(tmp_path: Path) -> None:
    command = (r"C:\Program Files\Connector\connector.exe",)
    entry = autostart.autostart_entry(command, platform="win32", home=tmp_path, environ={})
    assert entry.location == r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run"
    assert entry.text == (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        r"[HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run]" + "\r\n"
        r'"Connector"="\"C:\\Program Files\\Connector\\connector.exe\""' + "\r\n"
    )
