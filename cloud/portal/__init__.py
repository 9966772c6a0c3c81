"""The portal: server-rendered pages for the API user, and the public link page.

``install`` adds both to an app, with the portal's stylesheet and script, and the handlers that
turn a missing session into a redirect and a refused form into a page. (Failed sign-ins count
in the services' API-key throttle, with the public API's wrong keys: ``cloud/http/throttle.py``.)
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from cloud.portal import link_page, routes
from cloud.portal.session import CsrfRefused, SignInRequired
from cloud.portal.templates import STATIC_DIR

__all__ = ["install"]


def install(app: FastAPI) -> None:
    app.include_router(routes.router)
    app.include_router(link_page.router)
    app.mount("/portal/static", StaticFiles(directory=STATIC_DIR), name="portal-static")
    app.add_exception_handler(SignInRequired, routes.sign_in_required)
    app.add_exception_handler(CsrfRefused, routes.csrf_refused_page)
