"""The API health dashboard: HTML pages, the JSON API, ``/metrics`` and admin actions.

:func:`register` adds one blueprint per area to the app that
:func:`govbot.web.create_app` builds:

* ``overview`` (``/``): every API with its surface and findings, the health trend, the
  deprecations near or past their sunset, the review queue's health;
* ``apis`` (``/apis/<id>``): one API's operations with audience evidence, findings,
  deprecations on a sunset timeline, cross-service inconsistencies, history, and the
  open changes touching it;
* ``queue`` (``/queue``, ``/digests``): stale and at-risk changes, escalations, digests;
* ``blueprints`` (``/blueprints``): design specs and their use-case verdicts;
* ``rules`` (``/rules``, ``/rules/<CODE>``): the catalogue, from the rule docstrings;
* ``metrics`` (``/metrics``): Prometheus text, counted from the database at scrape time;
* ``admin``: login, and the only actions that change state (waive a finding,
  acknowledge an escalation, mark a TC member away), each a POST that needs a login and
  the session's CSRF token;
* ``assets``: the CSS and JS, and the charting library (plotly.js) served from the
  installed ``plotly`` package, never from a CDN.

Everything but ``admin`` is read-only. Templates autoescape: change subjects, spec text
and rule messages are untrusted. Pages set a Content-Security-Policy without inline
scripts; chart data travels as JSON in ``<script type="application/json">``.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Flask, Response, current_app, request
from markupsafe import Markup, escape

import govbot
from govbot.findings import Audience
from govbot.redact import redact_url
from govbot.web.context import EXTENSION, WebContext
from govbot.web.dashboard import (
    admin,
    apis,
    assets,
    blueprints,
    metrics,
    overview,
    queue,
    rules,
)
from govbot.web.dashboard.templating import install_filters

CSP = (
    "default-src 'self'; script-src 'self'; "
    # plotly.js adds its own <style> element when it draws the first chart.
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def register(app: Flask) -> None:
    """Add the dashboard's blueprints, template helpers and headers to ``app``."""
    install_filters(app)
    app.jinja_env.globals["gerrit_change_url"] = gerrit_change_url
    app.jinja_env.globals["gerrit_link"] = gerrit_link
    app.context_processor(_template_context)
    for module in (overview, apis, queue, blueprints, rules, metrics, admin, assets):
        app.register_blueprint(module.bp)
    app.after_request(_security_headers)


def _template_context() -> dict[str, Any]:
    ctx: WebContext = current_app.extensions[EXTENSION]
    now = ctx.current_time()
    return {
        "now": now,
        "today": now.date(),
        "charts": False,
        "plotly_version": assets.plotly_version(),
        "asset_version": assets.own_version,
        "govbot_version": govbot.__version__,
        "external": Audience.EXTERNAL,
        "external_admin": Audience.EXTERNAL_ADMIN,
        "internal": Audience.INTERNAL,
    }


def gerrit_change_url(number: int) -> str:
    """The change's page on Gerrit ("" without a Gerrit URL), as a browser may follow it:
    without user information (``GOVBOT_GERRIT_URL`` may carry a password)."""
    ctx: WebContext = current_app.extensions[EXTENSION]
    base = _gerrit_base(ctx.settings.gerrit_url)
    return f"{base}/c/{int(number)}" if base else ""


@functools.lru_cache(maxsize=8)
def _gerrit_base(gerrit_url: str) -> str:
    # Parsed once per URL, not once per table row (a page links up to 40 changes).
    return redact_url(gerrit_url, keep_user=False).split("?", 1)[0].rstrip("/")


def gerrit_link(number: int) -> Markup:
    """The change number, linked to its Gerrit page when there is one: the ``gerrit``
    of ``_macros.html``, a function since tables call it once a row (see sev_badge)."""
    url = gerrit_change_url(number)
    if not url:
        return escape(number)
    return Markup(f'<a href="{escape(url)}">{escape(number)}</a>')


def _security_headers(response: Response) -> Response:
    if request.blueprint in ("hooks",):
        return response
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cache-Control", "no-cache")
    return response


__all__ = ["CSP", "register"]
