"""Sync throughput: how fast, and in how much memory, the agent reads and syncs a large book.

    .venv/bin/python benchmarks/sync_throughput.py [--splits 100000] [--format sqlite|xml-gzip|both]

Writes a synthetic GnuCash book (``benchmarks/synthetic_book.py``) of N splits in each format,
then measures, each in a fresh child process (its time taken inside the child, its peak RSS
read by the child itself from ``VmHWM`` in ``/proc/self/status``: see ``peak_rss``):

- the BASELINE, a raw scan that does the least any reader must: for SQLite, stdlib ``sqlite3``
  reading every split row into Python tuples; for gzip XML, an ``ElementTree.iterparse`` pass
  that touches every element and clears it;
- the agent's READ, ``read_book`` (snapshot copy, parse, delete the copy), and, when this
  version can, ``open_book`` and one pass over its ledger (what journalEntries reads);
- a FULL SYNC through a real reference cloud (``LocalCloud`` on 127.0.0.1): a company whose
  first link queues chartOfAccounts, customers, suppliers and (when the source reads it)
  journalEntries, ``Connector.link`` then ``Connector.run(until_idle=2)``; timed from the start
  of ``run`` to the moment the cloud is seen (polled every 0.1 s) to hold every dataset
  ``Complete``, so the idle wait is not counted. The latest ``Complete`` timestamp of the
  cloud's history is printed too, but it is the agent's own report time, taken when the
  records are staged, before they are uploaded: it leaves the upload out;
- an UNCHANGED RE-SYNC: the same types queued again, a new agent process, timed the same way;
  then again after the book's modification time is moved with its content unchanged (what a
  GnuCash save without edits does).

The peak memory is also measured on a book of N/10 splits, to see whether it grows with the
book. Targets are reported, not asserted: the exit code is 0 unless the run itself breaks.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element, iterparse

from synthetic_book import FORMATS, BookSummary, SyntheticFormat, write_book

ROOT = Path(__file__).resolve().parent.parent

if TYPE_CHECKING:
    from cloud.local import LocalCloud
    from tests.agent.runtime_harness import Company

WANTED_TYPES = ("chartOfAccounts", "customers", "suppliers", "journalEntries")
IDLE_SECONDS = 2.0  # Connector.run(until_idle=...): how long a run waits for more work
WATCH_SECONDS = 0.1  # how often the cloud is asked which datasets are Complete

TARGET_SQLITE_SYNC_RATIO = 4.0  # full sync <= 4x the raw SQLite scan
TARGET_XML_SYNC_RATIO = 1.5  # full sync <= 1.5x the raw streaming parse
TARGET_PEAK_BYTES = 150 * 1024 * 1024  # peak memory <= 150 MB at 1M splits
TARGET_FLAT_GROWTH = 1.10  # "flat": peak at N at most 10% above the peak at N/10 (our reading)
TARGET_RESYNC_RATIO = 0.05  # unchanged re-sync <= 5% of a full one
TARGET_PEAK_AT_SPLITS = 1_000_000


# Children: each measurement runs in a fresh interpreter -------------------------------------
# Only the standard library is imported at the top of this file, so that a child's peak RSS is
# what its own work needs: the agent's modules are imported by the children that use them.


def child_floor() -> dict[str, Any]:
    """Nothing but the agent's imports: the floor under every peak RSS below."""
    import agent.facade  # noqa: F401 - the point is to import it

    return {"seconds": 0.0}


def child_raw_scan(book: Path, book_format: str) -> dict[str, Any]:
    started = time.perf_counter()
    if book_format == "sqlite":
        uri = f"{book.resolve().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True)
        rows = sum(1 for _row in db.execute("SELECT * FROM splits"))
        db.close()
    else:
        rows = 0
        stack: list[Element] = []
        with gzip.open(book, "rb") as stream:
            # The benchmark's own book, written just now: nothing external to fetch.
            for event, element in iterparse(stream, events=("start", "end")):  # noqa: S314
                if event == "start":
                    stack.append(element)
                    continue
                rows += 1
                stack.pop()
                element.clear()
                if len(stack) <= 2 and stack:  # a record of <gnc:book>: drop it from there
                    stack[-1].remove(element)
    return {"seconds": time.perf_counter() - started, "rows": rows}


