"""The review queue (``/queue``): stale and at-risk changes, escalations, TC members,
and the archive of TC digests (``/digests``)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from govbot.db.models import DigestRecord
from govbot.web import queries
from govbot.web.context import db
from govbot.web.dashboard.templating import html_page_args
from govbot.web.queries import BadQuery

bp = Blueprint("queue", __name__, template_folder="templates")

SHOWN = 50
# The digest's own HTML is shown as a separate document that may run nothing at all.
SANDBOX_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@bp.get("/queue")
def index() -> str:
    s = db()
    limit, marker = html_page_args(SHOWN)
    state = request.args.get("state") or "stale,at-risk"
    try:
        changes = queries.queue_page(s, limit=limit, marker=marker, states=state.split(","))
    except BadQuery as exc:
        abort(400, str(exc))
    return render_template(
        "dashboard/queue.html",
        state=state,
        changes=changes,
        summary=queries.summary(s),
        escalations=queries.escalations_page(s, limit=SHOWN, marker=None, state="open"),
        members=queries.tc_members(s),
        digests=queries.digests_page(s, limit=10, marker=None),
    )


@bp.get("/escalations")
def escalations() -> str:
    limit, marker = html_page_args(SHOWN)
    state = request.args.get("state") or "open"
    try:
        page = queries.escalations_page(db(), limit=limit, marker=marker, state=state)
    except BadQuery as exc:
        abort(400, str(exc))
    return render_template("dashboard/escalations.html", page=page, state=state)


@bp.get("/digests")
def digests() -> str:
    limit, marker = html_page_args(SHOWN)
    try:
        page = queries.digests_page(db(), limit=limit, marker=marker)
    except BadQuery as exc:
        abort(400, str(exc))
    return render_template("dashboard/digests.html", page=page)


@bp.get("/digests/<int:digest_id>")
def digest(digest_id: int) -> str:
    record = queries.lookup(db(), DigestRecord, digest_id)
    if record is None:
        abort(404, f"no digest {digest_id}")
    return render_template("dashboard/digest.html", digest=record)


@bp.get("/digests/<int:digest_id>/email.html")
def digest_html(digest_id: int) -> Response:
    """The digest exactly as mailed (HTML part), sandboxed: it may not run anything."""
    record = queries.lookup(db(), DigestRecord, digest_id)
    if record is None:
        abort(404, f"no digest {digest_id}")
    response = Response(record.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    return response
