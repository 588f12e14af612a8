"""Chart labels from specs are text in Chromium: plotly.js never reads them as markup.

A spec whose deprecated path is ``/a<a href="...">`` is indexed; its API page draws the
sunset timeline, where plotly.js would turn that label into a link if govbot passed it
unescaped. The page is checked in Debian's Chromium (Playwright).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from web_support import NOW, MemoryTree

from govbot.db import make_engine, upgrade
from govbot.db.models import ApiSpec
from govbot.db.session import session_scope
from govbot.policy import Policy
from govbot.services.index import index_commit
from govbot.settings import Settings
from govbot.web import WebServer, create_app
from tests.browser_support import chart_size, checked_page, chromium, shot

pytestmark = pytest.mark.browser

PHISH = "https://127.0.0.1:9/phish"
HOSTILE_PATH = f'/a<a href="{PHISH}">click</a>'
SPEC = f"""
openapi: 3.0.3
info:
  title: Hostile API
  version: "1.0"
paths:
  '{HOSTILE_PATH}':
    get:
      operationId: hostile
      summary: A path with markup
      deprecated: true
      x-sunset: "2026-04-01"
      responses:
        "200":
          description: OK.
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, policy: Policy) -> Iterator[tuple[str, int]]:
    root = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{root / 'hostile.db'}"
    upgrade(url)
    engine = make_engine(url)
    index_commit(
        engine,
        MemoryTree({"api-specs/hostile.yaml": SPEC}),
        "openstack/hostile-api",
        "master",
        "d" * 40,
        policy=policy,
        now=NOW,
        merged_at=NOW - dt.timedelta(days=1),
    )
    with session_scope(engine) as s:
        api_id = s.scalars(select(ApiSpec.id)).one()
    app = create_app(Settings(), engine, policy=policy, now=lambda: NOW)
    with WebServer(app, "127.0.0.1", 0) as server:
        yield server.url, api_id
    engine.dispose()


def test_a_path_with_markup_is_drawn_as_text(site: tuple[str, int]) -> None:
    base, api_id = site
    with chromium() as browser, checked_page(browser, base) as page:
        page.goto(f"/apis/{api_id}")
        chart_size(page, "sunset-timeline-chart")
        chart = page.locator("#sunset-timeline-chart")
        assert chart.locator("a").count() == 0  # no link made from the label
        assert page.locator(f'a[href="{PHISH}"]').count() == 0
        ticks = chart.locator(".ytick text").all_text_contents()
        assert any(HOSTILE_PATH in t for t in ticks), ticks
        shot(page, "hostile-chart-label")
