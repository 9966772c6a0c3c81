"""The portal's pages: sign in, companies, and a company's connections and datasets."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from cloud.api.auth import ServicesDep
from cloud.errors import CloudError, NotFound
from cloud.http.throttle import client_address, retry_after_seconds
from cloud.portal import session as sessions
from cloud.portal.session import FormDep, SessionDep
from cloud.portal.settings_form import settings_from_form, settings_view
from cloud.portal.templates import templates
from cloud.portal.views import company_state
from cloud.services import Services
from cloud.store import shapes
from protocol.clock import to_iso

router = APIRouter(prefix="/portal", include_in_schema=False)

PLATFORM_KEY = "gncs"  # the one platform this cloud offers

# No script or style from anywhere else, and no framing (clickjacking on the revoke button).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def page(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    session: sessions.Session | None,
    status_code: int = 200,
) -> Response:
    """Render ``name`` with the session's CSRF token for its forms."""
    services: Services = request.app.state.services
    csrf = session.csrf_token(sessions.secret_of(services)) if session else ""
    response = templates.TemplateResponse(
        request,
        name,
        {"csrf_token": csrf, "signed_in": bool(session and session.signed_in), **context},
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def see_other(url: str) -> Response:
    # 303: the browser follows a POST's answer with a GET, so a reload never re-posts.
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Only a portal path: ``next`` must not send a fresh sign-in to another site."""
    if target and (target == "/portal" or target.startswith("/portal/")):
        return target
    return "/portal"


# Signing in and out -------------------------------------------------------------------------


@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    services: Services = request.app.state.services
    current = sessions.current(request)
    if current is not None and current.signed_in:
        return see_other(safe_next(next))
    session = current or sessions.new_session(services.db.now(), signed_in=False)
    response = page(request, "sign_in.html", {"next": safe_next(next)}, session=session)
    sessions.set_cookie(response, session, services)
    return response


@router.post("/sign-in")
async def sign_in(request: Request, services: ServicesDep) -> Response:
    current = sessions.current(request)
    form = await sessions.read_form(request, current)
    target = safe_next(form.get("next"))
    throttle = services.throttles.api_key
    address = client_address(request)
    now = services.db.now()
    until = throttle.blocked_until(address, now)
    if until is not None:
        wait = retry_after_seconds(until, now)
        context = {
            "next": target,
            "error": "Too many failed sign-ins from your address.",
            "retry_at": to_iso(until),
            "retry_seconds": wait,
        }
        response = page(request, "sign_in.html", context, session=current, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    given = form.get("api_key", "")
    if not hmac.compare_digest(given.encode(), services.settings.api_key.encode()):
        throttle.failed(address, now)
        context = {"next": target, "error": "That API key is not right."}
        return page(request, "sign_in.html", context, session=current, status_code=401)
    throttle.succeeded(address)
    response = see_other(target)
    sessions.set_cookie(response, sessions.new_session(services.db.now(), signed_in=True), services)
    return response


@router.post("/sign-out")
def sign_out(_form: FormDep) -> Response:
    response = see_other("/portal/sign-in")
    sessions.clear_cookie(response)
    return response


# Companies ----------------------------------------------------------------------------------


@router.get("")
def companies_page(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    return _companies(request, session, services)


@router.post("/companies")
def create_company(
    request: Request, session: SessionDep, form: FormDep, services: ServicesDep
) -> Response:
    try:
        row = services.tenancy.create_company(
            form.get("name", ""), form.get("description", "").strip() or None
        )
    except CloudError as exc:
        return _companies(request, session, services, error=exc)
    return see_other(f"/portal/companies/{row['id']}")


def _companies(
    request: Request, session: sessions.Session, services: Services, error: CloudError | None = None
) -> Response:
    now = services.db.now()
    companies = [
        shapes.company(row, services.tenancy.list_connections(row["id"]), services.link_codes, now)
        for row in services.tenancy.list_companies()
    ]
    return page(
        request,
        "companies.html",
        {"companies": companies, "error": error.message if error else None},
        session=session,
        status_code=error.status_code if error else 200,
    )


# One company --------------------------------------------------------------------------------


@router.get("/companies/{company_id}")
def company_page(
    request: Request, company_id: str, session: SessionDep, services: ServicesDep
) -> Response:
    return _company(request, session, services, company_id)


@router.get("/companies/{company_id}/state")
def company_fragment(
    request: Request, company_id: str, session: SessionDep, services: ServicesDep
) -> Response:
    """The live part of the company page, which its script fetches every second."""
    try:
        state = company_state(services, company_id)
    except NotFound as missing:
        return message_page(request, session, "Not found", missing.message, 404)
    return page(request, "_company_state.html", {"state": state}, session=session)


@router.post("/companies/{company_id}/connections")
def new_connection(
    request: Request, company_id: str, session: SessionDep, _form: FormDep, services: ServicesDep
) -> Response:
    return _act(
        request, session, services, company_id,
        lambda: services.tenancy.create_connection(company_id, PLATFORM_KEY),
    )  # fmt: skip


@router.post("/companies/{company_id}/queue/{data_type}")
def queue_one(
    request: Request,
    company_id: str,
    data_type: str,
    session: SessionDep,
    _form: FormDep,
    services: ServicesDep,
) -> Response:
    return _act(
        request, session, services, company_id,
        lambda: services.datasets.queue(company_id, data_type, None),
    )  # fmt: skip


@router.post("/companies/{company_id}/queue-all")
def queue_all(
    request: Request, company_id: str, session: SessionDep, _form: FormDep, services: ServicesDep
) -> Response:
    # The same service as the public "queue all", so the two can never mean different things.
    return _act(
        request, session, services, company_id,
        lambda: services.queue_first_link_types(company_id),
    )  # fmt: skip


@router.post("/companies/{company_id}/sync-settings")
def save_sync_settings(
    request: Request, company_id: str, session: SessionDep, form: FormDep, services: ServicesDep
) -> Response:
    def save() -> None:
        if form.get("action") == "inherit":
            # No settings of its own: the company follows the profile's again.
            services.sync_settings.set(company_id, [])
        else:
            current, _own = services.sync_settings.get(company_id)
            services.sync_settings.set(company_id, settings_from_form(current, form))

    return _act(request, session, services, company_id, save, anchor="sync-settings")


@router.post("/companies/{company_id}/connections/{connection_id}/revoke")
def revoke(
    request: Request,
    company_id: str,
    connection_id: str,
    session: SessionDep,
    _form: FormDep,
    services: ServicesDep,
) -> Response:
    return _act(
        request, session, services, company_id,
        lambda: services.agents.revoke(company_id, connection_id),
    )  # fmt: skip


def _act(
    request: Request,
    session: sessions.Session,
    services: Services,
    company_id: str,
    action: Callable[[], object],
    *,
    anchor: str = "",
) -> Response:
    """Do ``action``, then back to the company page; a refusal is shown on the page itself."""
    try:
        action()
    except CloudError as exc:
        return _company(request, session, services, company_id, error=exc)
    return see_other(f"/portal/companies/{company_id}" + (f"#{anchor}" if anchor else ""))


def _company(
    request: Request,
    session: sessions.Session,
    services: Services,
    company_id: str,
    error: CloudError | None = None,
) -> Response:
    try:
        state = company_state(services, company_id)
        settings = settings_view(services, company_id)
    except NotFound as missing:
        return message_page(request, session, "Not found", missing.message, 404)
    return page(
        request,
        "company.html",
        {"state": state, "settings": settings, "error": error.message if error else None},
        session=session,
        status_code=error.status_code if error else 200,
    )


def message_page(
    request: Request, session: sessions.Session | None, title: str, message: str, status: int
) -> Response:
    context = {"title": title, "message": message}
    return page(request, "message.html", context, session=session, status_code=status)


async def csrf_refused_page(request: Request, exc: Exception) -> Response:
    """A refused form gets a page saying what to do, not the public API's JSON error."""
    assert isinstance(exc, sessions.CsrfRefused)
    session = sessions.current(request)
    return message_page(request, session, "Form refused", exc.message, exc.status_code)


async def sign_in_required(request: Request, _exc: Exception) -> Response:
    # The live fragment is for the page's script; a person signing in wants the page itself.
    target = request.url.path.removesuffix("/state")
    if request.url.query:
        target += "?" + request.url.query
    return see_other("/portal/sign-in?" + urlencode({"next": safe_next(target)}))
