"""The overview page (``/``): every API, the health trend, sunsets, the review queue.

Before anything is indexed it says what it waits for: the index job (when it last ran,
which projects it reads) and what the operator can run (``govbot index``,
``govbot backfill PROJECT``, ``govbot doctor``). While the background backfill reads the
watched branches' history, its progress per branch is shown.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from govbot.web import queries
from govbot.web.context import context, db
from govbot.web.dashboard import charts
from govbot.web.dashboard.templating import html_page_args
from govbot.web.queries import BadQuery

bp = Blueprint("overview", __name__, template_folder="templates")

STALE_SHOWN = 10


@bp.get("/")
def index() -> str:
    limit, marker = html_page_args(100)
    s = db()
    now = context().current_time()
    try:
        apis = queries.api_page(s, limit=limit, marker=marker)
    except BadQuery as exc:
        abort(400, str(exc))
    summary = queries.summary(s)
    points = context().trends.get(s, now)
    sunsets = queries.deprecations_near(s, now.date(), limit=25)
    stale = queries.queue_page(s, limit=STALE_SHOWN, marker=None, states=("stale", "at-risk"))
    waiting = None
    if not apis.items and marker is None:
        waiting = queries.index_status(s, now)
    settings = context().settings
    # Shown while any branch's history is still being read, or when one failed.
    progress = queries.backfill_progress(s)
    backfill = progress if any(not r.finished or r.error for r in progress) else []
    return render_template(
        "dashboard/overview.html",
        waiting=waiting,
        watched=[p if b is None else f"{p}:{b}" for p, b in context().settings.watched],
        index_interval=settings.index_interval,
        has_mirror=bool(settings.git_mirror_dir),
        backfill_depth=settings.backfill_depth,
        backfill=backfill,
        backfill_running=bool(backfill) and queries.index_status(s, now).backfill_running,
        charts=bool(points),
        summary=summary,
        apis=apis,
        trend=points,
        trend_figure=charts.health_trend(points, until=now) if points else None,
        sunsets=sunsets,
        window=queries.SUNSET_WINDOW_DAYS,
        stale=stale,
    )
