"""The self-test against real parts: a cloud on loopback, real books, real sockets.

Each test breaks one thing and checks that exactly that is reported, with something to do.
"""

from __future__ import annotations

import shutil
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.connectivity import CA_BUNDLE_FIX, classify, probe, unreachable
from agent.cloud_api.tokens import TokenKeeper
from agent.commands.doctor import RELINK_FIX, Check, exit_code, format_report, run_checks
from agent.errors import CredentialStoreUnavailable
from agent.sources.gnucash.source import MAPPERS
from agent.support.config import AgentConfig, Link, Paths
from agent.support.credentials import NO_KEYRING_FIX, CredentialStore
from cloud.local import LocalCloud, free_port
from protocol.clock import Clock, to_iso, utc_now
from tests.support.memory_keyring import MemoryKeyring, memory_store
from tests.support.paths import SAMPLE_BOOKS
from tests.support.tls_server import tls_server

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hop under test is the cloud's, not whatever proxy the machine running tests has."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path_factory.mktemp("cloud")) as local:
        yield local


@dataclass
class Setup:
    """One linked PC: its folders, its config, its credential store, its keeper."""

    paths: Paths
    config: AgentConfig
    store: CredentialStore
    keeper: TokenKeeper
    company_id: str

    @property
    def link(self) -> Link:
        return self.config.links[0]

    def with_link(self, **changes: str) -> Setup:
        return replace(self, config=AgentConfig(links=(replace(self.link, **changes),)))

    def client_for(self, link: Link) -> CloudClient:
        return CloudClient(link.cloud_url, self.keeper)

    def run(
        self, *, clock: Clock = utc_now, client_for: Callable[[Link], CloudClient] | None = None
    ) -> dict[str, Check]:
        checks = run_checks(
            self.paths,
            self.config,
            open_store=lambda: self.store,
            client_for=client_for or self.client_for,
            clock=clock,
            sleep=lambda _seconds: None,
        )
        prefix = f"{self.link.company_name}: "
        return {check.name.removeprefix(prefix): check for check in checks}


def _paths(root: Path) -> Paths:
    return Paths(root / "config", root / "data", root / "logs")


@pytest.fixture
def setup(cloud: LocalCloud, tmp_path: Path) -> Setup:
    with cloud.client() as api:
        company_id = api.post("/companies", json={"name": "Harbor Lane"}).json()["id"]
        link_url = api.post(
            f"/companies/{company_id}/connections", json={"platformKey": "gncs"}
        ).json()["linkUrl"]
    with CloudClient(cloud.url) as anonymous:
        grant = anonymous.link(link_url.rsplit("/", 1)[1], sorted(MAPPERS))
    store = memory_store()
    keeper = TokenKeeper(grant.connection_id, store, first_grant=grant.tokens)
    books = tmp_path / "My Books"
    books.mkdir()
    book = shutil.copy2(SAMPLE_BOOKS["sqlite"], books / "Harbor Lane.gnucash")
    link = Link(
        cloud_url=cloud.url,
        company_id=grant.company_id,
        company_name=grant.company_name,
        connection_id=grant.connection_id,
        book_path=str(book),
        linked_at=to_iso(utc_now()),
    )
    return Setup(_paths(tmp_path), AgentConfig(links=(link,)), store, keeper, company_id)


def _never(_link: Link) -> CloudClient:
    raise AssertionError("the credential must not be sent in this situation")


def _failed(checks: dict[str, Check]) -> list[str]:
    return [name for name, check in checks.items() if not check.ok]


def test_all_good(setup: Setup) -> None:
    checks = setup.run()
    assert list(checks) == [
        "Credential store",
        "credential",
        "secure connection",
        "cloud reachable",
        "authorization",
        "clock",
        "book",
    ]
    assert _failed(checks) == []
    assert not any(check.warning for check in checks.values())
    assert exit_code(list(checks.values())) == 0
    assert "can be read" in checks["book"].detail
    assert "open in GnuCash" not in checks["book"].detail
    assert "all 7 checks passed" in format_report(list(checks.values()))
    # The book was read through a copy in Connector's folder, and the copy is gone.
    assert list(setup.paths.staging_dir.rglob("*")) == []


