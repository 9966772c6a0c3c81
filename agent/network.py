"""How the agent reaches the cloud: TLS always verified, plain http only on this machine.

Proxies come from the environment (``HTTPS_PROXY``, ``NO_PROXY``), which httpx honours; an extra
CA bundle can be trusted for corporate TLS inspection, on top of the usual certificates.
"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import certifi

from agent.errors import ConnectorError


class InsecureCloudUrl(ConnectorError):
    title = "Refusing an insecure connection"


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
