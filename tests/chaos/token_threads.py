"""Several threads of one process calling the cloud on one linked connection at once, as the
tray app's own commands do beside its running agent; prints what they met, as JSON.

Run in the environment of a linked agent (``CONNECTOR_HOME``, and the session of the keyring
that holds its credential)::

    python tests/chaos/token_threads.py one-client|separate-clients THREADS SECONDS

``one-client``: every thread calls through one ``CloudClient`` and its ``TokenKeeper`` (the
agent's link worker, lease keeper and outbox share one so). ``separate-clients``: each thread
has its own client and keeper on the same connection (the running agent's, "Sync now"'s, a
status window's). Each thread asks for the connection's status and sends a heartbeat, over and
over, for SECONDS; a refusal of the credential is what the test looks for.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.tokens import TokenKeeper
from agent.errors import AuthorizationLost, ConnectorError
from agent.support.config import Paths, load_config
from agent.support.credentials import open_credential_store


def main(argv: list[str]) -> int:
    mode, threads, seconds = argv[1], int(argv[2]), float(argv[3])
    paths = Paths.resolve()
    link = load_config(paths).links[0]
    store = open_credential_store("keyring", paths.config_dir / "credentials.json")

    def new_client() -> CloudClient:
        return CloudClient(link.cloud_url, TokenKeeper(link.connection_id, store))

    shared = new_client()
    calls = 0
    lost: list[str] = []
    other: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def work() -> None:
        nonlocal calls
        client = shared if mode == "one-client" else new_client()
        while time.monotonic() < deadline:
            try:
                client.status()
                client.heartbeat(["customers"])
                with lock:
                    calls += 2
            except AuthorizationLost as refused:
                with lock:
                    lost.append(refused.message)
                return  # as a link worker does: it stops and asks for re-authorization
            except ConnectorError as error:
                with lock:
                    other.append(f"{error.title}: {error.message}")

    workers = [threading.Thread(target=work, name=f"caller-{n}") for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # Whatever happened, the keyring must still hold a credential the cloud accepts.
    try:
        new_client().status()
        afterwards = "accepted"
    except ConnectorError as error:
        afterwards = f"{error.title}: {error.message}"
    print(json.dumps({"calls": calls, "lost": lost, "other": other, "afterwards": afterwards}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
