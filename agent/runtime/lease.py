"""Keeps a dataset's lease alive on its own thread while the runner works.

Heavy phases (reading a large book, mapping it) must not starve the renewal, so it runs on a
separate named thread and renews at a third of the lease, leaving room for two misses.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from agent.cloud_api.cloud_client import CloudClient
from agent.errors import ConnectorError

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, client: CloudClient, dataset_id: str, lease_seconds: float) -> None:
        self._client = client
        self._dataset_id = dataset_id
        self._interval = max(lease_seconds / 3.0, 0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"connector-lease-{dataset_id[:8]}", daemon=True
        )

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._client.renew_lease(self._dataset_id)
            except ConnectorError as exc:
                # A missed renewal is not fatal: the next one, or the next report, renews it.
                log.info("Lease renewal for %s failed: %s", self._dataset_id, exc.message)
            except Exception:
                # A bug must not end the renewals silently while the dataset runs on.
                log.exception("Lease renewal for %s failed unexpectedly", self._dataset_id)
