"""The direction logic, once: whether a schema change breaks a client, by who sends the value.

A change breaks a client when a request that was valid may now be rejected (the request
side got stricter) or a response may now carry what the client never saw (the response
side got looser). :func:`govbot.diff.effect` says how the valid values moved (the
keyword table of ``govbot/diff/keywords.py``); :func:`breaks` turns that into a verdict
for one side. ``readOnly`` fields are never sent and ``writeOnly`` fields never
returned, so :func:`sites` leaves them out of that side.

The rules of the compatibility family read changes through :func:`sites` and
:func:`breaks`, and describe them with :func:`describe`; none of them knows a keyword.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from govbot.diff import Change, Effect, FieldDiff, OperationDiff, effect
from govbot.diff.keywords import UNSTABLE, Order, applies, order_of, stability, type_set
from govbot.rules.deprecation.elements import (
    Collector,
    advisory_of,
    field_label,
    head_aud,
    key_node,
    ticked,
)
from govbot.rules.registry import DiffContext, Hit
from govbot.surface import Node, is_mapping

Direction = Literal["request", "response"]

# Keywords that only say how clients may read an open set of values: a response may
# gain values (Zalando's x-extensible-enum; clients must handle unknown ones).
OPEN_ENDED = frozenset({"x-extensible-enum"})
# The first keyword of a change that makes it a change of composition (DEP033/DEP034).
COMPOSITION = frozenset({"oneOf", "anyOf", "not", "if", "then", "else"})


def breaks(direction: Direction, change: Change, *, text: bool = False) -> bool:
    """True when ``change`` breaks a client on ``direction``'s side of the exchange.

    ``text``: the value travels as text (a parameter or a header), where an integer is a
    valid string too (:func:`govbot.diff.effect`)."""
    found = effect(change.attr, change.old, change.new, text=text)
    if found is None:
        return False
    if direction == "request":
        return found in (Effect.NARROWED, Effect.BOTH)
    if found is Effect.WIDENED and keyword(change.attr) in OPEN_ENDED:
        return False
    return found in (Effect.WIDENED, Effect.BOTH)


def keyword(attr: str) -> str:
    """The keyword a change is about ("then/maximum" -> "maximum")."""
    return attr.rsplit("/", 1)[-1]


def composition(attr: str) -> bool:
    return attr.split("/", 1)[0] in COMPOSITION


@dataclass(frozen=True, slots=True)
class Site:
    """A schema, or a field of one, whose changes one side of the exchange sees."""

    label: str  # "query parameter `limit`", "request field `name`", "the body of the 200 response"
    field: FieldDiff
    direction: Direction
    kind: Literal["parameter", "body", "header"]
    media: str = ""  # the media type of a body
    # Every valid base request carries the value: a required parameter, or a field its
    # object requires (so a default of it never applied).
    always_sent: bool = False
    described: str = ""  # a parameter's own base description (its schema's is in ``field``)

    @property
    def node(self) -> Node:
        return self.field.node

    @property
    def types(self) -> frozenset[str] | None:
        """The types the schema declares on either side (None: a side declares none)."""
        found: set[str] = set()
        for node in (self.field.base, self.field.head):
            declared = node.value.get("type") if node and isinstance(node.value, Mapping) else None
            kinds = type_set(declared)
            if kinds is None:
                return None
            found |= kinds
        return frozenset(found)

    @property
    def text(self) -> bool:
        """Whether the value travels as text (a parameter, a header, a body that is not
        JSON), where ``5`` is a valid string too; in JSON ``5`` and ``"5"`` differ."""
        if self.kind != "body":
            return True
        media = self.media.split(";", 1)[0].strip().lower()
        return not (media == "application/json" or media.endswith("+json"))


def sites(d: OperationDiff, direction: Direction) -> Iterator[Site]:
    """Every changed schema of ``d`` that ``direction``'s side sees: parameters and the
    request body for requests; response bodies and headers for responses. A field that
    is ``readOnly`` (for requests) or ``writeOnly`` (for responses) on either side is not
    part of that side."""
    hidden = "readOnly" if direction == "request" else "writeOnly"
    if direction == "request":
        for p in d.parameters:
            label = f"{p.location} parameter {ticked(p.name)}"
            for f in p.fields:
                if f.kind == "changed":
                    where = label + (f" (field {ticked(f.path)})" if f.path else "")
                    sent = (
                        p.base is not None and p.base.required and (not f.path or f.base_required)
                    )
                    text = _text(p.base.node.value) if p.base is not None and not f.path else ""
                    yield Site(where, f, direction, "parameter", always_sent=sent, described=text)
    for kind, body, schema, f in d.fields():
        if kind == direction and f.kind == "changed" and not _flag(f, hidden):
            sent = bool(f.path) and f.base_required
            label = field_label(kind, body, f)
            yield Site(label, f, direction, "body", schema.media_type, always_sent=sent)
    if direction == "response":
        for body in d.responses:
            for h in body.headers:
                label = f"header {ticked(h.name)} of the {body.status} response"
                for f in h.fields:
                    if f.kind == "changed":
                        yield Site(label, f, direction, "header")


def _text(value: Any) -> str:
    found = value.get("description") if isinstance(value, Mapping) else None
    return found if isinstance(found, str) else ""


# A Markdown list item naming a value: "* LOCAL", "- `autoallow`", "* 1 - public".
_ITEM = re.compile(r"^\s*[*-]\s+`?([^`\s]+?)`?(?=\s|$)", re.MULTILINE)


def listed_before(site: Site, change: Change) -> bool:
    """An ``enum`` introduced whose values include every value the base's description
    listed (at least two, as list items): the contract named the accepted values in
    words before it named them in the schema, so no request it allowed is now rejected.
    A description that lists anything else, or none, leaves the change reported."""
    if change.attr != "enum" or change.old is not None or not isinstance(change.new, list):
        return False
    base = site.field.base
    words = f"{site.described}\n{_text(base.value) if base is not None else ''}"
    items = set(_ITEM.findall(words))
    return len(items) >= 2 and items <= {str(v) for v in change.new}


def _flag(f: FieldDiff, name: str) -> bool:
    return any(
        n is not None and is_mapping(n.value) and n.value.get(name) is True
        for n in (f.base, f.head)
    )


def field_unstable(f: FieldDiff) -> str:
    """The base's stability level of a field when draft or alpha, else ""."""
    node = f.base if f.base is not None else f.head
    level = stability(node.value) if node is not None else None
    return level if level in UNSTABLE else ""


