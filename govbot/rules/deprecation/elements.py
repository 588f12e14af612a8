"""What the DEP rules talk about: the elements of a diff with a lifecycle, and shared helpers.

The rules read the structural diff of :mod:`govbot.diff` (and, for the two ``spec``
rules, one spec) and only find things; :mod:`govbot.evaluate` decides severity and
waivers. Removals point into the base spec (:meth:`DiffContext.on_base`), everything
else into the head (:meth:`DiffContext.on_head`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from govbot.audience import Classification
from govbot.diff import (
    BodyDiff,
    FieldDiff,
    OperationDiff,
    SpecDiff,
)
from govbot.diff.keywords import UNSTABLE, stability
from govbot.findings import Audience, Scope, Side
from govbot.rules.registry import DiffContext, Hit, SpecContext, unstable_note
from govbot.surface import (
    HTTP_METHODS,
    Node,
    Operation,
    Spec,
    get_pointer,
    join,
    normalize_path,
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


SEMVER = re.compile(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


REPLACEMENT = (
    r"\b(use|using|instead|replac\w*|supersed\w*|successor|migrat\w*|in favou?r of|"
    r"switch to|moved to|see)\b"
)


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


def audience_of(classification: Classification, key: str | None) -> Audience:
    return classification.of(key)


def base_aud(ctx: DiffContext, d: OperationDiff) -> Audience:
    return audience_of(ctx.base_audience, d.key)


def head_aud(ctx: DiffContext, d: OperationDiff) -> Audience:
    if d.head is None:
        return base_aud(ctx, d)
    return audience_of(ctx.head_audience, d.key)


def ticked(text: str) -> str:
    return f"`{text}`"


def field_label(direction: str, body: BodyDiff, f: FieldDiff) -> str:
    if direction == "request":
        return f"request field {ticked(f.path)}" if f.path else "the request body"
    where = f"the {body.status} response"
    return f"field {ticked(f.path)} of {where}" if f.path else f"the body of {where}"


def is_deprecated(node: Node | None) -> bool:
    return (
        node is not None
        and isinstance(node.value, Mapping)
        and node.value.get("deprecated") is True
    )


def sunset_of(node: Node | None) -> Any:
    return (
        node.value.get("x-sunset") if node is not None and isinstance(node.value, Mapping) else None
    )


def key_node(node: Node, key: str) -> Node:
    """``node``'s child ``key`` when present (so a finding lands on that line), else ``node``."""
    child = node.get(key)
    return child if child is not None else node


def is_readonly(f: FieldDiff, side: Side) -> bool:
    node = f.base if side == Side.BASE else f.head
    return (
        node is not None and isinstance(node.value, Mapping) and node.value.get("readOnly") is True
    )


def is_writeonly(f: FieldDiff, side: Side) -> bool:
    node = f.base if side == Side.BASE else f.head
    return (
        node is not None and isinstance(node.value, Mapping) and node.value.get("writeOnly") is True
    )


class Collector:
    """Folds hits that land on the same node (a component shared by many operations)
    into one, naming the first operation and counting the others. Every hit is about
    what the change did: changed surface. ``advisory`` (:func:`advisory_of`) marks a hit
    about draft or alpha surface; a folded hit stays advisory only if all its parts are."""

    def __init__(self) -> None:
        self._groups: dict[tuple[Side, str, str, str], list[Any]] = {}

    def on_base(
        self,
        node: Node,
        audience: Audience,
        where: str,
        make: Callable[[str], str],
        tag: str = "",
        advisory: str = "",
    ) -> None:
        """A hit at ``node`` of the base spec (something removed or changed)."""
        self._add(node, Side.BASE, audience, where, make, tag, advisory)

    def on_head(
        self,
        node: Node,
        audience: Audience,
        where: str,
        make: Callable[[str], str],
        tag: str = "",
        advisory: str = "",
    ) -> None:
        """A hit at ``node`` of the head spec."""
        self._add(node, Side.HEAD, audience, where, make, tag, advisory)

    def _add(
        self,
        node: Node,
        side: Side,
        audience: Audience,
        where: str,
        make: Callable[[str], str],
        tag: str,
        advisory: str,
    ) -> None:
        # One hit per node: a field of a shared component is reported once, at its
        # definition, however many operations (and field paths) reach it.
        key = (side, node.file, node.pointer, tag)
        group = self._groups.get(key)
        if group is None:
            self._groups[key] = [node, side, audience, [where], make, advisory]
            return
        if _RANK[audience] > _RANK[group[2]]:
            group[2] = audience
        if where not in group[3]:
            group[3].append(where)
        if not advisory:
            group[5] = ""

    def hits(self) -> Iterator[Hit]:
        for node, side, audience, wheres, make, advisory in self._groups.values():
            where = wheres[0]
            if len(wheres) == 2:
                where += f" (and {wheres[1]})"
            elif len(wheres) > 2:
                where += f" (and {len(wheres) - 1} other operations)"
            yield Hit.at(
                node,
                make(where),
                side=side,
                audience=audience,
                scope=Scope.CHANGED,
                advisory=advisory,
            )


