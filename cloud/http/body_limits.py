"""How much of a request's body the cloud reads: each request has a limit, refused with 413.

A page of records (the agent's upload) has its own limit; every other body (the JSON of the
public API and the agent API, the portal's forms) a small one. A ``Content-Length`` over the
limit is refused before any of the app runs, so a stranger cannot make it read or even
authenticate anything; a body sent without one (chunked) is counted as it streams in and
refused as soon as it passes the limit, so the rest of it is never read.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cloud.errors import error_body


class RequestTooLarge(HTTPException):
    """Raised while the body streams in, at the first byte past the limit.

    An ``HTTPException``, so that FastAPI's body reading passes it on untouched and the app's
    handler answers it in the public error shape.
    """

    def __init__(self, limit: int) -> None:
        # The unread rest of the body leaves the connection unusable for another request.
        super().__init__(413, too_large_message(limit), headers={"Connection": "close"})


def too_large_message(limit: int) -> str:
    return (
        f"The request body is larger than this cloud takes for this call ({limit:,} bytes "
        "at most). Send less at a time; an operator can raise the limit (connector-cloud "
        "serve --help)."
    )


class BodyLimit:
    """ASGI middleware: ``default`` bytes for a request body, or a route's own limit."""

    def __init__(
        self, app: ASGIApp, *, default: int, routes: Sequence[tuple[BaseRoute, int]] = ()
    ) -> None:
        self.app = app
        self.default = default
        self.routes = tuple(routes)

    def limit_for(self, scope: Scope) -> int:
        for route, limit in self.routes:
            match, _child = route.matches(scope)
            if match == Match.FULL:
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except RequestTooLarge:
            # Normally answered by the app's handler; this is for a reader outside any route.
            if started:
                raise
            await _refuse(scope, receive, send, limit)


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = JSONResponse(error_body(413, too_large_message(limit)), status_code=413)
    # The unread rest of the body leaves the connection unusable for another request.
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # the server refuses a malformed length before we see it
