"""Cross-spec consistency rules (CON080-CON099): one vocabulary across the community's APIs.

Single-spec linters cannot see that ``created_at`` is a date-time string in one service
and an epoch integer in another, or that one service says ``tenantId`` where the others say
``project_id``. These rules compare every external spec of one check (CrossContext) and
report each minority occurrence, naming the spec and line of the majority usage. Only
schemas and parameters reachable from external (or external-admin) operations count.

The glossary rule (CON082), which enforces the same shared vocabulary one spec at a time,
is :mod:`govbot.rules.consistency.glossary`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from govbot.findings import Scope, Severity
from govbot.rules.consistency.changes import ElementScope
from govbot.rules.consistency.index import (
    Rank,
    SchemaId,
    Sink,
    SpecIndex,
    attribution,
    cross_elements,
    last_static,
    option,
    schema_kinds,
    spec_index,
    squash,
    static_segments,
    type_name,
    words,
)
from govbot.rules.consistency.language import singular_of
from govbot.rules.consistency.naming import SNAKE_CASE
from govbot.rules.registry import API_SIG, CrossContext, Hit, Kind, rule
from govbot.surface import Node, Spec, normalize_path, split

# Formats that change what a value means to a client. Numeric storage formats (int32,
# int64, float, double) are not among them: int32 and int64 ids are the same field to a
# client; nor are services' own validation formats (nova's "name_with_leading_spaces").
# fmt: off
SEMANTIC_FORMATS = [
    "date-time", "date", "time", "duration", "uuid", "uri", "uri-reference", "email",
    "hostname", "ipv4", "ipv6", "byte", "binary",
]
# fmt: on


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One use of a name in one spec, with the concept it names there."""

    spec: Spec = field(repr=False, compare=False)  # which service
    file: str
    pointer: str
    name: str
    type: str  # "string", "integer", "array of string", ... ("" when undeclared)
    format: str  # a semantic format ("date-time", "uuid"), or ""
    rank: Rank
    resource: str  # the resource the name belongs to ("member", "store"; "" unknown)
    fresh: bool  # the element is new or changed in the change under review

    @property
    def service(self) -> str:
        return self.spec.file

    @property
    def signature(self) -> str:
        return f"{self.type} ({self.format})" if self.format else self.type

    @property
    def line(self) -> int | None:
        return self.spec.line(self.file, self.pointer)


# Single words that name the same concept whatever the resource: the pagination,
# sorting and counting parameters of the guidelines.
GLOBAL_WORDS = frozenset({"limit", "marker", "sort", "offset", "page", "count", "with_count"})
# Words of component schema names that say what the schema is for, not what it is.
_NOISE = frozenset(
    {"request", "response", "body", "create", "update", "list", "show", "get", "post",
     "put", "patch", "delete", "detail", "details", "result", "results", "item", "items",
     "object", "schema", "info", "data", "model", "dto", "payload", "input", "output"}
)  # fmt: skip
_SKIP_TOKENS = frozenset(
    {"properties", "items", "allOf", "oneOf", "anyOf", "prefixItems", "additionalProperties",
     "not", "schema", "content", "responses", "requestBody", "parameters", "components",
     "schemas", "definitions"}
)  # fmt: skip


def resource_of(pointer: str, glossary: Mapping[str, str] | None = None) -> str:
    """The resource an object schema at ``pointer`` describes, as a singular noun.

    The nearest name on the way up: the property holding the object (``member`` in
    ``{"member": {...}}``, ``store`` for the items of ``stores``), else the component's
    name without words such as ``Create``/``Response``, else the operation's collection.
    """
    tokens = split(pointer)
    for i in range(len(tokens) - 1, 0, -1):
        before, token = tokens[i - 1], tokens[i]
        if before == "properties" and token not in _SKIP_TOKENS:
            return _noun(token, glossary)
        if before in ("schemas", "definitions"):
            kept = [w for w in words(token) if w not in _NOISE] or words(token)
            return _noun("_".join(kept), glossary)
        if before == "paths":
            last = next((seg for _, seg in reversed(static_segments(token))), "")
            return _noun(last, glossary)
    return ""


