"""One API's page (``/apis/<id>``) and its paginated lists, and one finding's page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, abort, render_template, request

from govbot.db.models import ApiSnapshot, ApiSpec
from govbot.web import queries
from govbot.web.context import context, db
from govbot.web.dashboard import charts
from govbot.web.dashboard.templating import html_page_args
from govbot.web.queries.paging import BadQuery, make_page

bp = Blueprint("apis", __name__, url_prefix="/apis", template_folder="templates")

SHOWN = 20
HISTORY_POINTS = 200
TIMELINE_MAX = 300


def _api(api_id: int) -> queries.ApiRow:
    row = queries.api(db(), api_id)
    if row is None:
        abort(404, f"no API {api_id}")
    return row


def _change_number(spec: ApiSpec) -> int | None:
    """The change that merged the latest snapshot, when it is not among the newest merges."""
    snapshot = db().get(ApiSnapshot, spec.latest_snapshot_id)
    return snapshot.change_number if snapshot is not None else None


@bp.get("/<int:api_id>")
def show(api_id: int) -> str:
    s = db()
    row = _api(api_id)
    spec = row.spec
    today = context().current_time().date()
    recent = queries.recent_history(s, spec, limit=HISTORY_POINTS)
    history = make_page(recent, SHOWN, lambda x: x.id)
    latest = [x for x in recent if x.id == spec.latest_snapshot_id]
    change_number = latest[0].change_number if latest else _change_number(spec)
    points = [
        queries.TrendPoint(
            x.merged_at,
            x.errors,
            x.warnings,
            x.infos,
            x.ops_external,
            x.ops_external_admin,
            x.ops_internal,
        )
        for x in reversed(recent)
    ]
    # The timeline places every dated deprecation (most APIs have few); the table pages.
    everything = queries.deprecations(s, spec, limit=TIMELINE_MAX, marker=None).items
    dated = [(d.operation, d.sunset) for d in everything if d.sunset is not None]
    deprecations = make_page(everything, SHOWN, lambda d: d.id)
    return render_template(
        "dashboard/api.html",
        charts=True,
        api=row,
        change_number=change_number,
        history=history,
        history_figure=charts.health_trend(points, until=context().current_time()),
        findings=queries.findings_page(s, spec, limit=SHOWN, marker=None),
        deprecations=deprecations,
        timeline_figure=charts.sunset_timeline(dated, today) if dated else None,
        inconsistencies=queries.inconsistencies_page(s, limit=SHOWN, marker=None, api_id=spec.id),
        operations=queries.operations_page(s, spec, limit=SHOWN, marker=None),
        changes=queries.open_changes(s, spec, limit=SHOWN, marker=None),
    )


def _list(api_id: int, kind: str, heading: str, filters: Sequence[tuple[str, str]] = ()) -> str:
    s = db()
    row = _api(api_id)
    limit, marker = html_page_args()
    args: dict[str, Any] = {"limit": limit, "marker": marker}
    try:
        if kind == "operations":
            page = queries.operations_page(
                s, row.spec, audience=request.args.get("audience"), **args
            )
        elif kind == "findings":
            page = queries.findings_page(
                s,
                row.spec,
                severity=request.args.get("severity"),
                rule=request.args.get("rule"),
                **args,
            )
        elif kind == "deprecations":
            page = queries.deprecations(s, row.spec, **args)
        elif kind == "history":
            page = queries.snapshots_page(s, row.spec, **args)
        elif kind == "changes":
            page = queries.open_changes(s, row.spec, **args)
        else:
            page = queries.inconsistencies_page(s, api_id=row.spec.id, **args)
    except BadQuery as exc:
        abort(400, str(exc))
    return render_template(
        "dashboard/api_list.html", api=row, page=page, kind=kind, heading=heading, filters=filters
    )


@bp.get("/<int:api_id>/operations")
def operations(api_id: int) -> str:
    return _list(
        api_id,
        "operations",
        "Operations",
        [("audience", a) for a in ("external", "external-admin", "internal")],
    )


@bp.get("/<int:api_id>/findings")
def findings(api_id: int) -> str:
    return _list(
        api_id, "findings", "Findings", [("severity", s) for s in ("error", "warning", "info")]
    )


@bp.get("/<int:api_id>/deprecations")
def deprecations(api_id: int) -> str:
    return _list(api_id, "deprecations", "Deprecations")


@bp.get("/<int:api_id>/history")
def history(api_id: int) -> str:
    return _list(api_id, "history", "History")


@bp.get("/<int:api_id>/changes")
def changes(api_id: int) -> str:
    return _list(api_id, "changes", "Open changes touching it")


@bp.get("/<int:api_id>/inconsistencies")
def inconsistencies(api_id: int) -> str:
    return _list(api_id, "inconsistencies", "Cross-service inconsistencies")


@bp.get("/<int:api_id>/findings/<int:finding_id>")
def finding(api_id: int, finding_id: int) -> str:
    detail = queries.finding_detail(db(), finding_id)
    if detail is None or detail.api.id != api_id:
        abort(404, f"no finding {finding_id} in API {api_id}")
    return render_template("dashboard/finding.html", d=detail)
