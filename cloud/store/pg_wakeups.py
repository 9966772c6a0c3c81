"""Long-poll wake-ups across server processes that share one PostgreSQL database.

A server that queues a dataset sends ``NOTIFY connector_datasets, '<connection id>'``; every
server LISTENs on a dedicated connection and wakes its own long polls for that connection.
Each server still wakes its own polls directly, so this only adds the other servers.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy import Engine, text

from cloud.store.wakeups import Wakeups

log = logging.getLogger(__name__)

CHANNEL = "connector_datasets"


class PostgresWakeups:
    def __init__(self, engine: Engine, local: Wakeups) -> None:
        self._engine = engine
        self._local = local
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self, connection_id: str) -> None:
        """Wake this server's polls at once, and every other server's through PostgreSQL."""
        self._local.notify(connection_id)
        with self._engine.begin() as conn:
            conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": CHANNEL, "payload": connection_id},
            )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._listen, name="cloud-pg-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self) -> None:
        dsn = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._local.notify(note.payload)
            except psycopg.Error:
                # The database restarted or the network blinked: listen again shortly. Polls
                # still end at their timeout meanwhile, so nothing waits forever.
                log.warning("Lost the PostgreSQL LISTEN connection; reconnecting", exc_info=True)
                self._stop.wait(1.0)
