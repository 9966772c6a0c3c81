"""Public API: sync settings, for the profile and for one company."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from cloud.api.auth import ServicesDep, require_api_key
from cloud.api.public_models import ERROR_RESPONSES, CompanySyncSettings, ProfileSyncSettings
from cloud.api.request_types import DataTypeKey, Int32, Name, storable
from cloud.store.sync_settings import CLIENT_ID, MAX_SCHEDULE_HOURS, PROFILE
from protocol.datatypes import ACCOUNTING_DATA_TYPES

router = APIRouter(dependencies=[Depends(require_api_key)], responses=ERROR_RESPONSES)


class SyncSettingBody(BaseModel):
    """One data type's ``SyncSetting``, as the SDK sends it; every number fits the database
    and a schedule stays within a year, so the sweep's date arithmetic cannot overflow."""

    dataType: DataTypeKey
    fetchOnFirstLink: bool
    syncSchedule: int = Field(ge=0, le=MAX_SCHEDULE_HOURS)  # hours; 0 = not on a schedule
    syncOrder: Int32 = 0
    syncFromUtc: (
        Annotated[str, StringConstraints(max_length=32), AfterValidator(storable)] | None
    ) = None
    syncFromWindow: Int32 | None = None
    monthsToSync: Int32 | None = None
    isLocked: bool | None = None


class SettingsBody(BaseModel):
    settings: Annotated[list[SyncSettingBody], Field(max_length=len(ACCOUNTING_DATA_TYPES))] = []
    overridesDefaults: bool | None = None
    clientId: Name | None = None
    companyId: Name | None = None

    def as_settings(self) -> list[dict[str, Any]]:
        return [setting.model_dump(exclude_none=True) for setting in self.settings]


@router.get(
    "/profile/syncSettings", response_model=ProfileSyncSettings, response_model_exclude_unset=True
)
def get_profile_settings(services: ServicesDep) -> dict[str, Any]:
    settings, own = services.sync_settings.get(PROFILE)
    return {"clientId": CLIENT_ID, "settings": settings, "overridesDefaults": own}


@router.post("/profile/syncSettings", status_code=204)
def set_profile_settings(body: SettingsBody, services: ServicesDep) -> Response:
    services.sync_settings.set(PROFILE, body.as_settings())
    return Response(status_code=204)


@router.get(
    "/companies/{company_id}/syncSettings",
    response_model=CompanySyncSettings,
    response_model_exclude_unset=True,
)
def get_company_settings(company_id: str, services: ServicesDep) -> dict[str, Any]:
    settings, own = services.sync_settings.get(company_id)
    return {"companyId": company_id, "settings": settings, "overridesDefaults": own}


@router.post("/companies/{company_id}/syncSettings", status_code=204)
def set_company_settings(company_id: str, body: SettingsBody, services: ServicesDep) -> Response:
    services.sync_settings.set(company_id, body.as_settings())
    return Response(status_code=204)
