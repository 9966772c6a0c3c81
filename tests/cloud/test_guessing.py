"""The cloud against guessing: the API key, link codes, and what a captured cookie gives away."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from pathlib import Path

import pytest

from cloud.portal import session as sessions
from cloud.settings import MAKE_AN_API_KEY, CloudSettings, SettingsRefused
from tests.conftest import API_KEY, CloudHarness


def test_a_captured_anonymous_cookie_does_not_verify_with_a_key_derived_from_the_api_key(
    cloud: CloudHarness,
) -> None:
    cloud.http.get("/portal/sign-in")
    captured = cloud.http.cookies[sessions.COOKIE]
    # How the key was derived before: anyone holding a cookie could test API-key guesses
    # against its signature offline.
    from_api_key = hmac.new(
        API_KEY.encode(), b"connector portal session v1", hashlib.sha256
    ).digest()
    assert sessions.decode(captured, from_api_key, cloud.clock()) is None
    # It is signed with a key the server keeps to itself.
    server_key = sessions.secret_of(cloud.services)
    assert sessions.decode(captured, server_key, cloud.clock()) is not None


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("Zq", "it has 2 characters; it needs at least 32"),
        ("ab" * 20, "it uses only 2 different characters; it needs at least 10"),
    ],
)
def test_a_weak_api_key_is_refused_at_start_up_saying_how_to_make_one(
    tmp_path: Path, key: str, problem: str
) -> None:
    database = tmp_path / "cloud.db"
    command = [sys.executable, "-m", "cloud.cli", "serve", "--database", f"sqlite:///{database}"]
    started = subprocess.run(
        [*command, "--api-key", key], capture_output=True, text=True, timeout=60, check=False
    )
    assert started.returncode == 2
    assert f"The API key is too weak: {problem}" in started.stderr
    assert MAKE_AN_API_KEY in started.stderr
    assert key not in started.stderr.replace(MAKE_AN_API_KEY, "")
    assert not database.exists()  # refused before anything was made
    with pytest.raises(SettingsRefused, match="too weak"):
        CloudSettings(database_url=f"sqlite:///{database}", api_key=key, public_url="http://x")
