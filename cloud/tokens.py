"""Secrets the cloud hands out: link codes people type, and agent tokens only machines see."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

LINK_CODE_LIFETIME = timedelta(days=7)

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read over the phone or copied by hand survives.
_LINK_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def new_link_code() -> str:
    """Eight characters in two groups, e.g. ``K7QM-3TXA`` (about 37 bits)."""
    chars = "".join(secrets.choice(_LINK_CODE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def normalise_link_code(text: str) -> str:
    """Accept a code as people type it: any case, with or without the dash or spaces."""
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{compact[:4]}-{compact[4:]}" if len(compact) == 8 else compact


def new_agent_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
