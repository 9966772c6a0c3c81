"""What an episode does, drawn from its seed: the book, the database, the network's faults,
and a timetable of syncs queued and of faults done to the processes and the book.

Everything is drawn from ``random.Random(f"{suite_seed}:{episode}")`` before the episode
starts, so the same seed and episode number always give the same plan. (What the plan meets is
real processes on a shared machine, so the order of events between them can still differ from
one replay to the next; the plan itself never does.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from protocol.datatypes import FETCH_ON_FIRST_LINK
from tests.support.fault_proxy import NetworkFault, NetworkProfile

NOT_READ_BY_THE_AGENT = "items"  # queued now and then: it must end NotSupported, at once


@dataclass(frozen=True)
class Profile:
    """How long and how hard the episodes of a run are."""

    name: str
    chaos_seconds: float  # faults on
    quiet_timeout: float  # faults off: at most this long for everything to settle
    lease_seconds: float  # the cloud's lease, short so that a sleep outlasts it
    # Short, so that refreshes happen during the episode: the agent renews 30 s before expiry,
    # so at 32 s it refreshes about every other second.
    access_token_ttl: float
    queue_syncs: tuple[int, int]
    agent_kills: tuple[int, int]
    cloud_kills: tuple[int, int]
    agent_sleeps: tuple[int, int]
    cli_storms: tuple[int, int]
    cli_storm_seconds: tuple[float, float]
    book_changes: tuple[int, int]
    request_fault_rate: tuple[float, float]  # of the agent's requests, while faults are on
    book_versions: int = 4


PROFILES = {
    "default": Profile(
        name="default",
        chaos_seconds=40.0,
        quiet_timeout=150.0,
        lease_seconds=4.0,
        access_token_ttl=45.0,
        queue_syncs=(4, 8),
        agent_kills=(0, 2),
        cloud_kills=(0, 1),
        agent_sleeps=(0, 1),
        cli_storms=(0, 1),
        cli_storm_seconds=(4.0, 12.0),
        book_changes=(1, 3),
        request_fault_rate=(0.1, 0.3),
    ),
    "short": Profile(
        name="short",
        chaos_seconds=20.0,
        quiet_timeout=120.0,
        lease_seconds=4.0,
        access_token_ttl=32.0,
        queue_syncs=(2, 4),
        agent_kills=(1, 1),
        cloud_kills=(0, 1),
        agent_sleeps=(0, 1),
        cli_storms=(1, 1),
        cli_storm_seconds=(12.0, 16.0),
        book_changes=(1, 2),
        request_fault_rate=(0.05, 0.15),
    ),
}

# How the network's faults share an episode's fault rate: mostly the cheap ones; a half-open
# connection costs the agent a whole request timeout, so it is rare.
_FAULT_WEIGHTS = {
    NetworkFault.LATENCY: 3.0,
    NetworkFault.BANDWIDTH: 2.0,
    NetworkFault.RESET_MID_REQUEST: 2.0,
    NetworkFault.RESET_MID_RESPONSE: 2.0,
    NetworkFault.TRUNCATED_BODY: 2.0,
    NetworkFault.HALF_OPEN: 0.2,
    NetworkFault.ERROR_BURST: 1.0,
}


@dataclass(frozen=True)
class QueueSyncs:
    at: float  # seconds after the faults start
    data_types: tuple[str, ...]


@dataclass(frozen=True)
class KillAgent:
    at: float
    down_for: float


@dataclass(frozen=True)
class KillCloud:
    at: float
    down_for: float


@dataclass(frozen=True)
class SleepAgent:
    """SIGSTOP for longer than a lease, then SIGCONT: a laptop lid closed and opened."""

    at: float
    asleep_for: float


@dataclass(frozen=True)
class CliStormWindow:
    at: float
    lasts: float


@dataclass(frozen=True)
class ReplaceBook:
    at: float
    version: int
    in_place: bool


Action = QueueSyncs | KillAgent | KillCloud | SleepAgent | CliStormWindow | ReplaceBook


@dataclass(frozen=True)
class EpisodePlan:
    suite_seed: int
    number: int
    profile: Profile
    book_format: str
    database: str  # "sqlite" or "postgresql"
    network: NetworkProfile
    actions: tuple[Action, ...]  # in time order

    @property
    def proxy_seed(self) -> int:
        return random.Random(f"{self.suite_seed}:{self.number}:network").getrandbits(32)

    @property
    def storm_seed(self) -> int:
        return random.Random(f"{self.suite_seed}:{self.number}:storm").getrandbits(32)

    def describe(self) -> str:
        kinds: dict[str, int] = {}
        for action in self.actions:
            kinds[type(action).__name__] = kinds.get(type(action).__name__, 0) + 1
        planned = ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items()))
        return f"{self.book_format} book, {self.database}; {planned}"


def plan_episode(
    suite_seed: int, number: int, profile: Profile, *, postgres_available: bool
) -> EpisodePlan:
    rng = random.Random(f"{suite_seed}:{number}")
    book_format = rng.choice(["sqlite", "xml-gzip"])
    wants_postgres = rng.random() < 0.5  # drawn either way, so the rest of the plan is the same
    total = rng.uniform(*profile.request_fault_rate)
    weight_sum = sum(_FAULT_WEIGHTS.values())
    network = NetworkProfile({f: total * w / weight_sum for f, w in _FAULT_WEIGHTS.items()})
    span = profile.chaos_seconds
    lease = profile.lease_seconds

    def times(counts: tuple[int, int], earliest: float = 1.0, latest: float = 3.0) -> list[float]:
        return sorted(rng.uniform(earliest, span - latest) for _ in range(rng.randint(*counts)))

    actions: list[Action] = []
    for at in times(profile.queue_syncs, earliest=0.0, latest=0.0):
        types = rng.sample(FETCH_ON_FIRST_LINK, rng.randint(1, len(FETCH_ON_FIRST_LINK)))
        if rng.random() < 0.2:
            types.append(NOT_READ_BY_THE_AGENT)
        actions.append(QueueSyncs(at, tuple(types)))
    actions += [KillAgent(at, rng.uniform(0.3, 3.0)) for at in times(profile.agent_kills)]
    actions += [KillCloud(at, rng.uniform(0.5, 4.0)) for at in times(profile.cloud_kills)]
    actions += [
        SleepAgent(at, rng.uniform(1.5 * lease, 2.5 * lease)) for at in times(profile.agent_sleeps)
    ]
    actions += [
        CliStormWindow(at, rng.uniform(*profile.cli_storm_seconds))
        for at in times(profile.cli_storms, latest=profile.cli_storm_seconds[0])
    ]
    version = 0
    for at in times(profile.book_changes, earliest=0.5, latest=1.0):
        version = rng.choice([v for v in range(profile.book_versions) if v != version])
        actions.append(ReplaceBook(at, version, in_place=rng.random() < 0.5))
    return EpisodePlan(
        suite_seed=suite_seed,
        number=number,
        profile=profile,
        book_format=book_format,
        database="postgresql" if wants_postgres and postgres_available else "sqlite",
        network=network,
        actions=tuple(sorted(actions, key=lambda a: a.at)),
    )
