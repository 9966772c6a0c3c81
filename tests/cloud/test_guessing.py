"""The cloud against guessing: the API key, link codes, and what a captured cookie gives away."""

from __future__ import annotations

import hashlib
import hmac

from cloud.portal import session as sessions
from tests.conftest import API_KEY, CloudHarness


def test_a_captured_anonymous_cookie_does_not_verify_with_a_key_derived_from_the_api_key(
    cloud: CloudHarness,
) -> None:
    cloud.http.get("/portal/sign-in")
    captured = cloud.http.cookies[sessions.COOKIE]
    # How the key was derived before: anyone holding a cookie could test API-key guesses
    # against its signature offline.
    from_api_key = hmac.new(
        API_KEY.encode(), b"connector portal session v1", hashlib.sha256
    ).digest()
    assert sessions.decode(captured, from_api_key, cloud.clock()) is None
    # It is signed with a key the server keeps to itself.
    server_key = sessions.secret_of(cloud.services)
    assert sessions.decode(captured, server_key, cloud.clock()) is not None
