"""Runs the agent and kills itself (SIGKILL: no cleanup of any kind) the moment a dataset
enters a chosen state. Used by the crash tests: ``python killable_agent.py HOME STATE``.
``Complete`` is the moment its upload is staged and nothing of it sent: the run enters
Complete only when the cloud acknowledges it, when there is nothing left to resume."""

from __future__ import annotations

import os
import signal
import sys

from agent.events import DatasetChanged, Event, UploadStaged
from agent.facade import Connector
from agent.support.config import Paths
from agent.support.logs import setup_logging


def main() -> None:
    home, kill_at = sys.argv[1], sys.argv[2]
    connector = Connector(Paths.resolve({"CONNECTOR_HOME": home}))
    setup_logging(connector.paths.log_dir)

    def die(event: Event) -> None:
        staged = isinstance(event, UploadStaged) and kill_at == "Complete"
        if staged or (isinstance(event, DatasetChanged) and event.status == kill_at):
            os.kill(os.getpid(), signal.SIGKILL)

    connector.subscribe(die)
    connector.run(until_idle=20)
    sys.exit(7)  # reaching this means the state was never entered


if __name__ == "__main__":
    main()
