"""Asking the cloud for each link's view (:mod:`agent.cloud_api.cloud_view`) on the facade's behalf.

A link this process serves is asked through its worker's client; any other (``connector
status`` in a process of its own) through a client of its own. Every client of a link shares
its one :class:`~agent.cloud_api.tokens.TokenKeeper`, in step with other processes (see
:mod:`agent.cloud_api.tokens`). A refusal of the credential is confirmed before it is reported
(:mod:`agent.cloud_api.loss_check`): asked again after a short wait, the cloud has the last word.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.cloud_view import CloudView, CloudViews, read_cloud_status
from agent.cloud_api.loss_check import confirmed_loss
from agent.errors import AuthorizationLost, ConnectorError
from agent.events import CloudViewUpdated, Event
from agent.support.config import Link
from protocol.clock import Clock

if TYPE_CHECKING:
    from agent.runtime.link_worker import LinkWorker

log = logging.getLogger(__name__)

T = TypeVar("T")


class CloudAsker:
    def __init__(
        self,
        views: CloudViews,
        *,
        serving: Callable[[str], LinkWorker | None],
        new_client: Callable[[Link], CloudClient],
        publish: Callable[[Event], None],
        clock: Clock,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.views = views
        self._serving = serving  # the worker serving a connection here, if one does
        self._new_client = new_client
        self._publish = publish
        self._clock = clock
        self._sleep = sleep

    def ask(self, links: Sequence[Link]) -> dict[str, ConnectorError]:
        """Fetch and keep each link's view; returns why it failed, per connection id."""
        failures: dict[str, ConnectorError] = {}
        for link in links:
            try:
                self.confirmed(link, partial(self._fetch, link))
            except ConnectorError as error:
                log.info("Could not ask the cloud about %s: %s", link.company_name, error)
                failures[link.connection_id] = error
        return failures

    def _fetch(self, link: Link, client: CloudClient) -> None:
        worker = self._serving(link.connection_id)
        if worker is not None:
            worker.fetch_cloud_view()  # which also restarts its idle minute
            return
        self.keep(link.connection_id, read_cloud_status(client.status(), self._clock()))

    def confirmed(self, link: Link, call: Callable[[CloudClient], T]) -> T:
        """``call`` with the link's client; a refusal of the credential is confirmed before it
        is raised (asked again after a short wait), and the call made again if it proves false.
        """
        with self.talking_to(link) as client:
            try:
                return call(client)
            except AuthorizationLost as lost:
                again = confirmed_loss(client, lost, wait=self._sleep, who=link.connection_id)
                if again is not None:
                    raise again from None
                return call(client)

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
