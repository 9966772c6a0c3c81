"""The agent's public face: what the CLI, the tray app and the tests call, and nothing else.

Commands return at once with plain values, or raise :class:`~agent.errors.ConnectorError`
subclasses whose title and message can be shown to a person as they are. Observers get
:mod:`agent.events` on agent threads. The status snapshot is put together in
:mod:`agent.status.link_status` (the one object every view shows), linking is done in
:mod:`agent.commands.linking`; both define the values they return.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path

from agent.cloud_api.cloud_client import CloudClient, SyncQueued
from agent.cloud_api.cloud_view import CloudViews
from agent.cloud_api.connectivity import probe
from agent.cloud_api.network import check_proxy
from agent.cloud_api.tokens import SharedAccess, TokenKeeper
from agent.commands import diagnostics, doctor, linking
from agent.commands.doctor import Check
from agent.commands.linking import BookPreview
from agent.errors import ConnectorError, CredentialStoreUnavailable, NotLinked
from agent.events import EventBus, Linked, LinkRetried, Observer, PauseChanged, Warning
from agent.runtime.link_worker import LinkResult, LinkWorker
from agent.runtime.local_state import LocalState
from agent.runtime.scheduler import AgentScheduler
from agent.runtime.sync_gate import FOREVER, SyncWindow, gate_for
from agent.sources.registry import source_kind
from agent.status.cloud_asking import CloudAsker
from agent.status.link_status import (
    AgentStatus,
    LinkConditions,
    RecentRun,
    agent_status,
    recent_runs,
)
from agent.status.run_marker import RunMarker, running_elsewhere
from agent.support import private_files, proxy_secret
from agent.support.config import (
    LOG_LEVELS,
    AgentConfig,
    ConfigError,
    CredentialStoreKind,
    Link,
    LogLevel,
    Paths,
    load_config,
    save_config,
)
from agent.support.credentials import CredentialStore
from agent.wiring import Wiring
from protocol.clock import Clock, to_iso, utc_now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    """What a run of the agent did, per link (:meth:`Connector.wait`)."""

    results: Mapping[str, LinkResult]  # by connection id

    @property
    def needs_reauthorization(self) -> list[str]:
        return [cid for cid, result in self.results.items() if result.needs_reauthorization]

    @property
    def errors(self) -> Mapping[str, str]:
        """Why links ended with their work undone, by connection id."""
        return {cid: result.error for cid, result in self.results.items() if result.error}


class Connector:
    def __init__(self, paths: Paths | None = None, *, clock: Clock = utc_now) -> None:
        """The agent of the folders in ``paths`` (platformdirs, or ``CONNECTOR_HOME``); an
        install from before makes them private first (files 0600, folders 0700)."""
        self.paths = paths or Paths.resolve()
        private_files.tighten(self.paths.own_folders)
        self._clock = clock
        self._bus = EventBus()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._started = False
        self._workers: dict[str, LinkWorker] = {}
        self._threads: list[threading.Thread] = []  # every thread started, for wait()
        self._serving: dict[str, threading.Thread] = {}  # the thread serving each link now
        # What is built, and from what (clients on each link's one TokenKeeper, state.db, the
        # sources, the workers): agent/wiring.py.
        self._wiring = Wiring(
            self.paths, clock=clock, publish=self._bus.publish, stopping=self._stopping
        )
        self._conditions = LinkConditions()
        self._cloud = CloudAsker(
            CloudViews(),
            serving=self._worker_serving,
            new_client=self._new_client,
            publish=self._bus.publish,
            clock=clock,
        )
        self._marker = RunMarker(self.paths.data_dir / "agent.lock")
        self._scheduler: AgentScheduler | None = None
        self._bus.subscribe(self._conditions.track)

    # Observing ---------------------------------------------------------------------------

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer`` (on agent threads) for every event; returns the unsubscribe."""
        return self._bus.subscribe(observer)

    def config(self) -> AgentConfig:
        return load_config(self.paths)

    def status(self, *, ask_cloud: bool = False) -> AgentStatus:
        """The snapshot of everything the tray, the status window and ``connector status``
        show. Reads only local files and what the running agent knows (the cloud's views its
        link workers keep), so the GUI thread may call it; with ``ask_cloud``, asks the cloud
        for each link's view first (what ``connector status`` does in its own process)."""
        config = self.config()
        asked = self._cloud.ask(config.links) if ask_cloud else {}
        serving = {
            link.connection_id for link in config.links if self._worker_serving(link.connection_id)
        }
        return agent_status(
            config,
            self._local_state(),
            self._conditions,
            self._cloud.views,
            serving=serving,
            running=self.running,
            running_elsewhere=not self._marker.held and running_elsewhere(self._marker.path),
            asked=asked,
            now=self._clock(),
        )

    def refresh_cloud_views(self) -> None:
        """Ask the cloud for each link's view now (a window's Refresh); blocks on the network,
        so the tray calls it off the GUI thread. Observers hear ``CloudViewUpdated``."""
        self._cloud.ask(self.config().links)

    def recent_runs(self, connection_id: str, limit: int = 20) -> tuple[RecentRun, ...]:
        """The runs of a link on this PC (the datasets it worked on), newest first, each with
        its local timeline."""
        return recent_runs(self._local_state(), connection_id, limit)

    @property
    def running(self) -> bool:
        """Started here and not stopped, even while no link is served (the only one waits to
        be re-authorized): a link linked meanwhile is served at once."""
        return self._started and not self._stopping.is_set()

    # Linking -------------------------------------------------------------------------------

    def preview_book(self, book_path: Path) -> BookPreview:
        """Read the book (a snapshot, never the file itself) and say what it holds; no link
        code is spent. Raises :class:`~agent.errors.BookUnreadable` for a wrong file."""
        return linking.preview_book(book_path, self.paths.staging_dir / "preview")

    def link(self, link_url: str, book_path: Path, *, insecure_file_store: bool = False) -> Link:
        """Link this PC's book to a company in the cloud, spending the link code in the URL.

        Everything that can fail locally (the credential store, the book) is checked before
        the one-time code is spent, so a failed attempt can simply be repeated. Linking a
        connection again (after re-authorization) replaces its old credential.
        """
        link, store = linking.link_book(
            link_url,
            book_path,
            paths=self.paths,
            insecure_file_store=insecure_file_store,
            open_store=self._credential_store,
            clock=self._clock,
        )
        log.info("Linked %s (%s) to %s", link.company_name, link.connection_id, link.book_path)
        # What was known about the old authorization (refused, the cloud's view of it) goes.
        self._conditions.forget(link.connection_id)
        self._keeper(link.connection_id, store).forget()  # the new credential is in the store
        self._cloud.views.forget(link.connection_id)
        if self.running:  # serve it at once (a new company, or one re-authorized)
            self._serve(link, store, None)
        self._bus.publish(Linked(link.connection_id, link.company_name))
        return link

    def unlink(self, connection_id: str) -> Link:
        """Forget a link on this PC and delete its credential. The cloud keeps its data."""
        config = self.config()
        link = self._find(config, connection_id)
        self._credential_store(config.credential_store).delete(connection_id)
        save_config(self.paths, config.without_link(connection_id))
        return link

    # Syncing -------------------------------------------------------------------------------

    def sync_now(
        self, data_types: list[str] | None = None, connection_id: str | None = None
    ) -> Mapping[str, SyncQueued]:
        """Ask the cloud to queue syncs (all first-link types when none are named), for one
        link or all; returns the cloud's answer per connection id."""
        config = self.config()
        links = [self._find(config, connection_id)] if connection_id else list(config.links)
        if not links:
            raise NotLinked("Nothing to sync yet: link a company first with `connector link`.")
        answers: dict[str, SyncQueued] = {}
        types = list(data_types or [])
        for link in links:
            answers[link.connection_id] = self._cloud.confirmed(link, lambda c: c.queue(types))
        self._nudge()
        if self.running:  # the snapshot shows what became of them (AuthError, say) at once
            self._cloud.ask(links)
        return answers

    def retry_link(self, connection_id: str) -> None:
        """Try again: serve a link again that stopped (it asked for re-authorization, or
        stopped on an error), with the credential the store holds now. If the cloud still
        refuses it, the link confirms that and asks for re-authorization again."""
        config = self.config()
        link = self._find(config, connection_id)
        store = self._credential_store(config.credential_store)
        log.info("%s: trying again, as asked", link.connection_id)
        # What was known about the refusal (the worker's verdict, the cloud's view) goes.
        self._conditions.forget(link.connection_id)
        self._cloud.views.forget(link.connection_id)
        self._keeper(link.connection_id, store).forget()
        self._bus.publish(LinkRetried(link.connection_id))
        if not self.running:  # not started here (its start failed), or stopped: start it all
            self.start()
            return
        self._serve(link, store, None)

    def pause(self, until: datetime | None = None) -> None:
        """Stop taking datasets until ``until`` (aware), or until :meth:`resume` if None."""
        moment = until or FOREVER
        save_config(self.paths, replace(self.config(), paused_until=to_iso(moment)))
        self._bus.publish(PauseChanged(moment))
        self._gate_changed()

    def resume(self) -> None:
        save_config(self.paths, replace(self.config(), paused_until=None))
        self._bus.publish(PauseChanged(None))
        self._gate_changed()

    def set_sync_window(self, window: str | None) -> None:
        """Sync only between two times of day (e.g. ``"19:00-07:00"``), or always if None."""
        if window is not None:
            window = str(SyncWindow.parse(window))
        save_config(self.paths, replace(self.config(), sync_window=window))
        self._gate_changed()

    def set_log_level(self, level: str) -> None:
        """How much the log keeps (DEBUG, INFO, WARNING, ERROR); applies at once in this
        process, and from the next start in any other."""
        if level not in LOG_LEVELS:
            raise ConfigError(
                f"Unknown log level {level!r}; choose one of {', '.join(LOG_LEVELS)}."
            )
        save_config(self.paths, replace(self.config(), log_level=LogLevel(level)))
        logging.getLogger().setLevel(level)

    def set_proxy(self, proxy: str | None) -> None:
        """None: connect directly; "system": the environment's proxy settings; or a proxy URL
        such as ``http://proxy.example:3128``. Used from the next connection each link makes.
        A password in the URL goes to the keyring; the config keeps the URL without it."""
        config = self.config()
        proxy = check_proxy(proxy)
        if proxy_secret.split_password(proxy)[1] is not None:
            store = self._credential_store(config.credential_store)
            proxy = proxy_secret.keep_password_apart(proxy, store)
        save_config(self.paths, replace(config, proxy=proxy))

    def _move_proxy_password(self, config: AgentConfig, store: CredentialStore) -> AgentConfig:
        """A config written before proxy passwords went to the keyring: move it there now."""
        if proxy_secret.split_password(config.proxy)[1] is None:
            return config
        moved = replace(config, proxy=proxy_secret.keep_password_apart(config.proxy, store))
        save_config(self.paths, moved)
        log.info("Moved the proxy's password from the settings file to the keyring")
        return moved

    def _gate_changed(self) -> None:
        """Tell the cloud at once (it stops handing out work), then wake the links."""
        if self._workers:
            for worker in list(self._workers.values()):
                worker.tell_gate()
        else:  # not running here (the CLI): tell the cloud on the running agent's behalf
            self._tell_cloud_gate()
        self._nudge()

    def _tell_cloud_gate(self) -> None:
        config = self.config()
        if not config.links:
            return
        reason = gate_for(config, self._clock()).reason
        try:
            for link in config.links:
                data_types = source_kind(link.source).data_types()
                self._cloud.confirmed(
                    link, partial(_heartbeat, data_types=data_types, wait_reason=reason)
                )
        except ConnectorError as error:
            log.info("Could not tell the cloud about the pause: %s", error.message)

    # Checking ------------------------------------------------------------------------------

    def doctor(self) -> list[Check]:
        """The self-test: keyring, cloud reachability hop by hop, authorization, clock, book."""
        config = self.config()
        stores: list[CredentialStore] = []

        def open_store() -> CredentialStore:
            if not stores:
                stores.append(self._credential_store(config.credential_store))
            return stores[0]

        return doctor.run_checks(
            self.paths,
            config,
            open_store=open_store,
            client_for=lambda link: self._client(link, open_store(), config),
            clock=self._clock,
        )

    def diagnostics(self, output: Path | None = None) -> Path:
        """A zip for support: logs, settings, versions, the self-test; no credentials, no
        ledger data."""
        try:
            config = self.config()
        except ConfigError:
            config = AgentConfig()  # the bundle still carries the raw config.json
        checks = self.doctor() if config.links else None
        stored: list[str] = []
        try:
            store = self._credential_store(config.credential_store)
            for link in config.links:
                refresh_token = store.load(link.connection_id)
                record = store.load_access(link.connection_id)
                shared = SharedAccess.loads(record) if record else None
                stored += [refresh_token or "", shared.token if shared else ""]
            stored = [secret for secret in stored if secret]
        except CredentialStoreUnavailable:
            pass
        # This process did not write the logs: hand it the secrets to look for explicitly.
        return diagnostics.build_bundle(
            self.paths, config, output or Path.cwd(), checks=checks, secrets=stored
        )

    # Running -------------------------------------------------------------------------------

    def start(self, *, until_idle: float | None = None) -> None:
        """Serve every link, each on its own thread; returns at once."""
        config = self.config()
        if not config.links:
            raise NotLinked("Nothing to sync yet: link a company first with `connector link`.")
        store = self._credential_store(config.credential_store)
        config = self._move_proxy_password(config, store)
        proxy = proxy_secret.with_password(config.proxy, store)
        if store.insecure:
            self._bus.publish(
                Warning(
                    "Connector keeps its credentials in a plain file on this PC, as you asked. "
                    "Anyone who can read your files can read them."
                )
            )
        self._stopping.clear()
        self._marker.hold()  # so that `connector status` elsewhere on this PC can tell
        for link in config.links:
            self._serve(link, store, until_idle)
        self._started = True
        self._scheduler = AgentScheduler(
            self._local_state(),
            self.paths,
            wake_all=self._nudge,
            network_ready=lambda: any(
                probe(link.cloud_url, ca_bundle=config.ca_bundle, proxy=proxy).ok
                for link in config.links
            ),
            clock=self._clock,
        )
        self._scheduler.start()

    def wait(self) -> RunSummary:
        """Block until every link's thread has ended (idle limit, stop, lost authorization)."""
        try:
            for thread in self._threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)
        except KeyboardInterrupt:
            self.stop()
        self._stop_scheduler()
        self._started = False
        self._marker.release()
        return RunSummary({cid: worker.result for cid, worker in self._workers.items()})

    def run(self, *, until_idle: float | None = None) -> RunSummary:
        self.start(until_idle=until_idle)
        return self.wait()

    def stop(self, *, now: bool = False, timeout: float = 30.0) -> None:
        """Stop serving. Gracefully, each link finishes the phase it is in (the run resumes at
        the next start); with ``now``, nobody is waited for."""
        self._stopping.set()
        self._nudge()
        if not now:
            # Only a link in the middle of a dataset has a phase to finish; an idle one may be
            # waiting in a long poll, and stops (as a daemon thread) when that returns.
            for connection_id, worker in list(self._workers.items()):
                if worker.running_data_type is not None:
                    self._serving[connection_id].join(timeout=timeout)
        self._stop_scheduler()
        self._started = False
        self._marker.release()

    # Internals -----------------------------------------------------------------------------

    def _serve(self, link: Link, store: CredentialStore, until_idle: float | None) -> None:
        """Start (or restart) the thread serving one link; one already serving it is woken
        instead, so that no link is ever served twice."""
        with self._lock:
            serving = self._serving.get(link.connection_id)
        if serving is not None and serving.is_alive():
            self._workers[link.connection_id].nudge()
            return
        worker = self._worker(link, store, until_idle)
        thread = threading.Thread(
            target=worker.run, name=f"connector-link-{len(self._threads)}", daemon=True
        )
        with self._lock:
            self._workers[link.connection_id] = worker
            self._serving[link.connection_id] = thread
            self._threads.append(thread)
        thread.start()

    def _worker(self, link: Link, store: CredentialStore, until_idle: float | None) -> LinkWorker:
        if store.load(link.connection_id) is None:
            raise NotLinked(
                f"The credential for {link.company_name} is missing from the "
                "keyring. Link it again with a new link URL."
            )
        return self._wiring.worker(
            link,
            store,
            self.config(),
            settings=self.config,
            keep_view=partial(self._cloud.keep, link.connection_id),
            until_idle=until_idle,
        )

    def _client(self, link: Link, store: CredentialStore, config: AgentConfig) -> CloudClient:
        return self._wiring.client(link, store, config)

    def _keeper(self, connection_id: str, store: CredentialStore) -> TokenKeeper:
        return self._wiring.keeper(connection_id, store)

    def _new_client(self, link: Link) -> CloudClient:
        config = self.config()
        return self._client(link, self._credential_store(config.credential_store), config)

    def _worker_serving(self, connection_id: str) -> LinkWorker | None:
        thread = self._serving.get(connection_id)
        if thread is None or not thread.is_alive():
            return None
        return self._workers.get(connection_id)

    def _credential_store(self, kind: CredentialStoreKind) -> CredentialStore:
        return self._wiring.credential_store(kind)

    def _local_state(self) -> LocalState:
        return self._wiring.local_state()

    def _nudge(self) -> None:
        """Wake every link's waits: something changed (stop, resume, sync now, woke up)."""
        for worker in list(self._workers.values()):
            worker.nudge()

    def _stop_scheduler(self) -> None:
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None

    @staticmethod
    def _find(config: AgentConfig, connection_id: str | None) -> Link:
        for link in config.links:
            if connection_id in (link.connection_id, link.company_id):
                return link
        raise NotLinked(f"No link {connection_id} on this PC. `connector status` lists them.")


def _heartbeat(client: CloudClient, *, data_types: list[str], wait_reason: str | None) -> None:
    client.heartbeat(data_types, wait_reason=wait_reason)
