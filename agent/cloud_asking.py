"""Asking the cloud for each link's view (:mod:`agent.cloud_view`) on the facade's behalf.

A link this process serves is asked through its worker's client; any other (``connector
status`` in a process of its own) through a client of its own. Sharing the worker's client
keeps one access token in use: every other client refreshes the rotating credential, which
ends the worker's access token and makes it refresh in turn.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from agent.clock import Clock
from agent.cloud_client import CloudClient
from agent.cloud_view import CloudView, CloudViews, read_cloud_status
from agent.config import Link
from agent.errors import ConnectorError
from agent.events import CloudViewUpdated, Event

if TYPE_CHECKING:
    from agent.link_worker import LinkWorker

log = logging.getLogger(__name__)


class CloudAsker:
    def __init__(
        self,
        views: CloudViews,
        *,
        serving: Callable[[str], LinkWorker | None],
        new_client: Callable[[Link], CloudClient],
        publish: Callable[[Event], None],
        clock: Clock,
    ) -> None:
        self.views = views
        self._serving = serving  # the worker serving a connection here, if one does
        self._new_client = new_client
        self._publish = publish
        self._clock = clock

    def ask(self, links: Sequence[Link]) -> dict[str, ConnectorError]:
        """Fetch and keep each link's view; returns why it failed, per connection id."""
        failures: dict[str, ConnectorError] = {}
        for link in links:
            try:
                worker = self._serving(link.connection_id)
                if worker is not None:
                    worker.fetch_cloud_view()  # which also restarts its idle minute
                    continue
                with self.talking_to(link) as client:
                    view = read_cloud_status(client.status(), self._clock())
                self.keep(link.connection_id, view)
            except ConnectorError as error:
                log.info("Could not ask the cloud about %s: %s", link.company_name, error)
                failures[link.connection_id] = error
        return failures

    @contextmanager
    def talking_to(self, link: Link) -> Iterator[CloudClient]:
        """The client of the worker serving ``link`` here, or one of its own."""
        worker = self._serving(link.connection_id)
        if worker is not None:
            yield worker.client
            return
        with self._new_client(link) as client:
            yield client

    def keep(self, connection_id: str, view: CloudView) -> None:
        """Keep a link's view and tell the observers (a link worker calls this too)."""
        self.views.keep(connection_id, view)
        self._publish(CloudViewUpdated(connection_id, view.fetched_at))
