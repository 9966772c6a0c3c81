"""One chaos episode, from a fresh cloud to the evidence it leaves.

A fresh cloud (SQLite, or PostgreSQL when the plan says so and a server is there) with a
company and a connection made through the public API; the proxy in front of it; a real keyring;
the book linked with ``connector link`` through the proxy; ``connector run --headless``
started. Then the plan's timetable runs with the network's faults on; then the faults stop and
the episode waits (up to the profile's quiet timeout) until every dataset has ended and the
agent has nothing left to send; then the evidence is read and everything is taken down.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import random
import subprocess
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

from cloud.local import LocalCloud
from protocol.states import DatasetStatus, is_terminal
from tests.chaos.books import BookVersions, LiveBook
from tests.chaos.evidence import Evidence, read_cloud, read_logs, read_state_db
from tests.chaos.processes import CONNECTOR, AgentProcess, CliStorm, CloudProcess, keyring_env
from tests.chaos.schedule import (
    Action,
    CliStormWindow,
    EpisodePlan,
    KillAgent,
    KillCloud,
    QueueSyncs,
    ReplaceBook,
    SleepAgent,
)
from tests.support.fault_proxy import FaultProxy, NetworkProfile
from tests.support.keyring_session import KeyringSession
from tests.support.postgres import fresh_database

log = logging.getLogger("chaos")

TICK_SECONDS = 0.1
SAMPLE_EVERY_SECONDS = 0.5
SWEEP_SECONDS = 0.5
MAX_AGENT_RESTARTS = 5  # unexpected exits restarted; past that the agent stays down


class Episode:
    def __init__(self, plan: EpisodePlan, workdir: Path, versions: BookVersions) -> None:
        self.plan = plan
        self.workdir = workdir
        self.book = LiveBook(workdir / "books" / "Harbor Lane.gnucash", versions)
        self.evidence = Evidence(plan, workdir, self.book)
        self._later: list[
            tuple[float, int, str, Callable[[], None]]
        ] = []  # a heap of deferred acts
        self._order = itertools.count()
        self._last_sample = 0.0

    def run(self) -> Evidence:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            database_url = None
            if self.plan.database == "postgresql":
                database_url = stack.enter_context(fresh_database())
            profile = self.plan.profile
            local = LocalCloud(
                self.workdir / "cloud",
                database_url=database_url,
                extra_args=(
                    "--lease-seconds",
                    str(profile.lease_seconds),
                    "--access-token-ttl",
                    str(profile.access_token_ttl),
                    "--sweep-seconds",
                    str(SWEEP_SECONDS),
                ),
            )
            self.cloud = CloudProcess(local)
            self.cloud.start()
            stack.callback(self.cloud.stop)
            self.proxy = stack.enter_context(FaultProxy(local.port, self.plan.proxy_seed))
            session = stack.enter_context(KeyringSession(self.workdir / "user"))
            self.env = keyring_env(session.env, self.workdir / "agent-home")
            self.api = stack.enter_context(local.client())
            self.book.install_first()
            self._link()
            self.agent = AgentProcess(self.env, self.workdir)
            self.storm = CliStorm(self.env, random.Random(self.plan.storm_seed))
            stack.callback(self._take_down)
            self.agent.start()
            self._chaos()
            self._quiet()
            self._collect()
        return self.evidence

    # Setting up ----------------------------------------------------------------------------

    def _link(self) -> None:
        company = self.api.post("/companies", json={"name": "Harbor Lane Design Studio"})
        company.raise_for_status()
        self.company_id = company.json()["id"]
        connection = self.api.post(
            f"/companies/{self.company_id}/connections", json={"platformKey": "gncs"}
        )
        connection.raise_for_status()
        self.connection_id = connection.json()["id"]
        # The agent reaches the cloud only through the proxy.
        link_url = connection.json()["linkUrl"].replace(self.cloud.local.url, self.proxy.url)
        done = subprocess.run(
            [*CONNECTOR, "link", link_url, "--book", str(self.book.path)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"connector link failed: {done.stdout}{done.stderr}")

    # The timetable -------------------------------------------------------------------------

    def _chaos(self) -> None:
        self.proxy.set_profile(self.plan.network)
        start = time.time()
        actions = list(self.plan.actions)
        end = start + self.plan.profile.chaos_seconds
        while time.time() < end or actions:
            while actions and start + actions[0].at <= time.time():
                self._do(actions.pop(0))
            self._tick()
        self.proxy.set_profile(NetworkProfile.calm())

    def _do(self, action: Action) -> None:
        faults = self.evidence.faults
        self._note(str(action))
        if isinstance(action, QueueSyncs):
            self._queue(action.data_types)
        elif isinstance(action, KillAgent):
            if self.agent.running:
                faults["agent-kill"] += 1
                self.agent.kill()
                self._after(action.down_for, "agent started again", self._restart_agent)
        elif isinstance(action, KillCloud):
            faults["cloud-kill"] += 1
            self.cloud.kill()
            self._after(action.down_for, "cloud started again", self.cloud.start_in_background)
        elif isinstance(action, SleepAgent):
            if self.agent.running:
                faults["agent-sleep"] += 1
                self.agent.sleep()
                self._after(action.asleep_for, "agent woken (SIGCONT)", self.agent.wake)
        elif isinstance(action, CliStormWindow):
            if not self.storm.active:
                self.storm.join()  # the last window's stragglers
                faults["cli-storm"] += 1
                self.storm.start()
                self._after(action.lasts, "CLI storm over", self.storm.stop)
        elif isinstance(action, ReplaceBook):
            faults["book-rewritten-in-place" if action.in_place else "book-renamed-over"] += 1
            self.book.replace(action.version, in_place=action.in_place)

    def _queue(self, data_types: tuple[str, ...]) -> None:
        """Queue through the public API; while the cloud is down, try again shortly, as an
        integrator would."""
        for index, data_type in enumerate(data_types):
            try:
                queued = self.api.post(f"/companies/{self.company_id}/data/queue/{data_type}")
            except httpx.TransportError:
                self._after(0.5, "queue again", functools.partial(self._queue, data_types[index:]))
                return
            if queued.status_code >= 300 and "AlreadyInProgress" not in queued.text:
                raise RuntimeError(f"queueing {data_type} failed: {queued.text}")

    def _note(self, what: str) -> None:
        """Into the episode's own timeline (``actions.log``), and the harness's log."""
        log.info("episode %d: %s", self.plan.number, what)
        now = time.time()
        stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
        with (self.workdir / "actions.log").open("a") as journal:
            journal.write(f"{stamp} {what}\n")

    def _after(self, seconds: float, what: str, act: Callable[[], None]) -> None:
        heapq.heappush(self._later, (time.time() + seconds, next(self._order), what, act))

    def _restart_agent(self) -> None:
        if not self.agent.running:
            self.agent.start()

    def _tick(self, *, flush: bool = False) -> None:
        """Deferred acts that are due (all of them when ``flush``), supervision, samples."""
        # Flushing runs what was waiting, not what those acts schedule (a queueing retried
        # while the cloud starts would otherwise spin here).
        waiting = len(self._later)
        while self._later and waiting and (flush or self._later[0][0] <= time.time()):
            _due, _order, what, act = heapq.heappop(self._later)
            waiting -= 1
            self._note(what)
            act()
        if (gone := self.cloud.supervise()) is not None:
            self._note(f"the cloud exited {gone.code} on its own; started again")
        if (gone := self.agent.supervise()) is not None:
            self._note(f"the agent exited {gone.code} on its own")
            if len(self.agent.exits) <= MAX_AGENT_RESTARTS:
                self._after(0.5, "agent started again", self._restart_agent)
        if time.time() - self._last_sample >= SAMPLE_EVERY_SECONDS:
            self.agent.sample()
            self._last_sample = time.time()
        time.sleep(TICK_SECONDS)

    # Settling ------------------------------------------------------------------------------

    def _quiet(self) -> None:
        """Faults off; wait until everything has ended, or the quiet timeout."""
        self.storm.join()
        self._tick(flush=True)  # wake the sleeper, restart whatever is down
        self.cloud.wait_until_up()
        began = time.time()
        deadline = began + self.plan.profile.quiet_timeout
        while time.time() < deadline:
            self._tick()
            if self._settled():
                self.evidence.settled = True
                break
            if not self.agent.running and not self._later:
                break  # it gave up for good: nothing will change any more
        self.evidence.settle_seconds = time.time() - began

    def _settled(self) -> bool:
        if not self.agent.running:
            return False
        try:
            history = self.api.get(
                f"/companies/{self.company_id}/data/history", params={"pageSize": 5000}
            )
        except httpx.TransportError:
            return False
        if history.status_code != 200:
            return False
        if not all(is_terminal(DatasetStatus(d["status"])) for d in history.json()["results"]):
            return False
        runs, left = read_state_db(self.state_db)
        return left == 0 and all(run.finished for run in runs.values())

    @property
    def state_db(self) -> Path:
        return self.workdir / "agent-home" / "data" / "state.db"

    # Evidence ------------------------------------------------------------------------------

    def _collect(self) -> None:
        evidence = self.evidence
        read_cloud(evidence, self.api, self.company_id, self.connection_id)
        self.agent.stop()
        evidence.agent_runs, evidence.outbox_left = read_state_db(self.state_db)
        evidence.agent_log = read_logs(self.workdir / "agent-home" / "logs")
        evidence.agent_output = "".join(p.read_text(errors="replace") for p in self.agent.outputs)
        evidence.agent_exits = list(self.agent.exits)
        evidence.cloud_exits = list(self.cloud.exits)
        evidence.cli_results = list(self.storm.results)
        with (self.workdir / "cli.log").open("w") as cli_log:
            for result in evidence.cli_results:
                stamp = time.strftime("%H:%M:%S", time.localtime(result.at))
                cli_log.write(f"{stamp} connector {result.command} -> {result.code}\n")
                if result.code != 0 or "re-authorized" in result.output:
                    cli_log.write(result.output[-2000:] + "\n")
        evidence.samples = list(self.agent.samples)
        evidence.book_digest_after = self.book.digest()
        for fault, count in self.proxy.counts().items():
            evidence.faults[str(fault)] += count
        evidence.network_journal = [
            f"{time.strftime('%H:%M:%S', time.localtime(i.at))}.{int(i.at % 1 * 1000):03d} "
            f"{i.fault} {i.request}"
            for i in self.proxy.journal
        ]

    def _take_down(self) -> None:
        self.storm.join()
        self.agent.stop()
