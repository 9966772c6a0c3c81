"""A refused credential is confirmed before anyone is told: the commands the CLI and the tray run
(sync now, the cloud's view) ask the cloud once more, after a short wait, and report a lost
authorization only when the cloud refuses again.

Against :class:`tests.hostile_cloud.HostileCloud`, through the real facade and client. (The link
worker's own confirmation is in tests/agent/test_link_worker.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.cloud_api.cloud_client import SyncQueued
from agent.errors import AuthorizationLost
from agent.facade import Connector
from tests.agent.runtime_harness import agent_home, book_copy
from tests.support.hostile_cloud import Answer, HostileCloud, json_answer


@pytest.fixture
def cloud() -> Iterator[HostileCloud]:
    with HostileCloud() as hostile:
        yield hostile


@pytest.fixture
def connector(tmp_path: Path, cloud: HostileCloud) -> Connector:
    connector = Connector(agent_home(tmp_path))
    connector.link(cloud.link_url(), book_copy(tmp_path), insecure_file_store=True)
    return connector


def refused(reason: str, error: str = "Refused.") -> Answer:
    return json_answer({"statusCode": 401, "error": error, "reason": reason}, 401)


def test_a_refusal_the_cloud_does_not_repeat_is_never_reported(
    cloud: HostileCloud, connector: Connector
) -> None:
    cloud.script("queue", refused("expired_access_token"))
    cloud.script("token", refused("unknown"))  # once; asked again, the cloud renews
    answers = connector.sync_now(["customers"])
    assert list(answers.values()) == [SyncQueued(queued=(), already_in_progress=())]
    assert len(cloud.seen("status")) == 1  # asked once more before believing it
    assert len(cloud.seen("queue")) == 2


def test_a_refusal_the_cloud_repeats_is_reported_in_its_latest_words(
    cloud: HostileCloud, connector: Connector
) -> None:
    cloud.script("queue", refused("expired_access_token"))
    cloud.script("status", refused("revoked"))
    cloud.script("token", refused("revoked", "Revoked."), refused("revoked", "Revoked, still."))
    with pytest.raises(AuthorizationLost) as caught:
        connector.sync_now(["customers"])
    assert caught.value.message == "Revoked, still."
    assert len(cloud.seen("status")) == 1
    assert len(cloud.seen("queue")) == 1  # nothing more was asked of a lost authorization
