"""The public list envelope: paging, ``query`` and ``orderBy`` over a list of JSON records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request

from cloud.api import query as query_language
from cloud.errors import BadRequest


@dataclass(frozen=True)
class ListParams:
    page: int
    page_size: int
    query: str | None
    order_by: str | None
    path: str
    params: dict[str, str]

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def filters(self) -> bool:
        return bool(self.query or self.order_by)


# The largest page number: far past any real list, and it keeps the offset (page x size) well
# inside the 64-bit integers the databases take.
MAX_PAGE = 2**31 - 1


def list_params(
    request: Request,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=5000)] = 100,
    query: Annotated[str | None, Query(max_length=query_language.MAX_QUERY_LENGTH)] = None,
    order_by: Annotated[str | None, Query(alias="orderBy", max_length=256)] = None,
) -> ListParams:
    return ListParams(
        page=page,
        page_size=page_size,
        query=query or None,
        order_by=order_by or None,
        path=request.url.path,
        params=dict(request.query_params),
    )


ListDep = Annotated[ListParams, Depends(list_params)]


def select(records: list[dict[str, Any]], params: ListParams) -> list[dict[str, Any]]:
    """Filter and sort by the request's ``query`` and ``orderBy``."""
    try:
        return query_language.select(records, query=params.query, order_by=params.order_by)
    except query_language.QueryError as exc:
        raise BadRequest(f"The query is not valid: {exc}") from exc


def page_of(records: list[dict[str, Any]], params: ListParams) -> dict[str, Any]:
    """Filter, sort and cut one page out of every record, in the envelope."""
    chosen = select(records, params)
    window = chosen[params.offset : params.offset + params.page_size]
    return envelope(window, params, total=len(chosen))


def envelope(results: list[dict[str, Any]], params: ListParams, *, total: int) -> dict[str, Any]:
    """Results, the paging numbers and ``_links`` (self, current, next, previous)."""

    def href(page_number: int | None = None) -> str:
        query = dict(params.params)
        if page_number is not None:
            query["page"] = str(page_number)
            query["pageSize"] = str(params.page_size)
        return params.path + (f"?{urlencode(query)}" if query else "")

    links: dict[str, Any] = {"self": {"href": params.path}, "current": {"href": href()}}
    if params.page * params.page_size < total:
        links["next"] = {"href": href(params.page + 1)}
    if params.page > 1:
        links["previous"] = {"href": href(params.page - 1)}
    return {
        "results": results,
        "pageNumber": params.page,
        "pageSize": params.page_size,
        "totalResults": total,
        "_links": links,
    }