def _noun(name: str, glossary: Mapping[str, str] | None) -> str:
    parts = words(name)
    if not parts:
        return ""
    parts[-1] = singular_of(parts[-1])
    joined = "_".join(parts)
    if glossary:
        joined = "_".join(words(glossary.get(joined, joined)))
    return joined


def concept(name: str, resource: str) -> tuple[str, str]:
    """What a name means: a compound name (``created_at``, ``project_id``) means the same
    in every resource; a single word (``weight``, ``size``, ``id``) only within one."""
    if len(words(name)) > 1 or squash(name) in GLOBAL_WORDS:
        return ("", squash(name))
    return (resource, squash(name))


def _elements(ctx: CrossContext, spec: Spec) -> ElementScope | Scope:
    found = cross_elements(ctx, spec.file)
    return Scope.NEW if found is None else found


def _fresh(elements: ElementScope | Scope, file: str, pointer: str) -> bool:
    scope = elements if isinstance(elements, Scope) else elements.of(file, pointer)
    return scope is not Scope.EXISTING


def _touched(ctx: CrossContext, spec: Spec) -> frozenset[str] | None:
    # A spec the mapping does not mention is not under change (it is given for
    # comparison): all of its surface is existing. No mapping at all: everything is new.
    if spec.file in ctx.touched:
        return ctx.touched[spec.file]
    return frozenset() if ctx.touched else None


def _signature(
    spec: Spec, schema: Mapping[str, Any], file: str, formats: frozenset[str]
) -> tuple[str, str]:
    """(type, semantic format) of a schema; ("", "") when it declares no type.

    A type list (OpenAPI 3.1) is its union, ``integer|string``; ``null`` is left out.
    """
    found = schema_kinds(spec, schema, file)
    if not found:
        return "", ""
    types = sorted({t for t, _ in found})
    if len(types) > 1:
        return "|".join(types), ""
    t, fmt = found[0]
    if t == "array":
        items = schema.get("items")
        item = spec.deref(Node(items, file, "")) if isinstance(items, Mapping) else {}
        item_type = type_name(item)
        return (f"array of {item_type}" if item_type else "array"), ""
    return str(t), (fmt if isinstance(fmt, str) and fmt in formats else "")


# (name, type, format, file, pointer, schema id or operation index, resource) of every
# body field and query parameter of a spec, computed once per spec and set of formats.
_Use = tuple[str, str, str, str, str, Any, str]


def _field_uses(spec: Spec, formats: frozenset[str]) -> list[_Use]:
    index = spec_index(spec)
    key = ("cross-fields", formats)
    cached = index.memo.get(key)
    if cached is None:
        cached = []
        roots = _body_tops(spec, index)
        for sid, info in index.schemas.items():
            resource = resource_of(sid[1])
            for f in info.fields:
                if f.data or (sid in roots and _envelope(f.schema)):
                    continue
                t, fmt = _signature(spec, f.schema, f.target[0] if f.target else f.file, formats)
                cached.append((f.name, t, fmt, f.file, f.pointer, sid, resource))
        index.memo[key] = cached
    return cached  # type: ignore[no-any-return]


def _body_tops(spec: Spec, index: SpecIndex) -> set[SchemaId]:
    """The top-level schemas of request and response bodies, their oneOf/anyOf/allOf
    branches included (a microversioned body is a oneOf of versions)."""
    tops: set[SchemaId] = set()
    stack = [sid for op_roots in index.roots for sid in op_roots]
    while stack:
        sid = stack.pop()
        if sid in tops:
            continue
        tops.add(sid)
        info = index.schemas.get(sid)
        if info is None:
            continue
        for keyword in ("oneOf", "anyOf", "allOf"):
            parts = info.node.get(keyword)
            if parts is None or not isinstance(parts.value, list):
                continue
            for j in range(len(parts.value)):
                target = spec.resolve(parts.child(j))
                if target is not None and isinstance(target.value, Mapping):
                    stack.append((target.file, target.pointer))
    return tops


