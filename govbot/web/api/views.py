"""The JSON API's operations: one function per ``operationId`` of the description.

Each takes the request's :class:`~govbot.web.api.contract.Arguments`, already checked
against the description, and answers the description's 200 body. Links (``self``,
``next``) are built from those arguments only, normalised, so a link is always a valid
URI and never carries a parameter the description does not name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Response, jsonify, request, url_for

import govbot
from govbot.db.models import BlueprintVerdict, DigestRecord
from govbot.rules.catalog import all_rules, get_rule
from govbot.web import queries
from govbot.web.api import serialize as js
from govbot.web.api.contract import Arguments
from govbot.web.context import context, db
from govbot.web.errors import JSON_CACHE, ApiError
from govbot.web.queries import Page, lookup

Handler = Callable[[Arguments], Response]
HANDLERS: dict[str, Handler] = {}


def operation(operation_id: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for the description's operation ``operation_id``."""

    def register(handler: Handler) -> Handler:
        HANDLERS[operation_id] = handler
        return handler

    return register


def _ok(body: Mapping[str, Any]) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = JSON_CACHE
    return response


def _url(args: Arguments, **query: str) -> str:
    assert request.endpoint is not None
    return url_for(request.endpoint, **args.path, **query, _external=True)


def links(args: Arguments, page: Page | None = None) -> list[dict[str, str]]:
    """``self`` (and ``next`` for a page with more) from the checked arguments."""
    out = [{"rel": "self", "href": _url(args, **args.query)}]
    if page is not None and page.next_marker is not None:
        following = {**args.query, "marker": page.next_marker}
        out.append({"rel": "next", "href": _url(args, **following)})
    return out


def _list(args: Arguments, name: str, page: Page, item: Callable[[Any], Any]) -> Response:
    return _ok({name: [item(x) for x in page.items], "links": links(args, page)})


def _not_found(what: str) -> ApiError:
    return ApiError(404, "govbot.item.not_found", "Not found", f"no {what}")


def _api_row(args: Arguments) -> queries.ApiRow:
    row = queries.api(db(), args["api_id"])
    if row is None:
        raise _not_found(f"API {args['api_id']}")
    return row


# --- versions and figures --------------------------------------------------------------------


@operation("list-versions")
def list_versions(args: Arguments) -> Response:
    v1 = url_for("api_v1.show_summary", _external=True)
    return _ok(
        {"versions": [{"id": "v1", "status": "CURRENT", "links": [{"rel": "self", "href": v1}]}]}
    )


@operation("show-v1")
@operation("show-summary")
def show_summary(args: Arguments) -> Response:
    body = queries.summary(db()).to_json()
    body["version"] = govbot.__version__
    body["links"] = links(args)
    return _ok({"summary": body})


@operation("list-trend-points")
def list_trend_points(args: Arguments) -> Response:
    ctx = context()
    points = ctx.trends.get(db(), ctx.current_time(), api_id=args["api"], days=args["days"])
    return _ok({"points": [p.to_json() for p in points], "links": links(args)})


@operation("list-projects")
def list_projects(args: Arguments) -> Response:
    page = queries.project_page(db(), limit=args["limit"], marker=args["marker"])
    return _list(args, "projects", page, js.project_json)


# --- APIs ------------------------------------------------------------------------------------


@operation("list-apis")
def list_apis(args: Arguments) -> Response:
    page = queries.api_page(
        db(),
        limit=args["limit"],
        marker=_marker(args),
        project=args["project"],
        audience=args["audience"],
    )
    return _list(args, "apis", page, js.api_json)


def _marker(args: Arguments) -> str | None:
    marker = args["marker"]
    return None if marker is None else str(marker)


@operation("show-api")
def show_api(args: Arguments) -> Response:
    return _ok({"api": js.api_json(_api_row(args))})


@operation("list-api-operations")
def list_api_operations(args: Arguments) -> Response:
    spec = _api_row(args).spec
    page = queries.operations_page(
        db(), spec, limit=args["limit"], marker=_marker(args), audience=args["audience"]
    )
    return _list(args, "operations", page, js.operation_json)


@operation("list-api-findings")
def list_api_findings(args: Arguments) -> Response:
    spec = _api_row(args).spec
    page = queries.findings_page(
        db(),
        spec,
        limit=args["limit"],
        marker=_marker(args),
        severity=args["severity"],
        rule=args["rule"],
        waived=args["waived"],
    )
    return _list(args, "findings", page, js.finding_json)