# --- words -----------------------------------------------------------------------------------


def show(value: Any, limit: int = 60) -> str:
    """A value as a contributor wrote it, shortened."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, default=str, sort_keys=True)
        except (TypeError, ValueError):
            text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(change: Change) -> str:
    """One change in words: "`maxLength` lowered from 50 to 20"."""
    *outer, kw = change.attr.split("/")
    text = _describe(kw, change.old, change.new)
    for token in reversed(outer):
        text = f"inside {ticked(token)}: {text}"
    return text


def _describe(kw: str, old: Any, new: Any) -> str:
    if kw in ("oneOf", "anyOf", "enum-values"):
        return _describe_members(kw, old, new)
    if kw == "nullable":
        return "became nullable" if new is True else "is no longer nullable"
    if kw == "required":
        return "became required" if new is True else "is no longer required"
    if kw == "requiredNames":
        return _describe_required(old, new)
    if kw == "type":
        return _describe_type(old, new)
    order = order_of(kw)
    name = ticked(kw)
    if order is Order.VALUES and isinstance(old, list) and isinstance(new, list):
        gained = [v for v in new if v not in old]
        lost = [v for v in old if v not in new]
        parts = []
        if lost:
            parts.append(f"values {', '.join(ticked(show(v)) for v in lost)} removed")
        if gained:
            parts.append(f"values {', '.join(ticked(show(v)) for v in gained)} added")
        return f"{name} " + " and ".join(parts)
    if order is Order.CLOSER:
        return f"{name} went from {_form(old)} to {_form(new)}"
    if order is Order.SUBSCHEMA:
        return _describe_subschema(name, old, new)
    if old is None:
        return f"`{kw}: {show(new)}` added"
    if new is None:
        return f"{name} ({show(old)}) removed"
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (old, new))
    if order in (Order.LOWER, Order.UPPER) and numbers:
        verb = "raised" if new > old else "lowered"
        return f"{name} {verb} from {show(old)} to {show(new)}"
    return f"{name} changed from {show(old)} to {show(new)}"


def _describe_members(kw: str, old: Any, new: Any) -> str:
    what = "branch" if kw != "enum-values" else "value"
    parts = []
    if new:
        parts.append(f"{what}(es) {', '.join(ticked(show(v)) for v in new)} added")
    if old:
        parts.append(f"{what}(es) {', '.join(ticked(show(v)) for v in old)} removed")
    subject = ticked(kw) if kw != "enum-values" else "`enum`"
    return f"{subject} " + " and ".join(parts).replace("branch(es)", "branch").replace(
        "value(s)", "value"
    )


def _describe_required(old: Any, new: Any) -> str:
    gained = sorted(set(new or ()) - set(old or ()))
    lost = sorted(set(old or ()) - set(new or ()))
    parts = []
    if gained:
        parts.append(f"now requires {', '.join(ticked(n) for n in gained)}")
    if lost:
        parts.append(f"no longer requires {', '.join(ticked(n) for n in lost)}")
    return " and ".join(parts)


def _describe_type(old: Any, new: Any) -> str:
    if type_set(old) is None:
        return f"`type: {new}` added"
    if type_set(new) is None:
        return f"`type` ({old}) removed"
    return f"`type` changed from {old} to {new}"


def _describe_subschema(name: str, old: Any, new: Any) -> str:
    present_old = old is not None and old is not False
    present_new = new is not None and new is not False
    if present_new and not present_old:
        return f"{name} added"
    if present_old and not present_new:
        return f"{name} removed"
    return f"{name} changed"


def _form(value: Any) -> str:
    if value is None:
        return "absent (anything)"
    if isinstance(value, bool):
        return str(value).lower()
    return "a schema"


def joined(changes: list[Change]) -> str:
    return "; ".join(describe(c) for c in changes)


# --- reporting ---------------------------------------------------------------------------------


def root_keyword(attr: str) -> str:
    """The keyword of the schema itself a change is under ("then/maximum" -> "then")."""
    return attr.split("/", 1)[0]


def stricter_or_looser(site: Site, change: Change) -> bool:
    """Whether a change is for the constraint rules (DEP028, DEP030, DEP032): not one of
    composition (DEP033/DEP034), nor one another rule owns: a type or format changed
    from one to another (DEP013), a field's ``required`` (DEP011, DEP012, DEP015), a
    response field's ``nullable`` (DEP015), a ``default`` (DEP029)."""
    attr = change.attr
    if composition(attr):
        return False
    if attr in ("type", "format") and change.old is not None and change.new is not None:
        return False
    if attr == "required" and site.field.path:
        return False
    return not (
        attr == "nullable"
        and site.direction == "response"
        and site.kind == "body"
        and site.field.path
    )


