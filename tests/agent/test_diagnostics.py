"""The diagnostics bundle: logs and versions in, every secret and all ledger data out."""

from __future__ import annotations

import secrets
import zipfile
from pathlib import Path

import pytest

from agent.commands import diagnostics
from agent.commands.diagnostics import build_bundle
from agent.commands.doctor import Check
from agent.support.config import AgentConfig, Link, Paths, save_config
from agent.support.redaction import MASK, register
from protocol.version import __version__

LEDGER_MARKER = b"HARBOR-LANE-LEDGER-4417"


def _token() -> str:
    return secrets.token_urlsafe(32)


def _members(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _config() -> AgentConfig:
    link = Link(
        cloud_url="https://cloud.example",
        company_id="co-1",
        company_name="Harbor Lane",
        connection_id="conn-1",
        book_path="/home/ann/Books/Harbor Lane.gnucash",
        linked_at="2026-01-31T09:00:00.000000Z",
    )
    return AgentConfig(links=(link,))


def _ledger_files(data_dir: Path) -> None:
    """What the data folder really holds: book snapshots, staged records, the outbox."""
    staging = data_dir / "staging" / "dataset-1"
    staging.mkdir(parents=True)
    (staging / "book-abc.snapshot").write_bytes(b"SQLite format 3\x00" + LEDGER_MARKER)
    (staging / "records-0.json").write_bytes(b'[{"name": "' + LEDGER_MARKER + b'"}]')
    (data_dir / "state.db").write_bytes(LEDGER_MARKER)
    (data_dir / "connector.log").write_bytes(LEDGER_MARKER)  # even a log-like name there


def test_the_bundle_holds_redacted_logs_and_versions_and_nothing_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "logs")
    config = _config()
    save_config(paths, config)
    registered, bearer, refresh, stored, proxy_password = (_token() for _ in range(5))
    register(registered)
    # The plain-file credential store, which must never travel.
    (paths.config_dir / "credentials.json").write_text(f'{{"Connector": {{"conn-1": "{stored}"}}}}')
    paths.log_dir.mkdir()
    (paths.log_dir / "connector.log").write_text(
        f"INFO agent.cloud_api.tokens: accepted {registered}\n"
        f"DEBUG httpx: headers {{'authorization': 'Bearer {bearer}'}}\n"
        f"WARNING agent.poller: retrying after Bearer {bearer} was refused\n"
        f"ERROR agent.facade: link failed\nTraceback (most recent call last):\n"
        f'RuntimeError: {{"refreshToken": "{refresh}"}}\n',
        encoding="utf-8",
    )
    # An older log, written before redaction existed, with the stored refresh token in it.
    (paths.log_dir / "connector.log.1").write_text(f"saved {stored}\n", encoding="utf-8")
    (paths.log_dir / "Harbor Lane.gnucash").write_bytes(LEDGER_MARKER)  # not a log: stays out
    _ledger_files(paths.data_dir)
    monkeypatch.setenv("HTTPS_PROXY", f"http://ann:{proxy_password}@proxy.corp.example:3128")
    checks = [Check("Harbor Lane: clock", False, "10 minutes behind.", "Set the clock.")]

    bundle = build_bundle(
        paths, config, tmp_path / "out" / "bundle.zip", checks=checks, secrets=[stored]
    )

    assert bundle == tmp_path / "out" / "bundle.zip"
    members = _members(bundle)
    assert sorted(members) == [
        "README.txt",
        "config.json",
        "logs/connector.log",
        "logs/connector.log.1",
        "self-test.txt",
        "versions.txt",
    ]
    for name, content in members.items():
        for value in (registered, bearer, refresh, stored, proxy_password):
            assert value.encode() not in content, f"{name} leaks a secret"
        assert LEDGER_MARKER not in content, f"{name} holds ledger data"
    log = members["logs/connector.log"].decode()
    assert f"accepted {MASK}" in log and f"retrying after Bearer {MASK} was refused" in log
    assert "Traceback (most recent call last):" in log
    assert members["logs/connector.log.1"].decode() == f"saved {MASK}\n"
    assert b"Harbor Lane" in members["config.json"]
    versions = members["versions.txt"].decode()
    assert f"Connector {__version__}" in versions
    for package in ("httpx", "keyring", "PySide6-essentials", "SQLAlchemy"):
        assert f"  {package} " in versions
    assert "Python 3." in versions
    assert "proxy.corp.example:3128" in versions
    assert b"FAIL  Harbor Lane: clock" in members["self-test.txt"]


def test_nothing_from_the_data_folder_when_the_logs_live_inside_it(tmp_path: Path) -> None:
    # platformdirs on Windows puts the log folder inside the data folder (...\Connector\Logs).
    data_dir = tmp_path / "Connector"
    paths = Paths(tmp_path / "config", data_dir, data_dir / "Logs")
    _ledger_files(data_dir)
    paths.log_dir.mkdir()
    (paths.log_dir / "connector.log").write_text("INFO started\n", encoding="utf-8")
    (paths.log_dir / "staging").mkdir()
    (paths.log_dir / "staging" / "connector.log").write_bytes(LEDGER_MARKER)

    members = _members(build_bundle(paths, AgentConfig(), tmp_path))

    assert members["logs/connector.log"] == b"INFO started\n"
    assert not any(LEDGER_MARKER in content for content in members.values())
    assert b"self-test.txt  the self-test's findings (not run" in members["README.txt"]
    assert "self-test.txt" not in members


def test_a_folder_destination_gets_a_dated_name_and_no_temporary_files(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "logs")
    out = tmp_path / "Desktop"
    out.mkdir()
    bundle = build_bundle(paths, AgentConfig(), out)
    assert bundle.parent == out
    assert bundle.name.startswith("connector-diagnostics-") and bundle.suffix == ".zip"
    assert [p.name for p in out.iterdir()] == [bundle.name]
    assert zipfile.ZipFile(bundle).testzip() is None


def test_a_failed_write_leaves_the_previous_bundle_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "logs")
    target = tmp_path / "bundle.zip"
    target.write_bytes(b"the previous bundle")

    def broken(_config: AgentConfig) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(diagnostics, "versions_text", broken)
    with pytest.raises(OSError, match="disk full"):
        build_bundle(paths, AgentConfig(), target)
    assert target.read_bytes() == b"the previous bundle"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
