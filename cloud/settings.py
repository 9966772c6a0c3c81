"""How the reference cloud is configured: from the command line, or directly in tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CloudSettings:
    database_url: str
    api_key: str
    public_url: str  # where people and agents reach this server; link URLs start with it
    max_poll_wait_seconds: float = 25.0