def advisory_of(d: OperationDiff, *nodes: Node | None) -> str:
    """Why a hit about ``d`` (and the fields at ``nodes``) is not held against the change:
    the base declares the operation, or one of the fields, draft or alpha; else ""."""
    level = d.unstable
    if not level:
        for node in nodes:
            found = stability(node.value) if node is not None else None
            if found in UNSTABLE:
                level = found
                break
    return unstable_note(level)


@dataclass(frozen=True, slots=True)
class Element:
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


def _elements(diff: SpecDiff) -> Iterator[tuple[Element, Any]]:
    """Every changed element of operations present on both sides, with its diff value."""
    for d in diff.changed:
        label = d.label
        yield (
            Element(
                label,
                d,
                d.base.node if d.base else None,
                d.head.node if d.head else None,
                "operation",
            ),
            d,
        )
        for p in d.parameters:
            what = f"{p.location} parameter {ticked(p.name)} of {label}"
            yield (
                Element(
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
            what = f"{field_label(direction, body, f)} of {label}"
            yield Element(what, d, f.base, f.head, "field", direction, body.status, f.path), f
        for body in d.responses:
            for h in body.headers:
                what = f"header {ticked(h.name)} of the {body.status} response of {label}"
                yield Element(what, d, h.base, h.head, "header", "response", body.status), h


def _change_of(value: Any, attr: str) -> Any:
    change = getattr(value, "change", None)
    return change(attr) if callable(change) else None


def newly_deprecated(diff: SpecDiff) -> Iterator[Element]:
    """Elements the change marks deprecated; what lies inside a deprecated operation or
    field is left out (deprecating the whole covers its parts)."""
    found: list[Element] = []
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


def _inside_deprecated(element: Element, fields: set[tuple[str, str, str | None, str]]) -> bool:
    where = (element.op.key, element.direction, element.status)
    path = element.path
    for key, direction, status, other in fields:
        if (key, direction, status) != where or not other or other == path:
            continue
        if any(path.startswith(other + sep) for sep in ".[{"):
            return True
    return False


def sunset_changes(diff: SpecDiff) -> Iterator[tuple[Element, Any, Any]]:
    for element, value in _elements(diff):
        if getattr(value, "kind", "changed") != "changed":
            continue
        c = _change_of(value, "x-sunset")
        if c is not None:
            yield element, c.old, c.new


def op_sunset(op: Operation | None) -> Any:
    return op.sunset if op is not None else None


def is_retired(op: Operation | None) -> bool:
    """OpenStack: an operation with ``x-openstack.max-ver`` is gone after that microversion."""
    return op is not None and "max-ver" in op.x_openstack


def removed_elements(ctx: DiffContext) -> Iterator[tuple[Element, Audience]]:
    """Parameters, fields and headers removed from operations that are still there."""
    for d in ctx.diff.changed:
        aud = base_aud(ctx, d)
        for p in d.parameters:
            if p.kind == "removed" and p.base is not None:
                what = f"{p.location} parameter {ticked(p.name)} of {d.label}"
                yield Element(what, d, p.base.node, None, "parameter", "request"), aud
        for direction, body, _schema, f in d.fields():
            if f.kind == "removed" and f.path:
                what = f"{field_label(direction, body, f)} of {d.label}"
                yield Element(what, d, f.base, None, "field", direction), aud
        for body in d.responses:
            for h in body.headers:
                if h.kind == "removed":
                    what = f"header {ticked(h.name)} of the {body.status} response of {d.label}"
                    yield Element(what, d, h.base, None, "header", "response"), aud


def future_sunset(value: Any, today: dt.date) -> dt.date | None:
    date = parse_sunset(value)
    return date if date is not None and date > today else None


def info_version(spec: Spec) -> str | None:
    info = (spec.data or {}).get("info")
    v = info.get("version") if isinstance(info, Mapping) else None
    return None if v is None else str(v)


def show(value: Any) -> str:
    return "null" if value is None else str(value)


def find_key(doc: Any, key: str) -> Iterator[tuple[str, Any]]:
    """Every (pointer, value) of ``key`` anywhere in a document."""
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


def op_key_of(spec: Spec, file: str, pointer: str) -> str | None:
    """The operation key a pointer lies under (``/paths/<path>/<method>/...``), if any."""
    if file != spec.file:
        return None
    tokens = split(pointer)
    if len(tokens) >= 3 and tokens[0] == "paths" and tokens[2] in HTTP_METHODS:
        return f"{tokens[2].upper()} {normalize_path(tokens[1])}"
    return None


def spec_scope(ctx: SpecContext, file: str, pointer: str, value: Any) -> Scope:
    """New without a base; existing when the base has the same value there; else changed."""
    if ctx.touched is None:
        return Scope.NEW
    if ctx.base is not None:
        doc = ctx.base.documents.get(file)
        try:
            if doc is not None and get_pointer(doc, pointer) == value:
                return Scope.EXISTING
        except (KeyError, IndexError, TypeError, ValueError):
            pass
    return Scope.CHANGED
