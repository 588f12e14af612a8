"""The API health dashboard: HTML pages, the JSON API, ``/metrics`` and admin actions.

:func:`register_dashboard` adds one blueprint per area to the app that
:func:`govbot.web.create_app` built:

* ``overview`` (``/``): every API with its surface and findings, the health trend, the
  deprecations near or past their sunset, the review queue's health;
* ``apis`` (``/apis/<id>``): one API's operations with audience evidence, findings,
  deprecations on a sunset timeline, cross-service inconsistencies, history, and the
  open changes touching it;
* ``queue`` (``/queue``, ``/digests``): stale and at-risk changes, escalations, digests;
* ``blueprints`` (``/blueprints``): design specs and their use-case verdicts;
* ``rules`` (``/rules``, ``/rules/<CODE>``): the catalogue, from the rule docstrings;
* ``api_v1`` (``/api/v1/...``): the same data as JSON (``api-specs/govbot.yaml``);
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

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import govbot
from govbot.findings import Audience
from govbot.policy import Policy, load_policy
from govbot.settings import Settings

EXTENSION = "govbot_dashboard"
_RANDOM_KEY = "GOVBOT_RANDOM_SECRET_KEY"
CSP = (
    "default-src 'self'; script-src 'self'; "
    # plotly.js adds its own <style> element when it draws the first chart.
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@dataclass
class Dashboard:
    """What the dashboard's views need, kept on ``app.extensions`` (no globals)."""

    engine: Engine
    settings: Settings
    policy: Policy | None
    # "" disables the admin actions; else a werkzeug password hash or the password itself.
    admin_password: str = field(default="", repr=False)
    now: Any = None  # a callable giving the current time (tests fix it)
    registry: Any = None  # the Prometheus registry of /metrics, made on first scrape
    trends: Any = None  # queries.TrendCache: the health trend, recomputed on new snapshots

    def current_time(self) -> dt.datetime:
        return self.now() if self.now is not None else dt.datetime.now(dt.UTC)

    def get_policy(self) -> Policy | None:
        if self.policy is None:
            try:
                self.policy = load_policy(self.settings.policy_dir)
            except Exception:  # no policy is no reason to fail a page: rules show defaults
                self.policy = None
        return self.policy


def dashboard() -> Dashboard:
    """The :class:`Dashboard` of the app serving this request."""
    return current_app.extensions[EXTENSION]


def db() -> Session:
    """A read session for this request, closed when the request ends."""
    session = g.get("_govbot_session")
    if session is None:
        session = Session(dashboard().engine)
        g._govbot_session = session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("_govbot_session", None)
    if session is not None:
        session.close()


def register_dashboard(
    app: Flask,
    engine: Engine,
    settings: Settings,
    *,
    policy: Policy | None = None,
    admin_password: str | None = None,
    secret_key: str | None = None,
    now: Any = None,
) -> Dashboard:
    """Add the dashboard's blueprints to ``app`` (:func:`govbot.web.create_app` does).

    ``admin_password`` defaults to the settings' (``GOVBOT_ADMIN_PASSWORD``: a werkzeug
    password hash such as ``scrypt:...``, or the password itself); without one the admin
    actions are disabled. ``secret_key`` (signing the session cookie) defaults to the
    settings' (``GOVBOT_SECRET_KEY``), else a random key per process (logins then end at
    a restart). Called again on the same app, it reconfigures the dashboard.
    """
    from govbot.web.dashboard import (
        admin,
        api_v1,
        apis,
        assets,
        blueprints,
        metrics,
        overview,
        queue,
        rules,
    )
    from govbot.web.dashboard.templating import install_filters

    password = settings.admin_password if admin_password is None else admin_password
    key = secret_key or settings.secret_key or app.config.get(_RANDOM_KEY) or secrets.token_hex(32)
    if not (secret_key or settings.secret_key):
        app.config[_RANDOM_KEY] = key  # a reconfiguration keeps the sessions it signed
    app.config.update(
        SECRET_KEY=key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.web_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
    )
    from govbot.web.dashboard.queries import TrendCache

    existing: Dashboard | None = app.extensions.get(EXTENSION)
    if existing is not None:
        # Registered already (create_app does it): a second call only reconfigures, so a
        # caller (a test, the demo) can give its own policy, password or clock.
        existing.engine, existing.settings, existing.now = engine, settings, now
        existing.policy = policy if policy is not None else existing.policy
        existing.admin_password = password
        existing.registry, existing.trends = None, TrendCache()
        return existing
    state = Dashboard(engine, settings, policy, password, now, trends=TrendCache())
    app.extensions[EXTENSION] = state
    app.teardown_appcontext(_close_session)
    install_filters(app)
    app.context_processor(_template_context)
    for module in (overview, apis, queue, blueprints, rules, api_v1, metrics, admin, assets):
        app.register_blueprint(module.bp)
    app.after_request(_security_headers)
    return state


def _template_context() -> dict[str, Any]:
    from govbot.web.dashboard.assets import own_version, plotly_version

    state: Dashboard | None = current_app.extensions.get(EXTENSION)
    if state is None:
        return {}
    now = state.current_time()
    return {
        "now": now,
        "today": now.date(),
        "charts": False,
        "plotly_version": plotly_version(),
        "asset_version": own_version,
        "govbot_version": govbot.__version__,
        "gerrit_url": state.settings.gerrit_url.rstrip("/"),
        "external": Audience.EXTERNAL,
        "external_admin": Audience.EXTERNAL_ADMIN,
        "internal": Audience.INTERNAL,
    }


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


__all__ = ["Dashboard", "dashboard", "db", "register_dashboard"]
