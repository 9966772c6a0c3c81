"""How the reference cloud is configured: from the command line, or directly in tests."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


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
    # What one caller may make the cloud read, hold or answer; refused with 413 beyond. The
    # agent's pages are 500 records (about 0.3 MB), so the defaults leave it ample room.
    max_request_bytes: int = 1 * MIB  # any request body but a page of records (JSON, forms)
    max_page_bytes: int = 16 * MIB  # one uploaded page of records
    max_page_records: int = 5_000  # records in one page
    max_pages: int = 100_000  # pages in one dataset's upload
