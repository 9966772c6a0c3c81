"""The main job, end to end, on embedded defaults (``make demo``).

Starts a reference cloud on a free loopback port with a temporary SQLite database, creates a
company and a GnuCash connection through the public API, links the agent to the sample book,
lets fetch-on-first-link queue the datasets, runs the agent until idle, then prints the
dataStatus and every dataset's timeline. Everything lives in a temporary folder, including the
agent's home and its credential store (an explicit file store: the demo must run on machines
with no keyring daemon).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cloud.local import LocalCloud
from protocol.clock import from_iso

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_BOOKS = {
    "sqlite": ROOT / "resources" / "sample-books" / "sample.gnucash",
    "xml": ROOT / "resources" / "sample-books" / "sample-xml.gnucash",
}
MUST_COMPLETE = ("chartOfAccounts", "customers", "suppliers")


def connector(home: Path, *args: str) -> None:
    env = {**os.environ, "CONNECTOR_HOME": str(home)}
    command = [sys.executable, "-m", "agent.cli", *args]
    print(f"$ connector {' '.join(args)}", flush=True)
    subprocess.run(command, env=env, check=True)


def print_timelines(history: list[dict[str, object]]) -> None:
    print("\nDataset timelines:")
    for dataset in history:
        print(f"\n  {dataset['dataType']}  {dataset['id']}")
        steps = dataset["statusHistory"]
        assert isinstance(steps, list)
        start = from_iso(steps[0]["timestamp"])
        for step in steps:
            offset = (from_iso(step["timestamp"]) - start).total_seconds()
            print(f"    {step['timestamp']}  +{offset:7.3f} s  {step['status']}")
        if dataset.get("errorMessage"):
            print(f"    reason: {dataset['errorMessage']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--format", choices=sorted(SAMPLE_BOOKS), default="sqlite")
    args = parser.parse_args()
    book = SAMPLE_BOOKS[args.format]

    with tempfile.TemporaryDirectory(prefix="connector-demo-") as temp:
        workdir = Path(temp)
        with LocalCloud(workdir / "cloud") as cloud, cloud.client() as api:
            print(f"Reference cloud at {cloud.url} (database {cloud.database_path})")
            company = api.post("/companies", json={"name": "Harbor Lane Design Studio"}).json()
            connection = api.post(
                f"/companies/{company['id']}/connections", json={"platformKey": "gncs"}
            ).json()
            print(f"Company {company['id']}; connection {connection['status']}")
            print(f"Link URL: {connection['linkUrl']}\n")

            home = workdir / "agent-home"
            connector(
                home, "link", connection["linkUrl"], "--book", str(book), "--insecure-file-store"
            )
            connector(home, "run", "--headless", "--until-idle", "2")

            status = api.get(f"/companies/{company['id']}/dataStatus").json()
            history = api.get(f"/companies/{company['id']}/data/history").json()["results"]

        print("\ndataStatus:")
        print(json.dumps(status, indent=2))
        print_timelines(history)

    failed = [
        data_type
        for data_type in MUST_COMPLETE
        if status[data_type].get("currentStatus") != "Complete"
        or status[data_type].get("latestSyncId") != status[data_type].get("latestSuccessfulSyncId")
    ]
    if failed:
        print(f"\nDemo FAILED: not Complete: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"\nDemo OK: {', '.join(MUST_COMPLETE)} are Complete.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
