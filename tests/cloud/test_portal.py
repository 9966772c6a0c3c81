"""The portal over HTTP: sign-in, CSRF, redirects, the link page, and each button's effect."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from cloud.http.throttle import API_KEY_FAILURES
from tests.cloud import drive
from tests.support.cloud_harness import API_KEY, CloudHarness

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html
    return found.group(1)


def sign_in(http: TestClient) -> str:
    """Sign in as a browser would; returns a CSRF token of the signed-in session."""
    form = http.get("/portal/sign-in")
    answer = http.post(
        "/portal/sign-in",
        data={"csrf_token": csrf_of(form.text), "api_key": API_KEY, "next": "/portal"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(http.get("/portal").text)


def post(http: TestClient, path: str, token: str, **fields: str) -> httpx.Response:
    answer: httpx.Response = http.post(
        path, data={"csrf_token": token, **fields}, follow_redirects=False
    )
    return answer


def test_pages_redirect_to_sign_in_without_a_session(cloud: CloudHarness) -> None:
    for path in ("/portal", "/portal/companies/x", "/portal/companies/x/state"):
        answer = cloud.http.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/portal/sign-in?next=%2Fportal")
        assert not answer.headers["location"].endswith("state")


def test_sign_in_sets_a_strict_http_only_cookie_and_returns_to_next(cloud: CloudHarness) -> None:
    form = cloud.http.get("/portal/sign-in?next=/portal/companies/abc")
    assert 'type="password"' in form.text and '<label for="api_key">' in form.text
    answer = cloud.http.post(
        "/portal/sign-in",
        data={
            "csrf_token": csrf_of(form.text),
            "api_key": API_KEY,
            "next": "/portal/companies/abc",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/companies/abc"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert cloud.http.get("/portal").status_code == 200


def test_a_wrong_key_is_refused_and_next_cannot_leave_the_portal(cloud: CloudHarness) -> None:
    form = cloud.http.get("/portal/sign-in")
    wrong = cloud.http.post(
        "/portal/sign-in", data={"csrf_token": csrf_of(form.text), "api_key": "nope"}
    )
    assert wrong.status_code == 401 and "not right" in wrong.text
    assert cloud.http.get("/portal", follow_redirects=False).status_code == 303
    answer = cloud.http.post(
        "/portal/sign-in",
        data={"csrf_token": csrf_of(form.text), "api_key": API_KEY, "next": "//evil.test/"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/portal"


def test_posts_without_the_sessions_csrf_token_are_refused(cloud: CloudHarness) -> None:
    form = cloud.http.get("/portal/sign-in")
    refused = cloud.http.post("/portal/sign-in", data={"api_key": API_KEY})
    assert refused.status_code == 403
    token = sign_in(cloud.http)
    for bad in ("", "0" * 64, csrf_of(form.text)):  # the last: a token of another session
        answer = post(cloud.http, "/portal/companies", bad, name="Acme")
        assert answer.status_code == 403, bad
    assert cloud.services.tenancy.list_companies() == []
    as_json = cloud.http.post("/portal/companies", json={"csrf_token": token, "name": "Acme"})
    assert as_json.status_code == 403


def test_a_forged_or_expired_session_is_not_signed_in(cloud: CloudHarness) -> None:
    sign_in(cloud.http)
    cookie = cloud.http.cookies["connector_portal"]
    cloud.http.cookies.set("connector_portal", cookie[:-1] + ("0" if cookie[-1] != "0" else "1"))
    assert cloud.http.get("/portal", follow_redirects=False).status_code == 303
    cloud.http.cookies.set("connector_portal", cookie)
    assert cloud.http.get("/portal", follow_redirects=False).status_code == 200
    cloud.clock.advance(13 * 3600)
    assert cloud.http.get("/portal", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(cloud: CloudHarness) -> None:
    token = sign_in(cloud.http)
    answer = post(cloud.http, "/portal/sign-out", token)
    assert answer.status_code == 303
    assert cloud.http.get("/portal", follow_redirects=False).status_code == 303


def test_create_a_company_and_a_connection_then_open_its_link_page(cloud: CloudHarness) -> None:
    token = sign_in(cloud.http)
    created = post(cloud.http, "/portal/companies", token, name="Acme Ltd", description="")
    assert created.status_code == 303
    company_path = created.headers["location"]
    company_id = company_path.rsplit("/", 1)[1]
    assert "Acme Ltd" in cloud.http.get("/portal").text

    assert post(cloud.http, f"{company_path}/connections", token).status_code == 303
    page = cloud.http.get(company_path).text
    (connection,) = cloud.services.tenancy.list_connections(company_id)
    code = cloud.services.link_codes.code_of(connection)
    assert code is not None
    assert code in page and f"http://cloud.test/link/{code}" in page and "PendingAuth" in page

    link_page = cloud.http.get(f"/link/{code}")
    assert link_page.status_code == 200
    assert code in link_page.text and "connector link http://cloud.test/link/" in link_page.text
    assert "releases" in link_page.text
    # People type codes loosely; the page accepts what the agent accepts.
    assert cloud.http.get(f"/link/{code.lower().replace('-', '')}").status_code == 200

    cloud.link(f"http://cloud.test/link/{code}")
    used = cloud.http.get(f"/link/{code}")
    assert used.status_code == 404 and "no longer valid" in used.text
    assert cloud.http.get("/link/NOPE-NOPE").status_code == 404


def test_an_empty_company_name_is_shown_on_the_page(cloud: CloudHarness) -> None:
    token = sign_in(cloud.http)
    answer = post(cloud.http, "/portal/companies", token, name="  ")
    assert answer.status_code == 400
    assert "needs a name" in answer.text


def test_queue_one_and_all_show_in_status_and_history(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    token = sign_in(cloud.http)
    base = f"/portal/companies/{company_id}"
    first_link = len(cloud.services.datasets.of_company(company_id))

    queued = post(cloud.http, f"{base}/queue/taxRates", token)
    assert queued.status_code == 303
    state = cloud.http.get(f"{base}/state").text
    assert 'id="status-taxRates" class="status status-Queued">Queued' in state

    busy = post(cloud.http, f"{base}/queue/taxRates", token)
    assert busy.status_code == 400
    assert 'role="alert"' in busy.text and "in progress" in busy.text

    dataset = drive.claim_type(cloud, agent, "taxRates")
    drive.complete(cloud, agent, dataset["id"], [])
    state = cloud.http.get(f"{base}/state").text
    assert 'id="status-taxRates" class="status status-Complete">Complete' in state
    entry = state[state.index(f'id="dataset-{dataset["id"]}"') :]
    timeline = entry.split('<li id="dataset-')[0]  # up to the next (older) dataset
    for step in ("Queued", "Fetching", "Mapping", "Validating", "Processing", "Complete"):
        assert f"status-{step}" in timeline

    assert post(cloud.http, f"{base}/queue-all", token).status_code == 303
    assert len(cloud.services.datasets.of_company(company_id)) > first_link + 1


def test_a_failed_dataset_shows_its_error_message(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    dataset = drive.claim(cloud, agent)
    assert dataset is not None
    drive.fail(cloud, agent, dataset["id"], "The book is locked by GnuCash.")
    sign_in(cloud.http)
    page = cloud.http.get(f"/portal/companies/{company_id}").text
    assert "The book is locked by GnuCash." in page and "FetchError" in page


def test_revoke_deauthorizes_and_the_agent_is_refused(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    (connection,) = cloud.services.tenancy.list_connections(company_id)
    token = sign_in(cloud.http)
    base = f"/portal/companies/{company_id}"
    page = cloud.http.get(base).text
    assert f'id="revoke-{connection["id"]}"' in page and "Online" in page

    answer = post(cloud.http, f"{base}/connections/{connection['id']}/revoke", token)
    assert answer.status_code == 303
    page = cloud.http.get(base).text
    assert "Deauthorized" in page and f'id="revoke-{connection["id"]}"' not in page
    poll = cloud.http.post("/agent/v1/poll", json={"waitSeconds": 0}, headers=agent)
    assert poll.status_code == 401


def test_an_unknown_company_is_a_page_not_json(cloud: CloudHarness) -> None:
    token = sign_in(cloud.http)
    assert cloud.http.get("/portal/companies/nope").status_code == 404
    answer = post(cloud.http, "/portal/companies/nope/queue/customers", token)
    assert answer.status_code == 404
    assert "text/html" in answer.headers["content-type"]


def test_portal_assets_are_served_from_the_package(cloud: CloudHarness) -> None:
    assert cloud.http.get("/portal/static/portal.js").status_code == 200
    assert cloud.http.get("/portal/static/portal.css").status_code == 200


def test_sync_settings_are_shown_and_saved_through_the_services(cloud: CloudHarness) -> None:
    company_id = cloud.new_company()
    token = sign_in(cloud.http)
    base = f"/portal/companies/{company_id}"
    page = cloud.http.get(base).text
    assert "Inherited from the profile" in page
    assert '<label for="fetch-customers" class="visually-hidden">' in page
    assert 'id="fetch-customers" name="fetch-customers" checked' in page
    assert 'id="fetch-taxRates" name="fetch-taxRates">' in page  # not fetched by default
    assert 'id="inherit-settings"' not in page

    # Only customers ticked; taxRates every 6 hours. An unticked box is absent from the form.
    saved = post(
        cloud.http,
        f"{base}/sync-settings",
        token,
        **{"fetch-customers": "on", "schedule-taxRates": "6"},
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("#sync-settings")
    settings, own = cloud.services.sync_settings.get(company_id)
    by_type = {s["dataType"]: s for s in settings}
    assert own
    assert [dt for dt, s in by_type.items() if s["fetchOnFirstLink"]] == ["customers"]
    assert by_type["taxRates"]["syncSchedule"] == 6 and by_type["customers"]["syncSchedule"] == 24
    assert cloud.services.sync_settings.first_link_types(company_id) == ["customers"]
    page = cloud.http.get(base).text
    assert "this company's own settings" in page and 'value="6"' in page
    # The profile is untouched.
    assert cloud.services.sync_settings.get("profile")[1] is False

    refused = post(cloud.http, f"{base}/sync-settings", token, **{"schedule-bills": "-1"})
    assert refused.status_code == 400 and "whole number of hours" in refused.text
    assert cloud.services.sync_settings.first_link_types(company_id) == ["customers"]

    back = post(cloud.http, f"{base}/sync-settings", token, action="inherit")
    assert back.status_code == 303
    assert cloud.services.sync_settings.get(company_id)[1] is False
    assert "Inherited from the profile" in cloud.http.get(base).text


def test_repeated_failed_sign_ins_are_refused_for_a_minute(cloud: CloudHarness) -> None:
    form = cloud.http.get("/portal/sign-in")
    fields = {"csrf_token": csrf_of(form.text), "next": "/portal"}
    for _ in range(API_KEY_FAILURES):
        wrong = cloud.http.post("/portal/sign-in", data={**fields, "api_key": "guess"})
        assert wrong.status_code == 401
        cloud.clock.advance(1)
    # Now even the right key is refused: otherwise the answers would reveal a right guess.
    held = cloud.http.post("/portal/sign-in", data={**fields, "api_key": API_KEY})
    assert held.status_code == 429
    assert held.headers["retry-after"] == "30"  # a minute after the first failure
    assert "Too many failed sign-ins" in held.text and "Try again in 30 seconds" in held.text
    assert cloud.http.get("/portal", follow_redirects=False).status_code == 303

    cloud.clock.advance(30)
    answer = cloud.http.post(
        "/portal/sign-in", data={**fields, "api_key": API_KEY}, follow_redirects=False
    )
    assert answer.status_code == 303
    # A success clears the count: as many slips again are each a plain 401.
    cloud.http.cookies.clear()
    fields["csrf_token"] = csrf_of(cloud.http.get("/portal/sign-in").text)
    for _ in range(API_KEY_FAILURES):
        again = cloud.http.post("/portal/sign-in", data={**fields, "api_key": "typo"})
        assert again.status_code == 401
