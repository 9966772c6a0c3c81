"""The portal's session cookie and its CSRF tokens.

A session is a signed cookie, not a server-side row: it is signed with a key derived from the
server's own random secret (``cloud/store/server_secret.py``), which every server process sharing
one database holds, so all of them accept the same cookies. The API key is mixed in under that
secret, so changing the API key still signs everybody out, yet nothing about the API key can be
learnt from a cookie without the server secret (a key derived from the API key alone once let a
captured cookie test guesses of it offline). A cookie carries a random nonce; the CSRF token of
a form is an HMAC of that nonce, so a token is good only with the session it was rendered for.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request, Response

from cloud.errors import BadRequest, CloudError
from cloud.services import Services

COOKIE = "connector_portal"
SESSION_SECONDS = 12 * 3600
# An anonymous session exists only to give the sign-in form a CSRF token (no login CSRF).
ANONYMOUS_SECONDS = 3600
_VERSION = "v1"


class SignInRequired(Exception):
    """No valid signed-in session: the portal answers with a redirect to the sign-in page."""


class CsrfRefused(CloudError):
    status_code = 403


@dataclass(frozen=True)
class Session:
    nonce: str
    issued: int  # seconds since the epoch, by the cloud's clock
    signed_in: bool

    def csrf_token(self, secret: bytes) -> str:
        return hmac.new(secret, f"csrf|{self.nonce}".encode(), hashlib.sha256).hexdigest()


def secret_of(services: Services) -> bytes:
    return hmac.new(
        services.keys.portal_session, services.settings.api_key.encode(), hashlib.sha256
    ).digest()


def encode(session: Session, secret: bytes) -> str:
    body = f"{_VERSION}.{session.nonce}.{session.issued}.{int(session.signed_in)}"
    mac = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def decode(value: str, secret: bytes, now: datetime) -> Session | None:
    """The session in a cookie, or None if it is forged, malformed or too old."""
    body, _, mac = value.rpartition(".")
    expected = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    try:
        version, nonce, issued_text, flag = body.split(".")
        issued = int(issued_text)
    except ValueError:
        return None
    if version != _VERSION or flag not in ("0", "1"):
        return None
    session = Session(nonce, issued, flag == "1")
    lifetime = SESSION_SECONDS if session.signed_in else ANONYMOUS_SECONDS
    age = now.timestamp() - issued
    return session if 0 <= age < lifetime else None


def new_session(now: datetime, *, signed_in: bool) -> Session:
    # A fresh nonce at sign-in, so a session planted before it (fixation) is worth nothing.
    return Session(secrets.token_urlsafe(16), int(now.timestamp()), signed_in)


def set_cookie(response: Response, session: Session, services: Services) -> None:
    response.set_cookie(
        COOKIE,
        encode(session, secret_of(services)),
        max_age=SESSION_SECONDS if session.signed_in else ANONYMOUS_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=services.settings.public_url.startswith("https://"),
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def current(request: Request) -> Session | None:
    services: Services = request.app.state.services
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    return decode(value, secret_of(services), services.db.now())


def require_session(request: Request) -> Session:
    session = current(request)
    if session is None or not session.signed_in:
        raise SignInRequired()
    return session


SessionDep = Annotated[Session, Depends(require_session)]


async def read_form(request: Request, session: Session | None) -> dict[str, str]:
    """The posted form, once its CSRF token has been checked against ``session``.

    Parsed by hand: every portal form is url-encoded, so the multipart parser FastAPI's
    ``Form`` needs would be a dependency for nothing.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type != "application/x-www-form-urlencoded":
        raise CsrfRefused("The portal accepts only its own forms.")
    form = parse_form(await request.body())
    services: Services = request.app.state.services
    given = form.get("csrf_token", "")
    if session is None or not hmac.compare_digest(
        given.encode(), session.csrf_token(secret_of(services)).encode()
    ):
        raise CsrfRefused("This form has expired or did not come from the portal. Reload the page.")
    return form


MAX_FORM_FIELDS = 200  # the sync settings form, the largest, has two a data type


def parse_form(body: bytes) -> dict[str, str]:
    """An url-encoded form (its size is bounded before it is read: ``cloud/http/body_limits.py``);
    what is not text the database can store is refused here, not deep in a handler."""
    try:
        text = body.decode("utf-8")
        # Strict: a %-escape that is not UTF-8 is refused too, not turned into U+FFFD.
        fields = parse_qsl(
            text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors="strict"
        )
    except UnicodeDecodeError as exc:
        raise BadRequest("The form is not valid UTF-8 text.") from exc
    except ValueError as exc:  # more fields than any of the portal's forms has
        raise BadRequest("The form has more fields than any of the portal's forms.") from exc
    if any("\x00" in key or "\x00" in value for key, value in fields):
        raise BadRequest("The form holds a NUL character, which no field may hold.")
    return dict(fields)


async def signed_in_form(request: Request, session: SessionDep) -> dict[str, str]:
    return await read_form(request, session)


FormDep = Annotated[dict[str, str], Depends(signed_in_form)]
