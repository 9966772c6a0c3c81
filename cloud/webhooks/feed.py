"""Turns the cloud's domain events into Codat's webhook messages and publishes them.

Domain events carry only ids and facts; the public shapes (the company's name, the Connection
as the API shows it) are filled in here, after the change has committed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cloud.errors import NotFound
from cloud.store import shapes
from cloud.store.dataset_moves import WebhookEvent
from cloud.store.link_codes import LinkCodes
from cloud.store.tenancy import Tenancy
from cloud.webhooks.delivery import WebhookDispatcher
from cloud.webhooks.events import connection_event_payload, read_completed_payload
from protocol.clock import Clock
from protocol.states import DatasetStatus, is_error

log = logging.getLogger(__name__)


class WebhookFeed:
    def __init__(
        self, dispatcher: WebhookDispatcher, tenancy: Tenancy, links: LinkCodes, clock: Clock
    ) -> None:
        self._dispatcher = dispatcher
        self._tenancy = tenancy
        self._links = links
        self._clock = clock

    def __call__(self, event: WebhookEvent) -> None:
        try:
            company = self._tenancy.get_company(event.company_id)
        except NotFound:
            return  # deleted meanwhile: nobody to tell about it
        tags = json.loads(company["tags"]) if company["tags"] else None
        payload = self._payload(event, company["name"])
        self._dispatcher.publish(event.event_type, event.company_id, payload, company_tags=tags)

    def _payload(self, event: WebhookEvent, company_name: str) -> dict[str, Any]:
        connection_id = event.payload["connectionId"]
        if event.event_type.startswith("read."):
            entries = []
            for entry in event.payload["dataTypes"]:
                status = DatasetStatus(entry["datasetStatus"])
                issues = (
                    [{"type": "Error", "message": entry["errorMessage"]}]
                    if is_error(status) and entry.get("errorMessage")
                    else []
                )
                entries.append(
                    {
                        "dataType": entry["dataType"],
                        "status": str(status),
                        "recordsModified": status == DatasetStatus.COMPLETE,
                        "issues": issues,
                    }
                )
            return read_completed_payload(
                event.company_id, connection_id, entries, company_name=company_name
            )
        row = self._tenancy.get_connection(event.company_id, connection_id)
        connection = shapes.connection(row, self._links, self._clock())
        return connection_event_payload(
            connection, company_id=event.company_id, company_name=company_name
        )
