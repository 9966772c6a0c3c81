"""The agent against a hostile or broken cloud (issue #12): ids that are paths, answers that
are not the agent API's, redirects, and answers too large to hold.

Each attack is played by :class:`tests.hostile_cloud.HostileCloud` on loopback against the real
``CloudClient``, and through the facade against the real link worker and runner.
"""

from __future__ import annotations

import json
import logging
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.connectivity import probe
from agent.cloud_api.tokens import TokenGrant, TokenKeeper
from agent.errors import AuthorizationLost, CloudUnavailable
from agent.facade import Connector
from agent.runtime.local_state import LocalState
from protocol.agent_requests import TransitionReport
from protocol.clock import utc_now
from protocol.states import DatasetStatus
from tests.agent.runtime_harness import agent_home, book_copy
from tests.support.hostile_cloud import (
    Answer,
    Endless,
    HostileCloud,
    dataset,
    html_answer,
    json_answer,
    redirect,
)
from tests.support.memory_keyring import memory_store

MB = 1024 * 1024
# The most the agent backs off after its first two failures (1 s, then 2 s): an idle limit
# longer than that, with room for the calls themselves, ends no run before the dataset came.
GARBAGE_BACKOFF = 1.0 + 2.0
BUG_BACKOFF = 1.0
BAD_ANSWER = "The cloud's answer could not be understood"
ACCESS_TOKEN = "access-" + "a1" * 24
REFRESH_TOKEN = "refresh-" + "b2" * 24


@pytest.fixture
def cloud() -> Iterator[HostileCloud]:
    with HostileCloud() as hostile:
        yield hostile


def linked_client(cloud: HostileCloud) -> CloudClient:
    """A client holding a credential, as a linked agent's does."""
    grant = TokenGrant(ACCESS_TOKEN, utc_now() + timedelta(hours=1), REFRESH_TOKEN)
    keeper = TokenKeeper(str(uuid.uuid4()), memory_store(), first_grant=grant)
    return CloudClient(cloud.url, keeper)


def linked_connector(tmp_path: Path, cloud: HostileCloud) -> Connector:
    connector = Connector(agent_home(tmp_path))
    connector.link(cloud.link_url(), book_copy(tmp_path), insecure_file_store=True)
    return connector


def files_outside(root: Path, home: Path) -> dict[Path, bytes]:
    """Every file under ``root`` but outside the agent's ``home``, with its content."""
    return {
        path: path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and home not in path.parents
    }


def link_answer(**changes: object) -> Answer:
    body = {
        "companyId": str(uuid.uuid4()),
        "companyName": "Harbor Lane",
        "connectionId": str(uuid.uuid4()),
        "accessToken": ACCESS_TOKEN,
        "accessTokenExpiresIn": 3600,
        "refreshToken": REFRESH_TOKEN,
        "refreshTokenExpires": "2030-01-01T00:00:00.000000Z",
        **changes,
    }
    return json_answer(body)


# 1. Paths from the network ------------------------------------------------------------------


