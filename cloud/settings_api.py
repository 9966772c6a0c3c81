"""Public API: sync settings, for the profile and for one company."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from cloud.auth import ServicesDep, require_api_key
from cloud.sync_settings import CLIENT_ID, PROFILE

router = APIRouter(dependencies=[Depends(require_api_key)])


class SettingsBody(BaseModel):
    settings: list[dict[str, Any]] = []
    overridesDefaults: bool | None = None
    clientId: str | None = None
    companyId: str | None = None


@router.get("/profile/syncSettings")
def get_profile_settings(services: ServicesDep) -> dict[str, Any]:
    settings, own = services.sync_settings.get(PROFILE)
    return {"clientId": CLIENT_ID, "settings": settings, "overridesDefaults": own}


@router.post("/profile/syncSettings", status_code=204)
def set_profile_settings(body: SettingsBody, services: ServicesDep) -> Response:
    services.sync_settings.set(PROFILE, body.settings)
    return Response(status_code=204)


@router.get("/companies/{company_id}/syncSettings")
def get_company_settings(company_id: str, services: ServicesDep) -> dict[str, Any]:
    settings, own = services.sync_settings.get(company_id)
    return {"companyId": company_id, "settings": settings, "overridesDefaults": own}


@router.post("/companies/{company_id}/syncSettings", status_code=204)
def set_company_settings(company_id: str, body: SettingsBody, services: ServicesDep) -> Response:
    services.sync_settings.set(company_id, body.settings)
    return Response(status_code=204)