def _envelope(schema: Mapping[str, Any]) -> bool:
    """A body's top-level object or list of objects: the key names the resource it holds
    (``{"volume_type": {...}}``), not a field of it (``"volume_type": "lvm"`` elsewhere)."""
    types = type_name(schema)
    return types == "object" or (types == "array" and isinstance(schema.get("items"), Mapping))


def _parameter_uses(spec: Spec, formats: frozenset[str]) -> list[_Use]:
    index = spec_index(spec)
    key = ("cross-parameters", formats)
    cached = index.memo.get(key)
    if cached is None:
        cached = []
        for i, op in enumerate(index.ops):
            resource = _noun(last_static(normalize_path(op.path)) or "", None)
            for p in op.parameters:
                if p.location != "query":
                    continue
                schema = spec.resolve(p.schema) if p.schema is not None else None
                t, fmt = "", ""
                if schema is not None and isinstance(schema.value, Mapping):
                    t, fmt = _signature(spec, schema.value, schema.file, formats)
                cached.append((p.name, t, fmt, p.node.file, p.node.pointer, i, resource))
        index.memo[key] = cached
    return cached  # type: ignore[no-any-return]


def _field_occurrences(ctx: CrossContext, formats: frozenset[str]) -> Iterator[Occurrence]:
    if sum(1 for s in ctx.specs if s.ok) < 2:
        return  # nothing to compare with: spare a big spec the walk
    for spec in ctx.specs:
        if not spec.ok:
            continue
        attr = attribution(spec, _touched(ctx, spec), ctx.audiences.get(spec.file))
        elements = _elements(ctx, spec)
        for name, t, fmt, file, pointer, sid, resource in _field_uses(spec, formats):
            rank = attr.schemas.get(sid)
            if rank is not None and rank[1] > 0:  # reached by an external operation
                fresh = _fresh(elements, file, pointer)
                yield Occurrence(spec, file, pointer, name, t, fmt, rank, resource, fresh)


def _parameter_occurrences(ctx: CrossContext, formats: frozenset[str]) -> Iterator[Occurrence]:
    if sum(1 for s in ctx.specs if s.ok) < 2:
        return
    for spec in ctx.specs:
        if not spec.ok:
            continue
        attr = attribution(spec, _touched(ctx, spec), ctx.audiences.get(spec.file))
        elements = _elements(ctx, spec)
        for name, t, fmt, file, pointer, i, resource in _parameter_uses(spec, formats):
            rank = attr.ops[i]
            if rank[1] > 0:
                fresh = _fresh(elements, file, pointer)
                yield Occurrence(spec, file, pointer, name, t, fmt, rank, resource, fresh)


def _where(o: Occurrence) -> str:
    line = f" line {o.line}" if o.line else ""
    return f"{o.file}{line} ({o.pointer})"


def _minorities(
    occurrences: Iterable[Occurrence], group: Any, value: Any
) -> Iterator[tuple[Occurrence, Occurrence, int]]:
    """(occurrence to change, a reference occurrence in another spec, how many specs agree with it).

    Each spec votes once per group (a concept), for the value it uses most. The
    occurrences of the minority are reported, naming a spec of the majority. On a tie
    the newer side is asked to change (the spec whose uses of the concept the change
    under review adds or changes, when the other side's are all existing); when no side
    is newer, nobody is: one side is never told to change for agreeing with the other.
    """
    groups: dict[Any, list[Occurrence]] = {}
    for o in occurrences:
        groups.setdefault(group(o), []).append(o)
    for occs in groups.values():
        by_spec: dict[str, Counter[Any]] = {}
        first: dict[tuple[str, Any], Occurrence] = {}
        fresh: dict[str, bool] = {}
        for o in occs:
            by_spec.setdefault(o.service, Counter())[value(o)] += 1
            first.setdefault((o.service, value(o)), o)
            fresh[o.service] = fresh.get(o.service, False) or o.fresh
        if len(by_spec) < 2:
            continue
        vote = {s: counter.most_common(1)[0][0] for s, counter in by_spec.items()}
        votes = Counter(vote.values())
        if len(votes) < 2 and all(len(c) == 1 for c in by_spec.values()):
            continue  # every use agrees
        top = votes.most_common()
        winners = [v for v, n in top if n == top[0][1]]
        if len(winners) > 1:
            old = [v for v in winners if not any(fresh[s] for s in vote if vote[s] == v)]
            if len(old) != 1:
                continue  # no side is newer: never blame both, nor either
            winners = old
        wanted = winners[0]
        for o in occs:
            if value(o) == wanted:
                continue
            ref = next(
                (first[(s, wanted)] for s in by_spec if s != o.service and (s, wanted) in first),
                None,
            )
            if ref is None:
                # Every spec votes for `wanted`: the reference is a use of it in a spec
                # other than this one's (the community's form), else none is reported.
                continue
            yield o, ref, votes[wanted]


