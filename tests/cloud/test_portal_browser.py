"""The portal in real headless Chromium, against the cloud running as its own process.

The agent's side is played over the agent API with httpx, one state at a time, so the test can
watch each change reach the page while the page is never reloaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.clock import to_iso, utc_now
from cloud.local import LocalCloud
from tests.conftest import ROOT
from tests.system import require

CHROMIUM = "/usr/bin/chromium"
# Debian's chromium, quiet and offline: Playwright's own browsers are never downloaded.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "portal"
STEPS = ("Fetching", "Mapping", "Validating", "Processing")


class Agent:
    """Just enough of an agent, over real HTTP: link, claim, report, upload."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10.0)

    def link(self, code: str) -> None:
        body = {"linkCode": code, "agentVersion": "9.9.9-browser", "hostname": "test-pc"}
        grant = self.http.post("/agent/v1/link", json=body)
        assert grant.status_code == 200, grant.text
        self.http.headers["Authorization"] = f"Bearer {grant.json()['accessToken']}"

    def poll(self) -> httpx.Response:
        return self.http.post("/agent/v1/poll", json={"waitSeconds": 0})

    def claim(self) -> dict[str, Any] | None:
        answer = self.poll()
        assert answer.status_code == 200, answer.text
        dataset: dict[str, Any] | None = answer.json()["dataset"]
        return dataset

    def report(self, dataset_id: str, status: str, **extra: Any) -> None:
        body = {"status": status, "timestamp": to_iso(utc_now()), **extra}
        answer = self.http.post(f"/agent/v1/datasets/{dataset_id}/transitions", json=body)
        assert answer.status_code == 200, answer.text

    def finish(self, dataset_id: str) -> None:
        """The rest of the happy path after Fetching, with one empty page of records."""
        for status in STEPS[1:]:
            self.report(dataset_id, status)
        page = json.dumps({"records": []}).encode()
        upload = self.http.put(
            f"/agent/v1/datasets/{dataset_id}/chunks/0",
            content=page,
            headers={"X-Content-SHA256": hashlib.sha256(page).hexdigest()},
        )
        assert upload.status_code == 204, upload.text
        self.report(dataset_id, "Complete", chunks=1)

    def run_all(self) -> list[str]:
        """Take every queued dataset to Complete; returns their data types."""
        done = []
        while (dataset := self.claim()) is not None:
            self.report(dataset["id"], "Fetching")
            self.finish(dataset["id"])
            done.append(dataset["dataType"])
        return done


@pytest.fixture
def browser() -> Iterator[Any]:
    require(shutil.which("chromium") is not None, "chromium", "a headless browser")
    found = importlib.util.find_spec("playwright") is not None
    require(found, "playwright", "Playwright to drive the browser", source="PyPI package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


def test_a_dataset_moves_to_complete_on_the_page_without_a_reload(
    browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with LocalCloud(tmp_path / "cloud") as cloud:
        page = browser.new_page()
        page.set_default_timeout(15_000)

        page.goto(f"{cloud.url}/portal")
        expect(page).to_have_url(f"{cloud.url}/portal/sign-in?next=%2Fportal")
        page.get_by_label("API key").fill(cloud.api_key)
        page.get_by_label("API key").press("Enter")  # the keyboard alone signs in
        expect(page.get_by_role("heading", name="Companies")).to_be_visible()

        page.get_by_label("Name", exact=True).fill("Browser Books Ltd")
        page.get_by_role("button", name="Create company").click()
        expect(page.get_by_role("heading", name="Browser Books Ltd")).to_be_visible()
        page.get_by_role("button", name="New connection").click()
        code = page.locator(".link-code").inner_text()
        assert len(code) == 9, code

        link_page = browser.new_page()
        link_page.goto(f"{cloud.url}/link/{code}")
        expect(link_page.locator("#link-code")).to_have_text(code)
        link_page.screenshot(path=str(ARTIFACTS / "link-page.png"), full_page=True)
        link_page.close()

        # Everything from here on must reach the page by its polling alone.
        page.evaluate("window.notReloaded = true")
        status = page.locator("#status-customers")
        expect(status).to_have_text("—")

        agent = Agent(cloud.url)
        agent.link(code)
        expect(page.locator("#connections")).to_contain_text("Linked")
        expect(page.locator("#connections")).to_contain_text("Online")
        expect(page.locator("#connections")).to_contain_text("9.9.9-browser")
        expect(status).to_have_text("Queued")
        page.screenshot(path=str(ARTIFACTS / "1-queued.png"), full_page=True)

        first = agent.claim()
        assert first is not None
        agent.report(first["id"], "Fetching")
        expect(page.locator(f"#status-{first['dataType']}")).to_have_text("Fetching")
        agent.finish(first["id"])
        agent.run_all()
        expect(status).to_have_text("Complete")
        expect(page.locator("#data-status")).not_to_contain_text("Queued")
        history = page.locator(f"#dataset-{first['id']}")
        for step in ("Queued", *STEPS, "Complete"):
            expect(history.locator(".timeline")).to_contain_text(step)
        assert page.evaluate("window.notReloaded") is True
        page.screenshot(path=str(ARTIFACTS / "2-complete.png"), full_page=True)

        # One data type by its own button (a form post, so the page loads once, then polls).
        page.get_by_role("button", name="Queue sync of taxRates").click()
        expect(page.locator("#status-taxRates")).to_have_text("Queued")
        page.evaluate("window.notReloaded = true")
        assert agent.run_all() == ["taxRates"]
        expect(page.locator("#status-taxRates")).to_have_text("Complete")
        assert page.evaluate("window.notReloaded") is True

        # Revoke: the agent is refused, and a sync queued now ends in AuthError at once.
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke").click()
        expect(page.locator("#connections")).to_contain_text("Deauthorized")
        assert agent.poll().status_code == 401
        page.get_by_role("button", name="Queue sync of customers").click()
        expect(status).to_have_text("AuthError")
        page.screenshot(path=str(ARTIFACTS / "3-revoked.png"), full_page=True)
        page.close()
