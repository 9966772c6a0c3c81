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
from cloud import (
    agent_api,
    companies_api,
    data_api,
    datasets_api,
    portal,
    settings_api,
    webhooks_api,
)
from cloud.errors import CloudError, Conflict
from cloud.services import build_services
from cloud.settings import CloudSettings

log = logging.getLogger(__name__)


def create_app(
    settings: CloudSettings, *, clock: Clock = utc_now, run_maintenance: bool = True
) -> FastAPI:
    """The app. ``run_maintenance=False`` leaves the periodic sweep to the caller (tests)."""
    services = build_services(settings, clock=clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.wakeups.bind(asyncio.get_running_loop())
        if services.pg_wakeups is not None:
            services.pg_wakeups.start()
        if run_maintenance:
            services.maintenance.start()
        services.webhooks.start()
        try:
            yield
        finally:
            services.webhooks.stop()
            services.maintenance.stop()
            if services.pg_wakeups is not None:
                services.pg_wakeups.stop()

    app = FastAPI(title="Connector reference cloud", version=__version__, lifespan=lifespan)
    app.state.services = services
    app.state.webhooks = services.webhooks
    for router in (
        companies_api.router,
        datasets_api.router,
        settings_api.router,
        data_api.router,
        webhooks_api.router,
        agent_api.router,
    ):
        app.include_router(router)
    portal.install(app)

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
    if isinstance(exc, Conflict) and exc.current_status is not None:
        body = {**error_body(409, exc.message), "currentStatus": exc.current_status}
        return JSONResponse(body, status_code=409)
    return _error(exc.status_code, exc.message)


async def _on_illegal_transition(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IllegalTransition)
    body = {**error_body(409, str(exc)), "currentStatus": str(exc.current)}
    return JSONResponse(body, status_code=409)


async def _on_validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )
    return _error(400, f"The request is not valid: {problems}")


async def _on_http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return _error(exc.status_code, str(exc.detail))
