"""Public API: companies and their connections."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field, WithJsonSchema

from cloud.api.auth import ServicesDep, require_api_key
from cloud.api.paging import ListDep, page_of
from cloud.api.public_models import ERROR_RESPONSES, Companies, Company, Connection, Connections
from cloud.api.request_types import MAX_LIST, Name, Text
from cloud.errors import BadRequest
from cloud.services import Services
from cloud.store import shapes
from cloud.store.tenancy import PLATFORMS

CONNECTION_STATUSES = ["PendingAuth", "Linked", "Unlinked", "Deauthorized"]

router = APIRouter(dependencies=[Depends(require_api_key)], responses=ERROR_RESPONSES)


# Bodies use the public API's camelCase names; every field is bounded (request_types).
Tags = Annotated[dict[Name, Text], Field(max_length=MAX_LIST)]


class CompanyBody(BaseModel):
    name: Name
    description: Text | None = None
    tags: Tags | None = None


class CompanyPatch(BaseModel):
    name: Name | None = None
    description: Text | None = None
    tags: Tags | None = None


class ConnectionCreate(BaseModel):
    # Any key is read (and refused with the list of those this cloud has); the document
    # names the ones it has.
    platformKey: Annotated[Name, WithJsonSchema({"type": "string", "enum": sorted(PLATFORMS)})]


class ConnectionPatch(BaseModel):
    # Only "Unlinked" is a change a connection takes; the document names every status.
    status: (
        Annotated[Name, WithJsonSchema({"type": "string", "enum": CONNECTION_STATUSES})] | None
    ) = None


@router.post("/companies", response_model=Company, response_model_exclude_unset=True)
def create_company(body: CompanyBody, services: ServicesDep) -> dict[str, Any]:
    row = services.tenancy.create_company(body.name, body.description, body.tags)
    return _company(services, row["id"])


@router.get("/companies", response_model=Companies, response_model_exclude_unset=True)
def list_companies(services: ServicesDep, params: ListDep) -> dict[str, Any]:
    companies = [_company(services, row["id"]) for row in services.tenancy.list_companies()]
    return page_of(companies, params)


@router.get("/companies/{company_id}", response_model=Company, response_model_exclude_unset=True)
def get_company(company_id: str, services: ServicesDep) -> dict[str, Any]:
    return _company(services, company_id)


@router.patch("/companies/{company_id}", response_model=Company, response_model_exclude_unset=True)
def update_company(company_id: str, body: CompanyPatch, services: ServicesDep) -> dict[str, Any]:
    services.tenancy.update_company(
        company_id, name=body.name, description=body.description, tags=body.tags, replace=False
    )
    return _company(services, company_id)


@router.put("/companies/{company_id}", response_model=Company, response_model_exclude_unset=True)
def replace_company(company_id: str, body: CompanyBody, services: ServicesDep) -> dict[str, Any]:
    services.tenancy.update_company(
        company_id, name=body.name, description=body.description, tags=body.tags, replace=True
    )
    return _company(services, company_id)


@router.delete("/companies/{company_id}", status_code=204)
def delete_company(company_id: str, services: ServicesDep) -> Response:
    services.tenancy.delete_company(company_id)
    return Response(status_code=204)


@router.get(
    "/companies/{company_id}/connections",
    response_model=Connections,
    response_model_exclude_unset=True,
)
def list_connections(company_id: str, services: ServicesDep, params: ListDep) -> dict[str, Any]:
    now = services.db.now()
    rows = services.tenancy.list_connections(company_id)
    return page_of([shapes.connection(row, services.link_codes, now) for row in rows], params)


@router.post(
    "/companies/{company_id}/connections",
    response_model=Connection,
    response_model_exclude_unset=True,
)
def create_connection(
    company_id: str, body: ConnectionCreate, services: ServicesDep
) -> dict[str, Any]:
    row = services.tenancy.create_connection(company_id, body.platformKey)
    return _connection(services, row)


@router.get(
    "/companies/{company_id}/connections/{connection_id}",
    response_model=Connection,
    response_model_exclude_unset=True,
)
def get_connection(company_id: str, connection_id: str, services: ServicesDep) -> dict[str, Any]:
    return _connection(services, services.tenancy.get_connection(company_id, connection_id))


@router.delete(
    "/companies/{company_id}/connections/{connection_id}",
    response_class=Response,  # 200 with no body, as the SDK expects
    responses={200: {"description": "Deleted."}},
)
def delete_connection(company_id: str, connection_id: str, services: ServicesDep) -> Response:
    services.tenancy.delete_connection(company_id, connection_id)
    return Response(status_code=200)


@router.patch(
    "/companies/{company_id}/connections/{connection_id}",
    response_model=Connection,
    response_model_exclude_unset=True,
)
def unlink_connection(
    company_id: str, connection_id: str, body: ConnectionPatch, services: ServicesDep
) -> dict[str, Any]:
    if body.status != "Unlinked":
        raise BadRequest('The only change a connection accepts is {"status": "Unlinked"}.')
    return _connection(services, services.tenancy.unlink_connection(company_id, connection_id))


@router.post(
    "/companies/{company_id}/connections/{connection_id}/revoke",
    response_model=Connection,
    response_model_exclude_unset=True,
)
def revoke_connection(company_id: str, connection_id: str, services: ServicesDep) -> dict[str, Any]:
    """Withdraw the agent's authorization: the connection becomes Deauthorized."""
    return _connection(services, services.agents.revoke(company_id, connection_id))


def _company(services: Services, company_id: str) -> dict[str, Any]:
    row = services.tenancy.get_company(company_id)
    connections = services.tenancy.list_connections(company_id)
    return shapes.company(row, connections, services.link_codes, services.db.now())


def _connection(services: Services, row: Any) -> dict[str, Any]:
    return shapes.connection(row, services.link_codes, services.db.now())