def test_a_cloud_that_is_down(setup: Setup) -> None:
    setup.store.save(setup.link.connection_id, "a-refresh-token-nobody-checks")
    down = setup.with_link(cloud_url=f"http://127.0.0.1:{free_port()}")
    checks = down.run(client_for=_never)
    assert _failed(checks) == ["cloud reachable"]
    assert "refused the connection" in checks["cloud reachable"].detail
    assert "authorization" not in checks  # one cause, reported once
    assert checks["cloud reachable"].fix


def test_an_unresolvable_host(setup: Setup) -> None:
    unknown = setup.with_link(cloud_url="https://connector-no-such-host.invalid")
    checks = unknown.run(client_for=_never)
    assert _failed(checks) == ["cloud reachable"]
    assert "connector-no-such-host.invalid could not be found" in checks["cloud reachable"].detail


def test_plain_http_to_another_computer_is_refused(setup: Setup) -> None:
    insecure = setup.with_link(cloud_url="http://connector-no-such-host.invalid")
    checks = insecure.run(client_for=_never)
    secure = checks["secure connection"]
    assert not secure.ok and "not an https address" in secure.detail
    assert secure.fix is not None and "https://" in secure.fix
    assert "authorization" not in checks


def test_a_revoked_connection(setup: Setup, cloud: LocalCloud) -> None:
    with cloud.client() as api:
        revoked = api.post(
            f"/companies/{setup.company_id}/connections/{setup.link.connection_id}/revoke"
        )
        assert revoked.status_code == 200, revoked.text
    checks = setup.run()
    assert _failed(checks) == ["authorization"]
    assert checks["authorization"].fix == RELINK_FIX
    assert "clock" not in checks


def test_a_missing_credential(setup: Setup) -> None:
    setup.store.delete(setup.link.connection_id)
    checks = replace(setup, keeper=TokenKeeper(setup.link.connection_id, setup.store)).run(
        client_for=_never
    )
    assert _failed(checks) == ["credential"]
    assert checks["credential"].fix == RELINK_FIX
    assert "authorization" not in checks


def test_a_missing_book(setup: Setup, tmp_path: Path) -> None:
    gone = tmp_path / "My Books" / "Renamed.gnucash"
    checks = setup.with_link(book_path=str(gone)).run()
    assert _failed(checks) == ["book"]
    book = checks["book"]
    assert str(gone) in book.detail
    assert book.fix is not None and "choose it again" in book.fix


def test_a_book_open_in_gnucash_is_fine(setup: Setup, tmp_path: Path) -> None:
    book = Path(shutil.copy2(SAMPLE_BOOKS["xml-gzip"], tmp_path / "My Books" / "Open.gnucash"))
    book.with_name(book.name + ".LCK").write_bytes(b"")
    checks = setup.with_link(book_path=str(book)).run()
    assert _failed(checks) == []
    assert "open in GnuCash right now, which is fine" in checks["book"].detail
    assert checks["book"].fix is None


@pytest.mark.parametrize(("minutes", "word"), [(10, "ahead of"), (-10, "behind")])
def test_clock_skew(setup: Setup, minutes: int, word: str) -> None:
    checks = setup.run(clock=lambda: utc_now() + timedelta(minutes=minutes))
    assert _failed(checks) == ["clock"]
    assert f"10 minutes {word} the cloud's" in checks["clock"].detail
    assert checks["clock"].fix is not None and "clock" in checks["clock"].fix


def test_a_small_skew_is_fine(setup: Setup) -> None:
    checks = setup.run(clock=lambda: utc_now() + timedelta(minutes=4))
    assert checks["clock"].ok


