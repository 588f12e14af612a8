"""Design specs and their use-case verdicts (``/blueprints``), and open changes whose
blueprint reference or use case govbot flagged."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from govbot.db.models import BlueprintVerdict
from govbot.web import queries
from govbot.web.context import db
from govbot.web.dashboard.templating import html_page_args
from govbot.web.queries import BadQuery

bp = Blueprint("blueprints", __name__, template_folder="templates")


@bp.get("/blueprints")
def index() -> str:
    s = db()
    limit, marker = html_page_args(100)
    verdict = request.args.get("verdict") or None
    try:
        page = queries.blueprint_page(s, limit=limit, marker=marker, verdict=verdict)
    except BadQuery as exc:
        abort(400, str(exc))
    return render_template(
        "dashboard/blueprints.html",
        page=page,
        verdict=verdict,
        verdicts=queries.JUSTIFICATIONS,
        justification=queries.justification,
        flags=queries.blueprint_flags(s),
    )


@bp.get("/blueprints/<int:blueprint_id>")
def show(blueprint_id: int) -> str:
    b = queries.lookup(db(), BlueprintVerdict, blueprint_id)
    if b is None:
        abort(404, f"no blueprint {blueprint_id}")
    return render_template("dashboard/blueprint.html", b=b, justification=queries.justification(b))