@pytest.mark.parametrize("attack", ["absolute", "outside", "the home itself"])
def test_a_dataset_id_that_is_a_path_never_names_a_file(
    attack: str, cloud: HostileCloud, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("the user's own file")
    paths = agent_home(tmp_path)
    home = paths.config_dir.parent
    # The runner's staging folder is <home>/data/staging/<link>/: four steps up is tmp_path.
    dataset_id = {
        "absolute": str(victim),
        "outside": "../../../../victim",
        "the home itself": "../../..",
    }[attack]
    connector = linked_connector(tmp_path, cloud)
    before = files_outside(tmp_path, home)
    cloud.script("poll", json_answer(dataset(dataset_id)))

    summary = connector.run(until_idle=2)

    assert (victim / "precious.txt").read_text() == "the user's own file"
    assert files_outside(tmp_path, home) == before  # nothing written, nothing deleted
    assert paths.config_file.is_file() and (paths.data_dir / "state.db").is_file()
    # The assignment was refused on arrival: never run, never reported.
    assert not cloud.seen("transition") and not cloud.seen("lease")
    assert [o for r in summary.results.values() for o in r.outcomes] == []


def test_an_id_an_older_version_kept_names_no_file(cloud: HostileCloud, tmp_path: Path) -> None:
    # An agent from before ids were checked took "../../../../victim" from a hostile cloud and
    # was stopped mid-run: the run resumes at the next start, in a folder named here.
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("the user's own file")
    connector = linked_connector(tmp_path, cloud)
    (link,) = connector.config().links
    state = LocalState(connector.paths.data_dir / "state.db")
    state.start_run("../../../../victim", link.connection_id, "customers", 60)
    state.close()
    home = connector.paths.config_dir.parent
    before = files_outside(tmp_path, home)
    unknown = json_answer({"statusCode": 404, "error": "No such dataset."}, 404)
    cloud.script("transition", *[unknown] * 20)

    connector.run(until_idle=2)

    assert (victim / "precious.txt").read_text() == "the user's own file"
    assert files_outside(tmp_path, home) == before
    assert cloud.seen("transition")  # it did run, from the book, in its own folder


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("connectionId", "../../../victim"),
        ("connectionId", "/tmp/connector-victim"),
        ("connectionId", "6F9619FF-8B86-D011-B42D-00C04FC964FF"),  # a UUID, not canonical
        ("companyId", "../../company"),
    ],
)
def test_a_link_answer_whose_ids_are_not_uuids_is_refused(
    field: str, value: str, cloud: HostileCloud, tmp_path: Path
) -> None:
    cloud.script("link", link_answer(**{field: value}))
    connector = Connector(agent_home(tmp_path))
    with pytest.raises(CloudUnavailable) as caught:
        connector.link(cloud.link_url(), book_copy(tmp_path), insecure_file_store=True)
    assert caught.value.title == BAD_ANSWER
    assert field in caught.value.message
    assert REFRESH_TOKEN not in caught.value.message  # a link answer carries credentials
    assert connector.config().links == ()
    credentials = connector.paths.config_dir / "credentials.json"
    assert not credentials.exists() or REFRESH_TOKEN not in credentials.read_text()


# 2. Garbage answers ---------------------------------------------------------------------------

GARBAGE = {
    "a captive portal's page": html_answer(),
    "JSON of another shape": json_answer(["dataset", None]),
    "a dataset that is not an object": json_answer({"dataset": "customers"}),
    "a dataset without an id": json_answer({"dataset": {"dataType": "customers"}}),
    "a dataset id that is not a UUID": json_answer(dataset("d-1")),
    "a data type that is a path": json_answer(dataset(data_type="../customers")),
    "a lease of a year": json_answer(
        {"dataset": {**dataset()["dataset"], "leaseSeconds": 31_536_000}}
    ),
    "JSON cut short": Answer(b'{"dataset": {"id": "'),
    "nothing": Answer(b""),
}


@pytest.mark.parametrize("garbage", sorted(GARBAGE))
def test_a_poll_answer_that_is_not_one_is_a_network_class_error(
    garbage: str, cloud: HostileCloud
) -> None:
    cloud.script("poll", GARBAGE[garbage])
    with linked_client(cloud) as client, pytest.raises(CloudUnavailable) as caught:
        client.poll(0)
    assert caught.value.title == BAD_ANSWER
    assert "/poll" in caught.value.message
    assert ACCESS_TOKEN not in caught.value.message
    assert REFRESH_TOKEN not in caught.value.message


def test_the_error_names_what_was_wrong_with_a_short_excerpt(cloud: HostileCloud) -> None:
    cloud.script("poll", html_answer(), json_answer(dataset("d-1")))
    with linked_client(cloud) as client:
        with pytest.raises(CloudUnavailable) as portal:
            client.poll(0)
        with pytest.raises(CloudUnavailable) as not_uuid:
            client.poll(0)
    assert "text/html" in portal.value.message
    assert "Welcome to Cafe WiFi" in portal.value.message  # an excerpt of what came
    assert "</html>" not in portal.value.message  # a short one
    assert "dataset.id" in not_uuid.value.message


