"""Jinja filters, pagination and the rendering of rule docstrings for the dashboard."""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from dataclasses import dataclass
from typing import Any

from docutils.core import publish_parts
from flask import Flask, abort, g, request, session, url_for
from markupsafe import Markup, escape

from govbot.render import doc_sections
from govbot.rules.registry import Rule
from govbot.web.queries.common import Counts
from govbot.web.queries.paging import DEFAULT_LIMIT, MAX_LIMIT, BadQuery


def install_filters(app: Flask) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.filters["short"] = lambda sha: (sha or "")[:10]
    app.jinja_env.filters["days"] = lambda v: "-" if v is None else f"{v:.1f} d"
    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.globals["is_admin"] = lambda: bool(session.get("admin"))
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["admin_user"] = lambda: session.get("user", "")
    app.jinja_env.globals["api_url"] = api_url
    app.jinja_env.globals["finding_url"] = finding_url
    app.jinja_env.globals["rule_url"] = rule_url
    app.jinja_env.globals["sev_badge"] = sev_badge
    app.jinja_env.globals["audience_badge"] = audience_badge
    app.jinja_env.globals["counts_cells"] = counts_cells


# when and day format a few hundred values per page: isoformat, not strftime (which
# was a twentieth of a page's CPU), gives the same text for four-digit years.


def when(value: dt.datetime | None) -> str:
    """``2026-03-04 12:00 UTC``: the time as stored (UTC), to the minute."""
    return f"{value.isoformat(' ', 'minutes')[:16]} UTC" if value is not None else "-"


def day(value: dt.date | dt.datetime | None) -> str:
    """``2026-03-04``."""
    if value is None:
        return "-"
    return (value.date() if isinstance(value, dt.datetime) else value).isoformat()


def ago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """``3 d ago``, ``5 h ago``: a coarse age for tables."""
    if value is None:
        return "-"
    delta = (now or dt.datetime.now(dt.UTC)) - value
    seconds = delta.total_seconds()
    if seconds < 0:
        return "in the future"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def csrf_token() -> str:
    """The session's CSRF token (made on first use); every admin form carries it."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


# --- links in table rows ---------------------------------------------------------------------
# A table of 100 APIs or findings links each row; url_for costs ~25 µs a call (the route
# map is matched and the values converted each time), which was a fifth of a page view.
# So each endpoint's URL is built once per request with sentinel values, escaped once, and
# the rows' ids are put in its place. Only int ids and plain rule codes take this path,
# so the result is the same string url_for would give.

_SENTINELS = ("7301946285", "7301946286")
_PLAIN_CODE = re.compile(r"[A-Za-z0-9_-]+")


def _url_pattern(endpoint: str, *names: str, **fixed: Any) -> str:
    patterns: dict[str, str] = g.setdefault("_url_patterns", {})
    pattern = patterns.get(endpoint)
    if pattern is None:
        values = {n: int(v) for n, v in zip(names, _SENTINELS, strict=False)}
        pattern = str(escape(url_for(endpoint, **values, **fixed)))
        patterns[endpoint] = pattern
    return pattern


def api_url(api_id: int) -> Markup:
    """``url_for('apis.show', api_id=...)``, without matching the route map per row."""
    pattern = _url_pattern("apis.show", "api_id")
    return Markup(pattern.replace(_SENTINELS[0], str(int(api_id))))


def finding_url(api_id: int, finding_id: int) -> Markup:
    """``url_for('apis.finding', api_id=..., finding_id=...)``, per row."""
    pattern = _url_pattern("apis.finding", "api_id", "finding_id")
    url = pattern.replace(_SENTINELS[0], str(int(api_id)))
    return Markup(url.replace(_SENTINELS[1], str(int(finding_id))))


def rule_url(code: str) -> Markup:
    """``url_for('rules.show', code=...)``, per row (codes are plain: DEP001)."""
    if not _PLAIN_CODE.fullmatch(code):
        return Markup(escape(url_for("rules.show", code=code)))
    pattern = _url_pattern("rules.show", code="RULECODE")
    return Markup(pattern.replace("RULECODE", code))


# A badge per table row: plain functions rather than Jinja macros, whose call costs
# ~15 µs (a frame, its arguments, a Markup of the output); _macros.html exports them
# under the macro names sev and audience.


def sev_badge(value: object) -> Markup:
    """``<span class="badge error">error</span>``."""
    text = escape(value)
    return Markup(f'<span class="badge {text}">{text}</span>')


def audience_badge(value: object) -> Markup:
    """The audience as a badge, ``-`` when unknown."""
    if not value:
        return Markup('<span class="muted">-</span>')
    return sev_badge(value)


def counts_cells(c: Counts) -> Markup:
    """An API's operations by audience and findings by severity as six table cells."""
    return Markup(
        f'<td class="num">{int(c.external)}</td><td class="num">{int(c.external_admin)}</td>'
        f'<td class="num">{int(c.internal)}</td>\n'
        f'<td class="num sev-error">{int(c.error)}</td>'
        f'<td class="num sev-warning">{int(c.warning)}</td>'
        f'<td class="num sev-info">{int(c.info)}</td>'
    )


