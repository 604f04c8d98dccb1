"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright.

Sign in, find a failed job, requeue a dead letter and watch it succeed without
reloading the page. Screenshots land in test-artifacts/ for people to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.factories import enroll, published_event
from tests.support.ops import Flaky
from tests.support.services import unavailable
from tests.support.stack import Stack

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        unavailable(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, real_stack: Stack) -> Iterator[Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(
        base_url=real_stack.extra["server"].url, viewport={"width": 1280, "height": 860}
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"ops-{name}.png"), full_page=True)


def test_operator_requeues_a_dead_letter_and_sees_the_job_succeed(
    real_stack: Stack, page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    # Given an operator, a job refused because the course is full...
    key = real_stack.key("acme", operator=True)
    published_event(real_stack, key, ref="full", name="Full course", max_subscriptions=1)
    enroll(real_stack, key, "full", "ada")
    real_stack.drain()
    refused = enroll(real_stack, key, "full", "bob")
    real_stack.drain()
    # ...and a job whose worker crashed until its message was dead-lettered
    flaky = Flaky(monkeypatch)
    published_event(real_stack, key, ref="open", name="Open course", max_subscriptions=10)
    crashed = enroll(real_stack, key, "open", "cyd")
    real_stack.drain()

    # When the operator opens the dashboard, they are asked to sign in
    page.goto("/ops")
    expect(page).to_have_url(f"{real_stack.extra['server'].url}/ops/login")
    shot(page, "1-sign-in")
    page.fill("input[name=api_key]", key)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page.locator("#queues")).to_contain_text("jobs")
    shot(page, "2-overview")

    # And finds the failed jobs
    page.click("header nav >> text=Jobs")
    page.select_option("select[name=status]", "failed")
    page.click("form.filters button[type=submit]")
    rows = page.locator("#jobs tr")
    expect(rows.filter(has_text="EVENT_FULL")).to_have_count(1)
    expect(rows.filter(has_text="JOB_DEAD_LETTERED")).to_have_count(1)
    shot(page, "3-failed-jobs")
    page.click(f"a[href='/ops/jobs/{refused['id']}']")
    expect(page.locator("#job-errors")).to_contain_text("EVENT_FULL")
    shot(page, "4-job-detail")

    # And keeps the crashed job open in a second tab, marked to detect any reload
    watcher = page.context.new_page()
    watcher.goto(f"/ops/jobs/{crashed['id']}")
    expect(watcher.locator("h1 .badge")).to_have_text("failed")
    watcher.evaluate("window.notReloaded = true")

    # And requeues the dead letter once the cause is fixed
    page.click("header nav >> text=Dead letters")
    row = page.locator("#dead-letters tr", has_text=crashed["id"])
    expect(row).to_contain_text("database hiccup")
    shot(page, "5-dead-letters")
    flaky.broken = False
    row.locator("button", has_text="Requeue").click()
    expect(page.locator(".flash")).to_have_text("1 message(s) requeued")
    expect(page.locator("#dead-letters")).to_have_count(0)

    # Then the job page in the other tab turns to succeeded by itself, without a reload
    expect(watcher.locator("h1 .badge")).to_have_text("succeeded", timeout=30_000)
    assert watcher.evaluate("window.notReloaded") is True
    shot(watcher, "6-requeued-job-succeeded")
    page.click("header nav >> text=Overview")
    expect(page.locator("#jobs-chart rect[fill='#1f9d57']")).not_to_have_count(0)
    shot(page, "7-overview-after")
    page.click("header nav >> text=Mail")
    shot(page, "8-mail")
    page.click("header nav >> text=Events")
    shot(page, "9-events")
