"""govbot's web side: the Flask app factory, flaskr-style.

``create_app(settings, engine, **overrides)`` builds the app around one
:class:`~govbot.web.context.WebContext` (settings, database, policy, clock, caches,
limiters) with one blueprint per area: the webhook intake (:mod:`.hooks`), the JSON API
made from its description (:mod:`.api`), and the dashboard's pages, ``/metrics`` and
admin actions (:mod:`.dashboard`). ``/healthz`` answers whether the database is
reachable. Errors are JSON under ``/api`` and one line of text elsewhere
(:mod:`.errors`). :class:`~govbot.web.server.WebServer` serves the app.

Called without arguments (``gunicorn "govbot.web:create_app()"``) it reads the settings
from the environment and opens their database; tests pass their own engine and
overrides (a fixed clock, a policy, an admin password) instead of reconfiguring.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

import govbot
from govbot.db import make_engine
from govbot.db.models import WorkItem
from govbot.policy import Policy
from govbot.settings import Settings
from govbot.web import api, dashboard, hooks
from govbot.web.context import EXTENSION, WebContext, close_db, context
from govbot.web.errors import register_errors, text_response
from govbot.web.limits import LoginLimiter
from govbot.web.queries import index_status
from govbot.web.server import WebServer

LOG = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024  # a webhook body is one event, a few KiB


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    *,
    policy: Policy | None = None,
    wake: Callable[[], None] | None = None,
    bot_username: str | None = None,
    admin_password: str | None = None,
    secret_key: str | None = None,
    now: Callable[[], dt.datetime] | None = None,
    logins: LoginLimiter | None = None,
    collectors: Sequence[Any] = (),
    startup_problems: Callable[[], Sequence[str] | None] | None = None,
    testing: bool = False,
) -> Flask:
    """The govbot web app for ``settings`` (default: from the environment).

    ``engine`` defaults to one on the settings' database. The overrides replace what the
    settings would give: ``policy`` (default: read from ``policy_dir`` when first
    needed), ``wake`` (called after the webhook queued work: the scheduler's worker),
    ``bot_username`` (whose events are ignored; default the settings'),
    ``admin_password`` and ``secret_key`` (``GOVBOT_ADMIN_PASSWORD``,
    ``GOVBOT_SECRET_KEY``; without a key, a random one per process), ``now`` (the
    clock), ``logins`` (the failed-login limiter). ``collectors`` are Prometheus
    collectors of the process that ``/metrics`` shows too (the stream listener's).
    ``startup_problems`` gives what ``govbot serve``'s start-up checks found (None while
    they run), shown on ``/healthz``.
    """
    settings = settings if settings is not None else Settings.from_env()
    ctx = WebContext(
        settings=settings,
        engine=engine if engine is not None else make_engine(settings.database_url),
        policy=policy,
        wake=wake or (lambda: None),
        bot_username=settings.gerrit_username if bot_username is None else bot_username,
        admin_password=settings.admin_password if admin_password is None else admin_password,
        now=now,
        logins=logins or LoginLimiter(),
        collectors=tuple(collectors),
        startup_problems=startup_problems,
    )
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        TESTING=testing,
        SECRET_KEY=secret_key or settings.secret_key or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.web_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
    )
    app.extensions[EXTENSION] = ctx
    app.teardown_appcontext(close_db)
    register_errors(app)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(api.make_blueprint())
    dashboard.register(app)
    app.add_url_rule("/healthz", "healthz", healthz)
    return app


def healthz() -> tuple[Response, int]:
    """Liveness, the queue and the index job at a glance: 200 when the database answers."""
    ctx = context()
    try:
        with Session(ctx.engine) as s:
            s.execute(text("SELECT 1"))
            rows = s.execute(select(WorkItem.state, func.count()).group_by(WorkItem.state)).all()
            index = index_status(s, ctx.current_time())
    except Exception as exc:  # the edge: any database failure is "unhealthy", not a 500
        LOG.warning("healthz: database unreachable: %s", exc)
        return jsonify(status="unhealthy", database="unreachable"), 503
    queue = {"queued": 0, "claimed": 0, "done": 0, "failed": 0}
    queue.update({str(state): count for state, count in rows})
    last = index.last_run_at.isoformat() if index.last_run_at else None
    body = {"status": "ok", "database": "ok", "version": govbot.__version__, "queue": queue}
    backfill = {
        "running": index.backfill_running,
        "branches": len(index.backfill),
        "finished": sum(1 for b in index.backfill if b.finished),
        "planned": sum(b.planned for b in index.backfill),
        "done": sum(b.done for b in index.backfill),
    }
    extra: dict[str, Any] = {}
    if ctx.startup_problems is not None:
        # Liveness stays 200: a misspelt project is the operator's to fix, not a restart's.
        problems = ctx.startup_problems()
        extra["doctor"] = (
            {"done": False}
            if problems is None
            else {"done": True, "ok": not problems, "problems": list(problems)}
        )
    index_body = {"last_run_at": last, "snapshots": index.snapshots, "backfill": backfill}
    return jsonify(**body, index=index_body, **extra), 200


__all__ = ["WebContext", "WebServer", "context", "create_app", "text_response"]
