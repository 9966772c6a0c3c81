"""Issue #13 within one process: threads using one connection's credential at once, through one
client or through clients of their own, never cost it its authorization.

The tray app is one process: its running agent (a link worker, a lease keeper, the outbox), the
status window asking the cloud for its view, and "Sync now" pressed twice all use the same
connection at once. Nothing revokes the connection here, so any refusal of the credential is
false. A real cloud on loopback whose access tokens live 6 s, so that they are renewed every
few seconds while the threads call (an agent that renews 30 s before expiry, as the agent before
issue #13 did, renews on every call). The credential is in the file store, which other
processes could read too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.tokens import TokenKeeper
from agent.errors import AuthorizationLost, ConnectorError
from agent.events import Event, NeedsReauthorization
from agent.facade import Connector
from agent.support.config import Link
from agent.support.credentials import CredentialStore, open_credential_store
from cloud.local import LocalCloud
from protocol.states import TERMINAL_STATES
from tests.agent.runtime_harness import Company, agent_home, book_copy, new_company
from tests.support.waiting import eventually

ACCESS_TOKEN_TTL = ("--access-token-ttl", "6")
THREADS = 4
SECONDS = 10.0


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path / "cloud", extra_args=ACCESS_TOKEN_TTL) as local:
        yield local


@pytest.fixture
def company(cloud: LocalCloud) -> Company:
    return new_company(cloud, "Harbor Lane")


@pytest.fixture
def connector(tmp_path: Path, company: Company) -> Connector:
    connector = Connector(agent_home(tmp_path))
    connector.link(company.link_url, book_copy(tmp_path), insecure_file_store=True)
    return connector


def _history(company: Company) -> list[dict[str, Any]]:
    with company.api() as api:
        body = api.get(
            f"/companies/{company.company_id}/data/history", params={"pageSize": 5000}
        ).json()
    results: list[dict[str, Any]] = body["results"]
    return results


def _at_once(work: Callable[[int], None], threads: int = THREADS) -> list[str]:
    """Run ``work(n)`` on ``threads`` threads over and over for SECONDS; what they raised."""
    raised: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def loop(n: int) -> None:
        while time.monotonic() < deadline:
            try:
                work(n)
            except ConnectorError as error:
                with lock:
                    raised.append(f"{type(error).__name__}: {error.title}: {error.message}")
                if isinstance(error, AuthorizationLost):
                    return  # a link worker stops here and asks the user to re-link

    workers = [threading.Thread(target=loop, args=(n,), name=f"caller-{n}") for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return raised


def test_the_tray_commands_beside_the_running_agent_keep_its_authorization(
    connector: Connector, company: Company
) -> None:
    """The status window's refresh and "Sync now", from several threads, beside the agent."""
    events: list[Event] = []
    connector.subscribe(events.append)
    connector.start()
    try:

        def tray_command(n: int) -> None:
            if n % 2:
                connector.sync_now(["customers", "suppliers"])
                return
            # The status window's Refresh: the snapshot, with the cloud asked afresh.
            for link in connector.status(ask_cloud=True).links:
                if link.cloud_problem or link.problems:
                    raise ConnectorError(f"{link.line}: {link.cloud_problem}")

        raised = _at_once(tray_command)
        eventually(lambda: all(d["status"] in TERMINAL_STATES for d in _history(company)))
    finally:
        connector.stop()
    lost = [e for e in events if isinstance(e, NeedsReauthorization)]

    assert raised == []
    assert lost == []
    assert {d["status"] for d in _history(company)} == {"Complete"}
    assert company.connection()["status"] == "Linked"
    (link,) = connector.status(ask_cloud=True).links
    assert link.condition != "needs_reauthorization"
    assert (link.cloud_problem, link.problems) == (None, ())


@pytest.mark.parametrize("clients", ["one client", "a client each"])
def test_threads_calling_at_once_keep_the_authorization(
    connector: Connector, company: Company, clients: str
) -> None:
    """Threads calling the cloud on one connection through one client (as a link worker and
    its lease keeper do) or through a client and token keeper each."""
    link: Link = connector.config().links[0]
    # Where the link kept it: the file store, which the agent opens so too.
    store: CredentialStore = open_credential_store(
        "file", connector.paths.config_dir / "credentials.json"
    )

    def new_client() -> CloudClient:
        return CloudClient(link.cloud_url, TokenKeeper(link.connection_id, store))

    shared = new_client()
    own = [new_client() for _ in range(THREADS)]

    def call(n: int) -> None:
        client = shared if clients == "one client" else own[n]
        client.status()
        client.heartbeat(["customers"])

    raised = _at_once(call)

    assert raised == []
    assert company.connection()["status"] == "Linked"
    new_client().status()  # the credential kept is still one the cloud accepts
