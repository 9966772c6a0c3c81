"""The agent's public face: what the CLI, the tray app and the tests call.

Methods return plain values and raise :class:`~agent.errors.ConnectorError` subclasses whose
title and message can be shown to a person as they are.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from agent.clock import to_iso, utc_now
from agent.cloud_client import CloudClient, split_link_url
from agent.config import (
    AgentConfig,
    CredentialStoreKind,
    Link,
    Paths,
    load_config,
    save_config,
)
from agent.credentials import CredentialStore, open_credential_store
from agent.errors import NotLinked
from agent.poller import LinkPoller, PollResult
from agent.runner import DatasetRunner
from agent.sources.gnucash.source import GnuCashSource
from agent.tokens import TokenKeeper

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    results: dict[str, PollResult]  # by connection id

    @property
    def needs_reauthorization(self) -> list[str]:
        return [cid for cid, result in self.results.items() if result.needs_reauthorization]


class Connector:
    def __init__(self, paths: Paths | None = None) -> None:
        self.paths = paths or Paths.resolve()

    def config(self) -> AgentConfig:
        return load_config(self.paths)

    def link(self, link_url: str, book_path: Path, *, insecure_file_store: bool = False) -> Link:
        """Link this PC's book to a company in the cloud, spending the link code in the URL.

        Everything that can fail locally (the credential store, the book) is checked before
        the one-time code is spent, so a failed attempt can simply be repeated.
        """
        cloud_url, code = split_link_url(link_url)
        config = self.config()
        kind: CredentialStoreKind = "file" if insecure_file_store else config.credential_store
        store = self._credential_store(kind)
        book = book_path.expanduser().resolve()
        source = GnuCashSource(book, self.paths.staging_dir / "link-check")
        source.fetch("chartOfAccounts")  # reads the book once: refuse a wrong file up front
        with CloudClient(cloud_url) as client:
            grant = client.link(code, source.readable_data_types())
        TokenKeeper(grant.connection_id, store, first_grant=grant.tokens)
        link = Link(
            cloud_url=grant.cloud_url,
            company_id=grant.company_id,
            company_name=grant.company_name,
            connection_id=grant.connection_id,
            book_path=str(book),
            linked_at=to_iso(utc_now()),
        )
        save_config(self.paths, replace(config.with_link(link), credential_store=kind))
        log.info("Linked %s (%s) to %s", link.company_name, link.connection_id, book)
        return link

    def run(self, *, until_idle: float | None = None) -> RunSummary:
        """Serve every link until stopped, or until each has been idle for ``until_idle`` s."""
        config = self.config()
        if not config.links:
            raise NotLinked("Nothing to sync yet: link a company first with `connector link`.")
        store = self._credential_store(config.credential_store)
        stop = threading.Event()
        pollers = [self._poller(link, store, stop, until_idle) for link in config.links]
        threads = [
            threading.Thread(target=poller.run, name=f"connector-poll-{index}", daemon=True)
            for index, poller in enumerate(pollers)
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)
        except KeyboardInterrupt:
            stop.set()
            for thread in threads:
                thread.join()
        return RunSummary({p.name: p.result for p in pollers})

    def _poller(
        self, link: Link, store: CredentialStore, stop: threading.Event, until_idle: float | None
    ) -> LinkPoller:
        if store.load(link.connection_id) is None:
            raise NotLinked(
                f"The credential for {link.company_name} is missing from the "
                "keyring. Link it again with a new link URL."
            )
        client = CloudClient(link.cloud_url, TokenKeeper(link.connection_id, store))
        source = GnuCashSource(Path(link.book_path), self.paths.staging_dir / link.connection_id)
        return LinkPoller(
            link.connection_id,
            client,
            DatasetRunner(client, source),
            data_types=source.readable_data_types(),
            stop=stop,
            idle_limit=until_idle,
        )

    def _credential_store(self, kind: CredentialStoreKind) -> CredentialStore:
        return open_credential_store(kind, self.paths.config_dir / "credentials.json")
