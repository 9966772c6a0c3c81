"""Plays the agent's part against the in-process cloud, one dataset at a time."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from protocol.clock import to_iso, utc_now
from tests.support.cloud_harness import CloudHarness


def claim(cloud: CloudHarness, agent: dict[str, str]) -> dict[str, Any] | None:
    response = cloud.http.post("/agent/v1/poll", json={"waitSeconds": 0}, headers=agent)
    assert response.status_code == 200, response.text
    dataset: dict[str, Any] | None = response.json()["dataset"]
    return dataset


def report(
    cloud: CloudHarness, agent: dict[str, str], dataset_id: str, status: str, **extra: Any
) -> Any:
    body = {"status": status, "timestamp": to_iso(utc_now()), **extra}
    return cloud.http.post(f"/agent/v1/datasets/{dataset_id}/transitions", json=body, headers=agent)


def complete(
    cloud: CloudHarness,
    agent: dict[str, str],
    dataset_id: str,
    records: list[dict[str, Any]],
) -> None:
    """Take a claimed dataset through every phase to Complete, uploading ``records``."""
    for status in ("Fetching", "Mapping", "Validating", "Processing"):
        assert report(cloud, agent, dataset_id, status).status_code == 200
    upload = upload_chunk(cloud, agent, dataset_id, 0, records)
    assert upload.status_code == 204, upload.text
    done = report(cloud, agent, dataset_id, "Complete", chunks=1)
    assert done.status_code == 200, done.text


def upload_chunk(
    cloud: CloudHarness,
    agent: dict[str, str],
    dataset_id: str,
    chunk: int,
    records: list[dict[str, Any]],
    *,
    checksum: str | None = None,
) -> Any:
    """PUT one page as the agent does: the body with its SHA-256 alongside."""
    body = json.dumps({"records": records}).encode()
    headers = {**agent, "X-Content-SHA256": checksum or hashlib.sha256(body).hexdigest()}
    return cloud.http.put(
        f"/agent/v1/datasets/{dataset_id}/chunks/{chunk}", content=body, headers=headers
    )


def fail(cloud: CloudHarness, agent: dict[str, str], dataset_id: str, message: str) -> None:
    assert report(cloud, agent, dataset_id, "Fetching").status_code == 200
    failed = report(cloud, agent, dataset_id, "FetchError", errorMessage=message)
    assert failed.status_code == 200, failed.text


def claim_type(cloud: CloudHarness, agent: dict[str, str], data_type: str) -> dict[str, Any]:
    """Claim datasets until one of ``data_type`` arrives, ending the others NotSupported."""
    while True:
        dataset = claim(cloud, agent)
        assert dataset is not None, f"no {data_type} dataset was queued"
        if dataset["dataType"] == data_type:
            return dataset
        assert report(cloud, agent, dataset["id"], "NotSupported").status_code == 200