def _conflicts(occs: list[Occurrence]) -> Iterator[tuple[Occurrence, Occurrence, int]]:
    """Type conflicts, then format conflicts among the uses that agree on the type.

    Uses are compared by concept (:func:`concept`): ``weight`` of a pool member and
    ``weight`` of an image store are different fields. A use without a format does not
    conflict with one that has a format: it is less precise, not different (CON031 asks
    timestamps for their format).
    """
    typed = [o for o in occs if o.type]
    minority = list(_minorities(typed, lambda o: concept(o.name, o.resource), lambda o: o.type))
    yield from minority
    off = {id(o) for o, _, _ in minority}
    formatted = [o for o in typed if o.format and id(o) not in off]
    yield from _minorities(
        formatted, lambda o: (concept(o.name, o.resource), o.type), lambda o: o.format
    )


def _others(n: int) -> str:
    return "" if n <= 1 else f" and {n - 1} other spec{'s' if n > 2 else ''}"


@rule(
    "CON080",
    "field-type-consistent",
    kind=Kind.CROSS,
    severity=Severity.ERROR,
    options={"formats": SEMANTIC_FORMATS},
    guideline="TC-consistency",
)
def field_type_consistent(ctx: CrossContext) -> Iterable[Hit]:
    """One field name has one type and format in every external spec.

    What it checks:
        For each concept used in the body fields of external operations of two or more
        specs of the check, the type of each use (an array with its item type; an
        OpenAPI 3.1 type list as the union it is, ``null`` left out), then, among uses of
        the same type, the format. Uses are compared by concept, not by bare name: a
        compound name (``created_at``, ``project_id``) means the same everywhere, a
        single word (``weight``, ``size``, ``id``) only on the same resource (the object
        holding it, its component or its collection, singularised; the glossary relates
        resource names), so a pool member's ``weight`` is not an image store's. Each
        spec votes for the form it uses most; the uses of the minority are reported,
        naming a spec and line of the majority. On a tie the newer side (the spec whose
        use the change under review adds or changes) is asked to change; with no newer
        side, neither is. Only the formats in the ``formats`` option count (date-time,
        date, uuid, uri, email, ipv4, ...): numeric storage formats (int32, int64) and
        services' own validation formats are not compared, and a use without a format
        does not conflict with one that has it.

    Why it matters:
        Users and SDKs move between services of one cloud; ``created_at`` that is an
        ISO 8601 string in one and an epoch integer in another breaks shared client code
        and every tool that joins data across services. No single-spec linter can see it.

    Example:
        ``created_at: {type: integer}`` in block-storage while compute and identity use
        ``{type: string, format: date-time}``.

    Fix:
        Use the community's type and format; on existing surface, add a correctly typed
        field in a new version and deprecate the old one.

    References:
        README, "The dashboard" (cross-service findings); API-SIG guidelines on
        consistent representations: https://specs.openstack.org/openstack/api-sig/
    """
    formats = frozenset(option(ctx, "formats", SEMANTIC_FORMATS))
    sink = Sink(ctx)
    for o, ref, n in _conflicts(list(_field_occurrences(ctx, formats))):
        sink.at(
            o,
            f"Field `{o.name}` is {o.signature} here but {ref.signature} in "
            f"{_where(ref)}{_others(n)}: use the same type and format in every service.",
            o.rank,
        )
    return sink


