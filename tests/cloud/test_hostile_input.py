"""What a linked agent or a stranger can send that the cloud must refuse with a 4xx in the
public error shape, storing nothing; and a bug still answers in that shape (issue #12, point 8).

The real cloud in-process on real SQLite (``tests/conftest.py``).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import CloudHarness

ERROR_KEYS = {
    "statusCode",
    "service",
    "error",
    "correlationId",
    "validation",
    "canBeRetried",
    "detailedErrorCode",
}


def refused(response: Any, status: int = 400) -> dict[str, Any]:
    """The answer is ``status`` in the public error shape; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS
    assert body["statusCode"] == status
    return body


def test_an_unexpected_exception_answers_500_in_the_public_shape_with_a_findable_id(
    cloud: CloudHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A fault injected where no real input can cause one: the point is what any bug looks like.
    def broken() -> list[Any]:
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(cloud.services.tenancy, "list_companies", broken)
    # The fixture's client re-raises server errors for the tests' sake; a real client does not.
    client = TestClient(cloud.http.app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="cloud.app"):
        response = client.get("/companies", headers=cloud.auth)
    body = refused(response, 500)
    assert "Traceback" not in response.text and "the disk caught fire" not in response.text
    assert body["correlationId"] in body["error"]
    logged = [r for r in caplog.records if body["correlationId"] in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert "the disk caught fire" in str(logged[0].exc_info[1])
