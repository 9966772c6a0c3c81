"""The real processes of an episode, and the faults done to them.

- :class:`AgentProcess`: ``connector run --headless`` in its own process, killed (SIGKILL: no
  cleanup at all), put to sleep (SIGSTOP, then SIGCONT: the PC slept, and the wall clock has
  moved on when it wakes), restarted as a service manager would, and sampled from ``/proc``.
- :class:`CloudProcess`: ``connector-cloud serve`` (``cloud/local.py``), killed and restarted
  on the same port and database.
- :class:`CliStorm`: ``connector status --json`` and ``connector sync`` from other processes,
  every few hundred milliseconds, while the agent runs.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cloud.local import LocalCloud

CONNECTOR = [sys.executable, "-m", "agent.cli"]
STOP_GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class Exit:
    """The agent ended without being asked to."""

    at: float  # time.time()
    code: int
    output_tail: str


@dataclass(frozen=True)
class Sample:
    rss_kib: int
    threads: int


class AgentProcess:
    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.exits: list[Exit] = []
        self.samples: list[Sample] = []
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._output: Path | None = None
        self._asleep = False

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def outputs(self) -> list[Path]:
        """The console output of every start, oldest first."""
        return sorted(self.workdir.glob("agent-run-*.log"))

    def start(self) -> None:
        self.starts += 1
        self._output = self.workdir / f"agent-run-{self.starts:03d}.log"
        with self._output.open("wb") as out:
            self._process = subprocess.Popen(
                [*CONNECTOR, "run", "--headless"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._asleep = False

    def kill(self) -> None:
        """SIGKILL: the process ends at once, mid-write if it was writing."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
            self._asleep = False

    def sleep(self) -> None:
        if self._process is not None and not self._asleep:
            self._process.send_signal(signal.SIGSTOP)
            self._asleep = True

    def wake(self) -> None:
        if self._process is not None and self._asleep:
            self._process.send_signal(signal.SIGCONT)
            self._asleep = False

    def stop(self) -> int | None:
        """Ask it to stop as Ctrl+C does; kill it if it does not within the grace."""
        process, self._process = self._process, None
        if process is None:
            return None
        if self._asleep:
            process.send_signal(signal.SIGCONT)
            self._asleep = False
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None

    def supervise(self) -> Exit | None:
        """Note an exit nobody asked for; the caller decides whether to start it again."""
        if self._process is None or self._process.poll() is None:
            return None
        code = self._process.returncode
        tail = self._output.read_text(errors="replace")[-1500:] if self._output else ""
        gone = Exit(time.time(), code, tail)
        self.exits.append(gone)
        self._process = None
        return gone

    @property
    def running(self) -> bool:
        return self._process is not None

    def sample(self) -> None:
        """VmRSS and thread count from ``/proc``, while it runs."""
        if self._process is None:
            return
        try:
            status = Path(f"/proc/{self._process.pid}/status").read_text()
        except OSError:
            return
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        try:
            rss = int(fields["VmRSS"].split()[0])
            threads = int(fields["Threads"])
        except (KeyError, ValueError):
            return  # a zombie has no VmRSS
        self.samples.append(Sample(rss, threads))


class CloudProcess:
    """The reference cloud, killed and restarted on the same port and database."""

    def __init__(self, local: LocalCloud) -> None:
        self.local = local
        self.exits: list[Exit] = []
        self._down = False
        self._starting: threading.Thread | None = None

    def start(self) -> None:
        """Start it and wait until it answers."""
        self.local.start()
        self._down = False

    def start_in_background(self) -> None:
        """Start it without waiting (the episode's timetable goes on meanwhile)."""
        self._starting = threading.Thread(target=self.start, name="chaos-cloud-start")
        self._starting.start()

    def wait_until_up(self) -> None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None

    def kill(self) -> None:
        self.wait_until_up()
        self.local.stop(abrupt=True)
        self._down = True

    def stop(self) -> None:
        self.wait_until_up()
        self.local.stop()
        self._down = True

    def supervise(self) -> Exit | None:
        """Note an exit nobody asked for, and start it again."""
        if self._starting is not None and not self._starting.is_alive():
            self._starting = None
        code = None if self._down or self._starting else self.local.exit_code()
        if code is None:
            return None
        tail = self.local.log_path.read_text(errors="replace")[-1500:]
        gone = Exit(time.time(), code, tail)
        self.exits.append(gone)
        self.local.stop()
        self.start()
        return gone


@dataclass(frozen=True)
class CliResult:
    at: float
    command: str
    code: int
    output: str  # stdout and stderr, as printed


class CliStorm:
    """Runs ``connector status --json`` and ``connector sync`` from other processes until
    stopped: the two together (as a user's command beside the tray's own refresh), a new pair
    every few hundred milliseconds, at most ``parallel`` commands at a time."""

    def __init__(self, env: dict[str, str], rng: random.Random, *, parallel: int = 4) -> None:
        self.env = env
        self.results: list[CliResult] = []
        self._rng = rng
        self._parallel = parallel
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="chaos-cli-storm", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """No command starts after this; those under way finish in the background."""
        self._stop.set()

    def join(self) -> None:
        """Wait for the commands under way to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)
            self._thread = None

    @property
    def active(self) -> bool:
        return self._thread is not None and not self._stop.is_set()

    def _run(self) -> None:
        pending: list[Future[None]] = []
        with ThreadPoolExecutor(self._parallel, thread_name_prefix="chaos-cli") as pool:
            while not self._stop.is_set():
                pending = [f for f in pending if not f.done()]
                if len(pending) + 2 <= self._parallel:
                    pending.append(pool.submit(self._one, ["status", "--json"]))
                    pending.append(pool.submit(self._one, ["sync"]))
                self._stop.wait(self._rng.uniform(0.2, 0.5))

    def _one(self, command: list[str]) -> None:
        started = time.time()
        try:
            done = subprocess.run(
                [*CONNECTOR, *command],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=90,
                check=False,
            )
            result = CliResult(
                started, " ".join(command), done.returncode, done.stdout + done.stderr
            )
        except subprocess.TimeoutExpired as exc:
            result = CliResult(started, " ".join(command), -1, f"timed out after {exc.timeout} s")
        with self._lock:
            self.results.append(result)


def keyring_env(base: dict[str, str], home: Path) -> dict[str, str]:
    """The environment of the agent's processes: its keyring session, its own home."""
    env = {**base, "CONNECTOR_HOME": str(home)}
    env.pop("PYTHON_KEYRING_BACKEND", None)  # the real Secret Service keyring, always
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("NO_PROXY", "127.0.0.1,localhost")
    return env
