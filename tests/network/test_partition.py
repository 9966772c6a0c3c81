"""A real partition: the agent in its own network namespace loses its route to the cloud in the
middle of a sync, and gets it back. It waits with backoff, never takes the silence for a refused
credential, and the dataset completes once the route is back."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cloud.local import LocalCloud
from tests.agent.runtime_harness import HAPPY_PATH, book_copy, new_company
from tests.network.agent_cli import AgentCli
from tests.network.certificates import cloud_tls
from tests.network.netns import AgentNamespace

PARTITION_AGENT = Path(__file__).with_name("partition_agent.py")
WAIT_SECONDS = 45.0


def _wait_for(what: str, condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the agent exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {WAIT_SECONDS} s")
        time.sleep(0.05)


def _events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_the_agent_waits_out_a_lost_route_and_completes_when_it_returns(tmp_path: Path) -> None:
    with AgentNamespace() as network:
        tls = cloud_tls(tmp_path / "certs", network.cloud_address)
        with LocalCloud(tmp_path / "cloud", bind_host=network.cloud_address, tls=tls) as cloud:
            company = new_company(cloud, "Harbor Lane")
            # The server's default public URL, once it serves https: https://HOST:PORT.
            assert company.link_url.startswith(f"https://{network.cloud_address}:{cloud.port}/")
            agent = AgentCli(tmp_path / "agent", prefix=network.exec_prefix)
            agent.trust(tls.ca_file)
            linked = agent.link(company.link_url, book_copy(tmp_path))
            assert linked.returncode == 0, linked.stderr

            events_file, go_file = tmp_path / "events.jsonl", tmp_path / "go"
            log_file = agent.paths.log_dir / "connector.log"
            process = subprocess.Popen(
                [
                    *network.exec_prefix,
                    sys.executable,
                    str(PARTITION_AGENT),
                    str(agent.home),
                    str(events_file),
                    "Processing",
                    str(go_file),
                ],
                env=agent.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:

                def held_at_processing() -> bool:
                    return any(e.get("status") == "Processing" for e in _events(events_file))

                _wait_for("Processing", held_at_processing, process)
                # A request sent on a kept-alive connection after the route went would wait out
                # the client's 30 s read timeout (TCP hears nothing, and retransmits quietly):
                # too slow for a test. So the cut comes once the cloud has closed the agent's
                # idle connections (uvicorn keeps them 5 s): every try after it opens a new
                # connection, which fails at once.
                _wait_for(
                    "the cloud closing idle connections",
                    network.cloud_said_goodbye_to_every_connection,
                    process,
                )
                network.cut()  # mid-sync: Processing recorded here, not yet reported
                go_file.touch()

                def retried_in_vain() -> bool:
                    # The first failure is announced; "still failing (2)" is the retry after
                    # the first backoff wait, which failed too.
                    kinds = {e["event"] for e in _events(events_file)}
                    return (
                        "CloudUnreachable" in kinds and "still failing (2)" in log_file.read_text()
                    )

                _wait_for("second failed attempt", retried_in_vain, process)
                assert company.datasets("customers")[-1]["status"] == "Validating"  # nothing got by
                network.restore()
                _, errors = process.communicate(timeout=WAIT_SECONDS)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            assert process.returncode == 0, errors

            events = _events(events_file)
            kinds = [e["event"] for e in events]
            assert "NeedsReauthorization" not in kinds
            assert "LinkStopped" not in kinds or all(
                e["reason"] == "stopped" for e in events if e["event"] == "LinkStopped"
            )
            assert kinds.count("CloudUnreachable") == 1  # the first failure of the streak only
            assert "CloudReconnected" in kinds
            unreachable = next(e for e in events if e["event"] == "CloudUnreachable")
            assert network.cloud_address in unreachable["message"]

            history = company.datasets("customers")
            assert len(history) == 1
            assert [s["status"] for s in history[0]["statusHistory"]] == HAPPY_PATH
            assert len(company.records("customers")) == 6
            assert company.connection()["status"] == "Linked"
