"""The overview page (``/``): every API, the health trend, sunsets, the review queue."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from govbot.web.dashboard import charts, dashboard, db, queries
from govbot.web.dashboard.templating import BadQuery, html_page_args

bp = Blueprint("overview", __name__, template_folder="templates")

STALE_SHOWN = 10


@bp.get("/")
def index() -> str:
    limit, marker = html_page_args(100)
    s = db()
    now = dashboard().current_time()
    try:
        apis = queries.api_page(s, limit=limit, marker=marker)
    except BadQuery as exc:
        abort(400, str(exc))
    summary = queries.summary(s)
    points = dashboard().trends.get(s, now)
    sunsets = queries.deprecations_near(s, now.date(), limit=25)
    stale = queries.queue_page(s, limit=STALE_SHOWN, marker=None, states=("stale", "at-risk"))
    return render_template(
        "dashboard/overview.html",
        charts=bool(points),
        summary=summary,
        apis=apis,
        trend=points,
        trend_figure=charts.health_trend(points, until=now) if points else None,
        sunsets=sunsets,
        window=queries.SUNSET_WINDOW_DAYS,
        stale=stale,
    )
