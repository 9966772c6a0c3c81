"""A proxy's password lives in the OS keyring, never in ``config.json``.

The proxy setting is kept in the config without its password; its user name stays (so the user
sees which account the proxy signs in as), and the password goes to the credential store under
an entry named by that user, host and port. It is put back into the URL only in memory, when a
connection is made (:func:`with_password`). A password from before this was so, found in the
config, is moved the same way (:func:`keep_password_apart`).
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit

from agent.support.config import SYSTEM_PROXY
from agent.support.credentials import CredentialStore


def split_password(proxy: str | None) -> tuple[str | None, str | None]:
    """``proxy`` without its password, and the password (None when it has none)."""
    if proxy is None or proxy == SYSTEM_PROXY:
        return proxy, None
    parts = urlsplit(proxy)
    if parts.password is None:
        return proxy, None
    return urlunsplit(parts._replace(netloc=_netloc(proxy, with_password=None))), unquote(
        parts.password
    )


def with_password(proxy: str | None, store: CredentialStore) -> str | None:
    """``proxy`` as a connection needs it: with the password the keyring keeps for its user."""
    if proxy is None or proxy == SYSTEM_PROXY:
        return proxy
    parts = urlsplit(proxy)
    if parts.username is None or parts.password is not None:
        return proxy
    password = store.load_proxy_password(entry_name(proxy))
    if password is None:
        return proxy  # the proxy will say it wants one; connectivity words that for the user
    return add_password(proxy, password)


def add_password(proxy: str, password: str) -> str:
    """``proxy`` (a URL with a user name) with ``password`` written into it."""
    parts = urlsplit(proxy)
    return urlunsplit(parts._replace(netloc=_netloc(proxy, with_password=password)))


def keep_password_apart(proxy: str | None, store: CredentialStore) -> str | None:
    """Save ``proxy``'s password (if it has one) to the keyring; return the proxy without it,
    which is what the config may keep."""
    bare, password = split_password(proxy)
    if bare is not None and password is not None:
        store.save_proxy_password(entry_name(bare), password)
    return bare


def entry_name(proxy: str) -> str:
    """The keyring entry of a proxy's password: its user, host and port."""
    parts = urlsplit(proxy)
    return f"{unquote(parts.username or '')}@{parts.hostname}:{parts.port or ''}"


def _netloc(proxy: str, *, with_password: str | None) -> str:
    parts = urlsplit(proxy)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address goes back between brackets
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    if parts.username is None:
        return host
    user = quote(unquote(parts.username), safe="")
    if with_password is None:
        return f"{user}@{host}"
    return f"{user}:{quote(with_password, safe='')}@{host}"
