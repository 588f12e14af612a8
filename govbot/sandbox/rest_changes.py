"""REST routes of ``/changes/``: query, change views, actions, reviewers, attention set.

A revision's views (``/changes/{id}/revisions/{rev}/...``) are in ``rest_revisions.py``.
"""

from __future__ import annotations

from govbot.sandbox import lifecycle, people, render
from govbot.sandbox.entities import Change, RestError, not_found
from govbot.sandbox.query import run_query
from govbot.sandbox.request import Request
from govbot.sandbox.rest_revisions import revisions
from govbot.sandbox.wire import Response


def changes(req: Request) -> Response:
    """``/changes/`` (a query) and ``/changes/{id}[/view]``."""
    s = req.segments
    if len(s) == 1:
        req.only("GET")
        return query(req)
    change = req.sb.resolve_change(s[1], req.viewer)
    rest = s[2:]
    if not rest:
        req.only("GET")
        return req.json(render.change_info(req.sb, change, req.options(), req.viewer))
    view = rest[0]
    if view == "detail" and len(rest) == 1:
        req.only("GET")
        options = req.options(render.DETAIL_OPTIONS)
        return req.json(render.change_info(req.sb, change, options, req.viewer))
    if view == "messages" and len(rest) == 1:
        req.only("GET")
        return req.json([render.message(req.sb, m, True) for m in change.messages])
    if view == "comments" and len(rest) == 1:
        req.only("GET")
        return req.json(render.comments_by_path(req.sb, change.comments))
    if view == "reviewers":
        return reviewers(req, change, rest[1:])
    if view == "attention":
        return attention(req, change, rest[1:])
    if view in ("abandon", "restore", "wip", "ready") and len(rest) == 1:
        return change_action(req, change, view)
    if view == "revisions" and len(rest) >= 2:
        return revisions(req, change, req.sb.resolve_revision(change, rest[1]), rest[2:])
    raise not_found("/".join(s))


def query(req: Request) -> Response:
    """``GET /changes/?q=...`` (up to ten queries), paged by ``S``/``n`` and the limits."""
    queries = req.params.get("q") or ["status:open"]
    if len(queries) > 10:
        raise RestError(400, "limit of 10 queries")
    options = req.options()
    start_text = req.param("S", "start") or "0"
    limit_text = req.param("n", "limit")
    try:
        start = int(start_text)
        limit = int(limit_text) if limit_text else None
    except ValueError:
        raise RestError(400, "Invalid number") from None
    if start < 0:
        raise RestError(400, "'start' parameter cannot be less than zero")
    pages = []
    for text in queries:
        matches, query_limit = run_query(req.sb, text, req.viewer)
        page_size = req.sb.query_limit
        for candidate in (limit, query_limit):
            if candidate is not None and candidate > 0:
                page_size = min(page_size, candidate)
        page = matches[start : start + page_size]
        items = [render.change_info(req.sb, c, options, req.viewer) for c in page]
        if items and len(matches) > start + page_size:
            items[-1]["_more_changes"] = True
        pages.append(items)
    return req.json(pages if len(queries) > 1 else pages[0])


def change_action(req: Request, change: Change, view: str) -> Response:
    """``POST .../abandon``, ``.../restore``, ``.../wip``, ``.../ready`` (owner only)."""
    req.only("POST")
    user = req.require_user()
    data = req.input()
    message = data.get("message") if isinstance(data.get("message"), str) else None
    if view == "abandon":
        lifecycle.require_owner(req.sb, change, user, "abandon")
        lifecycle.abandon(req.sb, change, by=user, reason=message)
    elif view == "restore":
        lifecycle.require_owner(req.sb, change, user, "restore")
        lifecycle.restore(req.sb, change, by=user, reason=message)
    else:
        lifecycle.require_owner(req.sb, change, user, "toggle work in progress state")
        if change.wip == (view == "wip"):
            raise RestError(
                409, f"change is {'already' if view == 'wip' else 'not'} work in progress"
            )
        lifecycle.set_wip(req.sb, change, view == "wip", by=user)
        return Response(200, b"", None)
    return req.json(render.change_info(req.sb, change, frozenset(), req.viewer))


def reviewers(req: Request, change: Change, rest: list[str]) -> Response:
    """``.../reviewers``: list, add (POST), show one, remove one."""
    if not rest:
        if req.method == "GET":
            return req.json([render.reviewer_info(req.sb, change, a) for a in change.reviewers])
        req.only("POST")
        user = req.require_user()
        data = req.input()
        result = people.post_reviewer(req.sb, change, user, data)
        return req.json(render.reviewer_result(req.sb, change, result))
    account = req.sb.resolve_account(rest[0], req.viewer)
    if len(rest) == 1 and req.method == "GET":
        if account.id not in change.reviewers:
            raise not_found(rest[0])
        return req.json([render.reviewer_info(req.sb, change, account.id)])
    if _is_delete(req, rest):
        user = req.require_user()
        people.remove_reviewer(req.sb, change, account, user)
        return Response(204, b"", None)
    raise not_found("/".join(rest))


def attention(req: Request, change: Change, rest: list[str]) -> Response:
    """``.../attention``: list, add (POST), remove one."""
    if not rest:
        if req.method == "GET":
            return req.json(
                [render.attention(req.sb, e) for _, e in sorted(change.attention.items())]
            )
        req.only("POST")
        user = req.require_user()
        account = people.post_attention(req.sb, change, user, req.input())
        return req.json(render.account(req.sb, account.id, True))
    account = req.sb.resolve_account(rest[0], req.viewer)
    if _is_delete(req, rest):
        req.require_user()
        people.remove_attention(req.sb, change, account)
        return Response(204, b"", None)
    raise not_found("/".join(rest))


def _is_delete(req: Request, rest: list[str]) -> bool:
    """``DELETE .../{account}`` or its POST form ``.../{account}/delete``."""
    return (len(rest) == 1 and req.method == "DELETE") or (
        len(rest) == 2 and rest[1] == "delete" and req.method == "POST"
    )
