"""Webhook consumers in the public API, as the official SDK's ``webhooks`` resource calls them.

``POST /webhooks`` (201), ``GET /webhooks`` (200 ``{"results": [...]}``) and
``DELETE /webhooks/{webhookId}`` (204). The consumer's signing secret is returned once, on
creation, as ``signingSecret`` (the SDK ignores extra fields, so raw HTTP callers see it);
``GET /webhooks/{webhookId}/secret`` answers ``{"key": ...}`` as Svix's endpoint-secret call
does, for SDK users and anyone who lost it.

A URL whose host is an address webhooks are not sent to (loopback, private, link-local, ...:
``cloud.webhooks.targets``) is refused with 400, unless the operator allowed that host.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import RowMapping

from cloud.api.auth import require_api_key
from cloud.api.public_models import (
    ERROR_RESPONSES,
    WebhookConsumerCreated,
    WebhookConsumers,
    WebhookSecret,
)
from cloud.api.request_types import MAX_LIST, Name, Url
from cloud.errors import BadRequest, shown
from cloud.webhooks.delivery import WebhookDispatcher
from cloud.webhooks.store import consumer_company_tags, consumer_event_types
from cloud.webhooks.targets import WebhookTargets

router = APIRouter(dependencies=[Depends(require_api_key)], responses=ERROR_RESPONSES)


def webhooks_of(request: Request) -> WebhookDispatcher:
    dispatcher: WebhookDispatcher = request.app.state.webhooks
    return dispatcher


WebhooksDep = Annotated[WebhookDispatcher, Depends(webhooks_of)]


class ConsumerCreate(BaseModel):
    """``WebhookConsumerPrototype``: every field optional and nullable, as in the SDK."""

    url: Url | None = None
    disabled: bool | None = False
    eventTypes: Annotated[list[Name], Field(max_length=MAX_LIST)] | None = None
    companyTags: Annotated[list[Name], Field(max_length=MAX_LIST)] | None = None


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookConsumerCreated,
    response_model_exclude_unset=True,
)
def create_consumer(body: ConsumerCreate, webhooks: WebhooksDep) -> dict[str, Any]:
    url = _checked_url(body.url, webhooks.targets)
    event_types = _checked_names(body.eventTypes or [], "eventTypes")
    company_tags = _checked_names(body.companyTags or [], "companyTags")
    row = webhooks.store.create_consumer(
        url, event_types=event_types, disabled=bool(body.disabled), company_tags=company_tags
    )
    return {**consumer(row), "signingSecret": row["secret"]}


@router.get("/webhooks", response_model=WebhookConsumers, response_model_exclude_unset=True)
def list_consumers(webhooks: WebhooksDep) -> dict[str, Any]:
    return {"results": [consumer(row) for row in webhooks.store.list_consumers()]}


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_consumer(webhook_id: str, webhooks: WebhooksDep) -> Response:
    webhooks.store.delete_consumer(webhook_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/secret",
    response_model=WebhookSecret,
    response_model_exclude_unset=True,
)
def consumer_secret(webhook_id: str, webhooks: WebhooksDep) -> dict[str, str]:
    return {"key": webhooks.store.get_consumer(webhook_id)["secret"]}


def consumer(row: RowMapping) -> dict[str, Any]:
    """The public ``WebhookConsumer`` shape (the secret is never part of it)."""
    return {
        "id": row["id"],
        "url": row["url"],
        "disabled": row["disabled"],
        "eventTypes": consumer_event_types(row),
        "companyTags": consumer_company_tags(row),
    }


def _checked_url(url: str | None, targets: WebhookTargets) -> str:
    if not url:
        raise BadRequest("A webhook consumer needs a url.")
    # Parsed by httpx, as each delivery will be: the host judged here is the one connected to.
    # The standard library's parser is stricter about what httpx lets pass (it takes "http://["
    # as a host "%5B", and any integer as a port), so it must accept the URL too.
    try:
        urlsplit(url).port  # noqa: B018  (raises on a port that is not a number from 0 to 65535)
        parts: httpx.URL | None = httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.host:
        raise BadRequest(f"{shown(url)} is not an http(s) URL a webhook can be sent to.")
    refusal = targets.url_refusal(url)
    if refusal is not None:
        raise BadRequest(refusal)
    return url


def _checked_names(values: list[str], field: str) -> list[str]:
    # Any name is accepted, so code written for Codat's full catalogue works here unchanged;
    # only blanks are refused, since they could never match anything.
    for value in values:
        if not value.strip() or value != value.strip():
            raise BadRequest(f"{field} may not hold blank or padded values ({shown(value)}).")
    return values