# --- pagination: limit and marker (API-SIG) -------------------------------------------------


def page_args(default: int = DEFAULT_LIMIT) -> tuple[int, str | None]:
    """``limit`` (1..1000) and ``marker`` from the query string; BadQuery when malformed."""
    raw = request.args.get("limit")
    if raw is None or raw == "":
        limit = default
    else:
        try:
            limit = int(raw)
        except ValueError:
            raise BadQuery(f"limit must be an integer, not {raw!r}") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise BadQuery(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    marker = request.args.get("marker") or None
    return limit, marker


def page_url(marker: str | None, **extra: Any) -> str:
    """This page's URL with another marker (the other query arguments kept)."""
    args = {k: v for k, v in request.args.items() if k != "marker"}
    args.update({k: v for k, v in extra.items() if v is not None})
    if marker is not None:
        args["marker"] = marker
    assert request.endpoint is not None
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def html_page_args(default: int = DEFAULT_LIMIT) -> tuple[int, str | None]:
    """:func:`page_args` for an HTML page: a malformed query is a plain 400."""
    try:
        return page_args(default)
    except BadQuery as exc:
        abort(400, str(exc))


# --- rule documentation ---------------------------------------------------------------------


def anchor(title: str) -> str:
    """``What it checks`` -> ``what-it-checks`` (a stable fragment for links)."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"


@functools.lru_cache(maxsize=512)
def _rst_html(text: str) -> str:
    parts = publish_parts(
        text,
        writer="html5",
        settings_overrides={
            # The docstrings are ours, but nothing in them may reach the file system or
            # inject raw HTML, and problems in them must not print to stderr.
            "raw_enabled": False,
            "file_insertion_enabled": False,
            "report_level": 5,
            "halt_level": 5,
            "warning_stream": False,
            "doctitle_xform": False,
            "initial_header_level": 4,
            "embed_stylesheet": False,
        },
    )
    return parts["body"]


@dataclass(frozen=True)
class RuleDoc:
    summary: str
    sections: tuple[tuple[str, str, Markup], ...]  # (title, anchor, html)


def rule_doc(rule: Rule) -> RuleDoc:
    """A rule's docstring as HTML sections (What it checks / Why it matters / ...)."""
    return _doc(rule.doc)


@functools.lru_cache(maxsize=512)
def _doc(doc: str) -> RuleDoc:
    summary, sections = doc_sections(doc)
    out = []
    for title, body in sections:
        name = title or "Details"
        out.append((name, anchor(name), Markup(_rst_html(body))))  # docutils escapes the text
    return RuleDoc(summary, tuple(out))


__all__ = [
    "RuleDoc",
    "anchor",
    "api_url",
    "audience_badge",
    "counts_cells",
    "csrf_token",
    "finding_url",
    "html_page_args",
    "install_filters",
    "page_args",
    "page_url",
    "rule_doc",
    "rule_url",
    "sev_badge",
]
