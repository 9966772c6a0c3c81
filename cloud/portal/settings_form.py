"""The company page's sync settings form: what it shows, and the settings a posted form asks for.

Only the translation between a form and the public API's setting shapes lives here; what the
settings mean, how a company inherits the profile's, and their validation stay in
``cloud.store.sync_settings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloud.errors import BadRequest
from cloud.services import Services
from cloud.store.sync_settings import MAX_SCHEDULE_HOURS


@dataclass(frozen=True)
class SettingsView:
    settings: list[dict[str, Any]]  # the public API's shape, in force for the company
    own: bool  # the company's own, or inherited from the profile (or the defaults)


def settings_view(services: Services, company_id: str) -> SettingsView:
    settings, own = services.sync_settings.get(company_id)
    return SettingsView(sorted(settings, key=lambda s: s["dataType"]), own)


def settings_from_form(current: list[dict[str, Any]], form: dict[str, str]) -> list[dict[str, Any]]:
    """``current`` with the form's fetch-on-first-link and schedule of every data type.

    A checkbox left unticked is simply absent from a form, so each data type on the page is
    read from ``current``, never from the keys the form happens to carry. Everything the form
    does not show (order, sync window, lock) is kept as it was, and so is a locked setting.
    """
    chosen = []
    for setting in current:
        if setting.get("isLocked"):
            chosen.append(setting)  # shown, but not for changing here
            continue
        data_type = setting["dataType"]
        text = form.get(f"schedule-{data_type}", str(setting["syncSchedule"])).strip()
        try:
            hours = int(text)
        except ValueError:
            hours = -1
        if not 0 <= hours <= MAX_SCHEDULE_HOURS:
            raise BadRequest(
                f"The schedule of {data_type} must be a whole number of hours from 0 "
                f"(never) to {MAX_SCHEDULE_HOURS}, not '{text}'."
            )
        fetch = form.get(f"fetch-{data_type}") == "on"
        chosen.append({**setting, "fetchOnFirstLink": fetch, "syncSchedule": hours})
    return chosen
