"""Public API: queueing syncs, the data status, and the dataset history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from cloud.api.auth import ServicesDep, require_api_key
from cloud.api.history import pull_operations
from cloud.api.paging import ListDep, page_of
from cloud.api.public_models import ERROR_RESPONSES, DataStatuses, PullOperation, PullOperations
from cloud.store import shapes

router = APIRouter(dependencies=[Depends(require_api_key)], responses=ERROR_RESPONSES)

ConnectionIdQuery = Annotated[str | None, Query(alias="connectionId", max_length=64)]


@router.post(
    "/companies/{company_id}/data/queue/{data_type}",
    response_model=PullOperation,
    response_model_exclude_unset=True,
)
def queue_data_type(
    company_id: str,
    data_type: str,
    services: ServicesDep,
    connection_id: ConnectionIdQuery = None,
) -> dict[str, Any]:
    row = services.datasets.queue(company_id, data_type, connection_id)
    return pull_operations(services, company_id, [row])[0]


@router.post("/companies/{company_id}/data/all", status_code=204)
def queue_all(company_id: str, services: ServicesDep) -> Response:
    """Queue every fetch-on-first-link data type (those already in progress are left alone)."""
    services.queue_first_link_types(company_id)
    return Response(status_code=204)


@router.get(
    "/companies/{company_id}/dataStatus",
    response_model=DataStatuses,
    response_model_exclude_unset=True,
)
def data_status(company_id: str, services: ServicesDep) -> dict[str, Any]:
    return shapes.data_status(services.datasets.of_company(company_id))


@router.get(
    "/companies/{company_id}/data/history",
    response_model=PullOperations,
    response_model_exclude_unset=True,
)
def history(company_id: str, services: ServicesDep, params: ListDep) -> dict[str, Any]:
    rows = services.datasets.of_company(company_id)
    return page_of(pull_operations(services, company_id, rows), params)


@router.get(
    "/companies/{company_id}/data/history/{dataset_id}",
    response_model=PullOperation,
    response_model_exclude_unset=True,
)
def dataset(company_id: str, dataset_id: str, services: ServicesDep) -> dict[str, Any]:
    row = services.datasets.get(company_id, dataset_id)
    return pull_operations(services, company_id, [row])[0]
