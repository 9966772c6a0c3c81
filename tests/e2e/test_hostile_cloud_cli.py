"""`connector link` and `connector run` as a user runs them, against a hostile or broken cloud
(tests/support/hostile_cloud.py), with a real keyring: never a success when nothing was done,
never a credential to another place, never an id from the network in the keyring or the config."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.runtime_harness import book_copy
from tests.support.hostile_cloud import HostileCloud, html_answer, json_answer, redirect
from tests.support.keyring_session import KeyringSession

BAD_ANSWER = "The cloud's answer could not be understood"


class Agent:
    """The `connector` command in its own processes, with a home and a real keyring."""

    def __init__(self, tmp_path: Path, keyring: KeyringSession) -> None:
        self.home = tmp_path / "agent-home"
        self.env = {**keyring.env, "CONNECTOR_HOME": str(self.home)}
        self.book = book_copy(tmp_path)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agent.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def keyring_secret(self, username: str) -> str | None:
        found = subprocess.run(
            [
                sys.executable,
                "-c",
                "import keyring, sys; print(keyring.get_password('Connector', sys.argv[1]))",
                username,
            ],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return None if found == "None" else found

    def links(self) -> list[dict[str, str]]:
        config = self.home / "config" / "config.json"
        if not config.exists():
            return []
        links: list[dict[str, str]] = json.loads(config.read_text())["links"]
        return links


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    with KeyringSession(tmp_path / "user") as keyring:
        yield Agent(tmp_path, keyring)


@pytest.fixture
def cloud() -> Iterator[HostileCloud]:
    with HostileCloud() as hostile:
        yield hostile


def test_a_link_answer_naming_a_path_links_nothing(agent: Agent, cloud: HostileCloud) -> None:
    connection_id = "../../../../victim"
    cloud.script(
        "link",
        json_answer(
            {
                "companyId": str(uuid.uuid4()),
                "companyName": "Harbor Lane",
                "connectionId": connection_id,
                "accessToken": "access-" + "a" * 40,
                "accessTokenExpiresIn": 3600,
                "refreshToken": "refresh-" + "b" * 40,
                "refreshTokenExpires": "2030-01-01T00:00:00.000000Z",
            }
        ),
    )
    linked = agent("link", cloud.link_url(), "--book", str(agent.book))
    assert linked.returncode == 1, linked.stdout + linked.stderr
    assert BAD_ANSWER in linked.stderr and "connectionId" in linked.stderr
    assert agent.links() == []
    assert agent.keyring_secret(connection_id) is None


@pytest.mark.parametrize("attack", ["a captive portal", "a redirect", "JSON of another shape"])
def test_connector_run_keeps_trying_a_cloud_it_cannot_understand_and_fails(
    attack: str, agent: Agent, cloud: HostileCloud
) -> None:
    assert agent("link", cloud.link_url(), "--book", str(agent.book)).returncode == 0
    with HostileCloud() as elsewhere:
        answer = {
            "a captive portal": html_answer(),
            "a redirect": redirect(f"{elsewhere.url}/agent/v1/poll"),
            "JSON of another shape": json_answer({"dataset": "customers"}),
        }[attack]
        cloud.script("poll", *[answer] * 500)  # every poll, for as long as the run lasts
        ran = agent("run", "--headless", "--until-idle", "3")
        assert elsewhere.seen() == []  # no request, so no credential, went elsewhere
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert BAD_ANSWER in ran.stderr
    assert len(cloud.seen("poll")) >= 2  # it tried again, after a backoff
    # A token is never in what the run printed, nor in the log.
    log = (agent.home / "logs" / "connector.log").read_text()
    for seen in cloud.seen("poll"):
        token = seen.headers["Authorization"].removeprefix("Bearer ")
        assert token not in ran.stderr and token not in log
