"""Runs episodes and reports: one line per invariant with its count, the faults by kind, and
``chaos: N episodes, M faults, V violations``, with the seed and episode that replay each
violation. Used by ``scripts/chaos.py`` (``make chaos``) and by the short profile's test."""

from __future__ import annotations

import logging
import os
import shutil
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.chaos.books import BookVersions
from tests.chaos.episode import Episode
from tests.chaos.invariants import INVARIANTS, Violation, check
from tests.chaos.schedule import EpisodePlan, Profile, plan_episode

log = logging.getLogger("chaos")

EPISODE_RAN = "episode-ran"  # the harness could set the episode up and read its evidence


@dataclass
class EpisodeResult:
    plan: EpisodePlan
    workdir: Path
    violations: list[Violation] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    datasets: int = 0
    settled: bool = False
    settle_seconds: float = 0.0
    max_rss_mib: float = 0.0
    max_threads: int = 0

    @property
    def replay(self) -> str:
        command = f"make chaos SEED={self.plan.suite_seed} EPISODE={self.plan.number}"
        if self.plan.profile.name != "default":
            command += f' CHAOS_ARGS="--profile {self.plan.profile.name}"'
        return command


@dataclass
class SuiteResult:
    seed: int
    profile: Profile
    episodes: list[EpisodeResult] = field(default_factory=list)

    @property
    def violations(self) -> int:
        return sum(len(e.violations) for e in self.episodes)

    @property
    def faults(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for episode in self.episodes:
            total.update(episode.faults)
        return total

    def summary(self) -> list[str]:
        lines = []
        names = [*INVARIANTS, EPISODE_RAN]
        width = max(len(n) for n in names)
        for name in names:
            hit = [e for e in self.episodes if any(v.invariant == name for v in e.violations)]
            count = sum(1 for e in hit for v in e.violations if v.invariant == name)
            what = INVARIANTS[name][0] if name in INVARIANTS else "the episode ran to the end"
            lines.append(
                f"invariant {name:<{width}}  violations {count:>3} in {len(hit)} of "
                f"{len(self.episodes)} episodes  ({what})"
            )
        faults = self.faults
        lines.append(
            "faults by kind: "
            + (", ".join(f"{k} {n}" for k, n in sorted(faults.items())) or "none")
        )
        if self.episodes:
            lines.append(
                f"agent: max VmRSS {max(e.max_rss_mib for e in self.episodes):.0f} MiB, "
                f"max threads {max(e.max_threads for e in self.episodes)}; "
                f"{sum(e.datasets for e in self.episodes)} datasets"
            )
        for episode in self.episodes:
            if episode.violations:
                kinds = sorted({v.invariant for v in episode.violations})
                lines.append(f"replay: {episode.replay}  ({', '.join(kinds)})")
        lines.append(
            f"chaos: {len(self.episodes)} episodes, {sum(faults.values())} faults, "
            f"{self.violations} violations"
        )
        return lines


def run_suite(
    seed: int,
    numbers: Sequence[int],
    profile: Profile,
    workdir: Path,
    *,
    keep: bool = False,
    say: Callable[[str], None] = print,
) -> SuiteResult:
    """Run the episodes ``numbers`` of ``seed``; an episode's folder (logs, state.db, the
    cloud's database) is kept when it has violations, or always with ``keep``."""
    postgres = bool(os.environ.get("CONNECTOR_TEST_POSTGRES"))
    versions: dict[str, BookVersions] = {}
    result = SuiteResult(seed, profile)
    for number in numbers:
        plan = plan_episode(seed, number, profile, postgres_available=postgres)
        book_format = plan.book_format
        if book_format not in versions:
            versions[book_format] = BookVersions(
                workdir / "versions" / book_format, book_format, profile.book_versions
            )
        folder = workdir / f"episode-{number:03d}"
        say(f"episode {number} (seed {seed}): {plan.describe()}")
        episode = _run_one(plan, folder, versions[book_format])
        result.episodes.append(episode)
        for violation in episode.violations:
            say(f"  [{violation.invariant}] {violation.message}")
        say(
            f"  {sum(episode.faults.values())} faults, {len(episode.violations)} violations, "
            f"{episode.datasets} datasets, "
            + (f"settled in {episode.settle_seconds:.0f} s" if episode.settled else "never settled")
        )
        if episode.violations or keep:
            say(f"  kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return result


def _run_one(plan: EpisodePlan, folder: Path, versions: BookVersions) -> EpisodeResult:
    result = EpisodeResult(plan, folder)
    try:
        evidence = Episode(plan, folder, versions).run()
    except Exception:
        log.exception("episode %d could not run", plan.number)
        last = traceback.format_exc().strip().splitlines()[-1]
        result.violations.append(Violation(EPISODE_RAN, f"the harness failed: {last}"))
        return result
    result.violations = check(evidence)
    result.faults = evidence.faults
    result.datasets = len(evidence.history)
    result.settled = evidence.settled
    result.settle_seconds = evidence.settle_seconds
    if evidence.samples:
        result.max_rss_mib = max(s.rss_kib for s in evidence.samples) / 1024
        result.max_threads = max(s.threads for s in evidence.samples)
    (folder / "network-faults.log").write_text("\n".join(evidence.network_journal) + "\n")
    return result