def child_records_floor(book: Path) -> dict[str, Any]:
    """The least Python work that turns an SQLite book's splits into journal-entry JSON: the
    raw scan's rows, joined and sorted as the agent's ledger asks SQLite to, one dict a
    transaction with a dict a line (floats, ISO dates), each encoded by orjson. No exact
    amounts, no checks, no upload: a floor for any agent written in Python, not a design."""
    import orjson

    started = time.perf_counter()
    db = sqlite3.connect(f"{book.resolve().as_uri()}?mode=ro", uri=True)
    query = (
        "SELECT t.guid, t.description, t.post_date, t.enter_date, s.account_guid, s.memo, "
        "s.value_num, s.value_denom FROM transactions AS t JOIN splits AS s "
        "ON s.tx_guid = t.guid ORDER BY t.post_date, t.enter_date, t.guid"
    )
    records = 0
    size = 0
    entry: dict[str, Any] | None = None
    for guid, description, posted, entered, account, memo, num, denom in db.execute(query):
        if entry is None or entry["id"] != guid:
            if entry is not None:
                size += len(orjson.dumps(entry))
                records += 1
            entry = {
                "id": guid,
                "description": description,
                "postedOn": posted[:10] + "T00:00:00Z",
                "createdOn": entered.replace(" ", "T") + "Z",
                "journalLines": [],
            }
        entry["journalLines"].append(
            {"netAmount": num / denom, "accountRef": {"id": account}, "description": memo}
        )
    if entry is not None:
        size += len(orjson.dumps(entry))
        records += 1
    db.close()
    return {"seconds": time.perf_counter() - started, "records": records, "bytes": size}


def child_read(book: Path, workdir: Path, transactions: bool) -> dict[str, Any]:
    from agent.sources.gnucash.reading.reader import open_book, read_book

    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if not transactions:
        read = read_book(book, workdir)
    else:  # what a sync reads: everything, and one pass over the ledger (journalEntries')
        with open_book(book, workdir) as reading:
            read = reading.book
            passed = sum(1 for _ in read.transactions)
    return {
        "seconds": time.perf_counter() - started,
        "accounts": len(read.accounts),
        "customers": len(read.customers),
        "vendors": len(read.vendors),
        "transactions": passed if transactions else None,
    }


def reads_transactions() -> bool:
    """Whether this version streams the ledger (``open_book``), as journalEntries reads it."""
    from agent.sources.gnucash.reading import reader

    return hasattr(reader, "open_book")


def child_sync(home: Path, book: Path, link_url: str | None) -> dict[str, Any]:
    from agent.facade import Connector
    from agent.support.config import Paths

    connector = Connector(Paths.resolve({"CONNECTOR_HOME": str(home)}))
    link_seconds = 0.0
    if link_url:
        started = time.perf_counter()
        connector.link(link_url, book, insecure_file_store=True)
        link_seconds = time.perf_counter() - started
    run_started = time.time()  # wall clock: compared with the cloud's history timestamps
    summary = connector.run(until_idle=IDLE_SECONDS)
    return {
        "link_seconds": link_seconds,
        "run_started": run_started,
        "run_returned": time.time(),
        "results": {cid: repr(result) for cid, result in summary.results.items()},
    }


def child_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("floor", "raw-scan", "records-floor", "read", "sync"))
    parser.add_argument("--book", type=Path)
    parser.add_argument("--book-format")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--link-url")
    parser.add_argument("--transactions", action="store_true")
    args = parser.parse_args(argv)
    if args.what == "floor":
        result = child_floor()
    elif args.what == "raw-scan":
        result = child_raw_scan(args.book, args.book_format)
    elif args.what == "records-floor":
        result = child_records_floor(args.book)
    elif args.what == "read":
        result = child_read(args.book, args.workdir, args.transactions)
    else:
        result = child_sync(args.home, args.book, args.link_url)
    result["peak_bytes"] = peak_rss()
    print(json.dumps(result))
    return 0


@dataclass
class Measured:
    """One child's answer and its peak resident set size."""

    result: dict[str, Any]
    peak_bytes: int

    @property
    def seconds(self) -> float:
        return float(self.result["seconds"])


def peak_rss() -> int:
    """This process's peak resident set size since its exec (``VmHWM``), in bytes.

    Not ``ru_maxrss``: Linux carries the high-water mark of the process image *before* exec
    into it, and a child forked from this parent (which has the cloud's client libraries
    loaded) would report the parent's size, however little the child itself uses.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status: this benchmark needs Linux")


def run_child(args: Sequence[str], log: Path, watch: Callable[[], None] | None = None) -> Measured:
    """Run one measurement in a fresh interpreter; call ``watch`` every 0.1 s meanwhile."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    with log.open("ab") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr)
        try:
            while process.poll() is None:  # the child prints one short line: no pipe stall
                if watch is not None:
                    watch()
                time.sleep(WATCH_SECONDS)
            assert process.stdout is not None
            output = process.stdout.read()
        finally:
            process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
    if process.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"child {' '.join(args[:1])} failed ({process.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    return Measured(result, int(result["peak_bytes"]))


