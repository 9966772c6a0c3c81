"""How the reference cloud is configured: from the command line, or directly in tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CloudSettings:
    database_url: str
    api_key: str
    public_url: str  # where people and agents reach this server; link URLs start with it
    max_poll_wait_seconds: float = 25.0
    lease_seconds: float = 60.0  # how long a claimed dataset stays the agent's without word
    access_token_ttl_seconds: float = 3600.0
    refresh_token_ttl_seconds: float = 90 * 24 * 3600.0
    sweep_seconds: float = 5.0  # how often leases, expiries and schedules are checked
    # Waits between webhook delivery attempts; None = the standard schedule (5 s ... 10 h).
    webhook_retry_seconds: tuple[float, ...] | None = None
    # Hosts (names or addresses) webhooks may go to even though they are, or resolve to,
    # private, loopback or other non-public addresses: consumers on an internal network.
    webhook_allowed_hosts: tuple[str, ...] = ()
