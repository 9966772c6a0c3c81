"""Refresh-token rotation as RFC 9700 (4.14.2) asks: retries within the grace are idempotent,
reuse revokes the family, and every refusal says why."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from cloud.store.agent_tokens import REFRESH_GRACE
from protocol.clock import to_iso
from tests.cloud.drive import claim_type, complete, report
from tests.cloud.test_portal import sign_in
from tests.support.cloud_harness import CloudHarness

GRACE = REFRESH_GRACE.total_seconds()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refresh(cloud: CloudHarness, refresh_token: str) -> httpx.Response:
    answer: httpx.Response = cloud.http.post(
        "/agent/v1/token", json={"refreshToken": refresh_token}
    )
    return answer


def _poll(cloud: CloudHarness, access_token: str) -> httpx.Response:
    answer: httpx.Response = cloud.http.post(
        "/agent/v1/poll", json={"waitSeconds": 0}, headers=_bearer(access_token)
    )
    return answer


def _linked(cloud: CloudHarness) -> tuple[str, dict[str, Any]]:
    company_id = cloud.new_company()
    connection = cloud.new_connection(company_id)
    grant = cloud.link(connection["linkUrl"])
    return company_id, {**grant, "linkUrl": connection["linkUrl"]}


def _connection(cloud: CloudHarness, company_id: str, connection_id: str) -> dict[str, Any]:
    answer = cloud.http.get(
        f"/companies/{company_id}/connections/{connection_id}", headers=cloud.auth
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _refused(answer: httpx.Response, reason: str) -> None:
    """A 401 in the public error shape, with the reason beside its fields."""
    assert answer.status_code == 401, answer.text
    body = answer.json()
    assert body["statusCode"] == 401 and body["service"] == "PublicApi" and body["error"]
    assert body["reason"] == reason, body


def test_a_retry_within_the_grace_gets_the_same_pair_and_the_current_token_keeps_working(
    cloud: CloudHarness,
) -> None:
    _, grant = _linked(cloud)
    first = _refresh(cloud, grant["refreshToken"])
    assert first.status_code == 200, first.text
    cloud.clock.advance(GRACE / 2)
    # The answer carrying `first` was lost; the agent retries with the token it still holds.
    retry = _refresh(cloud, grant["refreshToken"])
    assert retry.status_code == 200, retry.text
    pair, again = first.json(), retry.json()
    assert again["accessToken"] == pair["accessToken"]
    assert again["refreshToken"] == pair["refreshToken"]
    assert again["refreshTokenExpires"] == pair["refreshTokenExpires"]  # nothing extended
    assert again["accessTokenExpiresIn"] == pair["accessTokenExpiresIn"] - GRACE / 2
    # The pair both answers carried works, and its refresh token rotates as usual.
    assert _poll(cloud, pair["accessToken"]).status_code == 200
    following = _refresh(cloud, pair["refreshToken"])
    assert following.status_code == 200, following.text
    assert following.json()["refreshToken"] != pair["refreshToken"]


def test_a_retry_does_not_extend_the_grace(cloud: CloudHarness) -> None:
    company_id, grant = _linked(cloud)
    assert _refresh(cloud, grant["refreshToken"]).status_code == 200
    cloud.clock.advance(GRACE - 5)
    assert _refresh(cloud, grant["refreshToken"]).status_code == 200
    cloud.clock.advance(10)  # within a grace counted from the retry, not from the rotation
    _refused(_refresh(cloud, grant["refreshToken"]), "reused")
    assert _connection(cloud, company_id, grant["connectionId"])["status"] == "Deauthorized"


def test_reuse_after_the_grace_revokes_the_whole_family_and_says_so(
    cloud: CloudHarness,
) -> None:
    company_id, grant = _linked(cloud)
    agent = _bearer(grant["accessToken"])
    running = claim_type(cloud, agent, "customers")
    assert report(cloud, agent, running["id"], "Fetching").status_code == 200
    current = _refresh(cloud, grant["refreshToken"]).json()
    cloud.clock.advance(GRACE + 1)
    before = to_iso(cloud.clock())

    # The replaced token again, after the grace: two parties hold this family's tokens.
    _refused(_refresh(cloud, grant["refreshToken"]), "reused")

    # The whole family is gone, the current pair included, and says why.
    _refused(_poll(cloud, current["accessToken"]), "reused")
    _refused(_refresh(cloud, current["refreshToken"]), "reused")
    connection = _connection(cloud, company_id, grant["connectionId"])
    assert connection["status"] == "Deauthorized"
    info = connection["connectionInfo"]
    assert "refresh tokens was used again after it had been replaced" in info["statusReason"]
    assert info["statusChanged"] > before
    assert connection["linkUrl"] != grant["linkUrl"]  # a fresh code, to link again

    # Its open datasets end AuthError, saying what happened and what to do.
    history = cloud.http.get(f"/companies/{company_id}/data/history", headers=cloud.auth).json()
    ended = {d["id"]: d for d in history["results"]}[running["id"]]
    assert ended["status"] == "AuthError"
    assert "used again after it had been replaced" in ended["errorMessage"]
    assert "re-link" in ended["errorMessage"]

    # The Portal shows it on the connection.
    sign_in(cloud.http)
    page = cloud.http.get(f"/portal/companies/{company_id}").text
    assert "Deauthorized" in page and "used again after it had been replaced" in page

    # Linking again with the fresh code starts a new family that works.
    relinked = cloud.link(connection["linkUrl"])
    cloud.http.post(f"/companies/{company_id}/data/queue/customers", headers=cloud.auth)
    dataset = claim_type(cloud, _bearer(relinked["accessToken"]), "customers")
    complete(cloud, _bearer(relinked["accessToken"]), dataset["id"], [{"id": "c1"}])
    _refused(_refresh(cloud, current["refreshToken"]), "reused")  # the old family stays ended


def test_a_retry_after_its_successor_was_used_is_reuse_even_within_the_grace(
    cloud: CloudHarness,
) -> None:
    company_id, grant = _linked(cloud)
    first = _refresh(cloud, grant["refreshToken"]).json()
    assert _refresh(cloud, first["refreshToken"]).status_code == 200
    # Whoever sends the first token now never received its successor, yet somebody used it.
    _refused(_refresh(cloud, grant["refreshToken"]), "reused")
    assert _connection(cloud, company_id, grant["connectionId"])["status"] == "Deauthorized"


def test_refresh_after_unlink_is_refused_as_unlinked(cloud: CloudHarness) -> None:
    company_id, grant = _linked(cloud)
    unlinked = cloud.http.patch(
        f"/companies/{company_id}/connections/{grant['connectionId']}",
        json={"status": "Unlinked"},
        headers=cloud.auth,
    )
    assert unlinked.status_code == 200
    _refused(_refresh(cloud, grant["refreshToken"]), "unlinked")
    _refused(_poll(cloud, grant["accessToken"]), "unlinked")
    status = cloud.http.get("/agent/v1/status", headers=_bearer(grant["accessToken"]))
    _refused(status, "unlinked")


def test_refresh_after_revoke_is_refused_as_revoked(cloud: CloudHarness) -> None:
    company_id, grant = _linked(cloud)
    revoked = cloud.http.post(
        f"/companies/{company_id}/connections/{grant['connectionId']}/revoke", headers=cloud.auth
    )
    assert revoked.status_code == 200
    _refused(_refresh(cloud, grant["refreshToken"]), "revoked")
    _refused(_poll(cloud, grant["accessToken"]), "revoked")
    status = cloud.http.get("/agent/v1/status", headers=_bearer(grant["accessToken"]))
    _refused(status, "revoked")


def test_an_expired_refresh_token_is_refused_as_expired_and_ends_the_authorization(
    cloud: CloudHarness,
) -> None:
    company_id, grant = _linked(cloud)
    cloud.clock.advance(91 * 24 * 3600)  # before the sweep has noticed
    _refused(_refresh(cloud, grant["refreshToken"]), "expired")
    connection = _connection(cloud, company_id, grant["connectionId"])
    assert connection["status"] == "Deauthorized"
    assert "expired" in connection["connectionInfo"]["statusReason"]
    _refused(_poll(cloud, grant["accessToken"]), "expired")


def test_tokens_the_cloud_never_issued_are_refused_as_unknown(cloud: CloudHarness) -> None:
    _refused(_refresh(cloud, "not-a-token-of-this-cloud"), "unknown")
    _refused(_poll(cloud, "not-a-token-of-this-cloud"), "unknown")


def test_an_access_token_that_merely_expired_says_so(cloud: CloudHarness) -> None:
    _, grant = _linked(cloud)
    cloud.clock.advance(3601)
    _refused(_poll(cloud, grant["accessToken"]), "expired_access_token")
    status = cloud.http.get("/agent/v1/status", headers=_bearer(grant["accessToken"]))
    _refused(status, "expired_access_token")
    # One a refresh replaced is as good as expired: the agent refreshes (here, in the grace).
    renewed = _refresh(cloud, grant["refreshToken"]).json()
    assert _poll(cloud, renewed["accessToken"]).status_code == 200
    cloud.clock.advance(1)
    fresh = _refresh(cloud, renewed["refreshToken"]).json()
    _refused(_poll(cloud, renewed["accessToken"]), "expired_access_token")
    assert _poll(cloud, fresh["accessToken"]).status_code == 200


def test_replaced_tokens_are_kept_while_they_could_be_used_and_then_forgotten(
    cloud: CloudHarness,
) -> None:
    _, grant = _linked(cloud)
    replaced = grant["refreshToken"]
    current = _refresh(cloud, replaced).json()
    for _ in range(3):
        cloud.clock.advance(3600)
        current = _refresh(cloud, current["refreshToken"]).json()
    cloud.clock.advance(3601)
    cloud.sweep()
    with cloud.services.db.engine.connect() as conn:
        kinds = sorted(conn.execute(text("SELECT kind FROM agent_tokens")).scalars())
    # The replaced access tokens have expired and are gone; the refresh tokens stay, since
    # one of them presented again must still be recognised as reuse.
    assert kinds == ["access"] + ["refresh"] * 5
    assert _poll(cloud, current["accessToken"]).status_code == 401  # merely expired
    cloud.clock.advance(90 * 24 * 3600)
    cloud.sweep()  # the family expired (Deauthorized) long ago; kept a while for its reason
    _refused(_refresh(cloud, replaced), "expired")
    cloud.clock.advance(90 * 24 * 3600)
    cloud.sweep()
    with cloud.services.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM agent_tokens")).scalar() == 0
    _refused(_refresh(cloud, replaced), "unknown")
