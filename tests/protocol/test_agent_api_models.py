"""The agent API's answers are defined once (protocol/agent_api.py): the cloud answers with them
and publishes them in its OpenAPI document, the agent parses with them; the package stays free
of the agent, the tray and the cloud."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from pydantic import BaseModel, ValidationError

from cloud.store.cache import BASELINE_PAGE
from protocol import agent_api
from protocol.agent_api import MAX_BASELINE_PAGE, BaselinePage, PollAnswer
from tests.support.cloud_harness import CloudHarness

PROBE = """
import sys
import protocol, protocol.agent_api
ours = {'agent', 'cloud', 'ui'}
print(','.join(sorted(name for name in sys.modules if name.split('.')[0] in ours)))
"""


def test_the_package_imports_nothing_of_either_side() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    # Both sides import protocol/; it imports neither (nor the tray app).
    assert result.stdout.strip() == ""


def test_the_clouds_openapi_document_carries_the_models(cloud: CloudHarness) -> None:
    document = cloud.http.get("/openapi.json").json()
    poll = document["paths"]["/agent/v1/poll"]["post"]["responses"]
    assert poll["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PollAnswer"
    }
    assert poll["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorAnswer"
    }
    dataset_id = document["components"]["schemas"]["PolledDataset"]["properties"]["id"]
    assert dataset_id["format"] == "uuid" and dataset_id["pattern"].startswith("^[0-9a-f]{8}-")


def test_every_model_is_built_at_import() -> None:
    # Nothing is left to build at first use, which is not thread-safe in pydantic.
    models = [
        value
        for value in vars(agent_api).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel
    ]
    assert len(models) >= 15
    assert all(model.__pydantic_complete__ for model in models)


def test_the_clouds_baseline_pages_fit_the_model() -> None:
    assert BASELINE_PAGE <= MAX_BASELINE_PAGE


@pytest.mark.parametrize(
    "dataset_id",
    [
        "6F9619FF-8B86-D011-B42D-00C04FC964FF",  # upper case
        "6f9619ff8b86d011b42d00c04fc964ff",  # no dashes
        "{6f9619ff-8b86-d011-b42d-00c04fc964ff}",
        "6f9619ff-8b86-d011-b42d-00c04fc964ff\n",
        "../../..",
    ],
)
def test_only_canonical_uuid_text_is_an_id(dataset_id: str) -> None:
    answer = {"dataset": {"id": dataset_id, "dataType": "customers", "requested": "2026"}}
    with pytest.raises(ValidationError):
        PollAnswer.model_validate(answer)
    canonical = str(uuid.UUID(dataset_id.strip().strip("{}"))) if "." not in dataset_id else None
    if canonical:
        answer["dataset"]["id"] = canonical
        assert PollAnswer.model_validate(answer).dataset is not None


def test_a_baseline_page_is_bounded() -> None:
    page = {f"id-{n}": "0" * 64 for n in range(MAX_BASELINE_PAGE + 1)}
    with pytest.raises(ValidationError):
        BaselinePage.model_validate({"recordHashes": page, "nextAfter": None})
    with pytest.raises(ValidationError):
        BaselinePage.model_validate({"recordHashes": {"x" * 257: "0" * 64}})
    with pytest.raises(ValidationError):
        BaselinePage.model_validate({"recordHashes": {"a": "not a hash"}})


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("revoked", agent_api.RefusalReason.REVOKED),
        ("expired_access_token", agent_api.RefusalReason.EXPIRED_ACCESS_TOKEN),
        (None, None),
        ("suspended", None),  # a newer cloud's reason: no verdict this version can act on
        (7, None),
        (["revoked"], None),
    ],
)
def test_an_error_answers_reason_is_read_tolerantly(sent: object, read: object) -> None:
    body: dict[str, object] = {"statusCode": 401, "error": "Refused."}
    if sent is not None:
        body["reason"] = sent
    assert agent_api.ErrorAnswer.model_validate(body).reason == read


def test_every_reason_the_cloud_gives_is_one_the_agent_knows() -> None:
    from cloud.store.agents import REFUSED_BECAUSE

    assert set(REFUSED_BECAUSE) == {reason.value for reason in agent_api.RefusalReason}
    gone = {reason.value for reason in agent_api.AUTHORIZATION_GONE}
    assert gone == set(REFUSED_BECAUSE) - {"expired_access_token"}
