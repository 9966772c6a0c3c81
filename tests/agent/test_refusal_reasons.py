"""Only the cloud's verdict stops a link: a refresh refused with one of the reasons the protocol
gives for a lost authorization (revoked, unlinked, expired, reused, unknown). A 401 on a call is
never enough by itself (the token is renewed and the call sent again); a 401 without a reason, a
403, and any failure of a refresh that is not that verdict are network class.

Against :class:`tests.hostile_cloud.HostileCloud` on loopback, with the agent's real client.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from agent.cloud_api.cloud_client import MAX_RENEWALS, CloudClient
from agent.cloud_api.tokens import TokenGrant, TokenKeeper
from agent.errors import AuthorizationLost, CloudUnavailable
from protocol.clock import utc_now
from tests.support.hostile_cloud import Answer, HostileCloud, html_answer, json_answer
from tests.support.memory_keyring import memory_store

LOST = ["revoked", "unlinked", "expired", "reused", "unknown"]


@pytest.fixture
def cloud() -> Iterator[HostileCloud]:
    with HostileCloud() as hostile:
        yield hostile


def linked_client(cloud: HostileCloud) -> CloudClient:
    grant = TokenGrant(
        "access-" + uuid.uuid4().hex * 2,
        utc_now() + timedelta(hours=1),
        "refresh-" + uuid.uuid4().hex * 2,
    )
    keeper = TokenKeeper(str(uuid.uuid4()), memory_store(), first_grant=grant)
    return CloudClient(cloud.url, keeper)


def refused(status: int = 401, reason: Any = None, error: str = "Refused.") -> Answer:
    body: dict[str, Any] = {"statusCode": status, "error": error}
    if reason is not None:
        body["reason"] = reason
    return json_answer(body, status)


@pytest.mark.parametrize("reason", LOST)
def test_a_refresh_refused_for_a_lost_reason_is_the_clouds_verdict(
    cloud: HostileCloud, reason: str
) -> None:
    cloud.script("poll", refused(reason="expired_access_token"))
    cloud.script("token", refused(reason=reason, error=f"Lost: {reason}."))
    with linked_client(cloud) as client, pytest.raises(AuthorizationLost) as caught:
        client.poll(0)
    assert caught.value.reason == reason
    assert caught.value.message == f"Lost: {reason}."


@pytest.mark.parametrize("reason", ["expired_access_token", "unknown", *LOST])
def test_a_401_on_a_call_renews_the_token_and_sends_the_call_again(
    cloud: HostileCloud, reason: str
) -> None:
    # Even "revoked" on a call is not enough by itself: the renewal decides, and here the
    # cloud renews (the connection was linked again meanwhile, say).
    cloud.script("poll", refused(reason=reason))
    with linked_client(cloud) as client:
        assert client.poll(0) is None
    assert len(cloud.seen("token")) == 1
    first, second = cloud.seen("poll")
    assert first.headers["Authorization"] != second.headers["Authorization"]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(refused(), id="401 without a reason"),
        pytest.param(refused(reason="suspended"), id="401 with a reason not in the protocol"),
        pytest.param(refused(403), id="403"),
        pytest.param(html_answer(401), id="a proxy's 401 page"),
    ],
)
def test_a_refusal_without_the_clouds_reason_is_network_class(
    cloud: HostileCloud, answer: Answer
) -> None:
    cloud.script("poll", answer)
    with linked_client(cloud) as client, pytest.raises(CloudUnavailable):
        client.poll(0)
    assert cloud.seen("token") == []  # nor does it cost a renewal


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(refused(), id="401 without a reason"),
        pytest.param(refused(reason="suspended"), id="401 with a reason not in the protocol"),
        pytest.param(refused(reason="expired_access_token"), id="401 asking for a refresh"),
        pytest.param(refused(403), id="403"),
        pytest.param(refused(400), id="400"),
        pytest.param(refused(429), id="429"),
        pytest.param(refused(503), id="503"),
        pytest.param(html_answer(401), id="a proxy's 401 page"),
        pytest.param(html_answer(502), id="a proxy's 502 page"),
        pytest.param(json_answer({"accessToken": "x"}), id="an answer of the wrong shape"),
    ],
)
def test_a_refresh_that_fails_for_another_reason_is_network_class(
    cloud: HostileCloud, answer: Answer
) -> None:
    cloud.script("poll", refused(reason="expired_access_token"))
    cloud.script("token", answer)
    with linked_client(cloud) as client, pytest.raises(CloudUnavailable):
        client.poll(0)


def test_a_call_refused_again_and_again_after_renewals_is_network_class(
    cloud: HostileCloud,
) -> None:
    cloud.script("poll", *[refused(reason="expired_access_token")] * (MAX_RENEWALS + 1))
    with linked_client(cloud) as client, pytest.raises(CloudUnavailable):
        client.poll(0)
    assert len(cloud.seen("token")) == MAX_RENEWALS
