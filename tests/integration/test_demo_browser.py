"""The dashboard `govbot demo` serves, in headless Chromium (Playwright driving Debian's
/usr/bin/chromium): what a user of `make demo` sees when they open the printed URL.

The demo runs as a subprocess (the ``served_demo`` fixture, shared with test_demo.py);
screenshots land in ``test-artifacts/screenshots/demo-*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from integration_support import ServedDemo

from tests.browser_support import chart_size, checked_page, chromium, shot

pytestmark = pytest.mark.browser

APIS = ("OpenStack Compute API", "OpenStack Block Storage API")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Any, served_demo: ServedDemo) -> Iterator[Any]:
    with checked_page(browser, served_demo.url) as page:
        yield page


def test_overview_lists_the_seeded_apis_and_draws_the_trend(page: Any) -> None:
    page.goto("/")
    table = page.locator("#apis + .table-wrap")
    for title in APIS:
        assert table.get_by_role("link", name=title).is_visible()
    box = chart_size(page, "health-trend-chart")
    assert box["width"] > 200 and box["height"] > 100
    assert page.locator("#health-trend-chart .scatterlayer .trace").count() >= 3
    # The review queue's health: the demo's two stale changes.
    assert page.locator(".card").filter(has_text="stale reviews").locator(".n").inner_text() == "2"
    shot(page, "demo-overview")


def test_click_through_an_api_a_finding_and_its_rule(page: Any) -> None:
    page.goto("/")
    page.get_by_role("link", name="OpenStack Compute API").click()
    page.wait_for_url(re.compile(r"/apis/\d+$"))
    assert page.locator("h1").inner_text() == "OpenStack Compute API"
    box = chart_size(page, "api-history-chart")
    assert box["width"] > 200 and box["height"] > 100
    # The open changes touching it, with govbot's verdict on each.
    changes = page.locator("#changes + .table-wrap")
    row = changes.locator("tr").filter(has_text="Remove the delete keypair API")
    assert row.get_by_text("errors").first.is_visible()
    assert changes.locator("tbody tr").count() == 3  # changes 1, 2 and 7
    shot(page, "demo-api")
    page.locator("#findings ~ .table-wrap a[href*='/findings/']").first.click()
    page.wait_for_url(re.compile(r"/findings/\d+$"))
    assert page.locator("pre.excerpt .hit").count() == 1
    shot(page, "demo-finding")
    code = page.locator("h1").inner_text().split()[1]
    page.get_by_role("link", name=re.compile(rf"^{code} ")).click()
    page.wait_for_url(f"**/rules/{code}")
    assert page.locator("h1").inner_text().startswith(code)
    assert page.locator("#what-it-checks").is_visible()
    shot(page, "demo-rule")


def test_review_queue_shows_changes_2_and_3_escalated(page: Any) -> None:
    page.goto("/queue")
    stale = page.locator("#changes + .filters + .table-wrap tbody tr")
    assert stale.count() == 2
    escalations = page.locator("#escalations + .table-wrap")
    for subject in ("Remove the delete keypair API", "Add a volume labels API"):
        assert escalations.get_by_text(subject).is_visible()
    shot(page, "demo-queue")


def test_blueprints_show_the_merged_spec_and_change_5(page: Any) -> None:
    page.goto("/blueprints")
    assert page.get_by_text("Report when a keypair was last used").is_visible()
    flagged = page.locator("#changes + p + .table-wrap")
    assert flagged.get_by_role("link", name="BPR002").is_visible()  # Use Cases: None
    shot(page, "demo-blueprints")