@rule(
    "CON081",
    "field-name-variant",
    kind=Kind.CROSS,
    severity=Severity.WARNING,
    guideline="NAM-04",
)
def field_name_variant(ctx: CrossContext) -> Iterable[Hit]:
    """The same concept is spelled the same way in every external spec.

    What it checks:
        Body field names and query parameter names of external operations that are equal
        once case and separators are removed (``host_name``, ``hostname``, ``HostName``)
        but spelled differently in different specs, compared by concept as in CON080 (a
        single word only on the same resource). Each spec votes for its most used
        spelling; minority spellings are reported, naming a spec and line that uses the
        majority spelling; on a tie the newer side, else nobody. Under the ``api-sig``
        profile a spelling that only differs from the majority's snake_case by its casing
        is CON001's finding, not a second one here.

    Why it matters:
        ``projectId`` in one service and ``project_id`` in the next is the same concept
        under two names: clients cannot share models, filters or documentation.

    Example:
        ``tenantId`` in block-storage, ``tenant_id`` in compute and network.

    Fix:
        Use the majority spelling (normally the snake_case one, NAM-04).

    References:
        API-SIG naming guideline (NAM-04):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    occs = list(_field_occurrences(ctx, frozenset(SEMANTIC_FORMATS)))
    occs.extend(_parameter_occurrences(ctx, frozenset(SEMANTIC_FORMATS)))
    sink = Sink(ctx)
    snake_case = re.compile(SNAKE_CASE)
    # A squashed name one spec writes as several words (host_name) is a compound concept
    # everywhere, also where another writes it as one (hostname).
    compound = {squash(o.name) for o in occs if len(words(o.name)) > 1}

    def key(o: Occurrence) -> tuple[str, str]:
        return ("", squash(o.name)) if squash(o.name) in compound else concept(o.name, o.resource)

    spelled = _minorities(occs, key, lambda o: o.name)
    for o, ref, n in spelled:
        if ctx.profile == API_SIG and (
            snake_case.match(o.name) is None or snake_case.match(ref.name) is None
        ):
            # A casing difference is CON001's (one report per defect), and a snake_case
            # name is never asked to become another style under the API-SIG profile.
            continue
        sink.at(
            o,
            f"`{o.name}` is spelled `{ref.name}` in {_where(ref)}{_others(n)}: use one "
            "spelling for one concept across services.",
            o.rank,
            name_only=True,
        )
    return sink


@rule(
    "CON083",
    "query-parameter-type-consistent",
    kind=Kind.CROSS,
    severity=Severity.ERROR,
    options={"formats": SEMANTIC_FORMATS},
    guideline="FIL-01",
)
def query_parameter_type_consistent(ctx: CrossContext) -> Iterable[Hit]:
    """One query parameter name has one type and format in every external spec.

    What it checks:
        For each query parameter name used by external operations of two or more specs,
        the type and then the format of its schema. Each spec votes for the form it uses most;
        uses that differ from the majority are reported with a reference to a spec and
        line that uses the majority form. Only the formats in the ``formats`` option
        count, as in CON080.

    Why it matters:
        ``limit``, ``marker``, ``changes-since`` and the filters named after fields
        (FIL-01) must accept the same values in every service, or pagination and
        filtering helpers in the SDKs need one branch per service.

    Example:
        ``limit: {type: string}`` in one service and ``{type: integer}`` in the others.

    Fix:
        Declare the community's type and format for the parameter.

    References:
        API-SIG pagination and filtering guideline (PAG-01, FIL-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/pagination_filter_sort.html
    """
    formats = frozenset(option(ctx, "formats", SEMANTIC_FORMATS))
    sink = Sink(ctx)
    for o, ref, n in _conflicts(list(_parameter_occurrences(ctx, formats))):
        sink.at(
            o,
            f"Query parameter `{o.name}` is {o.signature} here but {ref.signature} in "
            f"{_where(ref)}{_others(n)}: use the same type and format in every service.",
            o.rank,
        )
    return sink