def reported(
    ctx: DiffContext,
    direction: Direction,
    keep: Callable[[Site, Change], bool],
    make: Callable[[str, str, str], str],
    *,
    kinds: tuple[str, ...] = ("parameter", "body", "header"),
    ops: tuple[OperationDiff, ...] | None = None,
    label: Callable[[OperationDiff], str] | None = None,
    judge: Callable[..., bool] = breaks,
) -> Iterator[Hit]:
    """One hit per changed schema whose changes ``keep`` selects and ``judge`` (by default
    :func:`breaks`) finds breaking on ``direction``'s side; ``make(site label, operation,
    changes in words)`` words it. Hits on a component shared by several operations are
    folded into one."""
    hits = Collector()
    for d in ctx.diff.changed if ops is None else ops:
        aud = head_aud(ctx, d)
        name = label(d) if label is not None else d.label
        for site in sites(d, direction):
            if site.kind not in kinds:
                continue
            found = [
                c
                for c in site.field.changes
                if keep(site, c)
                and judge(direction, c, text=site.text)
                and not (direction == "request" and listed_before(site, c))
                and ("/" in c.attr or applies(c.attr, site.types))
            ]
            if not found:
                continue
            node = key_node(site.field.head or site.node, root_keyword(found[0].attr))
            text = joined(found)
            hits.on_head(
                node,
                aud,
                name,
                lambda where, site=site, text=text: make(site.label, where, text),
                advisory=advisory_of(d, site.field.base),
            )
    yield from hits.hits()
