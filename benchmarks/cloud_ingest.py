"""Cloud ingest: how fast the reference cloud takes a large upload and publishes it.

    .venv/bin/python benchmarks/cloud_ingest.py [--records 100000] [--page 500]

Starts the reference cloud (``LocalCloud``: its own process, SQLite in a temporary folder,
127.0.0.1 only), links one agent over HTTP and plays the agent's part of a journalEntries
sync with N generated records shaped like the agent's journal entries (about 450 bytes of JSON
each): the phases, then every page ``PUT .../chunks/n`` with its SHA-256, then ``Complete``,
which publishes. The page bodies are encoded before the clock starts: what is timed is the
cloud's side. Then the same again, as a second sync of the same book in which 1% of the
records changed (a full upload: every record is compared with what the cloud holds), and the
agent's fetch of the whole baseline (every page of it, when the cloud pages it).

Next to it, in the same run and the same process, the BASELINE: the least any store of these
records must do, a JSON encode and decode of every record plus a stdlib ``sqlite3``
``executemany`` of the encoded records into a fresh table of a fresh file. Ratios to it are
printed, because the absolute figures depend on the machine. Nothing is asserted: the exit code
is 0 unless the run itself breaks. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the repository's tests are not on the path
    sys.path.insert(0, str(ROOT))

from sync_throughput import machine  # noqa: E402

from cloud.local import LocalCloud  # noqa: E402
from protocol.clock import to_iso, utc_now  # noqa: E402
from tests.agent.runtime_harness import new_company  # noqa: E402

DATA_TYPE = "journalEntries"
CHANGED_SHARE = 0.01  # of the records, changed in the second sync


# The records ---------------------------------------------------------------------------------


def journal_entries(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` records shaped as GnuCash's mapping makes journal entries (see
    ``agent/sources/gnucash/mapping/journal_entries.py``)."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    accounts = [(f"{rng.getrandbits(128):032x}", f"Account {i}") for i in range(64)]
    records = []
    for index in range(count):
        lines = []
        amounts = [round(rng.uniform(1, 5000), 2) for _ in range(rng.choice((1, 1, 2, 3)))]
        for amount in [*amounts, -round(sum(amounts), 2)]:
            account_id, name = rng.choice(accounts)
            lines.append(
                {
                    "netAmount": amount,
                    "currency": "USD",
                    "accountRef": {"id": account_id, "name": name},
                    "description": None,
                }
            )
        day = 1 + index % 28
        records.append(
            {
                "id": f"{rng.getrandbits(128):032x}",
                "description": f"Invoice {index} for customer {rng.randrange(500)}",
                "postedOn": f"2025-{1 + index % 12:02d}-{day:02d}T00:00:00.000000Z",
                "createdOn": f"2025-{1 + index % 12:02d}-{day:02d}T10:59:00.000000Z",
                "journalLines": lines,
            }
        )
    return records


def pages(records: list[dict[str, Any]], size: int) -> list[bytes]:
    """The page bodies in the agent's shape (``CloudClient.upload_chunk``); the keys unsorted,
    so that the cloud's canonicalising is measured whole."""
    return [
        json.dumps({"records": records[start : start + size]}, separators=(",", ":")).encode()
        for start in range(0, len(records), size)
    ]


# The baseline --------------------------------------------------------------------------------


def baseline(records: list[dict[str, Any]], workdir: Path) -> dict[str, float]:
    """JSON encode and decode every record, and a raw sqlite3 executemany of them."""
    started = time.perf_counter()
    encoded = [json.dumps(r, sort_keys=True, separators=(",", ":")) for r in records]
    encode = time.perf_counter() - started
    started = time.perf_counter()
    for text in encoded:
        json.loads(text)
    decode = time.perf_counter() - started
    db = sqlite3.connect(workdir / "baseline.db")
    started = time.perf_counter()
    db.execute("CREATE TABLE records (id TEXT PRIMARY KEY, payload TEXT NOT NULL)")
    db.executemany(
        "INSERT INTO records VALUES (?, ?)",
        ((r["id"], text) for r, text in zip(records, encoded, strict=True)),
    )
    db.commit()
    insert = time.perf_counter() - started
    db.close()
    return {"encode": encode, "decode": decode, "insert": insert}


# The cloud's side ----------------------------------------------------------------------------


@dataclass
class Sync:
    upload: float  # every page PUT, one after the other
    complete: float  # the Complete report, which publishes
    pages: int
    records: int

    @property
    def total(self) -> float:
        return self.upload + self.complete


