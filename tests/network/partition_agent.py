"""Runs the agent until idle, writing every event it publishes to a file as a JSON line; when a
dataset enters a chosen state it holds the agent there (the state recorded on this PC, its
report not yet sent) until a file appears, so that a test can cut the network mid-sync.

``python partition_agent.py HOME EVENTS_FILE HOLD_AT GO_FILE``
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from agent.events import DatasetChanged, Event
from agent.facade import Connector
from agent.support.config import Paths
from agent.support.logs import setup_logging

HOLD_SECONDS = 60.0


def main() -> None:
    home, events_file, hold_at, go_file = sys.argv[1:5]
    connector = Connector(Paths.resolve({"CONNECTOR_HOME": home}))
    setup_logging(connector.paths.log_dir, verbose=True)  # each retry is logged at DEBUG
    held = False

    with Path(events_file).open("a", encoding="utf-8") as events:

        def record(event: Event) -> None:
            nonlocal held
            line = {"event": type(event).__name__, **dataclasses.asdict(event)}
            events.write(json.dumps(line, default=str) + "\n")
            events.flush()
            if isinstance(event, DatasetChanged) and event.status == hold_at and not held:
                held = True
                deadline = time.monotonic() + HOLD_SECONDS
                while not Path(go_file).exists():
                    if time.monotonic() > deadline:
                        os._exit(8)  # the test never said go (the bus would catch an exception)
                    time.sleep(0.05)

        connector.subscribe(record)
        connector.run(until_idle=3)


if __name__ == "__main__":
    main()
