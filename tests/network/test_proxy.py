"""The agent and the https cloud through a real forward proxy (Debian's tinyproxy): by
``HTTPS_PROXY``, with ``NO_PROXY`` honoured, with proxy Basic auth, and through the proxy in the
agent's settings; and a proxy that wants credentials says so."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud.local import CloudTls, LocalCloud, free_port
from tests.agent.runtime_harness import Company, book_copy, new_company
from tests.network.agent_cli import AgentCli, without_proxies
from tests.network.certificates import cloud_tls
from tests.network.tinyproxy import Tinyproxy
from tests.support.keyring_session import KeyringSession

PROXY_USER = "frontdesk"
PROXY_PASSWORD = "Pr0xy-pass-7Qx2"  # the test proxy's, made up here


@pytest.fixture
def tls(tmp_path: Path) -> CloudTls:
    return cloud_tls(tmp_path / "certs", "localhost")


@pytest.fixture
def cloud(tmp_path: Path, tls: CloudTls) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path / "cloud", tls=tls) as running:
        yield running


@pytest.fixture
def company(cloud: LocalCloud) -> Company:
    return new_company(cloud, "Harbor Lane")


@pytest.fixture
def guarded_proxy(tmp_path: Path) -> Iterator[Tinyproxy]:
    """A proxy that passes only ``PROXY_USER`` with ``PROXY_PASSWORD``."""
    with Tinyproxy(tmp_path / "proxy", user=PROXY_USER, password=PROXY_PASSWORD) as proxy:
        yield proxy


def _link_and_sync(agent: AgentCli, company: Company, book: Path, *flags: str) -> None:
    linked = agent(*flags, "link", company.link_url, "--book", str(book), "--insecure-file-store")
    assert linked.returncode == 0, linked.stderr
    synced = agent(*flags, "run", "--headless", "--until-idle", "2")
    assert synced.returncode == 0, synced.stderr
    assert "customers: Complete" in synced.stdout
    assert company.datasets("customers")[-1]["status"] == "Complete"


def test_through_the_proxy_with_basic_auth_and_its_password_in_no_log(
    tmp_path: Path,
    tls: CloudTls,
    cloud: LocalCloud,
    company: Company,
    guarded_proxy: Tinyproxy,
) -> None:
    agent = AgentCli(tmp_path / "agent", HTTPS_PROXY=guarded_proxy.url(PROXY_USER, PROXY_PASSWORD))
    agent.trust(tls.ca_file)
    # -v: DEBUG, where the HTTP libraries describe every connection they make.
    _link_and_sync(agent, company, book_copy(tmp_path), "-v")

    tunnels = guarded_proxy.tunnels()
    assert len(tunnels) >= 2  # the link, then the sync
    assert set(tunnels) == {f"CONNECT localhost:{cloud.port}"}

    doctor = agent("-v", "doctor")
    assert doctor.returncode == 0, doctor.stdout
    bundle = tmp_path / "support.zip"
    assert agent("-v", "diagnostics", "--output", str(bundle)).returncode == 0
    assert len(guarded_proxy.tunnels()) > len(tunnels)  # the doctor went through it too

    assert agent.log_text(), "the agent wrote no log"
    assert agent.files_holding(PROXY_PASSWORD) == []
    with zipfile.ZipFile(bundle) as archive:
        for name in archive.namelist():
            assert PROXY_PASSWORD.encode() not in archive.read(name), name
    for output in (doctor.stdout, doctor.stderr):
        assert PROXY_PASSWORD not in output


def test_no_proxy_sends_the_cloud_straight_past_the_proxy(
    tmp_path: Path,
    tls: CloudTls,
    cloud: LocalCloud,
    company: Company,
    guarded_proxy: Tinyproxy,
) -> None:
    # Without credentials the proxy would refuse every tunnel: only going around it works.
    agent = AgentCli(tmp_path / "agent", HTTPS_PROXY=guarded_proxy.url(), NO_PROXY="localhost")
    agent.trust(tls.ca_file)
    _link_and_sync(agent, company, book_copy(tmp_path))
    assert guarded_proxy.tunnels() == []


@pytest.mark.parametrize(
    ("user", "password", "title", "said"),
    [
        (
            None,
            None,
            "The proxy wants a user name and password",
            "wants a user name and password before it passes the connection",
        ),
        (
            PROXY_USER,
            "Wrong-pass-9Zk4",
            "The proxy wants a user name and password",
            "refused the user name and password in its address",
        ),
    ],
    ids=["no-credentials", "wrong-credentials"],
)
def test_a_proxy_that_refuses_says_it_wants_credentials(
    tmp_path: Path,
    tls: CloudTls,
    cloud: LocalCloud,
    company: Company,
    guarded_proxy: Tinyproxy,
    user: str | None,
    password: str | None,
    title: str,
    said: str,
) -> None:
    agent = AgentCli(tmp_path / "agent", HTTPS_PROXY=guarded_proxy.url(user, password))
    agent.trust(tls.ca_file)
    refused = agent.link(company.link_url, book_copy(tmp_path))
    assert refused.returncode == 1
    shown_title, _, message = refused.stderr.strip().splitlines()[-1].partition(": ")
    assert shown_title == title
    assert said in message
    assert f"127.0.0.1:{guarded_proxy.port}" in message  # which proxy
    assert f"localhost:{cloud.port}" in message  # on the way to where
    assert "http://user:password@proxy:port" in message  # what to do
    assert guarded_proxy.tunnels() == [f"CONNECT localhost:{cloud.port}"]
    assert agent.config().links == ()
    assert company.connection()["status"] == "PendingAuth"
    if password is not None:
        # The proxy is named with its password masked (agent/support/redaction.py), and it is
        # nowhere.
        assert f"http://{user}:[REDACTED]@127.0.0.1:{guarded_proxy.port}" in message
        assert password not in refused.stderr
        assert agent.files_holding(password) == []


def test_the_proxy_in_the_settings_wins_over_the_environment(
    tmp_path: Path, tls: CloudTls, cloud: LocalCloud, company: Company
) -> None:
    nothing_listens = f"http://127.0.0.1:{free_port()}"
    with Tinyproxy(tmp_path / "proxy") as proxy:
        agent = AgentCli(tmp_path / "agent", HTTPS_PROXY=nothing_listens)
        agent.trust(tls.ca_file)
        agent.use_proxy(proxy.url())
        _link_and_sync(agent, company, book_copy(tmp_path))
        doctor = agent("doctor")
        assert doctor.returncode == 0, doctor.stdout
        assert f"cloud reachable - {cloud.url} answered." in doctor.stdout
        assert set(proxy.tunnels()) == {f"CONNECT localhost:{cloud.port}"}


def test_a_proxy_password_given_to_connector_is_kept_in_the_keyring_alone(
    tmp_path: Path, tls: CloudTls, cloud: LocalCloud, company: Company, guarded_proxy: Tinyproxy
) -> None:
    with KeyringSession(tmp_path / "user") as keyring:
        agent = AgentCli(tmp_path / "agent", **without_proxies(keyring.env))
        agent.trust(tls.ca_file)
        address = f"http://{PROXY_USER}@127.0.0.1:{guarded_proxy.port}"
        told = agent("proxy", address, "--password-stdin", stdin=PROXY_PASSWORD + "\n")
        assert told.returncode == 0, told.stderr
        assert told.stdout.strip() == f"Connector connects through {address}."
        assert agent.config().proxy == address  # the settings keep the user, not the password
        linked = agent("link", company.link_url, "--book", str(book_copy(tmp_path)))
        assert linked.returncode == 0, linked.stderr
        synced = agent("run", "--headless", "--until-idle", "2")
        assert synced.returncode == 0, synced.stderr
        assert company.datasets("customers")[-1]["status"] == "Complete"
        assert f"CONNECT localhost:{cloud.port}" in guarded_proxy.tunnels()
        doctor = agent("doctor")
        assert doctor.returncode == 0, doctor.stdout
        assert agent.files_holding(PROXY_PASSWORD) == []


def test_a_proxy_password_an_older_version_left_in_the_settings_moves_to_the_keyring(
    tmp_path: Path, tls: CloudTls, cloud: LocalCloud, company: Company, guarded_proxy: Tinyproxy
) -> None:
    with KeyringSession(tmp_path / "user") as keyring:
        agent = AgentCli(tmp_path / "agent", **without_proxies(keyring.env))
        agent.trust(tls.ca_file)
        agent.use_proxy(guarded_proxy.url(PROXY_USER, PROXY_PASSWORD))  # as 0.1.0 kept it
        linked = agent("link", company.link_url, "--book", str(book_copy(tmp_path)))
        assert linked.returncode == 0, linked.stderr
        synced = agent("run", "--headless", "--until-idle", "2")
        assert synced.returncode == 0, synced.stderr
        assert company.datasets("customers")[-1]["status"] == "Complete"
        assert agent.config().proxy == f"http://{PROXY_USER}@127.0.0.1:{guarded_proxy.port}"
        assert agent.files_holding(PROXY_PASSWORD) == []
        again = agent("sync")  # the next command finds the password in the keyring
        assert again.returncode == 0, again.stderr
