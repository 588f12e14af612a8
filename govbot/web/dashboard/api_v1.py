"""The dashboard's JSON API, ``/api/v1/...``, described by ``api-specs/govbot.yaml``.

Read-only. Conventions are the OpenStack API-SIG's, which govbot enforces on others:
collections are objects holding one plural array and ``links``; lists are paginated with
``limit`` (1-1000) and ``marker`` (the id of the previous page's last item); fields are
snake_case; times are ISO 8601 in UTC; errors are ``{"errors": [...]}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

import govbot
from govbot.db.models import ApiSnapshot, BlueprintVerdict, DigestRecord
from govbot.findings import Audience
from govbot.render import rule_url
from govbot.rules.catalog import all_rules, get_rule
from govbot.rules.registry import Rule
from govbot.web.dashboard import dashboard, db, queries
from govbot.web.dashboard.templating import BadQuery, Page, page_args, rule_doc

bp = Blueprint("api_v1", __name__, url_prefix="/api")

JSON_CACHE = "no-cache"


class ApiError(Exception):
    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail


def _error(status: int, code: str, title: str, detail: str) -> tuple[Response, int]:
    body = {
        "errors": [
            {
                "code": code,
                "status": status,
                "title": title,
                "detail": detail,
                "links": [{"rel": "help", "href": url_for("api_v1.versions", _external=True)}],
            }
        ]
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = JSON_CACHE
    return response, status


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[Response, int]:
    return _error(exc.status, exc.code, exc.title, exc.detail)


@bp.errorhandler(BadQuery)
def _bad_query(exc: BadQuery) -> tuple[Response, int]:
    return _error(400, "govbot.query.invalid", "Invalid query", str(exc))


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    return _error(status, f"govbot.http.{status}", exc.name, exc.description or exc.name)


def _not_found(what: str) -> ApiError:
    return ApiError(404, "govbot.item.not_found", "Not found", f"no {what}")


def _ok(body: Mapping[str, Any]) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = JSON_CACHE
    return response


def _links(page: Page | None = None) -> list[dict[str, str]]:
    links = [{"rel": "self", "href": request.url}]
    if page is not None and page.next_marker is not None:
        args = {k: v for k, v in request.args.items() if k != "marker"}
        args["marker"] = page.next_marker
        assert request.endpoint is not None
        links.append(
            {
                "rel": "next",
                "href": url_for(
                    request.endpoint, **(request.view_args or {}), **args, _external=True
                ),
            }
        )
    return links


def _list(name: str, page: Page, item: Callable[[Any], Mapping[str, Any]]) -> Response:
    return _ok({name: [item(x) for x in page.items], "links": _links(page)})


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _bool_arg(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise BadQuery(f"{name} must be true or false, not {raw!r}")


def _help(code: str) -> str:
    return rule_url(code, dashboard().settings.docs_base)


# --- serialisers -----------------------------------------------------------------------------


def api_json(row: queries.ApiRow) -> dict[str, Any]:
    a = row.spec
    return {
        "id": a.id,
        "project": a.project,
        "branch": a.branch,
        "spec_file": a.file,
        "title": a.title,
        "version": a.version,
        "audience": str(a.audience),
        "commit": a.commit,
        "merged_at": _iso(a.merged_at),
        "indexed_at": _iso(a.indexed_at),
        "operation_counts": row.counts.operation_json(),
        "finding_counts": row.counts.finding_json(),
        "waived_findings": row.counts.waived,
        "deprecated_operations": a.deprecated,
        "next_sunset": _day(a.next_sunset),
        "inconsistencies": row.inconsistencies,
        "problem": a.problem,
        "links": [
            {"rel": "self", "href": url_for("api_v1.show_api", api_id=a.id, _external=True)},
            {"rel": "alternate", "href": url_for("apis.show", api_id=a.id, _external=True)},
        ],
    }


def operation_json(op: Any) -> dict[str, Any]:
    return {
        "id": op.id,
        "key": op.key,
        "method": op.method,
        "path": op.path,
        "operation_id": op.operation_id,
        "audience": str(op.audience),
        "source": op.source,
        "evidence": op.evidence,
        "evidence_file": op.evidence_file,
        "evidence_pointer": op.evidence_pointer,
        "deprecated": op.deprecated,
    }


def finding_json(row: queries.FindingRow) -> dict[str, Any]:
    f = row.finding
    return {
        "id": f.id,
        "rule": f.rule,
        "name": f.name,
        "severity": str(f.severity),
        "audience": str(f.audience) if f.audience else None,
        "file": f.file,
        "line": f.line,
        "pointer": f.pointer,
        "message": f.message,
        "fingerprint": f.fingerprint,
        "help": _help(f.rule),
        "waiver": (
            {
                "reason": row.waiver.reason,
                "created_by": row.waiver.created_by,
                "created_at": _iso(row.waiver.created_at),
            }
            if row.waiver
            else None
        ),
    }


def deprecation_json(d: Any, today: dt.date) -> dict[str, Any]:
    return {
        "id": d.id,
        "operation": d.operation,
        "key": d.key,
        "audience": str(d.audience),
        "sunset": _day(d.sunset),
        "sunset_raw": d.sunset_raw,
        "replacement": d.replacement,
        "deprecated_since": _iso(d.deprecated_since),
        "overdue": d.sunset is not None and d.sunset < today,
    }


def snapshot_json(x: ApiSnapshot) -> dict[str, Any]:
    return {
        "id": x.id,
        "commit": x.commit,
        "merged_at": _iso(x.merged_at),
        "change_number": x.change_number,
        "version": x.version,
        "operation_counts": {
            "external": x.ops_external,
            "external_admin": x.ops_external_admin,
            "internal": x.ops_internal,
        },
        "finding_counts": {"error": x.errors, "warning": x.warnings, "info": x.infos},
        "deprecated_operations": x.deprecated,
        "problem": x.problem,
    }


def inconsistency_json(row: Any) -> dict[str, Any]:
    f, project, file = row
    return {
        "id": f.id,
        "api_id": f.api_id,
        "project": project,
        "spec_file": file,
        "rule": f.rule,
        "name": f.name,
        "severity": str(f.severity),
        "file": f.file,
        "line": f.line,
        "pointer": f.pointer,
        "message": f.message,
        "help": _help(f.rule),
    }


def change_json(c: queries.OpenChange) -> dict[str, Any]:
    return {
        "number": c.number,
        "subject": c.subject,
        "owner": c.owner,
        "updated_at": _iso(c.updated),
        "patch_set": c.patch_set,
        "verdict": c.verdict,
        "finding_counts": {"error": c.error, "warning": c.warning, "info": c.info},
        "findings_on_spec": c.on_this_spec,
        "queue_state": c.queue_state,
    }


def review_json(q: Any) -> dict[str, Any]:
    return {
        "change": q.change_number,
        "project": q.project,
        "branch": q.branch,
        "subject": q.subject,
        "owner": q.owner,
        "state": q.state,
        "skip_reason": q.skip_reason,
        "waited_days": round(q.waited_days, 3),
        "clock_start": _iso(q.clock_start),
        "due_at": _iso(q.due_at),
        "action": q.action,
        "assignee": q.assignee,
        "reason": q.reason,
        "assessed_at": _iso(q.assessed_at),
    }


def escalation_json(row: queries.EscalationRow) -> dict[str, Any]:
    e = row.step
    return {
        "id": e.id,
        "change": e.change_number,
        "project": e.project,
        "subject": e.subject,
        "owner": e.owner,
        "state": row.state,
        "stage": str(e.stage),
        "assignee": e.assignee,
        "episode_start": _iso(e.episode_start),
        "first_escalated_at": _iso(row.first),
        "waited_days": round(e.waited_days, 3),
        "resolved_at": _iso(e.resolved_at),
        "resolution": e.resolution,
        "acknowledged_by": row.ack.acknowledged_by if row.ack else None,
        "acknowledged_at": _iso(row.ack.acknowledged_at) if row.ack else None,
        "steps": [
            {
                "id": st.id,
                "stage": str(st.stage),
                "assignee": st.assignee,
                "reason": st.reason,
                "created_at": _iso(st.created_at),
                "acted_at": _iso(st.acted_at),
            }
            for st in row.steps
        ],
    }


def digest_json(r: Any) -> dict[str, Any]:
    headline = (r.data or {}).get("headline") or {}
    return {
        "id": r.id,
        "period_start": _iso(r.period_start),
        "period_end": _iso(r.period_end),
        "created_at": _iso(r.created_at),
        "sent_at": _iso(r.sent_at),
        "recipients": [x for x in (r.recipients or "").split(",") if x],
        "headline": {
            k: (v.get("value") if isinstance(v, Mapping) else None) for k, v in headline.items()
        },
        "links": [
            {"rel": "self", "href": url_for("api_v1.show_digest", digest_id=r.id, _external=True)},
            {"rel": "alternate", "href": url_for("queue.digest", digest_id=r.id, _external=True)},
        ],
    }


def blueprint_json(b: BlueprintVerdict, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": b.id,
        "project": b.project,
        "branch": b.branch,
        "file": b.file,
        "title": b.title,
        "verdict": queries.justification(b),
        "justified": b.verdict == "justified",
        "strength": b.strength,
        "section": b.section,
        "line": b.line,
        "evidence": b.evidence,
        "words": b.words,
        "rest_api_impact": b.rest_api_impact,
        "commit": b.commit,
        "merged_at": _iso(b.merged_at),
    }
    if full:
        out["findings"] = [
            {
                "rule": f.get("rule"),
                "name": f.get("name"),
                "severity": f.get("severity"),
                "line": f.get("line"),
                "message": f.get("message"),
                "help": _help(str(f.get("rule"))),
            }
            for f in (b.findings or {}).get("items", [])
        ]
    return out


def rule_json(r: Rule, *, full: bool = False) -> dict[str, Any]:
    policy = dashboard().get_policy()
    out: dict[str, Any] = {
        "code": r.code,
        "name": r.name,
        "kind": r.kind,
        "family": r.family,
        "summary": r.summary,
        "severity": {
            "external": str(r.severity[Audience.EXTERNAL]),
            "external_admin": str(r.severity[Audience.EXTERNAL_ADMIN]),
            "internal": str(r.severity[Audience.INTERNAL]),
        },
        "enabled": policy is None or policy.rule_config(r.code).enabled,
        "guideline": r.guideline,
        "help": _help(r.code),
    }
    if full:
        doc = rule_doc(r)
        out["doc"] = r.doc
        out["sections"] = [{"title": t, "anchor": a} for t, a, _ in doc.sections]
        out["options"] = dict(r.options)
    return out


# --- endpoints -------------------------------------------------------------------------------


@bp.get("/")
def versions() -> Response:
    return _ok(
        {
            "versions": [
                {
                    "id": "v1",
                    "status": "CURRENT",
                    "links": [{"rel": "self", "href": url_for("api_v1.summary", _external=True)}],
                }
            ]
        }
    )


@bp.get("/v1")
@bp.get("/v1/summary")
def summary() -> Response:
    s = db()
    body = queries.summary(s).to_json()
    body["version"] = govbot.__version__
    body["links"] = _links()
    return _ok({"summary": body})


@bp.get("/v1/trend")
def trend() -> Response:
    days = _int_arg("days", queries.TREND_DAYS, 1, 3660)
    api_id = _int_arg("api", None, 1, None)
    points = dashboard().trends.get(db(), dashboard().current_time(), api_id=api_id, days=days)
    return _ok({"points": [p.to_json() for p in points], "links": _links()})


def _int_arg(name: str, default: int | None, low: int, high: int | None) -> Any:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadQuery(f"{name} must be an integer {bound}, not {raw!r}")
    return int(raw)


@bp.get("/v1/projects")
def list_projects() -> Response:
    limit, marker = page_args()
    page = queries.project_page(db(), limit=limit, marker=marker)
    return _list(
        "projects",
        page,
        lambda p: {
            "name": p.name,
            "apis": p.apis,
            "operation_counts": p.counts.operation_json(),
            "finding_counts": p.counts.finding_json(),
            "waived_findings": p.counts.waived,
        },
    )


@bp.get("/v1/apis")
def list_apis() -> Response:
    limit, marker = page_args()
    page = queries.api_page(
        db(),
        limit=limit,
        marker=marker,
        project=request.args.get("project") or None,
        audience=request.args.get("audience") or None,
    )
    return _list("apis", page, api_json)


def _api_row(api_id: int) -> queries.ApiRow:
    row = queries.api(db(), api_id)
    if row is None:
        raise _not_found(f"API {api_id}")
    return row


@bp.get("/v1/apis/<int:api_id>")
def show_api(api_id: int) -> Response:
    return _ok({"api": api_json(_api_row(api_id))})


@bp.get("/v1/apis/<int:api_id>/operations")
def list_operations(api_id: int) -> Response:
    row = _api_row(api_id)
    limit, marker = page_args()
    page = queries.operations_page(
        db(), row.spec, limit=limit, marker=marker, audience=request.args.get("audience") or None
    )
    return _list("operations", page, operation_json)


@bp.get("/v1/apis/<int:api_id>/findings")
def list_findings(api_id: int) -> Response:
    row = _api_row(api_id)
    limit, marker = page_args()
    page = queries.findings_page(
        db(),
        row.spec,
        limit=limit,
        marker=marker,
        severity=request.args.get("severity") or None,
        rule=request.args.get("rule") or None,
        waived=_bool_arg("waived"),
    )
    return _list("findings", page, finding_json)


@bp.get("/v1/apis/<int:api_id>/deprecations")
def list_deprecations(api_id: int) -> Response:
    row = _api_row(api_id)
    limit, marker = page_args()
    today = dashboard().current_time().date()
    page = queries.deprecations(db(), row.spec, limit=limit, marker=marker)
    return _list("deprecations", page, lambda d: deprecation_json(d, today))


@bp.get("/v1/apis/<int:api_id>/snapshots")
def list_snapshots(api_id: int) -> Response:
    row = _api_row(api_id)
    limit, marker = page_args()
    since = None
    raw = request.args.get("since")
    if raw:
        try:
            since = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise BadQuery(f"since must be an ISO 8601 time, not {raw!r}") from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
    page = queries.snapshots_page(db(), row.spec, limit=limit, marker=marker, since=since)
    return _list("snapshots", page, snapshot_json)


@bp.get("/v1/apis/<int:api_id>/inconsistencies")
def list_api_inconsistencies(api_id: int) -> Response:
    _api_row(api_id)
    limit, marker = page_args()
    page = queries.inconsistencies_page(db(), limit=limit, marker=marker, api_id=api_id)
    return _list("inconsistencies", page, inconsistency_json)


@bp.get("/v1/apis/<int:api_id>/changes")
def list_changes(api_id: int) -> Response:
    row = _api_row(api_id)
    limit, marker = page_args()
    page = queries.open_changes(db(), row.spec, limit=limit, marker=marker)
    return _list("changes", page, change_json)


@bp.get("/v1/inconsistencies")
def list_inconsistencies() -> Response:
    limit, marker = page_args()
    page = queries.inconsistencies_page(db(), limit=limit, marker=marker)
    return _list("inconsistencies", page, inconsistency_json)


@bp.get("/v1/deprecations")
def list_sunsets() -> Response:
    limit, marker = page_args()
    within = _int_arg("within_days", queries.SUNSET_WINDOW_DAYS, 0, 3660)
    today = dashboard().current_time().date()
    page = queries.deprecations_near(db(), today, within_days=within, limit=limit, marker=marker)
    return _list(
        "deprecations",
        page,
        lambda r: {
            **deprecation_json(r.deprecation, today),
            "api_id": r.api_id,
            "project": r.project,
            "spec_file": r.file,
        },
    )


@bp.get("/v1/reviews")
def list_reviews() -> Response:
    limit, marker = page_args()
    states = (request.args.get("state") or ",".join(queries.QUEUE_STATES)).split(",")
    page = queries.queue_page(
        db(),
        limit=limit,
        marker=marker,
        states=states,
        project=request.args.get("project") or None,
    )
    return _list("reviews", page, review_json)


@bp.get("/v1/escalations")
def list_escalations() -> Response:
    limit, marker = page_args()
    page = queries.escalations_page(
        db(), limit=limit, marker=marker, state=request.args.get("state") or "all"
    )
    return _list("escalations", page, escalation_json)


@bp.get("/v1/escalations/<int:escalation_id>")
def show_escalation(escalation_id: int) -> Response:
    row = queries.escalation(db(), escalation_id)
    if row is None:
        raise _not_found(f"escalation {escalation_id}")
    return _ok({"escalation": escalation_json(row)})


@bp.get("/v1/digests")
def list_digests() -> Response:
    limit, marker = page_args()
    page = queries.digests_page(db(), limit=limit, marker=marker)
    return _list("digests", page, digest_json)


@bp.get("/v1/digests/<int:digest_id>")
def show_digest(digest_id: int) -> Response:
    record = db().get(DigestRecord, digest_id)
    if record is None:
        raise _not_found(f"digest {digest_id}")
    body = digest_json(record)
    body["text"] = record.text
    body["data"] = record.data or {}
    return _ok({"digest": body})


@bp.get("/v1/blueprints")
def list_blueprints() -> Response:
    limit, marker = page_args()
    page = queries.blueprint_page(
        db(), limit=limit, marker=marker, verdict=request.args.get("verdict") or None
    )
    return _list("blueprints", page, blueprint_json)


@bp.get("/v1/blueprints/<int:blueprint_id>")
def show_blueprint(blueprint_id: int) -> Response:
    b = db().get(BlueprintVerdict, blueprint_id)
    if b is None:
        raise _not_found(f"blueprint {blueprint_id}")
    return _ok({"blueprint": blueprint_json(b, full=True)})


@bp.get("/v1/rules")
def list_rules() -> Response:
    limit, marker = page_args(default=1000)
    rules = [r for r in all_rules() if marker is None or r.code > marker]
    page = Page(rules[:limit], limit, rules[limit - 1].code if len(rules) > limit else None)
    return _list("rules", page, rule_json)


@bp.get("/v1/rules/<rule_code>")
def show_rule(rule_code: str) -> Response:
    rule = get_rule(rule_code)
    if rule is None:
        raise _not_found(f"rule {rule_code}")
    return _ok({"rule": rule_json(rule, full=True)})


__all__ = ["bp"]