CALLS: dict[str, Callable[[CloudClient], object]] = {
    "link": lambda client: CloudClient(client.cloud_url).link("K7QM-3TXA", ["customers"]),
    "token": lambda client: client.refresh(REFRESH_TOKEN),
    "heartbeat": lambda client: client.heartbeat(["customers"]),
    "queue": lambda client: client.queue(["customers"]),
    "status": lambda client: client.status(),
    "poll": lambda client: client.poll(0),
    "lease": lambda client: client.renew_lease(str(uuid.uuid4())),
    "transition": lambda client: client.report(
        str(uuid.uuid4()), TransitionReport(status=DatasetStatus.FETCHING, timestamp=utc_now())
    ),
    "baseline": lambda client: list(client.baseline_hashes(str(uuid.uuid4()))),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("garbage", ["html", "wrong shape"])
def test_every_answer_of_the_agent_api_is_parsed(
    call: str, garbage: str, cloud: HostileCloud
) -> None:
    cloud.script(call, html_answer() if garbage == "html" else json_answer({"unexpected": 1}))
    with linked_client(cloud) as client, pytest.raises(CloudUnavailable) as caught:
        CALLS[call](client)
    assert caught.value.title == BAD_ANSWER


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("call", ["poll", "link"])
def test_a_redirect_is_never_followed(status: int, call: str, cloud: HostileCloud) -> None:
    with HostileCloud() as elsewhere:
        cloud.script(call, redirect(f"{elsewhere.url}/agent/v1/{call}", status))
        with linked_client(cloud) as client, pytest.raises(CloudUnavailable) as caught:
            CALLS[call](client)
        assert elsewhere.seen() == []  # neither the credential nor the link code went there
    assert caught.value.title == BAD_ANSWER
    assert "redirect" in caught.value.message


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_refusal_without_the_error_shape_is_not_believed(
    status: int, cloud: HostileCloud
) -> None:
    # A proxy's or a portal's page is no word from the cloud: not a reason to stop the link,
    # nor to spend the refresh token.
    cloud.script("poll", html_answer(status))
    with linked_client(cloud) as client, pytest.raises(CloudUnavailable) as caught:
        client.poll(0)
    assert caught.value.title == BAD_ANSWER
    assert not cloud.seen("token")


def test_a_refusal_in_the_error_shape_is_still_a_refusal(cloud: HostileCloud) -> None:
    # With the reason the protocol gives for it (tests/agent/test_refusal_reasons.py has them).
    refused = json_answer(
        {"statusCode": 401, "error": "The token was revoked.", "reason": "revoked"}, 401
    )
    cloud.script("poll", refused)
    cloud.script("token", refused)
    with linked_client(cloud) as client, pytest.raises(AuthorizationLost) as caught:
        client.poll(0)
    assert caught.value.message == "The token was revoked."


def test_the_link_survives_garbage_and_runs_the_next_dataset(
    cloud: HostileCloud, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    connector = linked_connector(tmp_path, cloud)
    good = str(uuid.uuid4())
    with HostileCloud() as elsewhere:
        cloud.script(
            "poll",
            html_answer(),
            redirect(f"{elsewhere.url}/agent/v1/poll"),
            json_answer(dataset(good)),
        )
        with caplog.at_level(logging.WARNING):
            summary = connector.run(until_idle=GARBAGE_BACKOFF + 5)
    outcomes = [(o.dataset_id, o.status) for r in summary.results.values() for o in r.outcomes]
    assert outcomes == [(good, DatasetStatus.COMPLETE)]
    assert all(result.error is None for result in summary.results.values())
    assert any("Welcome to Cafe WiFi" in record.getMessage() for record in caplog.records)


def test_an_unexpected_exception_in_the_link_loop_is_logged_and_retried(
    cloud: HostileCloud,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connector = linked_connector(tmp_path, cloud)
    good = str(uuid.uuid4())
    cloud.script("poll", json_answer(dataset(good)))
    calls = {"n": 0}
    real_heartbeat = CloudClient.heartbeat

    def buggy_heartbeat(self: CloudClient, *args: object, **kwargs: object) -> object:
        # Stands in for a bug: no real part of the agent raises this on purpose.
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug in the agent")
        return real_heartbeat(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(CloudClient, "heartbeat", buggy_heartbeat)
    with caplog.at_level(logging.ERROR):
        summary = connector.run(until_idle=BUG_BACKOFF + 4)
    outcomes = [(o.dataset_id, o.status) for r in summary.results.values() for o in r.outcomes]
    assert outcomes == [(good, DatasetStatus.COMPLETE)]
    logged = [
        r for r in caplog.records if r.exc_info and "a bug in the agent" in str(r.exc_info[1])
    ]
    assert logged, "the traceback was not logged"


def test_a_bug_that_persists_does_not_end_the_run_as_a_success(
    cloud: HostileCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = linked_connector(tmp_path, cloud)

    def buggy_heartbeat(self: CloudClient, *args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug in the agent")  # stands in for a bug, every time

    monkeypatch.setattr(CloudClient, "heartbeat", buggy_heartbeat)
    summary = connector.run(until_idle=2)
    (error,) = summary.errors.values()
    assert "unexpected problem" in error and "diagnostic id" in error


def test_a_link_loop_that_keeps_failing_does_not_end_as_a_success(
    cloud: HostileCloud, tmp_path: Path
) -> None:
    connector = linked_connector(tmp_path, cloud)
    cloud.script("poll", *[html_answer()] * 200)
    summary = connector.run(until_idle=2)
    (result,) = summary.results.values()
    assert result.error is not None and BAD_ANSWER in result.error
    assert len(cloud.seen("poll")) >= 2  # it kept trying, with backoff


# 3. Huge answers ------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "with a length"])
def test_a_huge_poll_answer_costs_the_agent_little_memory(
    declared: bool, cloud: HostileCloud
) -> None:
    cloud.script("poll", Endless(150 * MB, declared=declared))
    with linked_client(cloud) as client:
        raised: Exception | None = None
        tracemalloc.start()
        try:
            client.poll(0)
        except Exception as error:
            raised = error
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    (sent,) = cloud.wait_for_endless()
    # Held whole, the answer alone was 150 MB; the client stops at its limit for a poll.
    assert peak < 10 * MB, f"peak {peak / MB:.1f} MB"
    assert isinstance(raised, CloudUnavailable) and raised.title == BAD_ANSWER
    # It hung up early: what went out is what the sockets' buffers could take, not the body.
    assert sent < 75 * MB


def test_the_reachability_probe_never_reads_a_huge_answer(cloud: HostileCloud) -> None:
    cloud.script("health", Endless(150 * MB))
    tracemalloc.start()
    try:
        reachability = probe(cloud.url)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    (sent,) = cloud.wait_for_endless()
    assert peak < 10 * MB, f"peak {peak / MB:.1f} MB"
    assert sent < 75 * MB
    assert reachability.ok  # the status alone says the cloud answered


def test_a_compressed_answer_is_refused_before_it_is_inflated(cloud: HostileCloud) -> None:
    # A small compressed body can inflate to gigabytes: the agent asks for none, takes none.
    cloud.script("poll", Endless(64 * 1024, declared=True, encoding="gzip"))
    with linked_client(cloud) as client, pytest.raises(CloudUnavailable) as caught:
        client.poll(0)
    assert caught.value.title == BAD_ANSWER
    assert cloud.seen("poll")[0].headers.get("Accept-Encoding") == "identity"


def test_a_full_baseline_page_fits_its_limit_and_a_larger_one_does_not(
    cloud: HostileCloud,
) -> None:
    page = {uuid.uuid4().hex: "0" * 64 for _ in range(10_000)}  # GnuCash ids are 32 hex digits
    body = json.dumps({"recordHashes": page, "nextAfter": None}).encode()
    assert 1_000_000 < len(body) < 2 * MB
    cloud.script("baseline", Answer(body), Endless(64 * MB, start=b'{"recordHashes": {"'))
    with linked_client(cloud) as client:
        assert len(list(client.baseline_hashes(str(uuid.uuid4())))) == 10_000
        with pytest.raises(CloudUnavailable) as caught:
            list(client.baseline_hashes(str(uuid.uuid4())))
    assert caught.value.title == BAD_ANSWER


def test_a_huge_error_answer_is_a_bad_answer(cloud: HostileCloud) -> None:
    huge = json.dumps({"statusCode": 400, "error": "x" * (1 * MB)}).encode()
    cloud.script("heartbeat", Answer(huge, 400))
    with linked_client(cloud) as client, pytest.raises(CloudUnavailable) as caught:
        client.heartbeat(["customers"])
    assert caught.value.title == BAD_ANSWER