# The parent -----------------------------------------------------------------------------------


@dataclass
class SyncRun:
    """One agent process syncing the queued types: from the start of run() to the last Complete."""

    seconds: float  # until the cloud was seen to hold the last dataset Complete (polled)
    stamped_seconds: float  # until the last Complete timestamp in the cloud's history
    peak_bytes: int
    link_seconds: float
    phases: dict[str, float]  # status -> seconds spent in it, summed over the datasets
    per_type: dict[str, float]  # data type -> seconds from run() start to its Complete
    errors: list[str] = field(default_factory=list)


@dataclass
class FormatResult:
    book: BookSummary
    small_book: BookSummary
    raw: Measured
    read: Measured
    read_all: Measured | None  # open_book + one ledger pass, when this version has it
    records_floor: Measured | None  # SQLite only: rows -> journal-entry JSON, nothing else
    small_read: Measured
    full: SyncRun
    small_full: SyncRun
    resync: SyncRun
    touched: SyncRun  # re-sync after the file was saved again with the same content


def sync_once(
    company: Company,
    types: list[str],
    home: Path,
    book: Path,
    log: Path,
    *,
    link: bool,
    before: set[str],
) -> SyncRun:
    args = ["sync", "--home", str(home), "--book", str(book)]
    if link:
        args += ["--link-url", company.link_url]
    from protocol.clock import from_iso

    # When the cloud first shows each dataset Complete, on this process's wall clock.
    seen: dict[str, float] = {}
    with company.api() as api:

        def watch() -> None:
            path = f"/companies/{company.company_id}/data/history"
            body = api.get(path, params={"pageSize": 500}).json()
            now = time.time()
            for d in body["results"]:
                if d["id"] not in before and d["status"] == "Complete":
                    seen.setdefault(d["id"], now)

        child = run_child(args, log, watch)
    run_started = float(child.result["run_started"])
    observed = max(seen.values(), default=run_started)
    phases: dict[str, float] = {}
    per_type: dict[str, float] = {}
    errors: list[str] = []
    last = run_started
    for data_type in types:
        fresh = [d for d in company.datasets(data_type) if d["id"] not in before]
        if len(fresh) != 1:
            errors.append(f"{data_type}: {len(fresh)} new datasets instead of 1")
            continue
        dataset = fresh[0]
        if dataset["status"] != "Complete":
            errors.append(
                f"{data_type}: {dataset['status']} {dataset.get('errorMessage', '')}".strip()
            )
            continue
        done = from_iso(dataset["completed"]).timestamp()
        per_type[data_type] = done - run_started
        last = max(last, done)
        history = dataset["statusHistory"]
        for move, after in itertools.pairwise(history):
            # Queued since before the agent ran: only the part after run() started counts.
            start = max(from_iso(move["timestamp"]).timestamp(), run_started)
            spent = max(from_iso(after["timestamp"]).timestamp() - start, 0.0)
            phases[move["status"]] = phases.get(move["status"], 0.0) + spent
    return SyncRun(
        seconds=observed - run_started,
        stamped_seconds=last - run_started,
        peak_bytes=child.peak_bytes,
        link_seconds=float(child.result["link_seconds"]),
        phases=phases,
        per_type=per_type,
        errors=errors,
    )


def dataset_ids(company: Company, types: list[str]) -> set[str]:
    return {d["id"] for t in types for d in company.datasets(t)}


