"""A request whose path or query string holds NUL is refused with 400 before any route runs.

No id, name or query this cloud takes may hold NUL, and PostgreSQL's text can neither store
it nor be compared with it: an id such as ``/companies/%00`` reached a query and failed there
with a 500. Refused here once, for every path and query parameter of every route, rather
than in each of them. (Bodies are checked by their models: ``cloud/api/request_types.py``.)
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from cloud.errors import error_body

MESSAGE = "The request's path or query holds a NUL character (%00), which no id or name holds."


class RefuseNul:
    """ASGI middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The path arrives decoded; the query string still percent-encoded (a raw NUL byte
        # never gets past the HTTP parser).
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in scope["query_string"]):
            await JSONResponse(error_body(400, MESSAGE), status_code=400)(scope, receive, send)
            return
        await self.app(scope, receive, send)
