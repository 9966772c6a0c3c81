"""Credentials live in the OS keyring; without one, linking stops and says how to fix it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import CredentialStoreUnavailable
from agent.support.credentials import open_credential_store
from tests.support.keyring_session import KeyringSession
from tests.support.paths import SAMPLE_BOOKS

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def test_without_a_keyring_the_store_refuses_and_names_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with pytest.raises(CredentialStoreUnavailable) as refused:
        open_credential_store("keyring", tmp_path / "credentials.json")
    assert "gnome-keyring" in refused.value.message
    assert "--insecure-file-store" in refused.value.message
    assert not (tmp_path / "credentials.json").exists()


def test_link_without_a_keyring_stops_before_spending_the_code(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, **NO_KEYRING, "CONNECTOR_HOME": str(home)}
    # Nothing listens on this port: the code must not even be sent.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli",
            "link",
            "http://127.0.0.1:9/link/ABCD-EFGH",
            "--book",
            str(SAMPLE_BOOKS["sqlite"]),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "No safe place to keep the connection's credential" in result.stderr
    assert "--insecure-file-store" in result.stderr
    assert not (home / "config" / "config.json").exists()
    assert not (home / "config" / "credentials.json").exists()


def test_the_file_store_is_private_and_only_on_request(tmp_path: Path) -> None:
    store = open_credential_store("file", tmp_path / "credentials.json")
    assert store.insecure
    store.save("conn-1", "s3cret")
    assert store.load("conn-1") == "s3cret"
    assert (tmp_path / "credentials.json").stat().st_mode & 0o777 == 0o600
    store.delete("conn-1")
    assert store.load("conn-1") is None


def test_a_real_os_keyring_keeps_the_secret(tmp_path: Path) -> None:
    probe = (
        "from pathlib import Path\n"
        "from agent.support.credentials import open_credential_store\n"
        "store = open_credential_store('keyring', Path('unused'))\n"
        "store.save('conn-1', 's3cret')\n"
        "print(store.backend_name, store.load('conn-1'))\n"
    )
    with KeyringSession(tmp_path / "user") as session:
        result = subprocess.run(
            [sys.executable, "-c", probe],
            env=session.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    assert result.stdout.split() == ["keyring.backends.SecretService.Keyring", "s3cret"]
