"""The one object the web app's views share: :class:`WebContext`, on ``app.extensions``.

:func:`govbot.web.create_app` makes it from the settings and the overrides a caller gives
(a test's clock, policy or password; the service's worker wake-up); views reach it with
:func:`context` and a per-request database session with :func:`db`. There are no globals.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from govbot.policy import Policy, load_policy
from govbot.settings import Settings
from govbot.web.limits import LoginLimiter
from govbot.web.queries import TrendCache

EXTENSION = "govbot"


def _nothing() -> None:
    return None


@dataclass
class WebContext:
    """Settings, database and the state that outlives a request (caches, limiters)."""

    settings: Settings
    engine: Engine
    # The policy the dashboard shows; None: read from the settings' policy_dir when needed.
    policy: Policy | None = None
    # Called after the webhook queued work, so a worker starts at once.
    wake: Callable[[], None] = _nothing
    # The bot's Gerrit username (its own events are ignored).
    bot_username: str = ""
    # "" disables the admin actions; else a werkzeug password hash or the password itself.
    admin_password: str = field(default="", repr=False)
    # The current time (tests fix it); None: the wall clock.
    now: Callable[[], dt.datetime] | None = None
    logins: LoginLimiter = field(default_factory=LoginLimiter)
    trends: TrendCache = field(default_factory=TrendCache)
    # Recently seen webhook event identities: a redelivered event is recognised cheaply.
    recent_events: collections.OrderedDict[Any, None] = field(
        default_factory=collections.OrderedDict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    # In-process Prometheus collectors /metrics shows besides the database's (the
    # stream-events listener's, which `govbot serve` runs).
    collectors: tuple[Any, ...] = ()
    registry: Any = None  # the Prometheus registry of /metrics, made on the first scrape
    # What `govbot serve`'s start-up checks found (None while they run); None: not run.
    startup_problems: Callable[[], Sequence[str] | None] | None = None

    @functools.cached_property
    def read_engine(self) -> Engine:
        """The engine of the requests' read sessions (:func:`db`): autocommit, so a page's
        SELECTs cost no BEGIN and ROLLBACK round trips. Each statement still sees one
        consistent snapshot, as under PostgreSQL's default READ COMMITTED; the writes
        (admin actions, webhooks) use their own transactions (``session_scope``)."""
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def current_time(self) -> dt.datetime:
        return self.now() if self.now is not None else dt.datetime.now(dt.UTC)

    def get_policy(self) -> Policy | None:
        if self.policy is None:
            try:
                self.policy = load_policy(self.settings.policy_dir)
            except Exception:  # no policy is no reason to fail a page: rules show defaults
                self.policy = None
        return self.policy


def context() -> WebContext:
    """The :class:`WebContext` of the app serving the current request."""
    return current_app.extensions[EXTENSION]


def db() -> Session:
    """A read session for this request, closed when the request ends (:func:`close_db`);
    it runs each statement in autocommit mode (:attr:`WebContext.read_engine`)."""
    session = g.get("_govbot_session")
    if session is None:
        session = Session(context().read_engine)
        g._govbot_session = session
    return session


def close_db(_exc: BaseException | None) -> None:
    session = g.pop("_govbot_session", None)
    if session is not None:
        session.close()


__all__ = ["EXTENSION", "WebContext", "close_db", "context", "db"]
