"""How the agent reaches the cloud: TLS always verified, plain http only on this machine.

Proxies come from the environment (``HTTPS_PROXY``, ``NO_PROXY``), which httpx honours, unless
the settings name a proxy URL or say "no proxy" (:func:`proxy_options`); an extra CA bundle can
be trusted for corporate TLS inspection, on top of the usual certificates.
"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlsplit

import certifi

from agent.errors import ConnectorError
from agent.support.config import SYSTEM_PROXY

PROXY_SCHEMES = ("http", "https", "socks5")


class InsecureCloudUrl(ConnectorError):
    title = "Refusing an insecure connection"


class BadProxy(ConnectorError):
    title = "That proxy address cannot be used"


class ProxyOptions(TypedDict):
    proxy: str | None
    trust_env: bool


def check_proxy(proxy: str | None) -> str | None:
    """``proxy`` as the settings keep it: None (no proxy), "system", or a proxy URL."""
    if proxy is None or proxy == SYSTEM_PROXY:
        return proxy
    text = proxy.strip()
    parts = urlsplit(text)
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        raise BadProxy(
            f"'{proxy}' is not a proxy address. Write it as http://proxy.example:3128 (ask "
            "whoever looks after your network), or choose the system's proxy settings."
        )
    return text


def proxy_options(proxy: str | None) -> ProxyOptions:
    """The httpx client options for a proxy setting: the environment's proxy for "system",
    exactly this proxy for a URL, and no proxy at all (the environment ignored) for None."""
    if proxy == SYSTEM_PROXY:
        return {"proxy": None, "trust_env": True}
    return {"proxy": check_proxy(proxy), "trust_env": False}


def require_secure(url: str) -> None:
    """Refuse ``http://`` to anything but this machine: credentials would cross the network
    in the clear."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and is_loopback(parts.hostname or ""):
        return
    raise InsecureCloudUrl(
        f"{url} is not an https address. Connector only talks to the cloud over https "
        "(plain http is allowed only to this computer, for testing). Ask for an https link."
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The system's trusted certificates (via certifi), plus ``ca_bundle`` when given."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle:
        bundle = Path(ca_bundle).expanduser()
        if not bundle.is_file():
            raise ConnectorError(
                f"The extra CA bundle {bundle} does not exist. Fix the path in the settings, "
                "or remove it.",
                title="Certificate bundle missing",
            )
        context.load_verify_locations(cafile=str(bundle))
    return context