class Agent:
    """Plays the agent's part over HTTP, as ``agent/cloud_api/cloud_client.py`` does."""

    def __init__(self, cloud: LocalCloud, link_url: str) -> None:
        code = link_url.rstrip("/").rsplit("/", 1)[-1]
        grant = _ok(httpx.post(f"{cloud.url}/agent/v1/link", json={"linkCode": code}))
        self.http = httpx.Client(
            base_url=f"{cloud.url}/agent/v1",
            headers={"Authorization": f"Bearer {grant['accessToken']}"},
            timeout=600.0,
        )

    def claim(self) -> str:
        dataset = _ok(self.http.post("/poll", json={"waitSeconds": 5}))["dataset"]
        assert dataset is not None and dataset["dataType"] == DATA_TYPE, dataset
        return str(dataset["id"])

    def report(self, dataset_id: str, status: str, **extra: Any) -> None:
        body = {"status": status, "timestamp": to_iso(utc_now()), **extra}
        _ok(self.http.post(f"/datasets/{dataset_id}/transitions", json=body))

    def sync(self, bodies: list[bytes], records: int) -> Sync:
        dataset_id = self.claim()
        for status in ("Fetching", "Mapping", "Validating", "Processing"):
            self.report(dataset_id, status)
        started = time.perf_counter()
        for number, body in enumerate(bodies):
            response = self.http.put(
                f"/datasets/{dataset_id}/chunks/{number}",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Content-SHA256": hashlib.sha256(body).hexdigest(),
                },
            )
            if response.status_code != 204:
                raise RuntimeError(f"page {number}: {response.status_code} {response.text[:300]}")
        uploaded = time.perf_counter()
        self.report(dataset_id, "Complete", chunks=len(bodies), recordCount=records)
        return Sync(uploaded - started, time.perf_counter() - uploaded, len(bodies), records)

    def baseline(self) -> tuple[int, float]:
        """Every page of the baseline of a fresh dataset; (hashes, seconds)."""
        dataset_id = self.claim()
        started = time.perf_counter()
        hashes = sum(1 for _ in self._baseline_pages(dataset_id))
        seconds = time.perf_counter() - started
        self.report(dataset_id, "Fetching")
        self.report(dataset_id, "FetchError", errorMessage="Benchmark: only the baseline.")
        return hashes, seconds

    def _baseline_pages(self, dataset_id: str) -> Iterator[str]:
        params: dict[str, str] = {}
        while True:
            body = _ok(self.http.get(f"/datasets/{dataset_id}/baseline", params=params))
            yield from body["recordHashes"]
            after = body.get("nextAfter")  # absent where the cloud answers in one piece
            if not after:
                return
            params = {"after": after}


def _ok(response: httpx.Response) -> Any:
    if response.status_code != 200:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response.json()


def peak_rss(pid: int | None) -> int:
    """A running process's peak resident set size (``VmHWM``), in bytes; 0 if unknown."""
    status = Path(f"/proc/{pid}/status")
    if pid is None or not status.exists():
        return 0
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # kB
    return 0


def changed(records: list[dict[str, Any]], share: float, seed: int) -> list[dict[str, Any]]:
    """The same records with ``share`` of them edited (their description)."""
    rng = random.Random(seed + 1)  # noqa: S311 - test data, not secrets
    picked = set(rng.sample(range(len(records)), round(len(records) * share)))
    return [
        {**r, "description": f"{r['description']} (edited)"} if i in picked else r
        for i, r in enumerate(records)
    ]


# Running and reporting -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=500, help="records a page (the agent's)")
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args(argv)
    if args.records < 1 or args.page < 1:
        parser.error("--records and --page must be at least 1")
    print(machine())
    started = time.perf_counter()
    records = journal_entries(args.records, args.seed)
    bodies = pages(records, args.page)
    second = pages(changed(records, CHANGED_SHARE, args.seed), args.page)
    size = sum(len(b) for b in bodies)
    print(
        f"{args.records:,} records in {len(bodies):,} pages of {args.page}: "
        f"{size / 1e6:.1f} MB of JSON, {size / args.records:.0f} bytes a record",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="cloud-ingest-") as tmp_name:
        tmp = Path(tmp_name)
        base = baseline(records, tmp)
        floor = sum(base.values())
        with LocalCloud(tmp / "cloud", extra_args=("--sweep-seconds", "3600")) as cloud:
            company = new_company(cloud, "Bench", first_link=(DATA_TYPE,))
            agent = Agent(cloud, company.link_url)
            first = agent.sync(bodies, args.records)
            print(f"first sync {first.total:.2f} s", flush=True)
            company.queue(DATA_TYPE)
            hashes, baseline_seconds = agent.baseline()
            company.queue(DATA_TYPE)
            again = agent.sync(second, args.records)
            print(f"second sync {again.total:.2f} s", flush=True)
            database_bytes = sum(p.stat().st_size for p in (tmp / "cloud").glob("cloud.db*"))
            server_peak = peak_rss(cloud.pid)

    print()
    print(f"{'measurement':<46} {'seconds':>8} {'x baseline':>11}")
    rows = [
        ("baseline: json encode every record", base["encode"], None),
        ("baseline: json decode every record", base["decode"], None),
        ("baseline: sqlite3 executemany into a fresh table", base["insert"], None),
        ("BASELINE (the three together)", floor, 1.0),
        ("first sync: upload every page", first.upload, first.upload / floor),
        ("first sync: Complete (publish)", first.complete, first.complete / floor),
        ("FIRST SYNC, upload + publish", first.total, first.total / floor),
        (f"second sync ({CHANGED_SHARE:.0%} changed): upload", again.upload, None),
        ("second sync: Complete (publish)", again.complete, None),
        ("SECOND SYNC, upload + publish", again.total, again.total / floor),
        (f"baseline fetch, all pages ({hashes:,} hashes)", baseline_seconds, None),
    ]
    for name, seconds, ratio in rows:
        shown = f"{ratio:.1f}x" if ratio is not None else ""
        print(f"{name:<46} {seconds:>8.2f} {shown:>11}")
    rate = args.records / first.total
    print(
        f"\nfirst sync: {rate:,.0f} records/s; cloud database {database_bytes / 1e6:.0f} MB; "
        f"server's peak RSS {server_peak / 1024 / 1024:.0f} MB"
    )
    print(f"The whole command took {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
