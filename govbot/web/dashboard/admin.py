"""Admin actions: the only requests that change state, each behind a login and CSRF.

* ``POST /admin/login`` with the admin password (``GOVBOT_ADMIN_PASSWORD``: a werkzeug
  password hash, or the password itself) and a name recorded on every action;
* ``POST /admin/apis/<api>/findings/<finding>/waive``: a waiver for that finding's
  fingerprint on that API (the dashboard then counts it as waived);
* ``POST /admin/escalations/<id>/ack``: a TC member acknowledges an escalation;
* ``POST /admin/tc-members/<username>/away``: away until a date (empty: back), which the
  escalation pass honours when it picks a member.

Every POST needs the signed session's login (else 401) and the session's CSRF token in
the form (``csrf_token``) or the ``X-CSRF-Token`` header (else 400). Without a
configured password, admin is disabled (403). Failed logins are limited per client and
in total (:mod:`govbot.web.limits`): past the limit, 429 with ``Retry-After``.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import re
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import TooManyRequests
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

from govbot.db.models import (
    ApiSnapshot,
    Escalation,
    EscalationAck,
    SnapshotFinding,
    TCMember,
    Waiver,
)
from govbot.db.session import insert_ignore, session_scope
from govbot.web.context import context
from govbot.web.dashboard.templating import csrf_token
from govbot.web.queries import lookup

LOG = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_HASH_PREFIXES = ("scrypt:", "pbkdf2:")
_NAME = re.compile(r"^[\w.@+-]{1,64}$")


def password_matches(configured: str, given: str) -> bool:
    """``given`` against a werkzeug hash (``scrypt:...``) or a plain configured password."""
    if not configured:
        return False
    if configured.startswith(_HASH_PREFIXES):
        return check_password_hash(configured, given)
    return hmac.compare_digest(configured.encode("utf-8"), given.encode("utf-8"))


@bp.before_request
def _guard() -> Response | None:
    """Every POST: CSRF first for the login form, login then CSRF for the actions."""
    if request.method != "POST":
        return None
    if not context().admin_password:
        abort(403, "admin actions are disabled: GOVBOT_ADMIN_PASSWORD is not set")
    if request.endpoint not in ("admin.login", "admin.logout") and not session.get("admin"):
        abort(401, "log in as admin first")
    expected = session.get("csrf")
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected or not hmac.compare_digest(str(expected), given):
        abort(400, "missing or wrong CSRF token: reload the page and try again")
    return None


def _back(default: str) -> str:
    """A same-site path to return to (never another host)."""
    target = request.form.get("next") or request.args.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


def _who() -> str:
    return str(session.get("user") or "admin")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    state = context()
    if request.method == "GET":
        csrf_token()
        return render_template(
            "dashboard/login.html", enabled=bool(state.admin_password), next=_back("/")
        )
    name = (request.form.get("user") or "admin").strip()
    if not _NAME.match(name):
        abort(400, "the name may use letters, digits and . @ + - only")
    client = request.remote_addr or "-"
    wait = state.logins.retry_after(client)
    if wait:
        LOG.warning("admin login from %s refused: too many failed logins", client)
        raise TooManyRequests(f"too many failed logins: try again in {wait} s", retry_after=wait)
    if not password_matches(state.admin_password, request.form.get("password") or ""):
        state.logins.failed(client)
        LOG.warning("admin login refused for %r from %s", name, client)
        abort(401, "wrong password")
    session.clear()
    session["admin"] = True
    session["user"] = name
    session.permanent = True
    csrf_token()  # a fresh token for the new session
    LOG.info("admin login: %s", name)
    flash(f"Logged in as {name}.")
    return redirect(_back(url_for("overview.index")))


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("overview.index"))


@bp.post("/apis/<int:api_id>/findings/<int:finding_id>/waive")
def waive(api_id: int, finding_id: int) -> Response:
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        abort(400, "a waiver needs a reason")
    with session_scope(context().engine) as s:
        finding = lookup(s, SnapshotFinding, finding_id)
        snapshot = s.get(ApiSnapshot, finding.snapshot_id) if finding is not None else None
        if finding is None or snapshot is None or snapshot.api_id != api_id:
            abort(404, f"no finding {finding_id} in API {api_id}")
        insert_ignore(
            s,
            Waiver,
            {
                "api_id": api_id,
                "fingerprint": finding.fingerprint,
                "rule": finding.rule,
                "reason": reason[:2000],
                "created_by": _who(),
                "created_at": context().current_time(),
            },
            conflict=["api_id", "fingerprint"],
        )
    LOG.info("waiver: %s waived %s %s on API %s", _who(), finding.rule, finding.fingerprint, api_id)
    flash(f"{finding.rule} waived: {reason}")
    return redirect(_back(url_for("apis.show", api_id=api_id) + "#findings"))


@bp.post("/escalations/<int:escalation_id>/ack")
def acknowledge(escalation_id: int) -> Response:
    note = (request.form.get("note") or "").strip() or None
    with session_scope(context().engine) as s:
        if lookup(s, Escalation, escalation_id) is None:
            abort(404, f"no escalation {escalation_id}")
        insert_ignore(
            s,
            EscalationAck,
            {
                "escalation_id": escalation_id,
                "acknowledged_by": _who(),
                "acknowledged_at": context().current_time(),
                "note": note,
            },
            conflict=["escalation_id"],
        )
    LOG.info("escalation %s acknowledged by %s", escalation_id, _who())
    flash(f"Escalation {escalation_id} acknowledged.")
    return redirect(_back(url_for("queue.index") + "#escalations"))


@bp.post("/tc-members/<username>/away")
def away(username: str) -> Response:
    if not _NAME.match(username):
        abort(400, "not a username")
    raw = (request.form.get("until") or "").strip()
    until = None
    if raw:
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            abort(400, f"until must be a date (YYYY-MM-DD), not {raw!r}")
        until = dt.datetime.combine(day, dt.time(23, 59, 59), dt.UTC)
    now = context().current_time()
    with session_scope(context().engine) as s:
        member = s.get(TCMember, username)
        if member is None:
            s.add(TCMember(username=username, away_until=until, updated_at=now, note=None))
        else:
            member.away_until = until
            member.updated_at = now
    LOG.info("TC member %s marked away until %s by %s", username, until, _who())
    flash(f"{username} is away until {raw}." if until else f"{username} is back.")
    return redirect(_back(url_for("queue.index") + "#members"))