def test_no_usable_keyring(setup: Setup) -> None:
    def no_keyring() -> CredentialStore:
        raise CredentialStoreUnavailable(NO_KEYRING_FIX)

    checks = run_checks(
        setup.paths,
        setup.config,
        open_store=no_keyring,
        client_for=_never,
        sleep=lambda _seconds: None,
    )
    store = checks[0]
    assert (store.name, store.ok, store.fix) == ("Credential store", False, NO_KEYRING_FIX)
    assert [c.name for c in checks if not c.ok] == ["Credential store"]


def test_a_plain_file_store_is_a_warning(tmp_path: Path) -> None:
    checks = run_checks(
        _paths(tmp_path),
        AgentConfig(),
        open_store=lambda: CredentialStore(MemoryKeyring(), insecure=True),
        client_for=_never,
    )
    store, links = checks
    assert store.ok and store.warning and "plain file" in store.detail
    assert not links.ok and links.fix is not None and "connector link" in links.fix
    report = format_report(checks)
    assert "WARN  Credential store" in report and "FAIL  Links" in report


def test_a_fault_in_the_self_test_is_reported_not_raised(setup: Setup) -> None:
    def broken(_link: Link) -> CloudClient:
        raise ZeroDivisionError("oops")

    checks = setup.run(client_for=broken)
    assert _failed(checks) == ["authorization"]
    assert "ZeroDivisionError" in checks["authorization"].detail


def test_a_malformed_cloud_address_is_reported_not_raised(setup: Setup) -> None:
    checks = setup.with_link(cloud_url="https://[not-a-host").run(client_for=_never)
    assert not checks["cloud reachable"].ok
    assert checks["book"].ok  # the other checks still ran


# TLS ----------------------------------------------------------------------------------------


def test_an_untrusted_certificate_names_the_ca_bundle_setting(setup: Setup, tmp_path: Path) -> None:
    with tls_server(tmp_path) as server:
        inspected = probe(server.url)
        assert inspected.hop == "tls-certificate"
        assert inspected.fix == CA_BUNDLE_FIX
        assert probe(server.url, ca_bundle=str(server.ca_file)).ok
        checks = setup.with_link(cloud_url=server.url).run(client_for=_never)
    assert "not trusted" in checks["cloud reachable"].detail
    assert checks["cloud reachable"].fix == CA_BUNDLE_FIX


def test_an_unreadable_ca_bundle(tmp_path: Path) -> None:
    found = probe("https://127.0.0.1:9", ca_bundle=str(tmp_path / "missing.pem"))
    assert found.hop == "tls-certificate" and "missing.pem" in found.detail


def _wrapped(cause: BaseException, kind: type[httpx.TransportError]) -> httpx.TransportError:
    """An httpx error caused by ``cause``, chained as httpx and httpcore chain them."""
    try:
        try:
            raise cause
        except BaseException as inner:
            raise kind(str(inner)) from inner
    except httpx.TransportError as outer:
        return outer


@pytest.mark.parametrize(
    ("cause", "kind", "hop"),
    [
        (
            ssl.SSLCertVerificationError(
                1,
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get "
                "local issuer certificate (_ssl.c:1006)",
            ),
            httpx.ConnectError,
            "tls-certificate",
        ),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version"), httpx.ConnectError, "tls"),
        (socket.gaierror(-2, "Name or service not known"), httpx.ConnectError, "name-resolution"),
        (
            ConnectionRefusedError(111, "Connection refused"),
            httpx.ConnectError,
            "connection-refused",
        ),
        (TimeoutError("timed out"), httpx.ConnectTimeout, "connection-timeout"),
        (TimeoutError("timed out"), httpx.ReadTimeout, "no-answer"),
        (OSError("503 Service Unavailable"), httpx.ProxyError, "proxy"),
        (OSError("Connection reset by peer"), httpx.ReadError, "network"),
    ],
)
def test_classification_of_transport_errors(
    cause: BaseException, kind: type[httpx.TransportError], hop: str
) -> None:
    found = classify(_wrapped(cause, kind), "https://cloud.example")
    assert found.hop == hop
    assert found.fix


