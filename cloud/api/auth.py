"""Who is calling: the API user (Basic, the API key) or an agent (Bearer, its access token)."""

from __future__ import annotations

import base64
import hmac
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import RowMapping
from starlette.concurrency import run_in_threadpool

from cloud.errors import Unauthorized
from cloud.http.throttle import client_address
from cloud.services import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(services_of)]


def require_api_key(request: Request, services: ServicesDep) -> None:
    """``Authorization: Basic base64(apiKey)``, as the official SDKs send it.

    A client that sent a wrong key too often is refused (429) before its key is looked at. A
    right key does not clear its count (as a sign-in does in the Portal): behind one address
    a working integration would otherwise keep resetting a guesser's count.
    """
    address = client_address(request)
    now = services.db.now()
    services.throttles.api_key.check(address, now, "requests with a wrong API key")
    expected = "Basic " + base64.b64encode(services.settings.api_key.encode()).decode()
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        services.throttles.api_key.failed(address, now)
        raise Unauthorized("Missing or wrong API key: send Authorization: Basic base64(apiKey).")


async def agent_connection(request: Request, services: ServicesDep) -> RowMapping:
    """The connection whose agent's access token came with the request."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("This call needs the connector's token: Authorization: Bearer TOKEN.")
    return await run_in_threadpool(services.agents.authenticate, token)


AgentDep = Annotated[RowMapping, Depends(agent_connection)]
