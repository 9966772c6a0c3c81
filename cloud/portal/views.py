"""What the company page shows, gathered from the services in the public API's own shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloud.api.history import pull_operations
from cloud.services import Services
from cloud.store import shapes

# The page polls every second; the full history of a busy company would make that heavy.
HISTORY_LIMIT = 50


@dataclass(frozen=True)
class CompanyState:
    company: dict[str, Any]
    connections: list[dict[str, Any]]  # shapes.connection, plus "linkCode" while pending
    data_status: list[dict[str, Any]]
    history: list[dict[str, Any]]  # shapes.pull_operation, latest first
    history_total: int


def company_state(services: Services, company_id: str) -> CompanyState:
    company = services.tenancy.get_company(company_id)
    now = services.db.now()
    connections = []
    for row in services.tenancy.list_connections(company_id):
        body = shapes.connection(row, services.link_codes, now)
        # The public shape carries the code only inside linkUrl; people read it on its own.
        body["linkCode"] = services.link_codes.code_of(row)
        connections.append(body)
    datasets = services.datasets.of_company(company_id)
    latest = list(reversed(datasets))[:HISTORY_LIMIT]
    return CompanyState(
        company={"id": company["id"], "name": company["name"]},
        connections=connections,
        data_status=list(shapes.data_status(datasets).values()),
        history=pull_operations(services, company_id, latest),
        history_total=len(datasets),
    )