def test_a_certificate_error_suggests_the_ca_bundle() -> None:
    error = httpx.ConnectError("certificate verify failed")
    error.__cause__ = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
    )
    found = classify(error, "https://cloud.example")
    assert found.hop == "tls-certificate"
    assert found.fix == CA_BUNDLE_FIX
    assert "cloud.example:443" in found.detail


def test_an_expired_certificate_points_at_the_date() -> None:
    error = httpx.ConnectError("x")
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "certificate has expired"
    error.__cause__ = cause
    found = classify(error, "https://cloud.example")
    assert found.hop == "tls-certificate" and found.fix and "date and time" in found.fix


def test_through_a_proxy_the_proxy_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://alice:s3cret-pass@proxy.corp.example:3128")
    found = classify(
        _wrapped(ConnectionRefusedError(111, "Connection refused"), httpx.ConnectError),
        "https://cloud.example",
    )
    assert found.hop == "proxy"
    assert "proxy.corp.example:3128" in found.detail and "s3cret-pass" not in found.detail
    monkeypatch.setenv("NO_PROXY", ".example")
    bypassed = classify(
        _wrapped(ConnectionRefusedError(111, "Connection refused"), httpx.ConnectError),
        "https://cloud.example",
    )
    assert bypassed.hop == "connection-refused"


@pytest.mark.parametrize(
    ("proxy", "answer", "said"),
    [
        ("http://proxy.corp.example:3128", "407 Proxy Authentication Required", "wants a user"),
        ("http://alice:s3cret-pass@proxy.corp.example:3128", "401 Unauthorized", "refused the"),
        ("http://alice:s3cret-pass@proxy.corp.example:3128", "407 Proxy Auth", "refused the"),
    ],
)
def test_a_proxy_asking_for_credentials_says_so(proxy: str, answer: str, said: str) -> None:
    error = unreachable(httpx.ProxyError(answer), "https://cloud.example", proxy=proxy)
    assert error.title == "The proxy wants a user name and password"
    assert said in error.message and answer in error.message
    assert "proxy.corp.example:3128" in error.message and "s3cret-pass" not in error.message


def test_a_certificate_refused_through_a_proxy_is_a_certificate_problem() -> None:
    error = httpx.ConnectError("certificate verify failed")
    error.__cause__ = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
    )
    found = classify(error, "https://cloud.example", proxy="http://proxy.corp.example:3128")
    assert found.hop == "tls-certificate" and found.fix == CA_BUNDLE_FIX
    assert "through the proxy http://proxy.corp.example:3128" in found.detail


def test_the_proxy_setting_is_named_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://env-proxy.example:8080")
    refused = _wrapped(ConnectionRefusedError(111, "Connection refused"), httpx.ConnectError)
    named = classify(refused, "https://cloud.example", proxy="http://set-proxy.example:3128")
    assert named.hop == "proxy" and "set-proxy.example:3128" in named.detail
    direct = classify(refused, "https://cloud.example", proxy=None)
    assert direct.hop == "connection-refused"


# The report ---------------------------------------------------------------------------------


def test_report_and_exit_code() -> None:
    checks = [
        Check("Credential store", True, "Credentials are kept in the keyring."),
        Check("Acme: clock", False, "This PC's clock is 10 minutes behind.", "Set the clock."),
    ]
    report = format_report(checks)
    lines = report.splitlines()
    assert lines[0] == "Connector self-test: 1 of 2 checks failed."
    assert "OK    Credential store - Credentials are kept in the keyring." in lines
    assert "FAIL  Acme: clock - This PC's clock is 10 minutes behind." in lines
    assert "      What to do: Set the clock." in lines
    assert report.isascii()
    assert exit_code(checks) == 1
    assert exit_code(checks[:1]) == 0
