"""The portal in real headless Chromium, with the cloud and a real agent in their own processes.

The agent is the ``connector`` CLI, linked with the code the page shows and run against a copy
of the sample GnuCash book; the page is never reloaded while the datasets move.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cloud.local import LocalCloud
from protocol.clock import from_iso
from tests.support.paths import ROOT, SAMPLE_BOOKS
from tests.support.system import require

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
HAPPY_PATH = ("Queued", "Fetching", "Mapping", "Validating", "Processing", "Complete")
# The first link queues these alone (set through the page), so the agent has little to read.
FIRST_LINK = ("company", "customers", "suppliers")
TIME_ZONE = "Asia/Kathmandu"  # UTC+05:45 all year: local time cannot pass for UTC by chance


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


class AgentProcess:
    """The ``connector`` CLI with a home of its own and its credential in a plain file."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {**os.environ, "CONNECTOR_HOME": str(home)}
        self.runs = 0

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "agent.cli", *args]

    def link(self, link_url: str, book: Path) -> None:
        linked = subprocess.run(
            self.command("link", link_url, "--book", str(book), "--insecure-file-store"),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert linked.returncode == 0, linked.stderr

    def run(self, idle_seconds: int) -> subprocess.Popen[bytes]:
        """``connector run --headless --until-idle``, in the background; its log in the home."""
        self.runs += 1
        log = (self.home / f"run-{self.runs}.log").open("wb")
        process = subprocess.Popen(
            self.command("run", "--headless", "--until-idle", str(idle_seconds)),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()  # the child has its own copy
        return process

    def log(self) -> str:
        return (self.home / f"run-{self.runs}.log").read_text(errors="replace")


def ended(process: subprocess.Popen[bytes], agent: AgentProcess) -> int:
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError("the agent did not stop when idle:\n" + agent.log()) from None


def test_a_real_agent_links_and_syncs_while_the_page_watches(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    book = tmp_path / "books" / "sample.gnucash"
    book.parent.mkdir()
    shutil.copyfile(SAMPLE_BOOKS["sqlite"], book)
    agent = AgentProcess(tmp_path / "agent-home")
    running: subprocess.Popen[bytes] | None = None

    with LocalCloud(tmp_path / "cloud") as cloud:
        context = browser.new_context(timezone_id=TIME_ZONE)
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            page.goto(f"{cloud.url}/portal")
            expect(page).to_have_url(f"{cloud.url}/portal/sign-in?next=%2Fportal")
            page.get_by_label("API key").fill(cloud.api_key)
            page.get_by_label("API key").press("Enter")  # the keyboard alone signs in
            expect(page.get_by_role("heading", name="Companies")).to_be_visible()

            page.get_by_label("Name", exact=True).fill("Browser Books Ltd")
            page.get_by_role("button", name="Create company").click()
            expect(page.get_by_role("heading", name="Browser Books Ltd")).to_be_visible()

            # Sync settings, by keyboard: untick what the first link need not fetch, then save
            # with Enter from a schedule field.
            expect(page.locator("#settings-source")).to_contain_text("Inherited from the profile")
            for data_type in ("chartOfAccounts", "invoices", "bills"):
                page.get_by_label(f"Fetch {data_type} on first link").focus()
                page.keyboard.press("Space")
            schedule = page.get_by_label("Schedule of taxRates, in hours")
            schedule.fill("12")
            schedule.press("Enter")
            expect(page.locator("#settings-source")).to_contain_text("own settings")
            expect(page.get_by_label("Fetch bills on first link")).not_to_be_checked()
            expect(page.get_by_label("Fetch customers on first link")).to_be_checked()
            expect(page.get_by_label("Schedule of taxRates, in hours")).to_have_value("12")

            page.get_by_role("button", name="New connection").click()
            code = page.locator(".link-code").inner_text()
            assert len(code) == 23, code  # four groups of five
            link_url = page.locator(f"[data-copy$='{code}']").get_attribute("data-copy")
            assert link_url == f"{cloud.url}/link/{code}"

            link_page = context.new_page()
            link_page.goto(link_url)
            expect(link_page.locator("#link-code")).to_have_text(code)
            link_page.screenshot(path=str(ARTIFACTS / "link-page.png"), full_page=True)
            link_page.close()

            # Everything from here on must reach the page by its polling alone.
            page.evaluate("window.notReloaded = true")
            expect(page.locator("#status-customers")).to_have_text("—")
            agent.link(link_url, book)
            connections = page.locator("#connections")
            expect(connections).to_contain_text("Linked")
            for data_type in FIRST_LINK:
                expect(page.locator(f"#status-{data_type}")).to_have_text("Queued")
            expect(page.locator("#status-bills")).to_have_text("—")
            page.screenshot(path=str(ARTIFACTS / "1-queued.png"), full_page=True)

            running = agent.run(idle_seconds=3)
            for data_type in FIRST_LINK:
                expect(page.locator(f"#status-{data_type}")).to_have_text(
                    "Complete", timeout=40_000
                )
            expect(page.locator("#data-status")).not_to_contain_text("Queued")
            expect(connections).to_contain_text("Online")
            expect(connections).to_contain_text(os.uname().nodename)
            customers = page.locator(".history > li", has_text="customers").first
            for step in HAPPY_PATH:
                expect(customers.locator(".timeline")).to_contain_text(step)
            assert page.evaluate("window.notReloaded") is True
            page.screenshot(path=str(ARTIFACTS / "2-complete.png"), full_page=True)
            assert ended(running, agent) == 0, agent.log()

            # Times are in the viewer's zone, with UTC kept as the tooltip.
            stamp = customers.locator(".timeline time").last
            utc_text = stamp.get_attribute("datetime")
            assert utc_text is not None
            local = from_iso(utc_text).astimezone(ZoneInfo(TIME_ZONE))
            expect(stamp).to_have_text(local.strftime("%Y-%m-%d %H:%M:%S"))
            expect(stamp).to_have_attribute("title", f"{from_iso(utc_text):%Y-%m-%d %H:%M:%S} UTC")

            # One data type by its own button (a form post: the page loads once, then polls).
            page.get_by_role("button", name="Queue sync of taxRates").click()
            expect(page.locator("#status-taxRates")).to_have_text("Queued")
            page.evaluate("window.notReloaded = true")
            running = agent.run(idle_seconds=2)
            expect(page.locator("#status-taxRates")).to_have_text("Complete", timeout=30_000)
            assert page.evaluate("window.notReloaded") is True

            # Revoke: a sync queued now ends in AuthError at once, and the agent stops.
            page.once("dialog", lambda dialog: dialog.accept())
            page.get_by_role("button", name="Revoke").click()
            expect(connections).to_contain_text("Deauthorized")
            page.get_by_role("button", name="Queue sync of customers").click()
            expect(page.locator("#status-customers")).to_have_text("AuthError")
            page.screenshot(path=str(ARTIFACTS / "3-revoked.png"), full_page=True)
            ended(running, agent)
        finally:
            if running is not None and running.poll() is None:
                running.kill()
                running.wait()
            context.close()
