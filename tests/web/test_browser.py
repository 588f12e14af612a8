"""The dashboard in headless Chromium (Debian's, driven by Playwright) on the demo data.

The sandbox's ``demo`` seed is backfilled, a change merged and indexed by the index job,
every open change reviewed, an escalation pass run and a digest archived; then the real
server (threaded werkzeug) serves the dashboard and a browser clicks through it.
Screenshots land in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from web_support import DEMO_ADMIN_PASSWORD, UNSAFE_SUBJECT, DemoSite

from tests.browser_support import chart_size, checked_page, chromium, shot

pytestmark = pytest.mark.browser

PASSWORD = DEMO_ADMIN_PASSWORD


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def site(demo_site: DemoSite) -> tuple[str, dict]:
    """The demo database behind a running dashboard: (base URL, change numbers)."""
    return demo_site.url, demo_site.numbers


@pytest.fixture
def page(browser: Any, site: tuple[str, dict]) -> Iterator[Any]:
    with checked_page(browser, site[0]) as page:
        yield page


def test_overview_lists_the_demo_apis_and_draws_the_trend(page: Any) -> None:
    page.goto("/")
    table = page.locator("#apis + .table-wrap")
    for title in ("OpenStack Compute API", "OpenStack Block Storage API"):
        assert table.get_by_role("link", name=title).is_visible()
    box = chart_size(page, "health-trend-chart")
    assert box["width"] > 200 and box["height"] > 100
    assert page.locator("#health-trend-chart .scatterlayer .trace").count() >= 3
    assert page.locator(".card").filter(has_text="stale reviews").locator(".n").inner_text() == "2"
    shot(page, "overview")


def test_click_through_api_finding_and_rule(page: Any) -> None:
    page.goto("/")
    page.get_by_role("link", name="OpenStack Block Storage API").click()
    page.wait_for_url(re.compile(r"/apis/\d+$"))
    assert page.locator("h1").inner_text() == "OpenStack Block Storage API"
    box = chart_size(page, "api-history-chart")
    assert box["width"] > 200 and box["height"] > 100
    # Two merged states: the import and change 6 (merged, then indexed by the job).
    assert page.locator("#history + .panel + .table-wrap tbody tr").count() == 2
    shot(page, "api")
    finding = page.locator("#findings ~ .table-wrap a[href*='/findings/']").first
    finding.click()
    page.wait_for_url(re.compile(r"/findings/\d+$"))
    assert page.locator("pre.excerpt .hit").count() == 1
    shot(page, "finding")
    code = page.locator("h1").inner_text().split()[1]
    page.get_by_role("link", name=re.compile(rf"^{code} ")).click()
    page.wait_for_url(f"**/rules/{code}")
    assert page.locator("h1").inner_text().startswith(code)
    assert page.locator("#what-it-checks").is_visible()
    shot(page, "rule")


def test_api_page_shows_open_changes_with_their_verdicts(page: Any, site: Any) -> None:
    page.goto("/")
    page.get_by_role("link", name="OpenStack Compute API").click()
    changes = page.locator("#changes + .table-wrap")
    assert changes.get_by_text("Remove the delete keypair API").is_visible()
    # The subject with markup is text in the page, and no dialog opened (the fixture checks).
    assert changes.get_by_text(UNSAFE_SUBJECT).is_visible()
    timeline = page.locator("#sunset-timeline-chart")
    if timeline.count():
        chart_size(page, "sunset-timeline-chart")
    shot(page, "api-compute")


def test_review_queue_escalations_and_digest(page: Any) -> None:
    page.goto("/queue")
    rows = page.locator("#changes + .filters + .table-wrap tbody tr")
    assert rows.count() == 2  # changes 2 and 3, the demo's stale ones
    escalations = page.locator("#escalations + .table-wrap")
    assert escalations.get_by_text("Add a volume labels API").is_visible()
    shot(page, "queue")
    page.locator("#digests + .table-wrap a").first.click()
    page.wait_for_url(re.compile(r"/digests/\d+$"))
    assert "stale" in page.locator("pre.excerpt").inner_text()
    shot(page, "digest")


def test_blueprints_page(page: Any) -> None:
    page.goto("/blueprints")
    assert page.get_by_text("Report when a keypair was last used").is_visible()
    shot(page, "blueprints")


def test_usable_on_a_phone(browser: Any, site: tuple[str, dict]) -> None:
    """on a 390 px wide screen nothing but the tables scrolls sideways"""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        base_url=site[0],
    )
    page = context.new_page()
    try:
        for path, name in (("/", "overview-phone"), ("/queue", "queue-phone")):
            page.goto(path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} overflows by {overflow}px"
            shot(page, name)
        page.goto("/")
        chart_size(page, "health-trend-chart")
    finally:
        context.close()


def test_admin_waives_a_finding_in_the_browser(browser: Any, site: tuple[str, dict]) -> None:
    context = browser.new_context(base_url=site[0])
    page = context.new_page()
    try:
        page.goto("/admin/login")
        page.fill("input[name=user]", "ana")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        page.get_by_role("link", name="OpenStack Compute API").click()
        page.locator("#findings ~ .table-wrap a[href*='/findings/']").first.click()
        page.fill("input[name=reason]", "legacy field, accepted by the TC")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Waive this finding").click()
        page.wait_for_url(re.compile(r"/apis/\d+#findings$"))
        assert (
            page.locator(".flash").first.inner_text().endswith("legacy field, accepted by the TC")
        )
        assert page.locator("#findings ~ .table-wrap .badge.waived").count() >= 1
        shot(page, "admin-waived")
    finally:
        context.close()
