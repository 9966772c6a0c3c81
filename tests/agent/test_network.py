"""Credentials cross the network only encrypted."""

from __future__ import annotations

import pytest

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.network import InsecureCloudUrl, require_secure


@pytest.mark.parametrize(
    "url",
    ["https://cloud.example", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"],
)
def test_https_and_this_machine_are_allowed(url: str) -> None:
    require_secure(url)


@pytest.mark.parametrize("url", ["http://cloud.example", "http://10.0.0.5", "ftp://cloud.example"])
def test_plain_http_elsewhere_is_refused_with_the_fix(url: str) -> None:
    with pytest.raises(InsecureCloudUrl, match="https"):
        CloudClient(url)
