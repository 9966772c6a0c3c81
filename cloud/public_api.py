"""The public API: what an integrator (or the official Codat SDK) calls, with the API key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from cloud import cache, shapes
from cloud.auth import require_api_key, settings_of, store_of
from cloud.errors import NotFound
from cloud.settings import CloudSettings
from cloud.store import Store

router = APIRouter(dependencies=[Depends(require_api_key)])

StoreDep = Annotated[Store, Depends(store_of)]
SettingsDep = Annotated[CloudSettings, Depends(settings_of)]
Page = Annotated[int, Query(ge=1)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=5000)]

# Public read path -> data type key.
READ_PATHS = {"accounts": "chartOfAccounts", "customers": "customers"}


class CompanyCreate(BaseModel):
    name: str
    description: str | None = None


class ConnectionCreate(BaseModel):
    platformKey: str


@router.post("/companies")
def create_company(body: CompanyCreate, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    row = store.create_company(body.name, body.description)
    return shapes.company(row, [], settings.public_url)


@router.get("/companies/{company_id}")
def get_company(company_id: str, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    row = store.get_company(company_id)
    return shapes.company(row, store.list_connections(company_id), settings.public_url)


@router.post("/companies/{company_id}/connections")
def create_connection(
    company_id: str, body: ConnectionCreate, store: StoreDep, settings: SettingsDep
) -> dict[str, Any]:
    row = store.create_connection(company_id, body.platformKey)
    return shapes.connection(row, settings.public_url)


@router.get("/companies/{company_id}/connections/{connection_id}")
def get_connection(
    company_id: str, connection_id: str, store: StoreDep, settings: SettingsDep
) -> dict[str, Any]:
    return shapes.connection(store.get_connection(company_id, connection_id), settings.public_url)


@router.post("/companies/{company_id}/data/queue/{data_type}")
def queue_data_type(
    company_id: str,
    data_type: str,
    store: StoreDep,
    connection_id: Annotated[str | None, Query(alias="connectionId")] = None,
) -> dict[str, Any]:
    row = store.queue(company_id, data_type, connection_id)
    return _pull_operations(store, company_id, [row])[0]


@router.get("/companies/{company_id}/dataStatus")
def data_status(company_id: str, store: StoreDep) -> dict[str, Any]:
    return shapes.data_status(store.list_datasets(company_id))


@router.get("/companies/{company_id}/data/history")
def history(
    company_id: str,
    request: Request,
    store: StoreDep,
    page: Page = 1,
    page_size: PageSize = 100,
) -> dict[str, Any]:
    rows = store.list_datasets(company_id)
    window = rows[(page - 1) * page_size : page * page_size]
    return shapes.envelope(
        _pull_operations(store, company_id, window),
        base_url="",
        path=request.url.path,
        query=request.query_params,
        page=page,
        page_size=page_size,
        total=len(rows),
    )


@router.get("/companies/{company_id}/data/history/{dataset_id}")
def dataset(company_id: str, dataset_id: str, store: StoreDep) -> dict[str, Any]:
    return _pull_operations(store, company_id, [store.get_dataset(company_id, dataset_id)])[0]


@router.get("/companies/{company_id}/data/{read_path}")
def read_records(
    company_id: str,
    read_path: str,
    request: Request,
    store: StoreDep,
    page: Page = 1,
    page_size: PageSize = 100,
) -> dict[str, Any]:
    data_type = READ_PATHS.get(read_path)
    if data_type is None:
        raise NotFound(f"There is no data at /data/{read_path}.")
    store.get_company(company_id)
    with store.reading() as conn:
        results, total = cache.read(
            conn, company_id, data_type, offset=(page - 1) * page_size, limit=page_size
        )
    return shapes.envelope(
        results,
        base_url="",
        path=request.url.path,
        query=request.query_params,
        page=page,
        page_size=page_size,
        total=total,
    )


def _pull_operations(store: Store, company_id: str, rows: list[Any]) -> list[dict[str, Any]]:
    transitions = store.transitions_of([row["id"] for row in rows])
    seen = {c["id"]: c["agent_last_seen"] for c in store.list_connections(company_id)}
    now = store.now()
    return [
        shapes.pull_operation(
            row, transitions[row["id"]], agent_last_seen=seen.get(row["connection_id"]), now=now
        )
        for row in rows
    ]
