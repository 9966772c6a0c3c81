"""A company's datasets as the public API's PullOperations: the history's one shape.

The public API's history and queue answers and the Portal's history table show the same rows,
so they are shaped here, outside every router (a router never imports another).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from cloud.services import Services
from cloud.store import shapes


def pull_operations(
    services: Services, company_id: str, rows: list[RowMapping]
) -> list[dict[str, Any]]:
    transitions = services.datasets.transitions_of([row["id"] for row in rows])
    connections = {c["id"]: c for c in services.tenancy.list_connections(company_id)}
    now = services.db.now()
    return [
        shapes.pull_operation(
            row, transitions[row["id"]], connection=connections.get(row["connection_id"]), now=now
        )
        for row in rows
    ]