def measure_format(
    book_format: SyntheticFormat,
    splits: int,
    seed: int,
    cloud: LocalCloud,
    types: list[str],
    tmp: Path,
) -> FormatResult:
    from tests.agent.runtime_harness import new_company

    folder = tmp / book_format
    folder.mkdir()
    log = folder / "children.log"
    book = write_book(folder / "books" / "Big.gnucash", splits, book_format, seed=seed)
    print(
        f"[{book_format}] wrote {book.splits:,} splits, {book.transactions:,} transactions, "
        f"{book.accounts} accounts, {book.customers} customers, {book.vendors} vendors: "
        f"{book.size_bytes / 1e6:.1f} MB in {book.seconds:.1f} s",
        flush=True,
    )
    small = write_book(
        folder / "small" / "Small.gnucash", max(2, splits // 10), book_format, seed=seed
    )

    raw = run_child(["raw-scan", "--book", str(book.path), "--book-format", book_format], log)
    print(f"[{book_format}] raw scan {raw.seconds:.2f} s, {mb(raw.peak_bytes)}", flush=True)
    records_floor = None
    if book_format == "sqlite":
        records_floor = run_child(["records-floor", "--book", str(book.path)], log)
        print(f"[{book_format}] records floor {records_floor.seconds:.2f} s", flush=True)
    read = run_child(["read", "--book", str(book.path), "--workdir", str(folder / "w")], log)
    got = (read.result["accounts"], read.result["customers"], read.result["vendors"])
    if got != (book.accounts, book.customers, book.vendors):
        raise RuntimeError(f"read_book found {got}, the book holds {book}")
    print(f"[{book_format}] read_book {read.seconds:.2f} s, {mb(read.peak_bytes)}", flush=True)
    read_all = None
    if reads_transactions():
        read_all = run_child(
            ["read", "--book", str(book.path), "--workdir", str(folder / "w"), "--transactions"],
            log,
        )
        print(
            f"[{book_format}] open_book + ledger pass {read_all.seconds:.2f} s, "
            f"{mb(read_all.peak_bytes)}",
            flush=True,
        )
    small_read = run_child(["read", "--book", str(small.path), "--workdir", str(folder / "w")], log)

    company = new_company(cloud, f"Bench {book_format}", first_link=tuple(types))
    full = sync_once(company, types, folder / "agent", book.path, log, link=True, before=set())
    print(f"[{book_format}] full sync {full.seconds:.2f} s, {mb(full.peak_bytes)}", flush=True)
    before = dataset_ids(company, types)
    for data_type in types:
        company.queue(data_type)
    resync = sync_once(company, types, folder / "agent", book.path, log, link=False, before=before)
    print(f"[{book_format}] re-sync {resync.seconds:.2f} s, {mb(resync.peak_bytes)}", flush=True)
    # GnuCash rewrites the whole file on every save (XML) or commit (SQLite): the same content
    # with a new modification time is the common "unchanged" case a size/mtime check misses.
    os.utime(book.path, ns=(time.time_ns(), time.time_ns()))
    before = dataset_ids(company, types)
    for data_type in types:
        company.queue(data_type)
    touched = sync_once(company, types, folder / "agent", book.path, log, link=False, before=before)
    print(
        f"[{book_format}] re-sync after a save without changes {touched.seconds:.2f} s, "
        f"{mb(touched.peak_bytes)}",
        flush=True,
    )

    small_company = new_company(cloud, f"Bench {book_format} small", first_link=tuple(types))
    small_full = sync_once(
        small_company, types, folder / "agent-small", small.path, log, link=True, before=set()
    )
    return FormatResult(
        book,
        small,
        raw,
        read,
        read_all,
        records_floor,
        small_read,
        full,
        small_full,
        resync,
        touched,
    )


def mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


Row = tuple[str, float, str, int]  # what, seconds, ratio, peak RSS (0: none)


def against_raw(name: str, measured: Measured | None, raw: float) -> list[Row]:
    """A table row with its ratio to the raw scan; none when it was not measured (this format
    or this version has no such measurement)."""
    if measured is None:
        return []
    return [(name, measured.seconds, f"{measured.seconds / raw:.1f}x raw", measured.peak_bytes)]


def report(results: dict[str, FormatResult], floor: Measured, splits: int) -> None:
    print()
    print(f"Peak RSS of a child that only imports the agent: {mb(floor.peak_bytes)}")
    for book_format, r in results.items():
        raw = r.raw.seconds
        print()
        print(
            f"== {book_format}: {r.book.splits:,} splits, {r.book.transactions:,} transactions, "
            f"{r.book.size_bytes / 1e6:.1f} MB"
        )
        header = f"{'measurement':<36} {'seconds':>9} {'ratio':>16} {'peak RSS':>9}"
        print(header)
        print("-" * len(header))
        rows: list[Row] = [
            *against_raw("raw scan (baseline)", r.raw, raw),
            *against_raw("records floor (rows -> entry JSON)", r.records_floor, raw),
            *against_raw("read_book", r.read, raw),
            *against_raw("open_book + ledger pass", r.read_all, raw),
            (
                "full sync (run start -> all Complete)",
                r.full.seconds,
                f"{r.full.seconds / raw:.1f}x raw",
                r.full.peak_bytes,
            ),
            ("  of which before it: link", r.full.link_seconds, "", 0),
            (
                "unchanged re-sync",
                r.resync.seconds,
                f"{r.resync.seconds / r.full.seconds:.0%} of full",
                r.resync.peak_bytes,
            ),
            (
                "re-sync, book saved unchanged",
                r.touched.seconds,
                f"{r.touched.seconds / r.full.seconds:.0%} of full",
                r.touched.peak_bytes,
            ),
        ]
        for name, seconds, ratio, peak in rows:
            print(f"{name:<38} {seconds:>7.2f} {ratio:>16} {mb(peak) if peak else '':>9}")
        runs = (("full sync", r.full), ("re-sync", r.resync), ("re-sync, saved", r.touched))
        for label, run in runs:
            phases = ", ".join(f"{k} {v:.2f} s" for k, v in run.phases.items())
            types = ", ".join(f"{k} {v:.2f} s" for k, v in run.per_type.items())
            print(f"  {label}: time in each status, summed over datasets: {phases}")
            print(f"  {label}: each type Complete after: {types}")
            print(
                f"  {label}: last Complete stamped after {run.stamped_seconds:.2f} s, seen in "
                f"the cloud after {run.seconds:.2f} s"
            )
            for error in run.errors:
                print(f"  {label}: NOT COMPLETE: {error}")
        print(
            f"  at {r.small_book.splits:,} splits: read_book peak {mb(r.small_read.peak_bytes)}, "
            f"full sync peak {mb(r.small_full.peak_bytes)}"
        )

    print()
    print("Targets (reported, not asserted):")
    for book_format, r in results.items():
        sync_ratio = r.full.seconds / r.raw.seconds
        limit = TARGET_SQLITE_SYNC_RATIO if book_format == "sqlite" else TARGET_XML_SYNC_RATIO
        base = "raw SQLite scan" if book_format == "sqlite" else "raw streaming parse"
        print(
            f"  {book_format}: full sync <= {limit}x the {base}: {sync_ratio:.1f}x "
            f"{verdict(sync_ratio <= limit)}"
        )
        peak = max(r.full.peak_bytes, r.resync.peak_bytes, r.touched.peak_bytes)
        where = "" if splits >= TARGET_PEAK_AT_SPLITS else f" (measured at {splits:,}; the "
        where += "" if splits >= TARGET_PEAK_AT_SPLITS else "target is stated for 1,000,000)"
        print(
            f"  {book_format}: peak memory <= {mb(TARGET_PEAK_BYTES)}: {mb(peak)} "
            f"{verdict(peak <= TARGET_PEAK_BYTES)}{where}"
        )
        growth = r.full.peak_bytes / r.small_full.peak_bytes
        print(
            f"  {book_format}: peak memory flat from {r.small_book.splits:,} to "
            f"{r.book.splits:,} splits (full sync, at most +{TARGET_FLAT_GROWTH - 1:.0%}): "
            f"{mb(r.small_full.peak_bytes)} -> {mb(r.full.peak_bytes)} ({growth - 1:+.0%}) "
            f"{verdict(growth <= TARGET_FLAT_GROWTH)}"
        )
        share = r.resync.seconds / r.full.seconds
        print(
            f"  {book_format}: unchanged re-sync <= {TARGET_RESYNC_RATIO:.0%} of a full one: "
            f"{share:.0%} {verdict(share <= TARGET_RESYNC_RATIO)}"
        )
        share = r.touched.seconds / r.full.seconds
        print(
            f"  {book_format}: ... and after a save without changes (same content, new mtime): "
            f"{share:.0%} {verdict(share <= TARGET_RESYNC_RATIO)}"
        )


def machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory:.0f} GB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}"
    )


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["--child"]:
        return child_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=100_000)
    parser.add_argument("--format", choices=(*FORMATS, "both"), default="both")
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:  # run as a script: the repository's tests are not on the path
        sys.path.insert(0, str(ROOT))
    from agent.sources.gnucash.source import GnuCashSource
    from cloud.local import LocalCloud

    formats: list[SyntheticFormat] = list(FORMATS) if args.format == "both" else [args.format]
    types = [t for t in WANTED_TYPES if t in GnuCashSource.data_types()]
    print(machine())
    print(f"{args.splits:,} splits, formats {', '.join(formats)}; data types {', '.join(types)}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sync-throughput-") as tmp_name:
        tmp = Path(tmp_name)
        floor = run_child(["floor"], tmp / "floor.log")
        results: dict[str, FormatResult] = {}
        with LocalCloud(tmp / "cloud") as cloud:
            for book_format in formats:
                results[book_format] = measure_format(
                    book_format, args.splits, args.seed, cloud, types, tmp
                )
        report(results, floor, args.splits)
    print(f"\nThe whole command took {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
