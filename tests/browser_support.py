"""Headless Chromium for the browser tests: Debian's ``/usr/bin/chromium`` driven by
Playwright, with screenshots in ``test-artifacts/screenshots/``.

Shared by ``tests/web/test_browser.py`` (the dashboard on a built demo database) and
``tests/integration/test_demo_browser.py`` (the dashboard ``govbot demo`` serves).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.system_support import require

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = REPO / "test-artifacts" / "screenshots"


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium; the test is skipped without one (failed on CI)."""
    require(CHROMIUM.exists(), f"Chromium ({CHROMIUM})", "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def checked_page(browser: Any, base_url: str, **options: Any) -> Iterator[Any]:
    """A page in a fresh context; a script error or a dialog on it fails the test."""
    context = browser.new_context(
        viewport=options.pop("viewport", {"width": 1280, "height": 900}),
        base_url=base_url,
        **options,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}") or dialog.dismiss())
    page.errors = errors
    try:
        yield page
    finally:
        context.close()
    assert errors == [], errors


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def chart_size(page: Any, chart_id: str) -> dict[str, float]:
    """The drawn chart's box, once plotly.js has drawn it (``data-drawn``)."""
    page.wait_for_selector(f"#{chart_id}[data-drawn=true]", timeout=20_000)
    box = page.locator(f"#{chart_id} svg.main-svg").first.bounding_box()
    assert box is not None
    return box
