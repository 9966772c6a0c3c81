"""Who is calling: the API user (Basic, the API key) or an agent (Bearer, its token)."""

from __future__ import annotations

import base64
import hmac
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import RowMapping
from starlette.concurrency import run_in_threadpool

from cloud.errors import Unauthorized
from cloud.settings import CloudSettings
from cloud.store import Store


def settings_of(request: Request) -> CloudSettings:
    settings: CloudSettings = request.app.state.settings
    return settings


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def require_api_key(
    request: Request, settings: Annotated[CloudSettings, Depends(settings_of)]
) -> None:
    """``Authorization: Basic base64(apiKey)``, as the official SDKs send it."""
    expected = "Basic " + base64.b64encode(settings.api_key.encode()).decode()
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("Missing or wrong API key: send Authorization: Basic base64(apiKey).")


async def agent_connection(
    request: Request, store: Annotated[Store, Depends(store_of)]
) -> RowMapping:
    """The connection whose agent token came with the request (``Authorization: Bearer``)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("This call needs the connector's token: Authorization: Bearer TOKEN.")
    return await run_in_threadpool(store.authenticate_agent, token)
