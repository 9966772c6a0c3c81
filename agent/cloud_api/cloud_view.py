"""The cloud's view of one link, kept by the running agent as typed values (never raw JSON).

Each link worker asks ``GET /agent/v1/status`` at a few moments (on start, after each dataset,
about once a minute while idle; the facade after "Sync now" and when a window asks) and keeps
the answer here with the moment it was fetched, so the status snapshot can count what only the
cloud knows: datasets it ended in AuthError, or that wait in Queued without reaching this PC.
A process that does not run the agent (``connector status``) asks the cloud itself.

:func:`read_cloud_status` is the one place that reads that answer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.errors import ConnectorError
from protocol.agent_api import StatusAnswer
from protocol.clock import from_iso
from protocol.states import DatasetStatus


@dataclass(frozen=True)
class DataTypeInCloud:
    """One data type of the connection, as the cloud's dataStatus has it."""

    data_type: str
    status: DatasetStatus | None  # of its latest dataset; None: never asked for
    last_successful_sync: datetime | None
    latest_sync_id: str | None
    # When its latest dataset was queued, moved onto this PC's clock (see read_cloud_status).
    requested: datetime | None


@dataclass(frozen=True)
class CloudView:
    """The connection as the cloud saw it at ``fetched_at`` (this PC's clock)."""

    connection_status: str  # Linked, Deauthorized, ...
    fetched_at: datetime
    data_types: tuple[DataTypeInCloud, ...]  # sorted by data type

    @property
    def last_successful_sync(self) -> datetime | None:
        moments = [d.last_successful_sync for d in self.data_types if d.last_successful_sync]
        return max(moments, default=None)


class UnreadableStatus(ConnectorError):
    title = "The cloud's answer could not be understood"


def read_cloud_status(answer: StatusAnswer, fetched_at: datetime) -> CloudView:
    """Turn ``CloudClient.status()``'s answer into a :class:`CloudView`.

    The cloud's timestamps are moved onto this PC's clock by the difference between the
    answer's ``serverTime`` and ``fetched_at``, so that "queued three minutes ago" holds, and
    compares with this PC's own moments, even when the two clocks disagree. Raises
    :class:`UnreadableStatus` for a timestamp or a state this agent cannot read.
    """
    try:
        skew = fetched_at - from_iso(answer.serverTime) if answer.serverTime else timedelta(0)
        data_types = []
        for data_type, entry in sorted(answer.dataStatus.items()):
            current = entry.currentStatus
            last = entry.lastSuccessfulSync
            queued = answer.requested.get(data_type)
            data_types.append(
                DataTypeInCloud(
                    data_type=data_type,
                    status=DatasetStatus(current) if current else None,
                    last_successful_sync=from_iso(last) + skew if last else None,
                    latest_sync_id=entry.latestSyncId,
                    requested=from_iso(queued) + skew if queued else None,
                )
            )
        return CloudView(answer.connection.status, fetched_at, tuple(data_types))
    except ValueError as exc:
        raise UnreadableStatus(
            f"The cloud's status answer is not what Connector expects ({exc})."
        ) from exc


class CloudViews:
    """The latest view of each link; written by the link workers, read by the snapshot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: dict[str, CloudView] = {}

    def keep(self, connection_id: str, view: CloudView) -> None:
        with self._lock:
            self._views[connection_id] = view

    def get(self, connection_id: str) -> CloudView | None:
        with self._lock:
            return self._views.get(connection_id)

    def forget(self, connection_id: str) -> None:
        """The link was linked again: what the cloud said about the old authorization goes."""
        with self._lock:
            self._views.pop(connection_id, None)
