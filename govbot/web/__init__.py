"""govbot's web side: the Flask app factory and the WSGI server that hosts it.

``create_app(settings, engine)`` builds the app with one blueprint per area: the webhook
intake (``hooks``) and the dashboard (:func:`govbot.web.dashboard.register_dashboard`:
its pages, the JSON API under ``/api/v1``, ``/rules``, ``/metrics`` and the admin
actions). ``/healthz`` answers whether the database is reachable. Errors are short plain
text, never an HTML page or a traceback.

:class:`WebServer` runs the app on a background thread with werkzeug's threaded WSGI
server (one thread per request), bound to ``GOVBOT_WEB_HOST:GOVBOT_WEB_PORT``.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, jsonify
from sqlalchemy import Engine, func, select, text
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

import govbot
from govbot.db.models import WorkItem
from govbot.policy import Policy
from govbot.settings import Settings

LOG = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024  # a webhook body is one event, a few KiB


@dataclass
class WebContext:
    """What the views need, kept on ``app.extensions["govbot"]`` (no globals)."""

    settings: Settings
    engine: Engine
    # Called after the webhook queued work, so a worker starts at once (no-op alone).
    wake: Callable[[], None] = lambda: None
    # The bot's Gerrit username (its own events are ignored); default: the settings'.
    bot_username: str = ""
    # Recently seen event identities: a redelivered event is recognised cheaply.
    recent_events: collections.OrderedDict[Any, None] = field(
        default_factory=collections.OrderedDict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)


def context() -> WebContext:
    """The :class:`WebContext` of the app serving the current request."""
    return current_app.extensions["govbot"]


def create_app(
    settings: Settings,
    engine: Engine,
    *,
    wake: Callable[[], None] | None = None,
    bot_username: str | None = None,
    testing: bool = False,
    policy: Policy | None = None,
) -> Flask:
    """The govbot web app for ``settings``, reading and writing the database of ``engine``.

    ``wake`` is called after the webhook queued work (the scheduler's worker job);
    ``bot_username`` is the account whose events are ignored (when it came from netrc
    rather than the settings); ``policy`` is the one the dashboard shows (default: read
    from the settings' ``policy_dir`` when first needed).
    """
    from govbot.web import hooks
    from govbot.web.dashboard import register_dashboard

    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, TESTING=testing)
    app.extensions["govbot"] = WebContext(
        settings,
        engine,
        wake or (lambda: None),
        bot_username or settings.gerrit_username,
    )
    app.register_blueprint(hooks.bp)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)
    register_dashboard(app, engine, settings, policy=policy)
    return app


def healthz() -> tuple[Response, int]:
    """Liveness and the queue at a glance: 200 when the database answers, else 503."""
    ctx = context()
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            rows = connection.execute(
                select(WorkItem.state, func.count()).group_by(WorkItem.state)
            ).all()
    except Exception as exc:  # the edge: any database failure is "unhealthy", not a 500
        LOG.warning("healthz: database unreachable: %s", exc)
        return jsonify(status="unhealthy", database="unreachable"), 503
    queue = {"queued": 0, "claimed": 0, "done": 0, "failed": 0}
    queue.update({str(state): count for state, count in rows})
    return jsonify(status="ok", database="ok", version=govbot.__version__, queue=queue), 200


def text_response(status: int, message: str) -> Response:
    """A one-line plain-text answer (what Gerrit's webhooks plugin logs on failure)."""
    return Response(message.rstrip("\n") + "\n", status, mimetype="text/plain")


def _http_error(error: HTTPException) -> Response:
    return text_response(error.code or 500, f"{error.code} {error.name}: {error.description}")


def _internal_error(error: Exception) -> Response:
    LOG.exception("web request failed: %s", error)
    return text_response(500, "500 Internal Server Error: see govbot's log")


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, logging to govbot's logger (DEBUG) instead of colouring stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.ERROR if type == "error" else logging.DEBUG
        LOG.log(level, "%s %s", self.address_string(), message % args)


class WebServer:
    """The app on a threaded werkzeug WSGI server, served from a background thread."""

    def __init__(self, app: Flask, host: str, port: int) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_RequestHandler
        )
        self.host = host
        self.port = self._server.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> WebServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"govbot-web-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting requests; requests in flight finish on their own threads."""
        if self._thread is None:
            self._server.server_close()
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["WebContext", "WebServer", "context", "create_app", "text_response"]
