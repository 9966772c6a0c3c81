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
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from cloud import portal
from cloud.api import (
    agent_api,
    companies_api,
    data_api,
    datasets_api,
    settings_api,
    webhooks_api,
)
from cloud.errors import CloudError, Conflict, Unauthorized, error_body
from cloud.http.body_limits import BodyLimit
from cloud.http.request_line import RefuseNul
from cloud.http.throttle import TooManyFailures
from cloud.services import build_services
from cloud.settings import CloudSettings
from protocol.clock import Clock, utc_now
from protocol.states import IllegalTransition
from protocol.version import __version__

__all__ = ["create_app", "error_body"]

log = logging.getLogger(__name__)

# A request's validation problems listed in an error at most: the answer must stay small
# however many a request holds.
MAX_PROBLEMS_SHOWN = 5


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
    if settings.trusted_proxies:
        # The client's address (what failures are counted against) and scheme come from
        # X-Forwarded-For and X-Forwarded-Proto only when the peer is one of these; from anyone
        # else the headers are ignored, or a guesser could claim a new address every time.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    upload = next(
        r for r in agent_api.router.routes if getattr(r, "endpoint", None) is agent_api.upload_chunk
    )
    app.add_middleware(
        BodyLimit,
        default=settings.max_request_bytes,
        routes=[(upload, settings.max_page_bytes)],
    )
    app.add_middleware(RefuseNul)

    @app.get("/health", include_in_schema=False)
    def health() -> Response:
        return Response(status_code=204)

    app.add_exception_handler(CloudError, _on_cloud_error)
    app.add_exception_handler(IllegalTransition, _on_illegal_transition)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected_error)
    return app


def _error(status_code: int, message: str) -> JSONResponse:
    return JSONResponse(error_body(status_code, message), status_code=status_code)


async def _on_cloud_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CloudError)
    body = error_body(exc.status_code, exc.message)
    if isinstance(exc, Unauthorized) and exc.reason is not None:
        body["reason"] = exc.reason
    if isinstance(exc, Conflict) and exc.current_status is not None:
        body["currentStatus"] = exc.current_status
    response = JSONResponse(body, status_code=exc.status_code)
    if isinstance(exc, TooManyFailures):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _on_illegal_transition(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IllegalTransition)
    body = {**error_body(409, str(exc)), "currentStatus": str(exc.current)}
    return JSONResponse(body, status_code=409)


async def _on_validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    problems = "; ".join(
        f"{'.'.join(_location(part) for part in err['loc'])}: {err['msg']}"
        for err in errors[:MAX_PROBLEMS_SHOWN]
    )
    if len(errors) > MAX_PROBLEMS_SHOWN:
        problems += f"; and {len(errors) - MAX_PROBLEMS_SHOWN} more"
    return _error(400, f"The request is not valid: {problems}")


def _location(part: object) -> str:
    # A location can be a key the caller chose (a tag's name): shown, but never at length.
    text = str(part)
    return text if len(text) <= 40 else text[:40] + "..."


async def _on_http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    # Its headers too: Allow with a 405, Connection: close with a 413 (the body left unread).
    return JSONResponse(
        error_body(exc.status_code, str(exc.detail)),
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _on_unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug, not the caller's fault: a 500 in the public shape, and the traceback in the log
    under the answer's correlation id, so that the two can be matched."""
    correlation_id = uuid.uuid4().hex
    log.error(
        "Unexpected error answering %s %s [correlation id %s]",
        request.method,
        request.url.path,
        correlation_id,
        exc_info=exc,
    )
    message = (
        "The cloud hit an unexpected problem. Its operator can find the details in the "
        f"server log under correlation id {correlation_id}."
    )
    return JSONResponse(error_body(500, message, correlation_id), status_code=500)
