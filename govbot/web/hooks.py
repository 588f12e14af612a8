"""Webhook intake: ``POST /hooks/gerrit`` turns Gerrit events into "re-check change N".

Gerrit's webhooks plugin POSTs each stream event as JSON (the webhooks plugin's documentation); a
relay of ``gerrit stream-events`` may POST several as JSON lines or a JSON array. The
endpoint only queues work and answers 202 at once: the review runs on a worker, and the
plugin's 5-second timeout is never at risk. Events are hints. Whatever is lost here
(delivery given up, govbot down) the poll finds, so nothing here has to be perfect, only
cheap and safe.

The plugin can neither sign a request nor add a header, so the shared secret
(``GOVBOT_WEBHOOK_SECRET``) travels in the URL (``?secret=``) or, from a relay that can,
in ``X-Govbot-Secret``. Without a configured secret the endpoint refuses everything.

Which events queue a re-check: those that can change the verdict or make a change
reviewable: a new patch set, a restored change, a change made ready (WIP off) or public
(private off), and a new topic (a ``bp/NAME`` topic is a blueprint reference). Comments,
votes, reviewers, merges and abandons change nothing govbot checks. govbot's own events
are ignored, so its reviews never wake it up again. These rules are the stream
listener's too (:func:`govbot.services.intake.ignore_reason`).

An event names a change by number and claims its project and branch; only events for a
watched project and branch (``GOVBOT_GERRIT_PROJECTS``) queue work, and a change govbot
already knows under another project is not taken on the event's word.

A body that cannot be read (not UTF-8, empty, not JSON or JSON lines, nested too
deeply) is a 400: no retry makes it readable. A readable event of a shape govbot does
not know (no ``type``, fields that do not parse, a change number below 1 or beyond
Gerrit's) is counted as malformed and skipped with the 202: a 400 would only make the
plugin retry it and log SEVERE (gerrit-fidelity #12), and the poll reconciles anyway.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from govbot.db.models import Change, Project
from govbot.db.queue import enqueue
from govbot.db.session import session_scope
from govbot.errors import GerritError
from govbot.gerrit.events import GerritEvent
from govbot.services.intake import (
    RECHECK_EVENTS,
    REVIEW_KIND,
    event_payload,
    ignore_reason,
    work_key,
)
from govbot.settings import Settings
from govbot.web.context import WebContext, context
from govbot.web.errors import text_response

LOG = logging.getLogger(__name__)

bp = Blueprint("hooks", __name__, url_prefix="/hooks")

SECRET_HEADER = "X-Govbot-Secret"
RECENT_EVENTS = 2048  # identities remembered to drop redeliveries


class BadEvents(ValueError):
    """The request body cannot be read as stream-events JSON."""


@bp.post("/gerrit")
def gerrit_events() -> Response | tuple[Response, int]:
    ctx = context()
    problem = _check_secret(ctx.settings)
    if problem:
        LOG.warning("webhook refused from %s: %s", request.remote_addr, problem)
        return text_response(403, f"403 Forbidden: {problem}")
    try:
        events, malformed = parse_body(request.get_data(cache=False))
    except BadEvents as exc:
        return text_response(400, f"400 Bad Request: {exc}")
    queued: list[int] = []
    ignored: dict[str, int] = {"malformed": malformed} if malformed else {}
    if malformed:
        LOG.warning(
            "webhook: skipped %d malformed event(s) from %s", malformed, request.remote_addr
        )
    wanted: dict[tuple[str, int], dict[str, Any]] = {}
    for event in events:
        reason = _ignore(event, ctx)
        if reason:
            ignored[reason] = ignored.get(reason, 0) + 1
            continue
        assert event.change is not None
        wanted[(event.change.project, event.change.number)] = event_payload(event, "webhook")
    if wanted:
        try:
            queued = _queue(ctx, wanted, ignored)
        except SQLAlchemyError as exc:
            LOG.error("webhook could not queue %s: %s", sorted(wanted), exc)
            # 503: the plugin retries, and the poll finds the change anyway.
            return text_response(503, "503 Service Unavailable: database unavailable")
        for event in events:
            _remember(ctx, event)
        if queued:
            LOG.info("webhook queued change(s) %s", queued)
        ctx.wake()
    return jsonify(received=len(events), queued=queued, ignored=ignored), 202


def _queue(
    ctx: WebContext, wanted: Mapping[tuple[str, int], dict[str, Any]], ignored: dict[str, int]
) -> list[int]:
    """Queue a review of each wanted change, unless govbot knows it in another project."""
    queued = []
    numbers = sorted({number for _, number in wanted})
    with session_scope(ctx.engine) as session:
        known = {
            number: (project, branch)
            for number, project, branch in session.execute(
                select(Change.number, Project.name, Change.branch)
                .join(Project, Project.id == Change.project_id)
                .where(Change.number.in_(numbers))
            )
        }
        for (project, number), payload in wanted.items():
            where = known.get(number)
            if where is not None and where != (project, payload["branch"]):
                # The event's claim contradicts what Gerrit told govbot before.
                ignored["mismatch"] = ignored.get("mismatch", 0) + 1
                continue
            if enqueue(session, REVIEW_KIND, work_key(number, project), payload):
                queued.append(number)
    return queued


def _check_secret(settings: Settings) -> str | None:
    """Why the request is refused, or None when it carries the shared secret."""
    expected = settings.webhook_secret
    if not expected:
        return "webhook intake is disabled: GOVBOT_WEBHOOK_SECRET is not set"
    given = request.headers.get(SECRET_HEADER) or request.args.get("secret") or ""
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        return "wrong or missing webhook secret"
    return None


def parse_body(body: bytes) -> tuple[list[GerritEvent], int]:
    """Events from one JSON object, a JSON array, or JSON lines, and how many items were
    malformed (not an object, no ``type``, fields that do not parse, a change number no
    change can have). ``BadEvents`` when the body itself cannot be read."""
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise BadEvents("body is not UTF-8") from None
    if not text:
        raise BadEvents("empty body: expected a Gerrit event as JSON")
    try:
        return _events(_json_items(text))
    except RecursionError:  # the json module's limit on nesting
        raise BadEvents("malformed JSON: nested too deeply") from None


def _json_items(text: str) -> list[Any]:
    try:
        data = json.loads(text)
        return data if isinstance(data, list) else [data]
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        if len(lines) == 1:
            raise BadEvents(f"malformed JSON: {exc.msg} (column {exc.colno})") from None
    items = []  # JSON lines, as `gerrit stream-events` writes them
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as bad:
            raise BadEvents(
                f"malformed JSON on line {number}: {bad.msg} (column {bad.colno})"
            ) from None
    return items


def _events(items: Iterable[Any]) -> tuple[list[GerritEvent], int]:
    events, malformed = [], 0
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
            malformed += 1
            continue
        try:
            # A change number no change can have (below 1, beyond Gerrit's) fails here too.
            events.append(GerritEvent.from_json(item))
        except (GerritError, KeyError, TypeError, ValueError, OverflowError) as exc:
            LOG.debug("webhook: malformed %s event: %s", item["type"], exc)
            malformed += 1
    return events, malformed


def _ignore(event: GerritEvent, ctx: WebContext) -> str | None:
    """Why ``event`` queues nothing (the rules of :func:`intake.ignore_reason`, plus
    redeliveries this process has seen), or None."""
    reason = ignore_reason(event, ctx.settings, ctx.bot_username)
    if reason:
        return reason
    with ctx.lock:
        if event.dedup_key in ctx.recent_events:
            return "duplicate"
    return None


def _remember(ctx: WebContext, event: GerritEvent) -> None:
    with ctx.lock:
        ctx.recent_events[event.dedup_key] = None
        while len(ctx.recent_events) > RECENT_EVENTS:
            ctx.recent_events.popitem(last=False)


__all__ = ["RECHECK_EVENTS", "SECRET_HEADER", "BadEvents", "bp", "ignore_reason", "parse_body"]
