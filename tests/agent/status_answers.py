"""The cloud's ``GET /agent/v1/status`` answer, as the agent parses it, for tests that script
a cloud."""

from __future__ import annotations

from protocol.agent_api import StatusAnswer


def status_answer(data_status: dict[str, object], **more: object) -> StatusAnswer:
    connection = {
        "id": "0f0e0d0c-0b0a-4909-8807-060504030201",
        "integrationId": "gncs",
        "integrationKey": "gncs",
        "sourceId": "gncs",
        "sourceType": "Accounting",
        "platformName": "GnuCash",
        "linkUrl": "https://cloud.example/link/X",
        "status": "Linked",
        "created": "2026-03-01T00:00:00Z",
        "connectionInfo": {"agentOnline": True},
    }
    return StatusAnswer.model_validate(
        {"connection": connection, "dataStatus": data_status, **more}
    )
