"""A proxy's password is kept in the keyring and put back into the URL only to connect."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.facade import Connector
from agent.support.config import SYSTEM_PROXY, Paths, load_config
from agent.support.proxy_secret import add_password, entry_name, split_password, with_password
from tests.support.memory_keyring import memory_store


@pytest.mark.parametrize(
    ("proxy", "bare", "password"),
    [
        ("http://ann:s3cret@proxy.example:3128", "http://ann@proxy.example:3128", "s3cret"),
        # Characters a password may hold, written percent-encoded in the URL.
        (
            "http://ann:p%40ss%3Aw%2Fd%25@proxy.example:3128",
            "http://ann@proxy.example:3128",
            "p@ss:w/d%",
        ),
        ("http://ann%40corp:pw@[2001:db8::1]:8080", "http://ann%40corp@[2001:db8::1]:8080", "pw"),
        ("socks5://ann:pw@proxy.example", "socks5://ann@proxy.example", "pw"),
        ("http://ann@proxy.example:3128", "http://ann@proxy.example:3128", None),
        ("http://proxy.example:3128", "http://proxy.example:3128", None),
        (SYSTEM_PROXY, SYSTEM_PROXY, None),
        (None, None, None),
    ],
)
def test_a_proxy_url_is_split_from_its_password_and_joined_again(
    proxy: str | None, bare: str | None, password: str | None
) -> None:
    assert split_password(proxy) == (bare, password)
    if bare is not None and password is not None:
        assert split_password(add_password(bare, password)) == (bare, password)


def test_the_password_comes_from_the_keyring_only_for_its_own_user_and_proxy() -> None:
    store = memory_store()
    store.save_proxy_password(entry_name("http://ann@proxy.example:3128"), "p@ss")
    assert with_password("http://ann@proxy.example:3128", store) == (
        "http://ann:p%40ss@proxy.example:3128"
    )
    # Another user, another port, or no user at all: not this password.
    assert with_password("http://bob@proxy.example:3128", store) == "http://bob@proxy.example:3128"
    assert with_password("http://ann@proxy.example:8080", store) == "http://ann@proxy.example:8080"
    assert with_password("http://proxy.example:3128", store) == "http://proxy.example:3128"


def test_the_settings_never_keep_a_proxy_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = memory_store()
    connector = Connector(Paths.resolve({"CONNECTOR_HOME": str(tmp_path)}))
    monkeypatch.setattr(connector, "_credential_store", lambda _kind: store)
    connector.set_proxy("http://ann:s3cret@proxy.example:3128")
    assert load_config(connector.paths).proxy == "http://ann@proxy.example:3128"
    assert b"s3cret" not in connector.paths.config_file.read_bytes()
    assert with_password(connector.config().proxy, store) == "http://ann:s3cret@proxy.example:3128"
    # Saving the settings again as shown (without the password) keeps the one in the keyring.
    connector.set_proxy("http://ann@proxy.example:3128")
    assert with_password(connector.config().proxy, store) == "http://ann:s3cret@proxy.example:3128"
