"""How the reference cloud is configured: from the command line, or directly in tests."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

# The API key is the one secret that opens everything; a short or repetitive one falls to
# guessing whatever the throttle allows. 32 characters of a random alphabet are far beyond that.
API_KEY_MIN_LENGTH = 32
API_KEY_MIN_DISTINCT = 10  # "aaaa..." or "abababab..." is long but not random
MAKE_AN_API_KEY = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


class SettingsRefused(ValueError):
    """A setting the cloud will not start with; ``title`` and ``message`` say what to do."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(f"{title}: {message}")
        self.title = title
        self.message = message


MIB = 1024 * 1024


@dataclass(frozen=True)
class CloudSettings:
    database_url: str
    api_key: str = field(repr=False)
    public_url: str  # where people and agents reach this server; link URLs start with it
    max_poll_wait_seconds: float = 25.0
    lease_seconds: float = 60.0  # how long a claimed dataset stays the agent's without word
    access_token_ttl_seconds: float = 3600.0
    refresh_token_ttl_seconds: float = 90 * 24 * 3600.0
    sweep_seconds: float = 5.0  # how often leases, expiries and schedules are checked
    # Waits between webhook delivery attempts; None = the standard schedule (5 s ... 10 h).
    webhook_retry_seconds: tuple[float, ...] | None = None
    # Reverse proxies (addresses or networks) whose X-Forwarded-For names the real client;
    # empty: the peer is the client, and the header is ignored.
    trusted_proxies: tuple[str, ...] = ()

    # Hosts (names or addresses) webhooks may go to even though they are, or resolve to,
    # private, loopback or other non-public addresses: consumers on an internal network.
    webhook_allowed_hosts: tuple[str, ...] = ()

    # What one caller may make the cloud read, hold or answer; refused with 413 beyond. The
    # agent's pages are 500 records (about 0.3 MB), so the defaults leave it ample room.
    max_request_bytes: int = 1 * MIB  # any request body but a page of records (JSON, forms)
    max_page_bytes: int = 16 * MIB  # one uploaded page of records
    max_page_records: int = 5_000  # records in one page
    max_pages: int = 100_000  # pages in one dataset's upload

    def __post_init__(self) -> None:
        check_api_key(self.api_key)
        for proxy in self.trusted_proxies:
            check_trusted_proxy(proxy)


def check_trusted_proxy(proxy: str) -> None:
    """An address or a network: a name could resolve to anything, so it is refused."""
    try:
        ipaddress.ip_network(proxy, strict=False)
    except ValueError:
        raise SettingsRefused(
            "A trusted proxy is not an address",
            f"'{proxy}' is neither an IP address nor a network (such as 10.0.0.5 or "
            "10.0.0.0/24); give the address the proxy connects to this server from.",
        ) from None


def check_api_key(api_key: str) -> None:
    """Refuse an API key that could be guessed; the message never repeats the key."""
    if len(api_key) < API_KEY_MIN_LENGTH:
        problem = f"it has {len(api_key)} characters; it needs at least {API_KEY_MIN_LENGTH}"
    elif len(set(api_key)) < API_KEY_MIN_DISTINCT:
        problem = (
            f"it uses only {len(set(api_key))} different characters; "
            f"it needs at least {API_KEY_MIN_DISTINCT}"
        )
    else:
        return
    raise SettingsRefused(
        "The API key is too weak",
        f"{problem}, drawn at random. Make one with: {MAKE_AN_API_KEY}",
    )
