"""The chaos suite's short profile, inside ``make test``: three seeded episodes of faults against
the real agent, cloud, keyring and GnuCash engine, and every invariant checked.

``make chaos`` runs the longer default profile; see docs/CHAOS.md. ``-m 'not chaos'`` leaves
this out locally.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.schedule import PROFILES
from tests.chaos.suite import run_suite
from tests.chaos.test_false_reauthorization import FalseReauthorization
from tests.support.gnucash_engine import requires_gnucash

pytestmark = pytest.mark.chaos

SEED = 2026
EPISODES = (1, 2, 3)


@pytest.mark.timeout(600)
@requires_gnucash
def test_a_short_chaos_run_keeps_every_invariant(tmp_path: Path) -> None:
    result = run_suite(SEED, EPISODES, PROFILES["short"], tmp_path, say=print)
    report = "\n".join(result.summary())
    print(report)

    # An episode that met the false re-authorization may break other invariants because of
    # it (an agent that lost its credential finishes nothing); every other must be clean.
    reauthorized = [
        e
        for e in result.episodes
        if any(v.invariant == "no-false-auth-error" for v in e.violations)
    ]
    clean = [e for e in result.episodes if e not in reauthorized]
    violations = [v for e in clean for v in e.violations]
    if reauthorized:
        raise FalseReauthorization(report)
    assert sum(result.faults.values()) >= 10, report  # not vacuous: the faults did strike
    assert violations == [], report
