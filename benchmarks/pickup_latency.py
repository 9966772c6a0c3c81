"""Pickup latency: how fast a queued dataset leaves Queued while many agents long-poll one server.

    .venv/bin/python benchmarks/pickup_latency.py [--agents 500] [--datasets 200]

Starts the reference cloud (``LocalCloud``, SQLite in a temporary folder, 127.0.0.1 only), links
one simulated agent per company, has every agent long-poll (``waitSeconds`` 25) from one asyncio
process, then queues datasets through the public API at a steady pace. A dataset's pickup
latency runs from just before its queue request is sent to the moment the server acknowledges
the agent's ``Fetching`` report, both on this process's monotonic clock. The agent then reports
``FetchError``, which ends the dataset and frees its data type, and polls again at once.

The same command first runs a baseline with one agent (same datasets, same pacing), because the
absolute figures depend on the machine; the ratios loaded/baseline do much less. The targets are
reported, not asserted: the exit code is 0 unless the run itself breaks. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cloud.local import LocalCloud
from protocol.clock import to_iso, utc_now
from protocol.datatypes import ACCOUNTING_DATA_TYPES

POLL_WAIT = 25.0  # what the agent asks for; also the server's cap
TARGET_P50 = 0.300
TARGET_P99 = 1.000
SETUP_CONCURRENCY = 16  # companies created and linked at a time
SETTLE_SECONDS = 2.0  # quiet time after the last first poll, before queueing starts
IDLE_PROBE_SECONDS = 0.020  # /health must answer within this, three times running
DRAIN_SECONDS = 30.0  # how long to wait for the last Fetching after the last queue request
STOP_SECONDS = 15.0  # how long agents get to finish their last poll when stopping


@dataclass
class Agent:
    index: int
    company_id: str
    token: str
    first_wait: float  # the first poll's wait; see --aligned-polls
    next_type: int  # round-robin over the data types, so no queue meets one still in progress
    polling: bool = False

    def take_type(self) -> str:
        data_type = ACCOUNTING_DATA_TYPES[self.next_type % len(ACCOUNTING_DATA_TYPES)]
        self.next_type += 1
        return data_type


@dataclass
class Tally:
    """What one scenario saw. Times are ``time.perf_counter()`` seconds."""

    agents: int
    setup_seconds: float = 0.0
    settle_seconds: float = 0.0
    queue_seconds: float = 0.0
    release_seconds: float = 0.0  # answering the last open polls so that agents can leave
    server_stop_seconds: float = 0.0
    first_polls: int = 0
    polls: int = 0
    empty_polls: int = 0  # answered {"dataset": null} after the wait, then sent again
    empty_polls_measured: int = 0  # ... of which while datasets were being queued
    measuring: bool = False
    stopping: bool = False
    sent: dict[str, float] = field(default_factory=dict)  # dataset id -> queue request sent
    queued: dict[str, float] = field(default_factory=dict)  # dataset id -> queue answered
    handed: dict[str, float] = field(default_factory=dict)  # dataset id -> poll answered
    acked: dict[str, float] = field(default_factory=dict)  # dataset id -> Fetching acknowledged
    queue_failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    all_polling: asyncio.Event = field(default_factory=asyncio.Event)
    all_acked: asyncio.Event = field(default_factory=asyncio.Event)

    def latencies(self) -> list[float]:
        return sorted(self.acked[i] - self.sent[i] for i in self.sent if i in self.acked)

    def part(self, end: dict[str, float], start: dict[str, float]) -> list[float]:
        return sorted(end[i] - start[i] for i in self.sent if i in end and i in start)

    def missing(self) -> int:
        return sum(1 for i in self.sent if i not in self.acked)


class Scenario:
    """One running server: link ``agents`` agents, start them, queue ``datasets``, stop them."""

    def __init__(
        self, cloud: LocalCloud, agents: int, datasets: int, seed: int, aligned: bool
    ) -> None:
        self.cloud = cloud
        self.datasets = datasets
        self.seed = seed
        self.aligned = aligned
        self.tally = Tally(agents=agents)
        self.agents: list[Agent] = []

    async def run(self) -> Tally:
        public = httpx.AsyncClient(
            base_url=self.cloud.url,
            headers={"Authorization": self.cloud.auth_header},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            timeout=30.0,
        )
        clients: list[httpx.AsyncClient] = []
        tasks: list[asyncio.Task[None]] = []
        try:
            started = time.perf_counter()
            await self._set_up(public)
            self.tally.setup_seconds = time.perf_counter() - started

            # One client per agent, as real agents have. A single shared pool would cost the
            # client O(connections x idle connections) per request (httpcore 1.0's pool scans
            # every connection for each idle one), which at 500 agents swamps what is measured.
            tls = httpx.create_ssl_context()  # unused on http://, but built once, not per client
            for agent in self.agents:
                headers = {"Authorization": f"Bearer {agent.token}"}
                clients.append(
                    httpx.AsyncClient(
                        base_url=self.cloud.url, headers=headers, verify=tls, timeout=30.0
                    )
                )
            started = time.perf_counter()
            tasks = [
                asyncio.create_task(self._agent(agent, client), name=f"agent-{agent.index}")
                for agent, client in zip(self.agents, clients, strict=True)
            ]
            await asyncio.wait_for(self.tally.all_polling.wait(), timeout=60)
            await self._settle(public)
            self.tally.settle_seconds = time.perf_counter() - started

            started = time.perf_counter()
            self.tally.measuring = True
            await self._queue_all(public)
            self.tally.queue_seconds = time.perf_counter() - started
            if self.tally.sent:
                with contextlib.suppress(TimeoutError):  # what never arrived is reported
                    await asyncio.wait_for(self.tally.all_acked.wait(), timeout=DRAIN_SECONDS)
            self.tally.measuring = False

            started = time.perf_counter()
            await self._stop_agents(public, tasks)
            self.tally.release_seconds = time.perf_counter() - started
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(*(client.aclose() for client in clients))
            await public.aclose()
        return self.tally

    # Setting up ------------------------------------------------------------------------------

    async def _set_up(self, public: httpx.AsyncClient) -> None:
        settings = [
            {"dataType": data_type, "fetchOnFirstLink": False, "syncSchedule": 24}
            for data_type in ACCOUNTING_DATA_TYPES
        ]
        _check(await public.post("/profile/syncSettings", json={"settings": settings}), 204)
        waits = random.Random(self.seed + 1)  # noqa: S311 - spreads poll cycles, not secrets
        gate = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def link_one(index: int) -> Agent:
            async with gate:
                company = _check(await public.post("/companies", json={"name": f"Bench {index}"}))
                company_id = company["id"]
                connection = _check(
                    await public.post(
                        f"/companies/{company_id}/connections", json={"platformKey": "gncs"}
                    )
                )
                code = connection["linkUrl"].rstrip("/").rsplit("/", 1)[-1]
                grant = _check(
                    await public.post(
                        "/agent/v1/link",
                        json={"linkCode": code, "agentVersion": "bench", "hostname": f"b{index}"},
                    )
                )
            # Real agents' 25 s cycles are out of step; unless asked, the first poll's wait is
            # drawn at random so that timeouts (and re-polls) are spread, not all at once.
            first_wait = POLL_WAIT if self.aligned else round(waits.uniform(1.0, POLL_WAIT), 3)
            return Agent(index, company_id, grant["accessToken"], first_wait, next_type=index)

        self.agents = list(await asyncio.gather(*(link_one(i) for i in range(self.tally.agents))))

    async def _settle(self, public: httpx.AsyncClient) -> None:
        """Give the server time to take in every first poll: a minimum, then until it is idle."""
        await asyncio.sleep(SETTLE_SECONDS)
        quick = 0
        deadline = time.perf_counter() + 30
        while quick < 3 and time.perf_counter() < deadline:
            started = time.perf_counter()
            await public.get("/health")
            quick = quick + 1 if time.perf_counter() - started < IDLE_PROBE_SECONDS else 0
            await asyncio.sleep(0.1)

    # Measuring -------------------------------------------------------------------------------

    async def _queue_all(self, public: httpx.AsyncClient) -> None:
        """Queue the datasets open-loop: each send is due at its time, whatever came before."""
        gaps = random.Random(self.seed)  # noqa: S311 - the same pacing in every scenario
        targets = random.Random(self.seed + 2)  # noqa: S311
        sends: list[asyncio.Task[None]] = []
        due = time.perf_counter()
        for _ in range(self.datasets):
            due += gaps.uniform(0.020, 0.050)
            agent = self.agents[targets.randrange(len(self.agents))]
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            sends.append(asyncio.create_task(self._queue_one(public, agent)))
        await asyncio.gather(*sends)

    async def _queue_one(self, public: httpx.AsyncClient, agent: Agent) -> None:
        data_type = agent.take_type()
        sent = time.perf_counter()
        try:
            response = await public.post(f"/companies/{agent.company_id}/data/queue/{data_type}")
        except httpx.HTTPError as exc:
            self.tally.queue_failures.append(repr(exc))
            return
        answered = time.perf_counter()
        if response.status_code != 200:
            self.tally.queue_failures.append(f"{response.status_code} {response.text[:200]}")
            return
        dataset_id = response.json()["id"]
        self.tally.sent[dataset_id] = sent
        self.tally.queued[dataset_id] = answered
        self._note_if_all_acked()

    def _note_if_all_acked(self) -> None:
        expected = self.datasets - len(self.tally.queue_failures)
        if len(self.tally.sent) == expected and not self.tally.missing():
            self.tally.all_acked.set()

    # The simulated agent ---------------------------------------------------------------------

    async def _agent(self, agent: Agent, http: httpx.AsyncClient) -> None:
        """Poll; on a dataset report Fetching at once, then FetchError, and poll again."""
        wait = agent.first_wait
        first = True
        while not self.tally.stopping:
            agent.polling = True
            self.tally.polls += 1
            if first:
                first = False
                self.tally.first_polls += 1
                if self.tally.first_polls == self.tally.agents:
                    self.tally.all_polling.set()
            try:
                response = await http.post(
                    "/agent/v1/poll",
                    json={"waitSeconds": wait},
                    timeout=wait + 15.0,
                )
            except httpx.HTTPError as exc:
                response = None
                self.tally.errors.append(f"poll: {exc!r}")
            finally:
                agent.polling = False
            wait = POLL_WAIT
            if response is None or response.status_code != 200:
                if response is not None:
                    self.tally.errors.append(f"poll: {response.status_code} {response.text[:200]}")
                await asyncio.sleep(1.0)
                continue
            dataset = response.json()["dataset"]
            if dataset is None:
                self.tally.empty_polls += 1
                self.tally.empty_polls_measured += self.tally.measuring
                continue
            if self.tally.stopping:
                return  # the dataset queued to end this poll
            handed = time.perf_counter()
            await self._report(http, dataset["id"], "Fetching")
            self.tally.handed[dataset["id"]] = handed
            self.tally.acked[dataset["id"]] = time.perf_counter()
            self._note_if_all_acked()
            await self._report(http, dataset["id"], "FetchError", "Benchmark: not read.")

    async def _report(
        self,
        http: httpx.AsyncClient,
        dataset_id: str,
        status: str,
        error_message: str | None = None,
    ) -> None:
        body: dict[str, Any] = {"status": status, "timestamp": to_iso(utc_now())}
        if error_message is not None:
            body["errorMessage"] = error_message
        try:
            response = await http.post(f"/agent/v1/datasets/{dataset_id}/transitions", json=body)
        except httpx.HTTPError as exc:
            self.tally.errors.append(f"{status}: {exc!r}")
            return
        if response.status_code != 200:
            self.tally.errors.append(f"{status}: {response.status_code} {response.text[:200]}")

    # Stopping --------------------------------------------------------------------------------

    async def _stop_agents(
        self, public: httpx.AsyncClient, tasks: list[asyncio.Task[None]]
    ) -> None:
        """End every open long poll by queueing one last dataset for it.

        The server holds a poll until its wait ends even when the client has gone away, and
        uvicorn waits for such requests before it stops: up to 25 s. Answering them instead
        lets every agent leave and the server stop at once.
        """
        self.tally.stopping = True
        gate = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def release(agent: Agent) -> None:
            async with gate:
                data_type = agent.take_type()
                await public.post(f"/companies/{agent.company_id}/data/queue/{data_type}")

        running = [a for a, t in zip(self.agents, tasks, strict=True) if not t.done()]
        releases = [asyncio.create_task(release(a)) for a in running if a.polling]
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_SECONDS)
        await asyncio.gather(*releases, return_exceptions=True)


# Running and reporting -----------------------------------------------------------------------


def run_scenario(label: str, agents: int, args: argparse.Namespace) -> Tally:
    print(f"{label}: starting a server and linking {agents} agent(s) ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="pickup-latency-") as workdir:
        extra = () if args.sweep_seconds is None else ("--sweep-seconds", str(args.sweep_seconds))
        cloud = LocalCloud(Path(workdir), extra_args=extra)
        try:
            with cloud:
                scenario = Scenario(cloud, agents, args.datasets, args.seed, args.aligned_polls)
                tally = asyncio.run(scenario.run())
                stopping = time.perf_counter()
            tally.server_stop_seconds = time.perf_counter() - stopping
        except BaseException:
            if cloud.log_path.exists():
                print(f"--- the server's log ---\n{cloud.log_path.read_text()[-4000:]}")
            raise
        log = cloud.log_path.read_text().strip() if cloud.log_path.exists() else ""
    if log:
        tally.errors.append(f"the server logged:\n{log[-2000:]}")
    print(
        f"{label}: setup {tally.setup_seconds:.1f} s, settle {tally.settle_seconds:.1f} s, "
        f"queueing {tally.queue_seconds:.1f} s, releasing the polls "
        f"{tally.release_seconds:.1f} s, stopping the server {tally.server_stop_seconds:.1f} s",
        flush=True,
    )
    return tally


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:,.0f} ms"


def _check(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response.json() if status == 200 else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def report(baseline: Tally, loaded: Tally, args: argparse.Namespace) -> None:
    rows: list[tuple[str, Callable[[Tally], list[float]]]] = [
        ("queue send -> Fetching acked", Tally.latencies),
        ("  queue send -> queue answered", lambda t: t.part(t.queued, t.sent)),
        ("  queue send -> poll answered", lambda t: t.part(t.handed, t.sent)),
        ("  poll answered -> Fetching acked", lambda t: t.part(t.acked, t.handed)),
    ]
    head = f"{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}"
    print()
    print(f"Pickup latency, {args.datasets} datasets, one every 20-50 ms (seed {args.seed})")
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, Python {platform.python_version()}")
    sweep = "server default" if args.sweep_seconds is None else f"{args.sweep_seconds:g} s"
    print(f"server: SQLite, maintenance sweep every {sweep}")
    for tally in (baseline, loaded):
        print(f"\n{f'{tally.agents} agent(s) long-polling':34}{head}")
        for name, values in rows:
            ordered = values(tally)
            cells = "".join(f"{_ms(percentile(ordered, p)):>9}" for p in (50, 90, 99, 100))
            print(f"{name:34}{cells}")
        print(
            f"  setup {tally.setup_seconds:.1f} s; polls sent {tally.polls}, "
            f"answered empty after the wait and re-sent {tally.empty_polls} "
            f"({tally.empty_polls_measured} while queueing); "
            f"queue refused {len(tally.queue_failures)}; never reached Fetching {tally.missing()}"
        )
        for error in (tally.queue_failures + tally.errors)[:5]:
            print(f"  ! {error}")

    loaded_ms = loaded.latencies()
    base_ms = baseline.latencies()
    p50, p99 = percentile(loaded_ms, 50), percentile(loaded_ms, 99)
    print(f"\nTargets, {loaded.agents} agents:")
    for name, value, target in (("p50", p50, TARGET_P50), ("p99", p99, TARGET_P99)):
        verdict = "PASS" if value <= target else "FAIL"  # nan (no data) fails
        print(f"  {name} {_ms(value):>9} <= {_ms(target):>9}   {verdict}")
    for name, p in (("p50", 50), ("p99", 99)):
        ratio = percentile(loaded_ms, p) / percentile(base_ms, p)
        print(f"  {name} loaded/baseline: {ratio:.1f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=500, help="agents in the loaded run")
    parser.add_argument("--datasets", type=int, default=200, help="datasets queued per run")
    parser.add_argument("--seed", type=int, default=20260131)
    parser.add_argument(
        "--aligned-polls",
        action="store_true",
        help="every agent's first poll waits the full 25 s (all time out together) instead of "
        "a random 1-25 s that spreads the poll cycles as real agents' are",
    )
    parser.add_argument(
        "--sweep-seconds",
        type=float,
        help="passed to the server: how often its maintenance sweep runs (default: the "
        "server's own, 5 s); a large value takes the sweep out of the measurement",
    )
    args = parser.parse_args(argv)
    if args.agents < 1 or args.datasets < 1:
        parser.error("--agents and --datasets must be at least 1")
    started = time.perf_counter()
    baseline = run_scenario("baseline", 1, args)
    loaded = run_scenario("loaded", args.agents, args)
    report(baseline, loaded, args)
    print(f"\nwhole run {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
