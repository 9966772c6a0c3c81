"""What a linked agent or a stranger can send that the cloud must refuse with a 4xx in the
public error shape, storing nothing; and a bug still answers in that shape (issue #12, point 8).

The real cloud in-process on real SQLite (``tests/support/cloud_harness.py``).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from protocol.datatypes import ACCOUNTING_DATA_TYPES
from protocol.limits import MAX_DELETED_IDS, MAX_ERROR_MESSAGE_LENGTH
from tests.cloud.drive import claim, claim_type, complete, report, upload_chunk
from tests.support.cloud_harness import API_KEY, CloudHarness, cloud_on
from tests.support.fake_clock import FakeClock
from tests.support.postgres import fresh_database

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


# Each reproduced attack, refused where it should have been ---------------------------------


def companies(cloud: CloudHarness) -> list[dict[str, Any]]:
    answer = cloud.http.get("/companies", headers=cloud.auth)
    assert answer.status_code == 200
    results: list[dict[str, Any]] = answer.json()["results"]
    return results


def test_invalid_utf8_in_the_portal_sign_in_form_is_a_400(cloud: CloudHarness) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    for body in (b"api_key=\xff\xfe&csrf_token=x", b"api_key=%ff%fe&csrf_token=x"):
        answer = cloud.http.post("/portal/sign-in", content=body, headers=form)
        assert "not valid UTF-8" in refused(answer)["error"]
        assert "connector_portal" not in answer.cookies
    nul = cloud.http.post("/portal/sign-in", content=b"api_key=a%00b", headers=form)
    assert "NUL" in refused(nul)["error"]
    fields = "&".join(f"f{n}=x" for n in range(1000)).encode()
    assert (
        "more fields"
        in refused(cloud.http.post("/portal/sign-in", content=fields, headers=form))["error"]
    )


def test_a_lone_surrogate_or_nul_in_a_company_name_is_a_400_and_nothing_is_stored(
    cloud: CloudHarness,
) -> None:
    json_type = {**cloud.auth, "content-type": "application/json"}
    for body in (b'{"name": "Acme \\ud800"}', b'{"name": "Acme \\u0000"}'):
        answer = cloud.http.post("/companies", content=body, headers=json_type)
        assert "name" in refused(answer)["error"]
    assert companies(cloud) == []
    company_id = cloud.new_company("Acme")
    for method in ("PUT", "PATCH"):
        answer = cloud.http.request(
            method, f"/companies/{company_id}", content=b'{"name": "\\udfff"}', headers=json_type
        )
        refused(answer)
    assert [c["name"] for c in companies(cloud)] == ["Acme"]


def test_a_transition_timestamp_that_is_no_date_is_a_400_and_the_dataset_stays(
    cloud: CloudHarness,
) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    dataset = claim(cloud, agent)
    assert dataset is not None
    path = f"/agent/v1/datasets/{dataset['id']}/transitions"
    for stamp in ("not-a-date", "2026-01-01T00:00:00+99:99", "x" * 100_000, 12):
        answer = cloud.http.post(
            path, json={"status": "Fetching", "timestamp": stamp}, headers=agent
        )
        assert "timestamp" in refused(answer)["error"]
    history = cloud.http.get(
        f"/companies/{company_id}/data/history/{dataset['id']}", headers=cloud.auth
    ).json()
    assert history["status"] == "Queued"
    assert [entry["status"] for entry in history["statusHistory"]] == ["Queued"]


def synced_company(cloud: CloudHarness) -> tuple[str, str]:
    """A company whose customers and bank accounts have synced, so that every list endpoint
    gets as far as reading its query; the company and its connection."""
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    for data_type, record in (
        ("customers", {"id": "c1", "customerName": "Alice", "status": "Active"}),
        ("bankAccounts", {"id": "b1", "accountName": "Current"}),
    ):
        cloud.http.post(f"/companies/{company_id}/data/queue/{data_type}", headers=cloud.auth)
        complete(cloud, agent, claim_type(cloud, agent, data_type)["id"], [record])
    connection_id = cloud.http.get(
        f"/companies/{company_id}/connections", headers=cloud.auth
    ).json()["results"][0]["id"]
    return company_id, connection_id


def list_paths(company_id: str, connection_id: str) -> list[str]:
    return [
        "/companies",
        f"/companies/{company_id}/connections",
        f"/companies/{company_id}/data/history",
        f"/companies/{company_id}/data/customers",
        f"/companies/{company_id}/connections/{connection_id}/data/bankAccounts",
    ]


def test_a_page_number_past_64_bits_of_offset_is_a_400_on_every_list(cloud: CloudHarness) -> None:
    company_id, connection_id = synced_company(cloud)
    for path in list_paths(company_id, connection_id):
        for page in (2**62, 2**31):
            answer = cloud.http.get(path, params={"page": page}, headers=cloud.auth)
            assert "page" in refused(answer)["error"], path
        last = cloud.http.get(path, params={"page": 2**31 - 1}, headers=cloud.auth)
        assert last.status_code == 200, (path, last.text)
        assert last.json()["results"] == []


def test_an_impossible_time_zone_in_a_query_date_is_a_400_on_every_list(
    cloud: CloudHarness,
) -> None:
    company_id, connection_id = synced_company(cloud)
    for path in list_paths(company_id, connection_id):
        for query in (
            "modifiedDate>2026-01-01T00:00:00+99:99",
            "modifiedDate<2026-02-30",
            "{modifiedDate>2026-01-01T00:00:00-24:00 || id=x}",
        ):
            answer = cloud.http.get(path, params={"query": query}, headers=cloud.auth)
            assert "is not a valid date" in refused(answer)["error"], (path, query)
        # Quoted, the same text is compared as text, on purpose.
        quoted = cloud.http.get(
            path, params={"query": 'id!="2026-01-01T00:00:00+99:99"'}, headers=cloud.auth
        )
        assert quoted.status_code == 200, (path, quoted.text)


def profile_settings(cloud: CloudHarness) -> dict[str, Any]:
    body: dict[str, Any] = cloud.http.get("/profile/syncSettings", headers=cloud.auth).json()
    return body


CUSTOMERS = b'"dataType": "customers", "fetchOnFirstLink": true, '


@pytest.mark.parametrize(
    "setting",
    [
        b"{" + CUSTOMERS + b'"syncSchedule": 18446744073709551616}',
        b"{" + CUSTOMERS + b'"syncSchedule": 1, "syncOrder": 1e400}',
        b"{" + CUSTOMERS + b'"syncSchedule": 1, "syncOrder": 99999999999999999999999}',
        b"{" + CUSTOMERS + b'"syncSchedule": 1, "monthsToSync": 2147483648}',
        b"{" + CUSTOMERS + b'"syncSchedule": 100000000}',
        b"{" + CUSTOMERS + b'"syncSchedule": 1, "syncFromUtc": "' + b"9" * 33 + b'"}',
        b'{"dataType": "../../etc/passwd", "fetchOnFirstLink": true, "syncSchedule": 1}',
    ],
    ids=["2^64", "1e400", "2^76", "int32", "a century", "long text", "no data type"],
)
def test_sync_settings_beyond_what_can_be_stored_are_a_400_and_nothing_is_stored(
    cloud: CloudHarness, setting: bytes
) -> None:
    before = profile_settings(cloud)
    company_id = cloud.new_company()
    json_type = {**cloud.auth, "content-type": "application/json"}
    body = b'{"settings": [' + setting + b"]}"
    for path in ("/profile/syncSettings", f"/companies/{company_id}/syncSettings"):
        refused(cloud.http.post(path, content=body, headers=json_type))
    assert profile_settings(cloud) == before
    company = cloud.http.get(f"/companies/{company_id}/syncSettings", headers=cloud.auth).json()
    assert company["overridesDefaults"] is False


def test_the_same_data_type_twice_in_sync_settings_is_a_400(cloud: CloudHarness) -> None:
    setting = {"dataType": "customers", "fetchOnFirstLink": True, "syncSchedule": 1}
    answer = cloud.http.post(
        "/profile/syncSettings", json={"settings": [setting, setting]}, headers=cloud.auth
    )
    assert "twice" in refused(answer)["error"]
    assert profile_settings(cloud)["overridesDefaults"] is False


def test_the_agents_queue_refuses_an_unknown_data_type_and_stores_nothing(
    cloud: CloudHarness,
) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    status_before = cloud.http.get(f"/companies/{company_id}/dataStatus", headers=cloud.auth).json()
    history_before = cloud.http.get(
        f"/companies/{company_id}/data/history", headers=cloud.auth
    ).json()
    for data_types in (["../../etc/passwd"], ["customers", "x" * 1000], ["nope"] * 1000):
        answer = cloud.http.post("/agent/v1/queue", json={"dataTypes": data_types}, headers=agent)
        assert len(refused(answer)["error"]) < 2_000
    status_after = cloud.http.get(f"/companies/{company_id}/dataStatus", headers=cloud.auth).json()
    assert status_after == status_before
    assert sorted(status_after) == sorted(ACCOUNTING_DATA_TYPES)
    history_after = cloud.http.get(
        f"/companies/{company_id}/data/history", headers=cloud.auth
    ).json()
    assert history_after["totalResults"] == history_before["totalResults"]


def test_a_request_with_many_problems_gets_a_short_answer(cloud: CloudHarness) -> None:
    agent = cloud.linked_agent(cloud.new_company())
    answer = cloud.http.post(
        "/agent/v1/queue", json={"dataTypes": [f"bad{n}" for n in range(28)]}, headers=agent
    )
    error = refused(answer)["error"]
    assert error.count("is not a data type") == 5
    assert error.endswith("and 23 more")
    tags = {"k" * 10_000: 1}  # a key the caller chose, in the problem's location
    answer = cloud.http.post("/companies", json={"name": "A", "tags": tags}, headers=cloud.auth)
    assert len(refused(answer)["error"]) < 300


def test_every_list_and_string_of_the_agent_api_is_bounded(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    dataset = claim(cloud, agent)
    assert dataset is not None
    transitions = f"/agent/v1/datasets/{dataset['id']}/transitions"
    for status in ("Fetching", "Mapping", "Validating", "Processing"):
        assert report(cloud, agent, dataset["id"], status).status_code == 200
    too_many = [f"id-{n}" for n in range(MAX_DELETED_IDS + 1)]
    for body in (
        {"status": "Complete", "chunks": 0, "mode": "delta", "deletedIds": too_many},
        {"status": "Complete", "chunks": 0, "mode": "delta", "deletedIds": ["x" * 257]},
        {"status": "ProcessingError", "errorMessage": "x" * (MAX_ERROR_MESSAGE_LENGTH + 1)},
    ):
        answer = cloud.http.post(
            transitions, json={**body, "timestamp": "2026-01-01T00:00:00Z"}, headers=agent
        )
        refused(answer)
    json_type = {**agent, "content-type": "application/json"}
    for path, sent in (
        ("/agent/v1/heartbeat", {"hostname": "h" * 257}),
        ("/agent/v1/heartbeat", {"agentVersion": "1\u0000"}),
        ("/agent/v1/heartbeat", {"waitReason": "w" * (MAX_ERROR_MESSAGE_LENGTH + 1)}),
        ("/agent/v1/heartbeat", {"dataTypes": ["customers"] * 101}),
        ("/agent/v1/poll", b'{"waitSeconds": 1e400}'),
        ("/agent/v1/token", {"refreshToken": "r" * 257}),
        ("/agent/v1/link", {"linkCode": "c" * 257}),
    ):
        if isinstance(sent, bytes):
            refused(cloud.http.post(path, content=sent, headers=json_type))
        else:
            refused(cloud.http.post(path, json=sent, headers=agent))
    # Nothing of it was kept: the dataset is where it was.
    history = cloud.http.get(
        f"/companies/{company_id}/data/history/{dataset['id']}", headers=cloud.auth
    ).json()
    assert history["status"] == "Processing"


def test_every_list_and_string_of_the_public_api_is_bounded(cloud: CloudHarness) -> None:
    for body in (
        {"name": "n" * 257},
        {"name": "A", "description": "d" * (MAX_ERROR_MESSAGE_LENGTH + 1)},
        {"name": "A", "tags": {f"t{n}": "v" for n in range(101)}},
    ):
        refused(cloud.http.post("/companies", json=body, headers=cloud.auth))
    assert companies(cloud) == []
    for webhook in (
        {"url": "http://["},
        {"url": "http://example.com:99999/"},
        {"url": "https://example.com/" + "p" * 2048},
        {"url": "https://example.com/", "eventTypes": ["e"] * 101},
        {"url": "https://example.com/", "companyTags": ["t" * 257]},
    ):
        refused(cloud.http.post("/webhooks", json=webhook, headers=cloud.auth))
    assert cloud.http.get("/webhooks", headers=cloud.auth).json()["results"] == []
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    cloud.http.post(f"/companies/{company_id}/data/queue/balanceSheet", headers=cloud.auth)
    month = {"id": "2026-01", "currency": "GBP", "date": "2026-01-31T00:00:00", "netAssets": 0}
    complete(cloud, agent, claim_type(cloud, agent, "balanceSheet")["id"], [month])
    report_path = f"/companies/{company_id}/data/financials/balanceSheet"
    for start, problem in (("9999-12", "years 1 to 9999"), ("0000-01", "is not a month")):
        params = {"periodLength": 12, "periodsToCompare": 2, "startMonth": start}
        answer = cloud.http.get(report_path, params=params, headers=cloud.auth)
        assert problem in refused(answer)["error"]
    fine = {"periodLength": 1, "periodsToCompare": 1, "startMonth": "2026-01"}
    assert cloud.http.get(report_path, params=fine, headers=cloud.auth).status_code == 200


def test_records_a_reader_could_not_serve_are_refused_when_uploaded(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    dataset = claim_type(cloud, agent, "customers")
    for status in ("Fetching", "Mapping", "Validating", "Processing"):
        assert report(cloud, agent, dataset["id"], status).status_code == 200
    for record in ({"id": "c1", "metadata": 5}, {"id": "c\u0000"}):
        answer = upload_chunk(cloud, agent, dataset["id"], 0, [record])
        refused(answer)
    # A month no date can hold, in an agent's report upload: the read says so, not a 500.
    cloud.http.post(f"/companies/{company_id}/data/queue/balanceSheet", headers=cloud.auth)
    sheet = claim_type(cloud, agent, "balanceSheet")
    complete(cloud, agent, sheet["id"], [{"id": "0000-01", "currency": "GBP", "netAssets": 0}])
    answer = cloud.http.get(
        f"/companies/{company_id}/data/financials/balanceSheet",
        params={"periodLength": 1, "periodsToCompare": 1},
        headers=cloud.auth,
    )
    assert "is not a month" in refused(answer)["error"]


def test_nul_in_a_path_or_query_is_a_400_on_postgresql(clock: FakeClock) -> None:
    # PostgreSQL's text can neither hold nor be compared with NUL: there an id of "%00" was a
    # 500 wherever it reached a query. SQLite takes it, so the real PostgreSQL it is.
    with fresh_database() as url, cloud_on(url, clock) as cloud:
        company_id = cloud.new_company()
        agent = cloud.linked_agent(company_id)
        for path, headers in (
            ("/companies/%00", cloud.auth),
            (f"/companies/{company_id}/connections/%00", cloud.auth),
            (f"/companies/{company_id}/data/history/%00", cloud.auth),
            (f"/companies/{company_id}/data/history?query=id%3D%00", cloud.auth),
            ("/webhooks/%00/secret", cloud.auth),
            ("/agent/v1/datasets/%00/baseline", agent),
            ("/agent/v1/datasets/x/baseline?after=%00", agent),
            ("/portal/companies/%00", {}),
        ):
            answer = cloud.http.get(path, headers=headers)
            assert "NUL" in refused(answer)["error"], path
        queued = cloud.http.post(
            f"/companies/{company_id}/data/queue/customers?connectionId=%00", headers=cloud.auth
        )
        refused(queued)
        # The same requests without the NUL reach their routes.
        assert cloud.http.get("/companies/x", headers=cloud.auth).status_code == 404


def test_the_portals_company_form_is_bounded_as_the_public_api_is(cloud: CloudHarness) -> None:
    form = cloud.http.get("/portal/sign-in")
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed_in = cloud.http.post(
        "/portal/sign-in",
        data={"csrf_token": token, "api_key": API_KEY, "next": "/portal"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    page = cloud.http.get("/portal")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    for fields in ({"name": "n" * 257}, {"name": "Acme", "description": "d" * 4_001}):
        answer = cloud.http.post(
            "/portal/companies", data={"csrf_token": token, **fields}, follow_redirects=False
        )
        assert answer.status_code == 400, answer.text[:300]
        assert "at most" in answer.text
    assert companies(cloud) == []


def test_an_unsupported_method_is_a_405_in_the_public_shape_saying_what_is_allowed(
    cloud: CloudHarness,
) -> None:
    answer = cloud.http.request("TRACE", "/companies", headers=cloud.auth)
    refused(answer, 405)
    # Starlette names the methods of the first route on the path that matched (POST here).
    assert set(answer.headers["allow"].replace(" ", "").split(",")) <= {"GET", "POST"}