@operation("list-api-deprecations")
def list_api_deprecations(args: Arguments) -> Response:
    spec = _api_row(args).spec
    today = context().current_time().date()
    page = queries.deprecations(db(), spec, limit=args["limit"], marker=_marker(args))
    return _list(args, "deprecations", page, lambda d: js.deprecation_json(d, today))


@operation("list-api-snapshots")
def list_api_snapshots(args: Arguments) -> Response:
    spec = _api_row(args).spec
    page = queries.snapshots_page(
        db(), spec, limit=args["limit"], marker=_marker(args), since=args["since"]
    )
    return _list(args, "snapshots", page, js.snapshot_json)


@operation("list-api-inconsistencies")
def list_api_inconsistencies(args: Arguments) -> Response:
    spec = _api_row(args).spec
    page = queries.inconsistencies_page(
        db(), limit=args["limit"], marker=_marker(args), api_id=spec.id
    )
    return _list(args, "inconsistencies", page, js.inconsistency_json)


@operation("list-api-changes")
def list_api_changes(args: Arguments) -> Response:
    spec = _api_row(args).spec
    page = queries.open_changes(db(), spec, limit=args["limit"], marker=_marker(args))
    return _list(args, "changes", page, js.change_json)


@operation("list-inconsistencies")
def list_inconsistencies(args: Arguments) -> Response:
    page = queries.inconsistencies_page(db(), limit=args["limit"], marker=_marker(args))
    return _list(args, "inconsistencies", page, js.inconsistency_json)


@operation("list-deprecations")
def list_deprecations(args: Arguments) -> Response:
    today = context().current_time().date()
    page = queries.deprecations_near(
        db(), today, within_days=args["within_days"], limit=args["limit"], marker=_marker(args)
    )
    return _list(args, "deprecations", page, lambda r: js.sunset_json(r, today))


# --- the review queue, escalations, digests --------------------------------------------------


@operation("list-reviews")
def list_reviews(args: Arguments) -> Response:
    page = queries.queue_page(
        db(),
        limit=args["limit"],
        marker=_marker(args),
        states=args["state"] or queries.QUEUE_STATES,
        project=args["project"],
    )
    return _list(args, "reviews", page, js.review_json)


@operation("list-escalations")
def list_escalations(args: Arguments) -> Response:
    page = queries.escalations_page(
        db(), limit=args["limit"], marker=_marker(args), state=args["state"]
    )
    return _list(args, "escalations", page, js.escalation_json)


@operation("show-escalation")
def show_escalation(args: Arguments) -> Response:
    row = queries.escalation(db(), args["escalation_id"])
    if row is None:
        raise _not_found(f"escalation {args['escalation_id']}")
    return _ok({"escalation": js.escalation_json(row)})


@operation("list-digests")
def list_digests(args: Arguments) -> Response:
    page = queries.digests_page(db(), limit=args["limit"], marker=_marker(args))
    return _list(args, "digests", page, js.digest_json)


@operation("show-digest")
def show_digest(args: Arguments) -> Response:
    record = lookup(db(), DigestRecord, args["digest_id"])
    if record is None:
        raise _not_found(f"digest {args['digest_id']}")
    body = js.digest_json(record)
    body["text"] = record.text
    body["data"] = record.data or {}
    return _ok({"digest": body})


# --- blueprints and rules --------------------------------------------------------------------


@operation("list-blueprints")
def list_blueprints(args: Arguments) -> Response:
    page = queries.blueprint_page(
        db(), limit=args["limit"], marker=_marker(args), verdict=args["verdict"]
    )
    return _list(args, "blueprints", page, js.blueprint_json)


@operation("show-blueprint")
def show_blueprint(args: Arguments) -> Response:
    b = lookup(db(), BlueprintVerdict, args["blueprint_id"])
    if b is None:
        raise _not_found(f"blueprint {args['blueprint_id']}")
    return _ok({"blueprint": js.blueprint_json(b, full=True)})


@operation("list-rules")
def list_rules(args: Arguments) -> Response:
    limit, marker = args["limit"], args["marker"]
    rules = [r for r in all_rules() if marker is None or r.code > marker]
    page = Page(rules[:limit], limit, rules[limit - 1].code if len(rules) > limit else None)
    return _list(args, "rules", page, js.rule_json)


@operation("show-rule")
def show_rule(args: Arguments) -> Response:
    rule = get_rule(args["rule_code"])
    if rule is None:
        raise _not_found(f"rule {args['rule_code']}")
    return _ok({"rule": js.rule_json(rule, full=True)})


__all__ = ["HANDLERS", "links", "operation"]
