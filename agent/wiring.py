"""How the agent's parts are put together: one place, which the facade (and tests) build with.

The credential store, the one :class:`TokenKeeper` per link (and store) in this process, cloud
clients on that keeper, the local state (``state.db``), the source that reads a link's book
(found through :mod:`agent.sources.registry`), and a link's worker with its runner, outbox
sender and error streak. The facade keeps the threads, the events and the commands; what is
built, and from what, is here. Imports the layers below the facade; imported by the facade.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.cloud_view import CloudView
from agent.cloud_api.tokens import TokenKeeper
from agent.events import Event
from agent.runtime.backoff import ErrorStreak
from agent.runtime.dataset_moves import DatasetMoves
from agent.runtime.link_worker import LinkWorker
from agent.runtime.local_state import LocalState
from agent.runtime.outbox import OutboxSender
from agent.runtime.runner import DatasetRunner
from agent.sources.base import Source
from agent.sources.registry import source_kind
from agent.support import proxy_secret
from agent.support.config import AgentConfig, CredentialStoreKind, Link, Paths
from agent.support.credentials import CredentialStore, open_credential_store
from protocol.clock import Clock


class Wiring:
    """Builds the parts for the agent of ``paths``; keeps the ones there must be one of."""

    def __init__(
        self,
        paths: Paths,
        *,
        clock: Clock,
        publish: Callable[[Event], None],
        stopping: threading.Event,
    ) -> None:
        self.paths = paths
        self._clock = clock
        self._publish = publish
        self._stopping = stopping
        self._lock = threading.Lock()
        # The one owner of each link's tokens in this process, shared by its worker and every
        # command; other processes are kept in step through the store and a lock file.
        self._keepers: dict[tuple[str, str], TokenKeeper] = {}
        self._state: LocalState | None = None

    def credential_store(self, kind: CredentialStoreKind) -> CredentialStore:
        return open_credential_store(kind, self.paths.config_dir / "credentials.json")

    def keeper(self, connection_id: str, store: CredentialStore) -> TokenKeeper:
        """The one keeper of a link's tokens in this process (per credential store: a link made
        again may have moved to the other kind)."""
        key = (connection_id, store.backend_name)
        with self._lock:
            keeper = self._keepers.get(key)
            if keeper is None:
                keeper = TokenKeeper(
                    connection_id, store, lock_folder=self.paths.locks_dir, clock=self._clock
                )
                self._keepers[key] = keeper
            return keeper

    def client(self, link: Link, store: CredentialStore, config: AgentConfig) -> CloudClient:
        """A client of the link's cloud on the link's one keeper, with the network settings."""
        return CloudClient(
            link.cloud_url,
            self.keeper(link.connection_id, store),
            clock=self._clock,
            ca_bundle=config.ca_bundle,
            proxy=proxy_secret.with_password(config.proxy, store),
        )

    def local_state(self) -> LocalState:
        """``state.db``, opened once."""
        with self._lock:
            if self._state is None:
                self._state = LocalState(self.paths.data_dir / "state.db")
            return self._state

    def source(self, link: Link, config: AgentConfig) -> Source:
        """What reads the link's book: the source registered under the link's package
        (``Link.source``; :class:`~agent.errors.UnknownSource` when none is installed), its
        snapshots in the staging folder."""
        return source_kind(link.source)(
            Path(link.book_path),
            self.paths.staging_dir / "snapshots",
            report_months=config.report_months,
        )

    def worker(
        self,
        link: Link,
        store: CredentialStore,
        config: AgentConfig,
        *,
        settings: Callable[[], AgentConfig],
        keep_view: Callable[[CloudView], None],
        until_idle: float | None,
    ) -> LinkWorker:
        """A link's worker, with its client, outbox sender, source and runner."""
        client = self.client(link, store, config)
        state = self.local_state()
        streak = ErrorStreak(link.connection_id, self._publish)
        # One owner of the link's runs' states, shared by the runner and the outbox.
        moves = DatasetMoves(state, link.connection_id, publish=self._publish, clock=self._clock)
        sender = OutboxSender(
            state, client, link.connection_id, streak, self._stopping, moves=moves
        )
        source = self.source(link, config)
        runner = DatasetRunner(
            link.connection_id,
            client,
            source,
            state,
            sender,
            self.paths.link_staging_dir(link.connection_id),
            publish=self._publish,
            stopping=self._stopping.is_set,
            clock=self._clock,
            moves=moves,
        )
        return LinkWorker(
            link,
            client,
            runner,
            state,
            streak,
            data_types=source.readable_data_types(),
            settings=settings,
            publish=self._publish,
            stopping=self._stopping,
            wake=threading.Event(),
            idle_limit=until_idle,
            clock=self._clock,
            keep_view=keep_view,
        )
