"""Builds the reference cloud's ASGI application."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.clock import Clock, utc_now
from agent.states import IllegalTransition
from agent.version import __version__
from cloud import agent_api, public_api
from cloud.db import open_database
from cloud.errors import CloudError
from cloud.settings import CloudSettings
from cloud.store import Store
from cloud.wakeups import Wakeups

log = logging.getLogger(__name__)


def create_app(settings: CloudSettings, *, clock: Clock = utc_now) -> FastAPI:
    wakeups = Wakeups()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        wakeups.bind(asyncio.get_running_loop())
        yield

    app = FastAPI(title="Connector reference cloud", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.wakeups = wakeups
    app.state.store = Store(
        open_database(settings.database_url), clock=clock, on_queued=wakeups.notify
    )
    app.include_router(public_api.router)
    app.include_router(agent_api.router)

    @app.get("/health", include_in_schema=False)
    def health() -> Response:
        return Response(status_code=204)

    app.add_exception_handler(CloudError, _on_cloud_error)
    app.add_exception_handler(IllegalTransition, _on_illegal_transition)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    return app


def error_body(status_code: int, message: str) -> dict[str, object]:
    """The public error shape."""
    return {
        "statusCode": status_code,
        "service": "PublicApi",
        "error": message,
        "correlationId": uuid.uuid4().hex,
        "validation": None,
        "canBeRetried": "Unknown",
        "detailedErrorCode": 0,
    }


def _error(status_code: int, message: str) -> JSONResponse:
    return JSONResponse(error_body(status_code, message), status_code=status_code)


async def _on_cloud_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CloudError)
    return _error(exc.status_code, exc.message)


async def _on_illegal_transition(_request: Request, exc: Exception) -> Response:
    return _error(409, str(exc))


async def _on_validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )
    return _error(400, f"The request is not valid: {problems}")


async def _on_http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return _error(exc.status_code, str(exc.detail))
