"""Deprecation and compatibility rules (DEP): what a change may remove or alter, and how.

The rules read the structural diff of :mod:`govbot.diff` (and, for the two
``spec`` rules, one spec) and only find things; :mod:`govbot.evaluate` decides severity
and waivers. Removals point into the base spec (``side="base"``), everything else into
the head. Default severities are for external operations; internal ones get one step
milder (design.md §4.2).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from govbot.diff import (
    BodyDiff,
    FieldDiff,
    OperationDiff,
    SecurityAlternative,
    SpecDiff,
)
from govbot.findings import Audience, Scope, Severity, Side
from govbot.rules.registry import DiffContext, Hit, Kind, Rule, SpecContext, rule
from govbot.surface import (
    HTTP_METHODS,
    Node,
    Operation,
    Spec,
    get_pointer,
    join,
    normalize_path,
    operations,
    split,
)

# Notice a deprecation must give before the sunset (RFC 8594 date), per audience.
# OpenStack's standard deprecation asks for one release and at least three months.
NOTICE_DAYS: Mapping[str, int] = {"external": 90, "internal": 30}

_RANK = {Audience.EXTERNAL: 3, Audience.EXTERNAL_ADMIN: 2, Audience.INTERNAL: 1}
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$"
)
_MICROVERSION = re.compile(r"^\s*(\d+)\.(\d+)\s*$")
_SEMVER = re.compile(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")
_REPLACEMENT = (
    r"\b(use|using|instead|replac\w*|supersed\w*|successor|migrat\w*|in favou?r of|"
    r"switch to|moved to|see)\b"
)


# --- small helpers ----------------------------------------------------------------------


def parse_sunset(value: Any) -> dt.date | None:
    """The date of an ``x-sunset`` value: an RFC 3339 date or date-time, or an HTTP-date
    (RFC 8594's header format); None when it is neither."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _RFC3339.match(text):
        try:
            return dt.datetime.fromisoformat(text.replace("z", "Z")).date()
        except ValueError:
            return None
    try:
        return email.utils.parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return None


def notice_days(options: Mapping[str, Any], audience: Audience) -> int:
    """The policy's ``min_notice_days`` for an audience (a number, or a per-audience map)."""
    value = options.get("min_notice_days", NOTICE_DAYS)
    if isinstance(value, int):
        return value
    if isinstance(value, Mapping):
        for key in (str(audience), "external" if audience.is_external else "internal"):
            if isinstance(value.get(key), int):
                return int(value[key])
    return NOTICE_DAYS["external" if audience.is_external else "internal"]


def microversion(value: Any) -> tuple[int, int] | None:
    """``"2.96"`` -> (2, 96); None for anything that is not an OpenStack X.Y version."""
    m = _MICROVERSION.match(str(value)) if value is not None else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def _audience(classification: Any, key: str | None) -> Audience:
    try:
        audience = classification.of(key)
    except (AttributeError, KeyError, TypeError):
        return Audience.EXTERNAL
    return audience if isinstance(audience, Audience) else Audience.EXTERNAL


def _base_aud(ctx: DiffContext, d: OperationDiff) -> Audience:
    return _audience(ctx.base_audience, d.key)


def _head_aud(ctx: DiffContext, d: OperationDiff) -> Audience:
    if d.head is None:
        return _base_aud(ctx, d)
    return _audience(ctx.head_audience, d.key)


def _ticked(text: str) -> str:
    return f"`{text}`"


def _field_label(direction: str, body: BodyDiff, f: FieldDiff) -> str:
    if direction == "request":
        return f"request field {_ticked(f.path)}" if f.path else "the request body"
    where = f"the {body.status} response"
    return f"field {_ticked(f.path)} of {where}" if f.path else f"the body of {where}"


def _deprecated(node: Node | None) -> bool:
    return (
        node is not None
        and isinstance(node.value, Mapping)
        and node.value.get("deprecated") is True
    )


def _sunset_of(node: Node | None) -> Any:
    return (
        node.value.get("x-sunset") if node is not None and isinstance(node.value, Mapping) else None
    )


def _at(node: Node, key: str) -> Node:
    """``node``'s child ``key`` when present (so a finding lands on that line), else ``node``."""
    child = node.get(key)
    return child if child is not None else node


def _readonly(f: FieldDiff, side: Side) -> bool:
    node = f.base if side == "base" else f.head
    return (
        node is not None and isinstance(node.value, Mapping) and node.value.get("readOnly") is True
    )


def _writeonly(f: FieldDiff, side: Side) -> bool:
    node = f.base if side == "base" else f.head
    return (
        node is not None and isinstance(node.value, Mapping) and node.value.get("writeOnly") is True
    )


class _Collector:
    """Folds hits that land on the same node (a component shared by many operations)
    into one, naming the first operation and counting the others."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str, str, str], list[Any]] = {}

    def add(
        self,
        node: Node,
        side: Side,
        audience: Audience,
        scope: Scope,
        where: str,
        make: Callable[[str], str],
        tag: str = "",
    ) -> None:
        # One hit per node: a field of a shared component is reported once, at its
        # definition, however many operations (and field paths) reach it.
        key = (side, node.file, node.pointer, tag)
        group = self._groups.get(key)
        if group is None:
            self._groups[key] = [node, side, audience, scope, [where], make]
            return
        if _RANK[audience] > _RANK[group[2]]:
            group[2] = audience
        if scope == "changed":
            group[3] = scope
        if where not in group[4]:
            group[4].append(where)

    def hits(self) -> Iterator[Hit]:
        for node, side, audience, scope, wheres, make in self._groups.values():
            where = wheres[0]
            if len(wheres) == 2:
                where += f" (and {wheres[1]})"
            elif len(wheres) > 2:
                where += f" (and {len(wheres) - 1} other operations)"
            yield Hit(make(where), node.pointer, node.file, side, audience, scope)


# --- the elements the rules talk about --------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Element:
    """Something with a lifecycle: an operation, a parameter, a schema field, a header."""

    what: str  # "GET /servers", "query parameter `limit` of GET /servers"
    op: OperationDiff
    base: Node | None
    head: Node | None
    kind: Literal["operation", "parameter", "field", "header"]
    direction: Literal["request", "response", ""] = ""
    status: str | None = None  # the response of a field or header
    path: str = ""  # a field's path in its schema

    @property
    def node(self) -> Node:
        node = self.head or self.base
        assert node is not None
        return node


def _elements(diff: SpecDiff) -> Iterator[tuple[_Element, Any]]:
    """Every changed element of operations present on both sides, with its diff value."""
    for d in diff.changed:
        label = d.label
        yield (
            _Element(
                label,
                d,
                d.base.node if d.base else None,
                d.head.node if d.head else None,
                "operation",
            ),
            d,
        )
        for p in d.parameters:
            what = f"{p.location} parameter {_ticked(p.name)} of {label}"
            yield (
                _Element(
                    what,
                    d,
                    p.base.node if p.base else None,
                    p.head.node if p.head else None,
                    "parameter",
                    "request",
                ),
                p,
            )
        for direction, body, _schema, f in d.fields():
            if not f.path:
                continue
            what = f"{_field_label(direction, body, f)} of {label}"
            yield _Element(what, d, f.base, f.head, "field", direction, body.status, f.path), f
        for body in d.responses:
            for h in body.headers:
                what = f"header {_ticked(h.name)} of the {body.status} response of {label}"
                yield _Element(what, d, h.base, h.head, "header", "response", body.status), h


def _change_of(value: Any, attr: str) -> Any:
    change = getattr(value, "change", None)
    return change(attr) if callable(change) else None


def _newly_deprecated(diff: SpecDiff) -> Iterator[_Element]:
    """Elements the change marks deprecated; what lies inside a deprecated operation or
    field is left out (deprecating the whole covers its parts)."""
    found: list[_Element] = []
    for element, value in _elements(diff):
        if getattr(value, "kind", "changed") != "changed":
            continue
        c = _change_of(value, "deprecated")
        if c is not None and c.new is True:
            found.append(element)
    ops = {e.op.key for e in found if e.kind == "operation"}
    fields = {(e.op.key, e.direction, e.status, e.path) for e in found if e.kind == "field"}
    for element in found:
        if element.kind != "operation" and element.op.key in ops:
            continue
        if element.kind == "field" and _inside_deprecated(element, fields):
            continue
        yield element


def _inside_deprecated(element: _Element, fields: set[tuple[str, str, str | None, str]]) -> bool:
    where = (element.op.key, element.direction, element.status)
    path = element.path
    for key, direction, status, other in fields:
        if (key, direction, status) != where or not other or other == path:
            continue
        if any(path.startswith(other + sep) for sep in ".[{"):
            return True
    return False


def _sunset_changes(diff: SpecDiff) -> Iterator[tuple[_Element, Any, Any]]:
    for element, value in _elements(diff):
        if getattr(value, "kind", "changed") != "changed":
            continue
        c = _change_of(value, "x-sunset")
        if c is not None:
            yield element, c.old, c.new


def _op_sunset(op: Operation | None) -> Any:
    return op.sunset if op is not None else None


def _retired(op: Operation | None) -> bool:
    """OpenStack: an operation with ``x-openstack.max-ver`` is gone after that microversion."""
    return op is not None and "max-ver" in op.x_openstack


def _removed_elements(ctx: DiffContext) -> Iterator[tuple[_Element, Audience]]:
    """Parameters, fields and headers removed from operations that are still there."""
    for d in ctx.diff.changed:
        aud = _base_aud(ctx, d)
        for p in d.parameters:
            if p.kind == "removed" and p.base is not None:
                what = f"{p.location} parameter {_ticked(p.name)} of {d.label}"
                yield _Element(what, d, p.base.node, None, "parameter", "request"), aud
        for direction, body, _schema, f in d.fields():
            if f.kind == "removed" and f.path:
                what = f"{_field_label(direction, body, f)} of {d.label}"
                yield _Element(what, d, f.base, None, "field", direction), aud
        for body in d.responses:
            for h in body.headers:
                if h.kind == "removed":
                    what = f"header {_ticked(h.name)} of the {body.status} response of {d.label}"
                    yield _Element(what, d, h.base, None, "header", "response"), aud


def _future_sunset(value: Any, today: dt.date) -> dt.date | None:
    date = parse_sunset(value)
    return date if date is not None and date > today else None


# --- removals -------------------------------------------------------------------------


@rule(
    "DEP001",
    "removed-without-deprecation",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    options={"min_notice_days": dict(NOTICE_DAYS)},
    guideline="DEP-03",
)
def removed_without_deprecation(ctx: DiffContext) -> Iterator[Hit]:
    """An operation was removed without having been deprecated first.

    What it checks:
        Operations present in the base spec and missing from the head (matched by method
        and path, ignoring path-parameter names and trailing slashes) that the base did
        not mark ``deprecated: true`` (or, in OpenStack specs, retire at a microversion
        with ``x-openstack.max-ver``).

    Why it matters:
        Clients of an external API get no warning and break on upgrade. OpenStack's
        standard deprecation keeps a feature deprecated and working for at least one
        release and three months before removing it.

    Example:
        ``DELETE /servers/{server_id}`` is in the base spec, not deprecated, and gone
        from the revision.

    Fix:
        Put the operation back, mark it ``deprecated: true`` with an ``x-sunset`` date
        at least the notice period away, and remove it in a later release.

    References:
        API-SIG DEP-02, DEP-03 (``api_interoperability.rst``, governance tag
        ``assert:follows-standard-deprecation``); RFC 8594; oasdiff
        ``api-removed-without-deprecation``.
    """
    for d in ctx.diff.removed:
        op = d.base
        assert op is not None
        if op.deprecated or _retired(op):
            continue
        aud = _base_aud(ctx, d)
        days = notice_days(ctx.options, aud)
        yield Hit(
            f"{op.label} was removed without being deprecated first; mark it "
            f"`deprecated: true` with an `x-sunset` date at least {days} days away, "
            "and remove it in a later release",
            op.node.pointer,
            op.node.file,
            "base",
            aud,
            "changed",
        )


@rule(
    "DEP002", "removed-before-sunset", kind=Kind.DIFF, severity=Severity.ERROR, guideline="DEP-03"
)
def removed_before_sunset(ctx: DiffContext) -> Iterator[Hit]:
    """Something was removed before the sunset date it announced.

    What it checks:
        Operations, parameters, schema fields and response headers removed by the change
        whose base version carries an ``x-sunset`` date that is still in the future.

    Why it matters:
        The sunset date is a promise: clients plan their migration around it (RFC 8594).
        Removing early breaks the clients that trusted it.

    Example:
        ``GET /os-agents`` has ``deprecated: true`` and ``x-sunset: 2099-01-01`` and is
        removed today.

    Fix:
        Keep the element until its sunset date has passed, then remove it.

    References:
        RFC 8594 (the Sunset header); API-SIG DEP-03; oasdiff ``api-removed-before-sunset``.
    """
    today = ctx.today
    for d in ctx.diff.removed:
        op = d.base
        assert op is not None
        date = _future_sunset(op.sunset, today)
        if date is not None:
            yield Hit(
                f"{op.label} was removed before its sunset date {date.isoformat()}; keep it "
                "until that date has passed",
                op.node.pointer,
                op.node.file,
                "base",
                _base_aud(ctx, d),
                "changed",
            )
    hits = _Collector()
    for element, aud in _removed_elements(ctx):
        date = _future_sunset(_sunset_of(element.base), today)
        if date is None:
            continue
        what = element.what.rsplit(" of ", 1)[0]
        hits.add(
            element.node,
            "base",
            aud,
            "changed",
            element.op.label,
            lambda where, what=what, date=date: (
                f"{what} of {where} was removed before its sunset date {date.isoformat()}; "
                "keep it until that date has passed"
            ),
        )
    yield from hits.hits()


@rule(
    "DEP003",
    "removed-after-deprecation",
    kind=Kind.DIFF,
    severity=Severity.INFO,
    internal=Severity.INFO,
    guideline="DEP-03",
)
def removed_after_deprecation(ctx: DiffContext) -> Iterator[Hit]:
    """A deprecated element was removed, as the deprecation policy allows (for the record).

    What it checks:
        Operations, parameters, fields and headers removed after having been deprecated
        (and whose sunset date, if any, has passed), and OpenStack operations newly
        retired at a future microversion (``x-openstack.max-ver`` set to at least the
        base spec's microversion), which older microversions keep.

    Why it matters:
        This is the lawful end of a deprecation. It is reported so that reviewers and
        the TC digest see removals happen.

    Example:
        ``GET /orgs/{org}/projects`` was ``deprecated: true`` in GHES 3.16 and is gone in
        3.17.

    Fix:
        Nothing to fix. Mention the removal in the release notes.

    References:
        API-SIG DEP-02, DEP-03, DEP-05; oasdiff ``api-removed-with-deprecation``.
    """
    today = ctx.today
    for d in ctx.diff.removed:
        op = d.base
        assert op is not None
        if not (op.deprecated or _retired(op)) or _future_sunset(op.sunset, today):
            continue
        how = (
            "deprecated"
            if op.deprecated
            else f"retired after microversion {op.x_openstack['max-ver']}"
        )
        yield Hit(
            f"{op.label} was removed after being {how}; note the removal in the release notes",
            op.node.pointer,
            op.node.file,
            "base",
            _base_aud(ctx, d),
            "changed",
        )
    base_mv = microversion(_info_version(ctx.base))
    for d in ctx.diff.changed:
        c = d.change("x-openstack")
        if c is None or d.head is None:
            continue
        new_max = microversion((c.new or {}).get("max-ver"))
        old_max = microversion((c.old or {}).get("max-ver"))
        if new_max is None or new_max == old_max:
            continue
        if base_mv is not None and new_max < base_mv:
            continue  # retroactive: DEP024 reports it
        yield Hit(
            f"{d.label} is removed from microversion {new_max[0]}.{new_max[1] + 1} on "
            f"(`max-ver: {c.new['max-ver']}`); older microversions keep it",
            _at(d.head.node, "x-openstack").pointer,
            d.head.node.file,
            "head",
            _head_aud(ctx, d),
            "changed",
        )
    hits = _Collector()
    for element, aud in _removed_elements(ctx):
        if not _deprecated(element.base) or _future_sunset(_sunset_of(element.base), today):
            continue
        what = element.what.rsplit(" of ", 1)[0]
        hits.add(
            element.node,
            "base",
            aud,
            "changed",
            element.op.label,
            lambda where, what=what: f"{what} of {where} was removed after being deprecated",
        )
    yield from hits.hits()


# --- deprecation and sunset -----------------------------------------------------------


@rule(
    "DEP004",
    "deprecated-without-sunset",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    options={"min_notice_days": dict(NOTICE_DAYS)},
    guideline="DEP-03",
)
def deprecated_without_sunset(ctx: DiffContext) -> Iterator[Hit]:
    """A newly deprecated element has no ``x-sunset`` date.

    What it checks:
        Operations, parameters, schema fields and response headers that the change marks
        ``deprecated: true`` without an ``x-sunset`` date (for operations, an OpenStack
        ``x-openstack.max-ver`` retiring it at a microversion counts as one).

    Why it matters:
        Clients cannot plan a migration without knowing when the element goes away;
        RFC 8594 gives that date a standard form.

    Example:
        ``GET /orgs/{org}/projects`` gains ``deprecated: true`` and nothing else.

    Fix:
        Add ``x-sunset: YYYY-MM-DD`` at least the policy's notice period away (90 days for
        external APIs by default), next to ``deprecated: true``.

    References:
        RFC 8594; API-SIG DEP-01, DEP-03; oasdiff ``api-deprecated-sunset-missing``.
    """
    hits = _Collector()
    for element in _newly_deprecated(ctx.diff):
        if element.head is None or _sunset_of(element.head) is not None:
            continue
        if element.kind == "operation" and (
            _op_sunset(element.op.head) is not None or _retired(element.op.head)
        ):
            continue
        aud = _head_aud(ctx, element.op)
        days = notice_days(ctx.options, aud)
        subject = element.what.rsplit(" of ", 1)[0] if element.kind != "operation" else ""
        hits.add(
            _at(element.head, "deprecated"),
            "head",
            aud,
            "changed",
            element.op.label,
            lambda where, subject=subject, days=days: (
                f"{subject + ' of ' if subject else ''}{where} is newly deprecated but has no "
                f"`x-sunset` date; add `x-sunset: YYYY-MM-DD` at least {days} days away so "
                "that clients know when it goes"
            ),
        )
    yield from hits.hits()


@rule(
    "DEP005",
    "sunset-too-soon",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    options={"min_notice_days": dict(NOTICE_DAYS)},
    guideline="DEP-03",
)
def sunset_too_soon(ctx: DiffContext) -> Iterator[Hit]:
    """A new or changed sunset date gives less notice than the policy asks for.

    What it checks:
        ``x-sunset`` dates that the change sets or changes on a deprecated element and
        that are fewer than ``min_notice_days`` days after today (default: 90 for external
        APIs, 30 for internal ones).

    Why it matters:
        OpenStack's standard deprecation keeps a feature for at least one release and three
        months; a shorter window leaves clients no time to migrate.

    Example:
        ``x-sunset: 2000-01-01`` on an operation deprecated today.

    Fix:
        Move the date to at least the notice period from today.

    References:
        API-SIG DEP-03; RFC 8594; oasdiff ``api-sunset-date-too-small``.
    """
    hits = _Collector()
    candidates: list[tuple[_Element, Any]] = []
    for element in _newly_deprecated(ctx.diff):
        value = _sunset_of(element.head)
        if value is None and element.kind == "operation":
            value = _op_sunset(element.op.head)
        if value is not None:
            candidates.append((element, value))
    for element, _old, new in _sunset_changes(ctx.diff):
        if new is not None:
            candidates.append((element, new))
    for element, value in candidates:
        node = element.head
        if node is None:
            continue
        if element.kind == "operation" and element.op.head is not None:
            deprecated = element.op.head.deprecated
        else:
            deprecated = _deprecated(node)
        date = parse_sunset(value)
        if date is None or not deprecated:
            continue
        aud = _head_aud(ctx, element.op)
        days = notice_days(ctx.options, aud)
        if (date - ctx.today).days >= days:
            continue
        target = _at(node, "x-sunset")
        earliest = (ctx.today + dt.timedelta(days=days)).isoformat()
        subject = element.what.rsplit(" of ", 1)[0] if element.kind != "operation" else ""
        hits.add(
            target,
            "head",
            aud,
            "changed",
            element.op.label,
            lambda where, subject=subject, date=date, days=days, earliest=earliest: (
                f"the sunset date {date.isoformat()} of {subject + ' of ' if subject else ''}"
                f"{where} gives less than the {days} days of notice the policy asks for; "
                f"move `x-sunset` to {earliest} or later"
            ),
        )
    yield from hits.hits()


@rule("DEP006", "sunset-unparseable", kind=Kind.SPEC, severity=Severity.ERROR, guideline="RFC 8594")
def sunset_unparseable(ctx: SpecContext) -> Iterator[Hit]:
    """An ``x-sunset`` value is not a date.

    What it checks:
        Every ``x-sunset`` in the spec (on operations, path items, parameters, schemas and
        headers) must be an RFC 3339 date (``2026-03-31``), an RFC 3339 date-time, or an
        HTTP-date as in RFC 8594 (``Tue, 31 Mar 2026 00:00:00 GMT``).

    Why it matters:
        Neither clients nor govbot can act on a sunset they cannot read; the removal
        checks treat it as absent.

    Example:
        ``x-sunset: next spring``

    Fix:
        Write the date as ``YYYY-MM-DD``.

    References:
        RFC 8594; RFC 3339; oasdiff ``api-deprecated-sunset-parse``.
    """
    spec = ctx.spec
    for file, doc in spec.documents.items():
        try:
            raw = orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            raw = b'"x-sunset"'
        if b'"x-sunset"' not in raw:
            continue
        for pointer, value in _find_key(doc, "x-sunset"):
            if parse_sunset(value) is not None:
                continue
            key = _op_key_of(spec, file, pointer)
            yield Hit(
                f"`x-sunset: {value}` is not a date; write it as `YYYY-MM-DD` (RFC 3339), "
                "for example `x-sunset: 2027-03-31`",
                pointer,
                file,
                "head",
                _audience(ctx.audience, key),
                _spec_scope(ctx, file, pointer, value),
            )


@rule("DEP007", "sunset-removed", kind=Kind.DIFF, severity=Severity.ERROR, guideline="RFC 8594")
def sunset_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A deprecated element lost its sunset date.

    What it checks:
        Elements still deprecated in the head whose ``x-sunset`` the change deletes.

    Why it matters:
        Clients planned around the announced date; dropping it silently leaves them
        unsure whether the removal is earlier, later or cancelled.

    Example:
        ``deprecated: true`` stays, ``x-sunset: 2027-01-01`` is deleted.

    Fix:
        Keep the date, or move it later. To cancel a deprecation, remove
        ``deprecated: true`` as well.

    References:
        RFC 8594; oasdiff ``sunset-deleted``.
    """
    hits = _Collector()
    for element, old, new in _sunset_changes(ctx.diff):
        if old is None or new is not None or element.head is None or element.base is None:
            continue
        if element.kind == "operation":
            still = element.op.head is not None and element.op.head.deprecated
            node = element.base
            target = _at(element.base, "x-sunset")
        else:
            still = _deprecated(element.head)
            node = element.base
            target = _at(node, "x-sunset")
        if not still:
            continue
        subject = element.what.rsplit(" of ", 1)[0] if element.kind != "operation" else ""
        hits.add(
            target,
            "base",
            _head_aud(ctx, element.op),
            "changed",
            element.op.label,
            lambda where, subject=subject, old=old: (
                f"{subject + ' of ' if subject else ''}{where} is still deprecated but its "
                f"`x-sunset: {old}` was removed; keep the sunset date (or move it later)"
            ),
        )
    yield from hits.hits()


@rule(
    "DEP008", "sunset-moved-earlier", kind=Kind.DIFF, severity=Severity.ERROR, guideline="RFC 8594"
)
def sunset_moved_earlier(ctx: DiffContext) -> Iterator[Hit]:
    """A sunset date was moved earlier.

    What it checks:
        ``x-sunset`` dates that the change replaces with an earlier date.

    Why it matters:
        A sunset date may only move later: clients that planned for the announced date
        would be cut off early.

    Example:
        ``x-sunset: 2027-06-30`` becomes ``x-sunset: 2027-01-31``.

    Fix:
        Keep the original date, or choose a later one.

    References:
        RFC 8594; oasdiff ``api-sunset-date-changed-too-small``.
    """
    hits = _Collector()
    for element, old, new in _sunset_changes(ctx.diff):
        old_date, new_date = parse_sunset(old), parse_sunset(new)
        if old_date is None or new_date is None or new_date >= old_date or element.head is None:
            continue
        subject = element.what.rsplit(" of ", 1)[0] if element.kind != "operation" else ""
        hits.add(
            _at(element.head, "x-sunset"),
            "head",
            _head_aud(ctx, element.op),
            "changed",
            element.op.label,
            lambda where, subject=subject, o=old_date, n=new_date: (
                f"the sunset date of {subject + ' of ' if subject else ''}{where} moved earlier, "
                f"from {o.isoformat()} to {n.isoformat()}; a sunset may only move later, "
                f"so keep {o.isoformat()} or a later date"
            ),
        )
    yield from hits.hits()


@rule(
    "DEP009",
    "deprecated-without-replacement",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    options={"replacement_pattern": _REPLACEMENT},
    guideline="DEP-01",
)
def deprecated_without_replacement(ctx: DiffContext) -> Iterator[Hit]:
    """A newly deprecated operation or parameter does not say what to use instead.

    What it checks:
        Operations and parameters the change marks ``deprecated: true`` whose
        ``description`` and ``summary`` do not name a replacement (they match none of the
        words of the ``replacement_pattern`` option: "use", "instead", "replaced by",
        "superseded", "migrate", "see", ...).

    Why it matters:
        A deprecation is only actionable with a migration path; API-SIG asks for one to
        be documented.

    Example:
        ``deprecated: true`` on ``GET /os-floating-ips`` with the description "List
        floating IPs."

    Fix:
        Say what replaces it: "Deprecated: use the Networking API's ``GET
        /v2.0/floatingips`` instead."

    References:
        API-SIG DEP-01, DEP-03 (document a migration path).
    """
    pattern = re.compile(str(ctx.options.get("replacement_pattern", _REPLACEMENT)), re.IGNORECASE)
    for element in _newly_deprecated(ctx.diff):
        if element.kind not in ("operation", "parameter") or element.head is None:
            continue
        value = element.head.value
        text = " ".join(
            str(value.get(k) or "") for k in ("description", "summary", "x-deprecated-message")
        )
        if pattern.search(text):
            continue
        yield Hit(
            f"{element.what} is newly deprecated but its description does not name a "
            'replacement; say what clients should use instead (for example "Deprecated: '
            'use ... instead")',
            _at(element.head, "deprecated").pointer,
            element.head.file,
            "head",
            _head_aud(ctx, element.op),
            "changed",
        )


# --- request compatibility --------------------------------------------------------------


@rule(
    "DEP010",
    "request-parameter-removed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-07",
)
def request_parameter_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A request parameter was removed without having been deprecated first.

    What it checks:
        Query, header and cookie parameters of an operation that is still there, present
        in the base, missing from the head, and not ``deprecated: true`` in the base.

    Why it matters:
        Clients that send it get an error, or silently lose the behaviour it selected.

    Example:
        ``GET /servers`` drops its ``sort_key`` query parameter.

    Fix:
        Keep the parameter and mark it ``deprecated: true`` with an ``x-sunset`` date;
        remove it in a later release.

    References:
        API-SIG INT-07, DEP-07; oasdiff ``request-parameter-removed``.
    """
    for d in ctx.diff.changed:
        for p in d.parameters:
            if p.kind != "removed" or p.base is None or p.base.deprecated:
                continue
            if p.base.location == "path":
                continue
            yield Hit(
                f"{p.location} parameter {_ticked(p.name)} of {d.label} was removed without "
                "being deprecated first; keep it, mark it `deprecated: true` with an "
                "`x-sunset` date, and remove it in a later release",
                p.base.node.pointer,
                p.base.node.file,
                "base",
                _base_aud(ctx, d),
                "changed",
            )


@rule(
    "DEP011",
    "new-required-request-parameter",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-07",
)
def new_required_request_parameter(ctx: DiffContext) -> Iterator[Hit]:
    """An existing operation gained a required parameter, or a parameter became required.

    What it checks:
        Parameters added as ``required: true`` to operations present on both sides, and
        optional parameters that became required.

    Why it matters:
        Every existing client call lacks the parameter and starts failing.

    Example:
        ``GET /servers`` gains ``required: true`` on its ``project_id`` query parameter.

    Fix:
        Make the parameter optional with a default that keeps today's behaviour.

    References:
        API-SIG INT-07; oasdiff ``new-required-request-parameter``,
        ``request-parameter-became-required``.
    """
    for d in ctx.diff.changed:
        for p in d.parameters:
            if p.head is None or p.location == "path":
                continue
            if p.kind == "added" and p.head.required:
                verb = "gained the required"
            elif p.kind == "changed" and (c := p.change("required")) and c.new is True:
                verb = "now requires the"
            else:
                continue
            node = _at(p.head.node, "required")
            yield Hit(
                f"{d.label} {verb} {p.location} parameter {_ticked(p.name)}; existing clients "
                "do not send it, so make it optional with a default that keeps today's "
                "behaviour",
                node.pointer,
                node.file,
                "head",
                _head_aud(ctx, d),
                "changed",
            )


@rule(
    "DEP012",
    "new-required-request-property",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-04",
)
def new_required_request_property(ctx: DiffContext) -> Iterator[Hit]:
    """A request body or request field became required for an existing operation.

    What it checks:
        On operations present on both sides: a request body added as required or made
        required, fields added to the request schema as required (without a ``default``,
        and not ``readOnly``), and optional request fields that became required.

    Why it matters:
        Existing clients do not send the new field or body and start getting 400s.

    Example:
        ``POST /servers`` lists a new property ``flavor_ref`` under ``required``.

    Fix:
        Make it optional (with a server-side default), or introduce it with a new
        microversion or major version.

    References:
        API-SIG INT-04; oasdiff ``new-required-request-property``,
        ``request-property-became-required``, ``request-body-became-required``.
    """
    hits = _Collector()
    for d in ctx.diff.changed:
        aud = _head_aud(ctx, d)
        body = d.request_body
        if body is not None and body.head is not None:
            c = body.change("required")
            if (body.kind == "added" and body.head.required) or (c is not None and c.new is True):
                node = _at(body.head.node, "required")
                yield Hit(
                    f"{d.label} now requires a request body; existing clients send none, so "
                    "make the body optional",
                    node.pointer,
                    node.file,
                    "head",
                    aud,
                    "changed",
                )
        for direction, _body, _schema, f in d.fields():
            if direction != "request" or not f.path or f.head is None:
                continue
            if _readonly(f, "head"):
                continue
            if f.kind == "added" and f.head_required:
                if isinstance(f.head.value, Mapping) and "default" in f.head.value:
                    continue
                verb = "is new and required"
            elif f.kind == "changed" and (c := f.change("required")) and c.new is True:
                verb = "became required"
            else:
                continue
            hits.add(
                f.head,
                "head",
                aud,
                "changed",
                d.label,
                lambda where, path=f.path, verb=verb: (
                    f"request field {_ticked(path)} of {where} {verb}; existing clients do not "
                    "send it, so make it optional with a server-side default"
                ),
            )
    yield from hits.hits()


@rule(
    "DEP013", "property-type-changed", kind=Kind.DIFF, severity=Severity.ERROR, guideline="INT-05"
)
def property_type_changed(ctx: DiffContext) -> Iterator[Hit]:
    """The type or format of a parameter, request field or response field changed.

    What it checks:
        ``type`` or ``format`` changes of parameters, of request and response schema
        fields (at any depth) and of response headers, on operations present on both
        sides.

    Why it matters:
        Clients parse and build values by type; a string that becomes an integer breaks
        deserialisation and validation in every typed SDK.

    Example:
        ``server.id`` in the response of ``GET /servers/{server_id}`` goes from
        ``type: integer`` to ``type: string``.

    Fix:
        Keep the old field as it is and add a new field with the new type (deprecating
        the old one), or introduce the change with a new version.

    References:
        API-SIG INT-05; oasdiff ``request-property-type-changed``,
        ``response-property-type-changed``, ``request-parameter-type-changed``.
    """
    hits = _Collector()
    for d in ctx.diff.changed:
        aud = _head_aud(ctx, d)
        items: list[tuple[str, FieldDiff]] = []
        for p in d.parameters:
            for f in p.fields:
                label = f"{p.location} parameter {_ticked(p.name)}"
                items.append((label + (f" (field {_ticked(f.path)})" if f.path else ""), f))
        for direction, body, _schema, f in d.fields():
            items.append((_field_label(direction, body, f), f))
        for body in d.responses:
            for h in body.headers:
                for f in h.fields:
                    items.append((f"header {_ticked(h.name)} of the {body.status} response", f))
        for label, f in items:
            if f.kind != "changed" or f.head is None:
                continue
            # A type or format appearing or disappearing loosens or tightens a schema
            # without changing what a value is; only a change from one to another counts.
            parts = [
                f"{c.attr} from {c.old} to {c.new}"
                for c in f.changes
                if c.attr in ("type", "format") and c.old is not None and c.new is not None
            ]
            if not parts:
                continue
            node = _at(f.head, "type") if f.change("type") else _at(f.head, "format")
            joined = " and ".join(parts)
            hits.add(
                node,
                "head",
                aud,
                "changed",
                d.label,
                lambda where, label=label, parts=joined: (
                    f"{label} of {where} changed {parts}; keep the old field unchanged and add "
                    "a new one (deprecating the old), or make the change in a new version"
                ),
            )
    yield from hits.hits()


# --- response compatibility -------------------------------------------------------------


def _response_removals(ctx: DiffContext, *, required: bool) -> Iterator[Hit]:
    hits = _Collector()
    for d in ctx.diff.changed:
        aud = _base_aud(ctx, d)
        for direction, body, _schema, f in d.fields():
            if direction != "response" or f.kind != "removed" or not f.path:
                continue
            if f.base_required is not required or _deprecated(f.base) or _writeonly(f, "base"):
                continue
            assert f.base is not None
            status = body.status
            hits.add(
                f.base,
                "base",
                aud,
                "changed",
                d.label,
                lambda where, path=f.path, status=status: (
                    f"{'required' if required else 'optional'} field {_ticked(path)} of the "
                    f"{status} response of {where} was removed without being deprecated first; "
                    "keep returning it, mark it `deprecated: true` with an `x-sunset` date, "
                    "and remove it in a later version"
                ),
            )
    yield from hits.hits()


@rule(
    "DEP014",
    "response-required-property-removed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-04",
)
def response_required_property_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A required response field was removed without having been deprecated first.

    What it checks:
        Fields listed as ``required`` in a response schema of the base (at any depth) that
        are missing from the head's schema and were not ``deprecated: true``.

    Why it matters:
        Clients rely on required fields being present; their code fails when one is gone.

    Example:
        ``server.status`` disappears from the 200 response of ``GET /servers/{server_id}``.

    Fix:
        Keep returning the field, deprecate it with an ``x-sunset`` date, and remove it in
        a later version.

    References:
        API-SIG INT-04; oasdiff ``response-required-property-removed``.
    """
    yield from _response_removals(ctx, required=True)


@rule(
    "DEP015",
    "response-property-became-optional",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-05",
)
def response_property_became_optional(ctx: DiffContext) -> Iterator[Hit]:
    """A required response field became optional or nullable.

    What it checks:
        Response schema fields (at any depth) that were required and are no longer
        listed as required, or that became ``nullable``.

    Why it matters:
        Clients written against the old contract read the field unconditionally and fail
        when it is absent or null.

    Example:
        ``server.created`` is dropped from the ``required`` list of the 200 response.

    Fix:
        Keep the field required and non-null; if it can really be missing, introduce that
        with a new version.

    References:
        API-SIG INT-05; oasdiff ``response-property-became-optional``,
        ``response-property-became-nullable``.
    """
    hits = _Collector()
    for d in ctx.diff.changed:
        aud = _head_aud(ctx, d)
        for direction, body, _schema, f in d.fields():
            if direction != "response" or f.kind != "changed" or f.head is None or not f.path:
                continue
            required = f.change("required")
            nullable = f.change("nullable")
            if required is not None and required.new is False:
                how = "is no longer required"
            elif nullable is not None and nullable.new is True:
                how = "became nullable"
            else:
                continue
            status = body.status
            hits.add(
                f.head,
                "head",
                aud,
                "changed",
                d.label,
                lambda where, path=f.path, how=how, status=status: (
                    f"field {_ticked(path)} of the {status} response of {where} {how}; clients "
                    "read it unconditionally, so keep it required and non-null (or change it "
                    "in a new version)"
                ),
                tag=how,
            )
    yield from hits.hits()


@rule(
    "DEP016",
    "response-optional-property-removed",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    guideline="INT-04",
)
def response_optional_property_removed(ctx: DiffContext) -> Iterator[Hit]:
    """An optional response field was removed without having been deprecated first.

    What it checks:
        Optional fields of a response schema of the base (at any depth) that are missing
        from the head and were not ``deprecated: true``.

    Why it matters:
        Clients that use the field when it is present lose data silently.

    Example:
        ``server.description`` disappears from the 200 response of ``GET /servers/{id}``.

    Fix:
        Keep returning it, deprecate it with an ``x-sunset`` date, remove it later.

    References:
        API-SIG INT-04; oasdiff ``response-optional-property-removed``.
    """
    yield from _response_removals(ctx, required=False)


@rule(
    "DEP017",
    "request-property-removed",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    guideline="INT-04",
)
def request_property_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A request field was removed without having been deprecated first.

    What it checks:
        Fields of a request body schema of the base (at any depth, not ``readOnly``)
        missing from the head's schema and not ``deprecated: true``.

    Why it matters:
        Clients that send the field get a 400 from a strict schema
        (``additionalProperties: false``), or silently lose what it did.

    Example:
        ``POST /servers`` drops ``server.personality`` from its request schema.

    Fix:
        Keep accepting it, deprecate it with an ``x-sunset`` date, remove it later.

    References:
        API-SIG INT-04; oasdiff ``request-property-removed``.
    """
    hits = _Collector()
    for d in ctx.diff.changed:
        aud = _base_aud(ctx, d)
        for direction, _body, _schema, f in d.fields():
            if direction != "request" or f.kind != "removed" or not f.path or f.base is None:
                continue
            if _deprecated(f.base) or _readonly(f, "base"):
                continue
            hits.add(
                f.base,
                "base",
                aud,
                "changed",
                d.label,
                lambda where, path=f.path: (
                    f"request field {_ticked(path)} of {where} was removed without being "
                    "deprecated first; keep accepting it, mark it `deprecated: true` with an "
                    "`x-sunset` date, and remove it in a later version"
                ),
            )
    yield from hits.hits()


@rule(
    "DEP018",
    "response-success-status-removed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-02",
)
def response_success_status_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A success status code was removed from an operation.

    What it checks:
        2xx responses (``200``, ``201``, ``2XX``, ...) declared in the base and missing from
        the head of an operation present on both sides.

    Why it matters:
        Clients branch on the status code; changing one success code for another (201 to
        204, say) breaks them, and API-SIG requires a new version for it.

    Example:
        ``POST /servers`` answered ``202``; the revision declares only ``201``.

    Fix:
        Keep the old status code, or change it in a new microversion / major version.

    References:
        API-SIG INT-02; oasdiff ``response-success-status-removed``.
    """
    for d in ctx.diff.changed:
        for body in d.responses:
            if body.kind != "removed" or body.base is None or not str(body.status).startswith("2"):
                continue
            added = [
                b.status for b in d.responses if b.kind == "added" and str(b.status).startswith("2")
            ]
            instead = (
                f" (the revision declares {', '.join(map(str, added))} instead)" if added else ""
            )
            yield Hit(
                f"{d.label} no longer declares its {body.status} response{instead}; clients "
                "check for that status, so keep it or change it in a new version",
                body.base.node.pointer,
                body.base.node.file,
                "base",
                _base_aud(ctx, d),
                "changed",
            )


@rule(
    "DEP019",
    "request-enum-value-removed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-06",
)
def request_enum_value_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A value clients could send was removed from an enum.

    What it checks:
        ``enum`` values of parameters and request fields (at any depth) present in the
        base and missing from the head.

    Why it matters:
        Requests that use the removed value start failing validation.

    Example:
        ``sort_dir`` of ``GET /servers`` allowed ``[asc, desc]`` and now allows ``[asc]``.

    Fix:
        Keep accepting the value (deprecate it in the description), or remove it in a new
        version.

    References:
        API-SIG INT-06; oasdiff ``request-property-enum-value-removed``,
        ``request-parameter-enum-value-removed``.
    """
    hits = _Collector()
    for d in ctx.diff.changed:
        aud = _head_aud(ctx, d)
        items: list[tuple[str, FieldDiff]] = []
        for p in d.parameters:
            for f in p.fields:
                label = f"{p.location} parameter {_ticked(p.name)}"
                items.append((label + (f" (field {_ticked(f.path)})" if f.path else ""), f))
        for direction, body, _schema, f in d.fields():
            if direction == "request":
                items.append((_field_label(direction, body, f), f))
        for label, f in items:
            if not f.enum_removed or f.head is None:
                continue
            values = ", ".join(_ticked(_show(v)) for v in f.enum_removed)
            hits.add(
                _at(f.head, "enum"),
                "head",
                aud,
                "changed",
                d.label,
                lambda where, label=label, values=values: (
                    f"{label} of {where} no longer accepts {values}; clients sending it will "
                    "fail, so keep the value(s) or remove them in a new version"
                ),
            )
    yield from hits.hits()


@rule(
    "DEP020",
    "response-enum-value-added",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    guideline="INT-06",
)
def response_enum_value_added(ctx: DiffContext) -> Iterator[Hit]:
    """A response field can carry a value clients have never seen.

    What it checks:
        ``enum`` values added to response fields (at any depth) of operations present on
        both sides, unless the field is marked ``x-extensible-enum``.

    Why it matters:
        Clients that switch over the documented values (generated SDK enums, say) fail
        or misbehave on an unknown one.

    Example:
        ``server.status`` of ``GET /servers/{id}`` gains ``SHELVED``.

    Fix:
        Introduce the value with a new version, or document the enum as extensible
        (``x-extensible-enum``) so that clients handle unknown values.

    References:
        API-SIG INT-06; oasdiff ``response-property-enum-value-added``.
    """
    hits = _Collector()
    for d in ctx.diff.changed:
        aud = _head_aud(ctx, d)
        for direction, body, _schema, f in d.fields():
            if direction != "response" or not f.enum_added or f.head is None:
                continue
            if isinstance(f.head.value, Mapping) and "x-extensible-enum" in f.head.value:
                continue
            values = ", ".join(_ticked(_show(v)) for v in f.enum_added)
            label = _field_label(direction, body, f)
            hits.add(
                _at(f.head, "enum"),
                "head",
                aud,
                "changed",
                d.label,
                lambda where, label=label, values=values: (
                    f"{label} of {where} can now return {values}; clients that only know the "
                    "old values may fail, so add it in a new version or mark the enum "
                    "`x-extensible-enum`"
                ),
            )
    yield from hits.hits()


@rule("DEP021", "security-tightened", kind=Kind.DIFF, severity=Severity.ERROR, guideline="INT-07")
def security_tightened(ctx: DiffContext) -> Iterator[Hit]:
    """An operation asks for more authentication or authorisation than before.

    What it checks:
        The effective security requirements of operations present on both sides: each
        way a client could authenticate before (a scheme with its scopes, or anonymous
        access) must still be enough afterwards.

    Why it matters:
        Requests that used to succeed now fail with 401 or 403.

    Example:
        ``GET /flavors`` had ``security: []`` (anonymous) and now requires ``oauth2``.

    Fix:
        Keep accepting the old credentials, or tighten security in a new version.

    References:
        API-SIG INT-07; oasdiff ``api-security-added``, ``api-security-scope-added``.
    """
    if not _declares_security(ctx.base):
        # A base that documents no security at all says nothing about anonymous access;
        # documenting the real requirements later is not a tightening.
        return
    for d in ctx.diff.changed:
        c = d.change("security")
        if c is None or d.head is None:
            continue
        lost = [a for a in c.old if not any(_covers(a, h) for h in c.new)]
        if not lost:
            continue
        node = _at(d.head.node, "security")
        yield Hit(
            f"{d.label} no longer accepts {_describe_security(lost[0])}; it now requires "
            f"{' or '.join(_describe_security(a) for a in c.new)}. Keep accepting the old "
            "credentials, or tighten security in a new version",
            node.pointer,
            node.file,
            "head",
            _head_aud(ctx, d),
            "changed",
        )


def _declares_security(spec: Spec) -> bool:
    data = spec.data or {}
    components = data.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
    return bool(schemes or data.get("securityDefinitions") or data.get("security"))


def _covers(old: SecurityAlternative, new: SecurityAlternative) -> bool:
    """True when a client satisfying ``old`` also satisfies ``new``."""
    have = dict(old)
    return all(scheme in have and set(scopes) <= set(have[scheme]) for scheme, scopes in new)


def _describe_security(alt: SecurityAlternative) -> str:
    if not alt:
        return "anonymous requests"
    return " + ".join(
        f"`{scheme}`" + (f" (scopes {', '.join(scopes)})" if scopes else "")
        for scheme, scopes in alt
    )


# --- versions ---------------------------------------------------------------------------


def _info_version(spec: Spec) -> str | None:
    info = (spec.data or {}).get("info")
    v = info.get("version") if isinstance(info, Mapping) else None
    return None if v is None else str(v)


def _microversioned(spec: Spec, options: Mapping[str, Any]) -> bool:
    """OpenStack-style: ops carry ``x-openstack: {min-ver, max-ver}`` (or the policy says so)."""
    setting = options.get("microversions", "auto")
    if setting is True or setting is False:
        return bool(setting)
    if microversion(_info_version(spec)) is None:
        return False
    return any(
        "min-ver" in op.x_openstack or "max-ver" in op.x_openstack for op in operations(spec)
    )


def _api_change(d: OperationDiff) -> str | None:
    """The first change of an operation that API-SIG says needs a version, in words."""
    if d.kind == "added":
        return "is a new operation"
    if d.change("security"):
        return "changed its security requirements"
    for p in d.parameters:
        if p.kind != "changed":
            return f"{p.kind} the {p.location} parameter {_ticked(p.name)}"
        if any(c.attr not in ("deprecated", "x-sunset", "x-openstack") for c in p.changes):
            return f"changed the {p.location} parameter {_ticked(p.name)}"
        if any(_interop_field(f) for f in p.fields):
            return f"changed the {p.location} parameter {_ticked(p.name)}"
    bodies = ([d.request_body] if d.request_body else []) + list(d.responses)
    for body in bodies:
        where = "the request body" if body.status is None else f"the {body.status} response"
        if body.kind != "changed":
            return f"{body.kind} {where}"
        if body.changes or body.media_added or body.media_removed:
            return f"changed {where}"
        for schema in body.schemas:
            for f in schema.fields:
                if _interop_field(f):
                    name = f"field {_ticked(f.path)}" if f.path else "the schema"
                    return f"{f.kind} {name} of {where}"
        for h in body.headers:
            if h.kind != "changed" or h.fields:
                return f"{h.kind} header {_ticked(h.name)} of {where}"
    return None


def _interop_field(f: FieldDiff) -> bool:
    if f.kind != "changed" or f.enum_added or f.enum_removed:
        return True
    return any(
        c.attr not in ("deprecated", "x-sunset", "x-openstack", "default") for c in f.changes
    )


@rule(
    "DEP022",
    "needs-microversion",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    options={"microversions": "auto"},
    guideline="MV-02",
)
def needs_microversion(ctx: DiffContext) -> Iterator[Hit]:
    """An API change to a microversioned (OpenStack) API comes without a new microversion.

    What it checks:
        In specs whose operations carry ``x-openstack: {min-ver, max-ver}`` (or when the
        ``microversions`` option is true): every added operation and every operation whose
        URL, parameters, request or response fields, enums, headers, status codes or
        security changed needs ``info.version`` (the maximum microversion) to go up.
        When it did go up, a new operation must be gated with an ``x-openstack.min-ver``
        above the base's maximum microversion, so that older microversions do not grow it.

    Why it matters:
        API-SIG's interoperability rule: even additive changes break interoperability
        between clouds at the "same" version, so each one needs a new microversion.

    Example:
        A new property ``host_status`` in the response of ``GET /servers/{id}`` while
        ``info.version`` stays ``2.96``.

    Fix:
        Raise ``info.version`` to the next microversion and gate the change with
        ``x-openstack: {min-ver: '<that version>'}``.

    References:
        API-SIG MV-02, INT-01 to INT-06 (``microversion_specification.rst``,
        ``api_interoperability.rst``).
    """
    if not (_microversioned(ctx.head, ctx.options) or _microversioned(ctx.base, ctx.options)):
        return
    vb_text, vh_text = _info_version(ctx.base), _info_version(ctx.head)
    vb, vh = microversion(vb_text), microversion(vh_text)
    if vb is None or vh is None:
        return
    bumped = vh > vb
    proposed = f"{vb[0]}.{vb[1] + 1}"
    for d in ctx.diff.added + ctx.diff.changed:
        assert d.head is not None
        what = _api_change(d)
        if what is None:
            continue
        if not bumped:
            yield Hit(
                f"{d.label} {what}, but `info.version` is still {vh_text}; every API change "
                f"needs a new microversion: raise `info.version` to {proposed} and gate the "
                f"change with `x-openstack: {{min-ver: '{proposed}'}}`",
                d.head.node.pointer,
                d.head.node.file,
                "head",
                _head_aud(ctx, d),
                "new" if d.kind == "added" else "changed",
            )
        elif d.kind == "added":
            min_ver = microversion(d.head.x_openstack.get("min-ver"))
            if min_ver is not None and min_ver > vb:
                continue
            yield Hit(
                f"{d.label} is new but is not gated by a new microversion, so clients of "
                f"microversion {vb_text} and earlier would see it; add "
                f"`x-openstack: {{min-ver: '{proposed}'}}`",
                _at(d.head.node, "x-openstack").pointer,
                d.head.node.file,
                "head",
                _head_aud(ctx, d),
                "new",
            )


def _breaking_checks() -> tuple[Rule, ...]:
    """The rules whose findings are incompatible changes (used by DEP023)."""
    return (
        removed_without_deprecation,
        removed_before_sunset,
        request_parameter_removed,
        new_required_request_parameter,
        new_required_request_property,
        property_type_changed,
        response_required_property_removed,
        response_property_became_optional,
        response_success_status_removed,
        request_enum_value_removed,
        security_tightened,
        microversion_range_narrowed,
    )


@rule(
    "DEP023",
    "major-version-not-bumped",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    options={"microversions": "auto"},
    guideline="MV-02",
)
def major_version_not_bumped(ctx: DiffContext) -> Iterator[Hit]:
    """Incompatible changes come without a new major ``info.version``.

    What it checks:
        In specs that are not microversioned, when the change contains incompatible
        changes (those reported by DEP001, DEP002, DEP010 to DEP015, DEP018, DEP019,
        DEP021, DEP024), the major part of ``info.version`` (semantic versioning) must
        go up.

    Why it matters:
        The version is how clients and SDKs learn that a release can break them.

    Example:
        ``info.version`` goes from ``1.4.0`` to ``1.5.0`` while an operation is removed
        without deprecation.

    Fix:
        Make the changes compatible, or raise the major version (``2.0.0``).

    References:
        API-SIG MV-02 (versions mark incompatible changes); semver.org; oasdiff
        ``api-major-version-not-bumped``.
    """
    if _microversioned(ctx.head, ctx.options):
        return
    vb_text, vh_text = _info_version(ctx.base), _info_version(ctx.head)
    mb = _SEMVER.match(vb_text or "")
    mh = _SEMVER.match(vh_text or "")
    if mb is None or mh is None or int(mh.group(1)) > int(mb.group(1)):
        return
    breaking: list[Hit] = [hit for check in _breaking_checks() for hit in check.run(ctx)]
    external = [h for h in breaking if h.audience.is_external]
    if not breaking:
        return
    info = ctx.head.root.get("info")
    node = _at(info, "version") if info is not None else ctx.head.root
    count = len(breaking)
    first = breaking[0].message.split(";", 1)[0]
    yield Hit(
        f"this change has {count} incompatible change{'s' if count != 1 else ''} (first: "
        f"{first}) but `info.version` goes from {vb_text} to {vh_text}; raise the major "
        f"version to {int(mb.group(1)) + 1}.0.0 or make the changes compatible",
        node.pointer,
        node.file,
        "head",
        Audience.EXTERNAL if external else Audience.INTERNAL,
        "changed",
    )


@rule(
    "DEP024",
    "microversion-range-narrowed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="MV-06",
)
def microversion_range_narrowed(ctx: DiffContext) -> Iterator[Hit]:
    """An operation disappears from microversions that were already released.

    What it checks:
        Changes of an operation's ``x-openstack`` range: a raised ``min-ver``, or a
        ``max-ver`` set or lowered below the base spec's maximum microversion
        (``info.version``). Removing an operation *from a new microversion* on (``max-ver``
        at least the base's maximum) is lawful and reported by DEP003.

    Why it matters:
        Each microversion is a contract: clients pinned to 2.40 must see the same API
        forever. Raising the minimum version breaks old clients.

    Example:
        ``GET /os-agents`` had ``min-ver: '2.1'`` and now has ``min-ver: '2.60'``.

    Fix:
        Keep the old range and retire the operation with ``max-ver`` set to the current
        maximum microversion, so that it goes away from the next microversion on.

    References:
        API-SIG MV-06, DEP-02, DEP-05.
    """
    base_mv = microversion(_info_version(ctx.base))
    for d in ctx.diff.changed:
        c = d.change("x-openstack")
        if c is None or d.head is None:
            continue
        old, new = c.old or {}, c.new or {}
        problems = []
        old_min, new_min = microversion(old.get("min-ver")), microversion(new.get("min-ver"))
        # A min-ver appearing where there was none may only annotate the API's own minimum,
        # so only a raised one counts.
        if new_min is not None and old_min is not None and new_min > old_min:
            problems.append(f"`min-ver` rose from {old['min-ver']} to {new['min-ver']}")
        old_max, new_max = microversion(old.get("max-ver")), microversion(new.get("max-ver"))
        lowered = new_max is not None and (old_max is None or new_max < old_max)
        if lowered and base_mv is not None and new_max is not None and new_max < base_mv:
            problems.append(
                f"`max-ver` became {new['max-ver']}, below the released {_info_version(ctx.base)}"
            )
        if not problems:
            continue
        node = _at(d.head.node, "x-openstack")
        yield Hit(
            f"{d.label} disappears from microversions already released ({'; '.join(problems)}); "
            "keep its range and retire it with `max-ver` set to the current maximum "
            "microversion instead",
            node.pointer,
            node.file,
            "head",
            _head_aud(ctx, d),
            "changed",
        )


@rule(
    "DEP025",
    "response-header-removed",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    guideline="INT-03",
)
def response_header_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A response header was removed without having been deprecated first.

    What it checks:
        Headers declared on a response in the base and missing from the head's response
        (names compared case-insensitively), unless ``deprecated: true`` in the base.

    Why it matters:
        Clients read headers such as ``Location`` or ``OpenStack-API-Version``; API-SIG
        counts adding or removing a header as an interoperability change.

    Example:
        The 202 response of ``POST /servers`` no longer declares ``Location``.

    Fix:
        Keep sending the header, or remove it in a new version.

    References:
        API-SIG INT-03; oasdiff ``response-optional-header-removed``,
        ``response-required-header-removed``.
    """
    for d in ctx.diff.changed:
        for body in d.responses:
            for h in body.headers:
                if h.kind != "removed" or h.base is None or _deprecated(h.base):
                    continue
                yield Hit(
                    f"header {_ticked(h.name)} of the {body.status} response of {d.label} was "
                    "removed without being deprecated first; keep sending it, or remove it "
                    "in a new version",
                    h.base.pointer,
                    h.base.file,
                    "base",
                    _base_aud(ctx, d),
                    "changed",
                )


@rule(
    "DEP026",
    "retired-operation-not-deprecated",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    guideline="DEP-05",
)
def retired_operation_not_deprecated(ctx: SpecContext) -> Iterator[Hit]:
    """An operation retired at a microversion is not marked deprecated.

    What it checks:
        Operations with ``x-openstack.max-ver`` (gone after that microversion) that lack
        ``deprecated: true``.

    Why it matters:
        OpenStack's OpenAPI convention shows a retired window as ``deprecated: true`` plus
        ``x-openstack: {min-ver, max-ver}``; documentation and SDK generators rely on the
        flag to warn users.

    Example:
        ``GET /v2.1/images`` has ``x-openstack: {min-ver: '2.1', max-ver: '2.35'}`` and no
        ``deprecated``.

    Fix:
        Add ``deprecated: true`` (and a description naming the replacement).

    References:
        API-SIG DEP-05, DEP-06.
    """
    if microversion(_info_version(ctx.spec)) is None:
        return  # not an OpenStack microversioned spec: nothing can carry max-ver
    for op in operations(ctx.spec):
        if "max-ver" not in op.x_openstack or op.deprecated:
            continue
        node = _at(op.node, "x-openstack")
        yield Hit(
            f"{op.label} is retired after microversion {op.x_openstack['max-ver']} but is not "
            "marked `deprecated: true`; add it so that documentation and SDKs warn users",
            node.pointer,
            node.file,
            "head",
            _audience(ctx.audience, op.key),
            ctx.scope_of(op.key),
        )


@rule("DEP027", "media-type-removed", kind=Kind.DIFF, severity=Severity.ERROR, guideline="INT-03")
def media_type_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A request or response media type was removed.

    What it checks:
        Media types (``application/json``, ...) of the request body or of a response of
        an operation present on both sides that the head no longer declares (parameters
        such as ``charset`` are ignored).

    Why it matters:
        Clients sending that ``Content-Type`` get 415; clients asking for it with
        ``Accept`` get 406 or something they cannot parse.

    Example:
        ``PUT /objects/{name}`` accepted ``application/octet-stream`` and
        ``application/json``; the revision only accepts ``application/json``.

    Fix:
        Keep the media type, or remove it in a new version.

    References:
        API-SIG INT-03; oasdiff ``request-body-media-type-removed``,
        ``response-media-type-removed``.
    """
    for d in ctx.diff.changed:
        bodies = ([d.request_body] if d.request_body else []) + list(d.responses)
        for body in bodies:
            if body.base is None:
                continue
            for media in body.media_removed:
                where = "request body" if body.status is None else f"{body.status} response"
                node = body.base.node
                content = node.get("content")
                if content is not None and isinstance(content.value, Mapping):
                    node = _at(content, media)
                yield Hit(
                    f"the {where} of {d.label} no longer supports {_ticked(media)}; clients "
                    "using it will fail, so keep it or remove it in a new version",
                    node.pointer,
                    node.file,
                    "base",
                    _base_aud(ctx, d),
                    "changed",
                )


# --- spec helpers -----------------------------------------------------------------------


def _find_key(doc: Any, key: str) -> Iterator[tuple[str, Any]]:
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, Mapping):
            for k, v in value.items():
                child = join(pointer, str(k))
                if k == key:
                    yield child, v
                elif isinstance(v, Mapping | list):
                    stack.append((child, v))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, Mapping | list):
                    stack.append((join(pointer, i), v))


def _op_key_of(spec: Spec, file: str, pointer: str) -> str | None:
    """The operation key a pointer lies under (``/paths/<path>/<method>/...``), if any."""
    if file != spec.file:
        return None
    tokens = split(pointer)
    if len(tokens) >= 3 and tokens[0] == "paths" and tokens[2] in HTTP_METHODS:
        return f"{tokens[2].upper()} {normalize_path(tokens[1])}"
    return None


def _spec_scope(ctx: SpecContext, file: str, pointer: str, value: Any) -> Scope:
    if ctx.touched is None:
        return "new"
    if ctx.base is not None:
        doc = ctx.base.documents.get(file)
        try:
            if doc is not None and get_pointer(doc, pointer) == value:
                return "existing"
        except (KeyError, IndexError, TypeError, ValueError):
            pass
    return "changed"


def _show(value: Any) -> str:
    return "null" if value is None else str(value)
