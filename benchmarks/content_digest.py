"""Content digest cost: ``content_digest`` against a plain hash of the same file.

    .venv/bin/python benchmarks/content_digest.py [--splits 1000000] [--format sqlite|xml-gzip|both]
    .venv/bin/python benchmarks/content_digest.py --book PATH        # an existing book instead

Writes a synthetic book (``benchmarks/synthetic_book.py``) in each format, takes the agent's
snapshot of it, then times, in this one process and alternately, ``content_digest`` on the
snapshot and ``hashlib.file_digest(f, "sha256")`` on the same copy (the least any digest of the
file must cost), ``--repeat`` times each after one warm-up of each, so the page cache is warm for
both. Prints the medians, the throughput, the ratio, and for gzip XML what hashing the
decompressed stream instead would cost. Targets (well under 1 s per 400 MB) are reported, not
asserted. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.sources.gnucash.reading.fingerprint import content_digest
from agent.sources.gnucash.reading.snapshot import take_snapshot
from benchmarks.synthetic_book import FORMATS, write_book

MB = 1_000_000


def _median_seconds(task: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _gunzip_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with gzip.open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def measure(book: Path, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as work:
        snapshot = take_snapshot(book, Path(work))
        copy = snapshot.copy
        size = copy.stat().st_size
        tasks: dict[str, Callable[[], object]] = {
            "content_digest": lambda: content_digest(snapshot),
            "file_digest sha256": lambda: _file_sha256(copy),
        }
        for task in tasks.values():
            task()  # warm-up: the page cache, and SQLite's first open
        runs: dict[str, list[float]] = {name: [] for name in tasks}
        for _ in range(repeat):  # alternate, so drift on a noisy machine hits both alike
            for name, task in tasks.items():
                runs[name].append(_median_seconds(task, 1))
        medians = {name: statistics.median(times) for name, times in runs.items()}
        print(f"{book.name}: {snapshot.format}, {size / MB:,.1f} MB, median of {repeat}")
        for name, seconds in medians.items():
            rate = size / MB / seconds
            per_400 = seconds * 400 * MB / size
            print(f"  {name:<20} {seconds:7.3f} s  {rate:7.0f} MB/s  {per_400:6.3f} s per 400 MB")
        ratio = medians["content_digest"] / medians["file_digest sha256"]
        print(f"  ratio content_digest / file_digest: {ratio:.2f}")
        if snapshot.format == "xml-gzip":
            seconds = _median_seconds(lambda: _gunzip_sha256(copy), max(1, repeat // 2))
            print(f"  (decompressed stream sha256 instead: {seconds:.3f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=1_000_000)
    parser.add_argument("--format", choices=[*FORMATS, "both"], default="both")
    parser.add_argument("--book", type=Path, help="measure this book instead of writing one")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if args.book:
        measure(args.book, args.repeat)
        return 0
    formats = FORMATS if args.format == "both" else (args.format,)
    with tempfile.TemporaryDirectory(prefix="digest-books-") as folder:
        for book_format in formats:
            book = Path(folder) / f"book-{book_format}.gnucash"
            write_book(book, args.splits, book_format)
            measure(book, args.repeat)
            book.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
