"""The public page at a connection's linkUrl: what the person with the book does next.

It says whether a code is good and names its company, so a code that is not counts in the
link-code throttle (``cloud/http/throttle.py``) with failed links by agents: past the limit the
page answers 429 for a while, good code or not.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from cloud.http.throttle import client_address, retry_after_seconds
from cloud.portal.templates import templates
from cloud.services import Services
from cloud.store.db import companies, connections
from cloud.store.link_codes import LinkCodes
from protocol.clock import to_iso

router = APIRouter(include_in_schema=False)

# A placeholder until the project publishes installers somewhere public.
RELEASES_URL = "https://github.com/onprem-connector/connector/releases"


@router.get("/link")
@router.get("/link/{code}")
def link_page(request: Request, code: str = "") -> Response:
    services: Services = request.app.state.services
    context: dict[str, Any] = {"releases_url": RELEASES_URL}
    pending = None
    if code:
        throttle = services.throttles.link_code
        address = client_address(request)
        now = services.db.now()
        until = throttle.blocked_until(address, now)
        if until is not None:
            wait = retry_after_seconds(until, now)
            context["retry_seconds"] = wait
            response = templates.TemplateResponse(
                request, "link_throttled.html", context, status_code=429
            )
            response.headers["Retry-After"] = str(wait)
            return _private(response)
        pending = _pending_link(services, code)
        if pending is None:
            throttle.failed(address, now)
    if pending is None:
        response = templates.TemplateResponse(
            request, "link_invalid.html", context, status_code=404
        )
    else:
        link_code, company_name = pending
        context.update(
            link_code=link_code,
            company_name=company_name,
            link_url=f"{services.link_codes.public_url}/link/{link_code}",
        )
        response = templates.TemplateResponse(request, "link.html", context)
    return _private(response)


def _private(response: Response) -> Response:
    # Whoever holds the URL may read the code, but no one else: keep it out of caches.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _pending_link(services: Services, code: str) -> tuple[str, str] | None:
    """The code and its company's name, if the code can still be spent.

    Only a look: ``Agents.link`` alone spends a code, and checks it again when it does.
    """
    now = to_iso(services.db.now())
    with services.db.reading() as conn:
        found = (
            conn.execute(
                select(connections.c.link_nonce, connections.c.link_code_expires, companies.c.name)
                .join(companies, companies.c.id == connections.c.company_id)
                .where(connections.c.link_code_hash == LinkCodes.lookup_hash(code))
            )
            .mappings()
            .first()
        )
    if found is None or (found["link_code_expires"] and found["link_code_expires"] < now):
        return None
    link_code = services.link_codes.code_of(found)
    return (link_code, found["name"]) if link_code else None
