"""Secrets the cloud hands out: link codes people type, and agent tokens only machines see."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

LINK_CODE_LIFETIME = timedelta(days=7)

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read over the phone or copied by hand survives.
_LINK_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
# Four groups of five, e.g. ``K7QMX-3TXAH-J4PWC-6CN9R``: 25 ** 20 codes, about 93 bits, so
# guessing one is hopeless even without the throttle (37 bits, 8 characters, were not).
_LINK_CODE_GROUPS = 4
_LINK_CODE_GROUP = 5


def new_link_nonce() -> str:
    """The stored half of a link code: the code is derived from it with the server secret."""
    return secrets.token_hex(16)


def link_code(key: bytes, nonce: str) -> str:
    """The link code of ``nonce`` under ``key``: the same every time it is asked for."""
    number = int.from_bytes(hmac.new(key, nonce.encode(), hashlib.sha256).digest(), "big")
    chars = []
    for _ in range(_LINK_CODE_GROUPS * _LINK_CODE_GROUP):
        number, index = divmod(number, len(_LINK_CODE_ALPHABET))
        chars.append(_LINK_CODE_ALPHABET[index])
    groups = [
        "".join(chars[start : start + _LINK_CODE_GROUP])
        for start in range(0, len(chars), _LINK_CODE_GROUP)
    ]
    return "-".join(groups)


def link_code_hash(typed: str) -> str:
    """What is stored to find a code by: the hash of the code as people may type it (any case,
    with or without the dashes or spaces), so every way of writing one code finds it."""
    compact = "".join(ch for ch in typed.upper() if ch.isalnum())
    return hashlib.sha256(compact.encode()).hexdigest()


def new_agent_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def successor_tokens(key: bytes, refresh_token: str) -> tuple[str, str]:
    """The access and refresh tokens that replace ``refresh_token`` when it rotates.

    Derived, not drawn: a retry of the same refresh token (its answer was lost) gets the very
    same pair back, though only their hashes are stored. Without the server's key they are as
    unpredictable as random tokens.
    """

    def derive(kind: bytes) -> str:
        digest = hmac.new(key, kind + b"\0" + refresh_token.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    return derive(b"access"), derive(b"refresh")
