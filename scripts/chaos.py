"""Run the chaos suite: randomized, seeded episodes of faults against the real agent and cloud.

    make chaos                       # the default profile: N episodes from SEED
    make chaos N=20 SEED=1234
    make chaos SEED=1234 EPISODE=3   # replay one episode

Prints one line per invariant with its count of violations, the faults injected by kind, and
last ``chaos: N episodes, M faults, V violations``; exits 1 on any violation, printing the
command that replays each failing episode. See docs/CHAOS.md.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.chaos.schedule import PROFILES
from tests.chaos.suite import run_suite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=5, help="how many (default: 5)")
    parser.add_argument("--seed", type=int, default=None, help="default: from the clock")
    parser.add_argument("--episode", type=int, default=None, help="replay only this episode")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="default")
    parser.add_argument("--workdir", type=Path, help="default: a new folder under /tmp")
    parser.add_argument("--keep", action="store_true", help="keep every episode's folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each action")
    args = parser.parse_args(argv)
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints where a stuck run is
    # A SIGTERM unwinds the episode like Ctrl+C, so that its cloud and agent are stopped too.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(143))

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    numbers = [args.episode] if args.episode else list(range(1, args.episodes + 1))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"chaos: seed {seed}, profile {args.profile}, episodes {numbers}, in {workdir}")
    started = time.monotonic()
    result = run_suite(seed, numbers, PROFILES[args.profile], workdir, keep=args.keep)
    for line in result.summary():
        print(line)
    print(f"({time.monotonic() - started:.0f} s)")
    if result.violations:
        return 1
    if not args.keep and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)  # nothing worth keeping: no violation
    return 0


if __name__ == "__main__":
    sys.exit(main())
