"""Single-spec consistency rules (CON001-CON079) from the OpenStack API-SIG guidelines.

Every rule reads one shared, memoised index of the spec: its operations, and a graph of
the request and response schemas in which each schema definition appears once however
many operations use it. Findings about shared elements (a component schema, a parameter
defined once) are reported once, at the element, with the strictest scope and audience of
the operations that reach it: a field of a schema that a changed operation uses is changed
surface, even if unchanged operations use it too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from govbot.findings import Audience, Scope, Severity
from govbot.rules.registry import Hit, SpecContext, rule
from govbot.surface import (
    Node,
    Operation,
    Spec,
    escape,
    join,
    normalize_path,
    operations,
    properties,
    schema_type,
)

# --- ranks: the strictest scope / audience among the users of an element ---------------

SCOPES: tuple[Scope, ...] = ("existing", "changed", "new")
AUDIENCES: tuple[Audience, ...] = (Audience.INTERNAL, Audience.EXTERNAL_ADMIN, Audience.EXTERNAL)
_AUDIENCE_RANK = {a: i for i, a in enumerate(AUDIENCES)}
Rank = tuple[int, int]  # (scope rank, audience rank); bigger is stricter
SchemaId = tuple[str, str]  # (file, pointer) of a resolved schema


def _max_rank(a: Rank | None, b: Rank) -> Rank:
    if a is None:
        return b
    return (a[0] if a[0] >= b[0] else b[0], a[1] if a[1] >= b[1] else b[1])


# --- the shared index ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """A property name as written in an object schema, with the schema it names."""

    name: str
    owner: SchemaId  # the object schema whose ``properties`` declare it
    file: str
    pointer: str  # where the name is written: <owner>/properties/<name>
    schema: Mapping[str, Any]  # the property's schema, refs followed ({} when broken)
    target: SchemaId | None  # the resolved property schema


@dataclass(slots=True)
class SchemaInfo:
    node: Node  # resolved
    fields: list[Field] = field(default_factory=list)
    children: list[SchemaId] = field(default_factory=list)


@dataclass
class SpecIndex:
    """What every CON rule needs, computed once per spec."""

    ops: tuple[Operation, ...]
    # Per operation, the schemas its request body and responses start from.
    roots: list[list[SchemaId]]
    schemas: dict[SchemaId, SchemaInfo]  # discovery order
    # Schemas reachable from a 4xx/5xx response.
    error_schemas: set[SchemaId]
    # Path template -> indexes of its operations.
    paths: dict[str, list[int]]
    # Normalised paths that have a member path "<path>/{}" (a collection).
    collections: frozenset[str]
    openstack: bool  # the spec uses OpenStack conventions (x-openstack)
    memo: dict[str, Any] = field(default_factory=dict)  # rules' own derived data
    _attributions: dict[tuple[Any, int], tuple[Any, Attribution]] = field(default_factory=dict)


@dataclass(frozen=True)
class Attribution:
    """Scope and audience of each operation and of each schema, for one context."""

    ops: list[Rank]
    schemas: dict[SchemaId, Rank]
    spec: Rank  # the strictest of all operations (for document-level elements)

    def schema(self, sid: SchemaId) -> Rank:
        return self.schemas.get(sid, (0, 0))


_CACHE_ATTR = "_govbot_con_index"


def spec_index(spec: Spec) -> SpecIndex:
    """The index of ``spec``, built on first use.

    Spec is frozen, so the index is memoised in the instance's own ``__dict__``: it lives
    and dies with the spec, with no module-level cache to leak.
    """
    store = getattr(spec, "__dict__", None)
    if store is not None:
        cached = store.get(_CACHE_ATTR)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
    index = _build_index(spec)
    if store is not None:
        store[_CACHE_ATTR] = index
    return index


def attribution(
    spec: Spec, touched: frozenset[str] | None, audience: Any, index: SpecIndex | None = None
) -> Attribution:
    """Ranks of operations and schemas under one (touched, audience classification)."""
    index = index or spec_index(spec)
    key = (touched, id(audience))
    cached = index._attributions.get(key)
    if cached is not None and cached[0] is audience:
        return cached[1]
    op_ranks: list[Rank] = []
    for op in index.ops:
        s = 2 if touched is None else 1 if op.key in touched else 0
        op_ranks.append((s, _AUDIENCE_RANK.get(_audience_of(audience, op.key), 2)))
    ranks: dict[SchemaId, Rank] = {}
    # Strictest operations first, so most schemas get their final rank on the first visit.
    order = sorted(range(len(index.ops)), key=lambda i: op_ranks[i], reverse=True)
    schemas = index.schemas
    for i in order:
        rank = op_ranks[i]
        stack = list(index.roots[i])
        while stack:
            sid = stack.pop()
            cur = ranks.get(sid)
            if cur is not None and cur[0] >= rank[0] and cur[1] >= rank[1]:
                continue
            new = _max_rank(cur, rank)
            ranks[sid] = new
            info = schemas.get(sid)
            if info is not None:
                stack.extend(info.children)
    spec_rank: Rank = (0, 0)
    for r in op_ranks:
        spec_rank = _max_rank(spec_rank, r)
    if not op_ranks:
        spec_rank = (2 if touched is None else 0, 2)
    result = Attribution(op_ranks, ranks, spec_rank)
    index._attributions[key] = (audience, result)
    return result


def _audience_of(classification: Any, op_key: str) -> Audience:
    if classification is None:
        return Audience.EXTERNAL
    value = classification.of(op_key)
    return value if isinstance(value, Audience) else Audience(str(value))


def _build_index(spec: Spec) -> SpecIndex:
    ops = operations(spec)
    schemas: dict[SchemaId, SchemaInfo] = {}
    roots: list[list[SchemaId]] = []
    error_roots: list[SchemaId] = []
    paths: dict[str, list[int]] = {}
    openstack = False
    resolve = spec.resolve
    for i, op in enumerate(ops):
        paths.setdefault(op.path, []).append(i)
        if op.x_openstack:
            openstack = True
        op_roots: list[SchemaId] = []
        bodies = [("", op.request_body)] if op.request_body is not None else []
        bodies.extend(op.responses.items())
        for status, body in bodies:
            if body is None:
                continue
            for schema in body.content.values():
                node = resolve(schema) if schema is not None else None
                if node is None or not isinstance(node.value, Mapping):
                    continue
                sid = (node.file, node.pointer)
                if sid not in schemas:
                    _walk(spec, node, schemas)
                if sid not in op_roots:
                    op_roots.append(sid)
                if status[:1] in ("4", "5"):
                    error_roots.append(sid)
        roots.append(op_roots)
    error_schemas: set[SchemaId] = set()
    stack = list(error_roots)
    while stack:
        sid = stack.pop()
        if sid in error_schemas:
            continue
        error_schemas.add(sid)
        info = schemas.get(sid)
        if info is not None:
            stack.extend(info.children)
    normalised = {normalize_path(p) for p in paths}
    collections = frozenset(
        p for p in normalised if (p.rstrip("/") + "/{}") in normalised and _last_static(p)
    )
    if not openstack and spec.data is not None:
        info = spec.data.get("info")
        title = info.get("title") if isinstance(info, Mapping) else None
        openstack = isinstance(title, str) and "openstack" in title.lower()
    return SpecIndex(ops, roots, schemas, error_schemas, paths, collections, openstack)


_COMPOSITES = ("allOf", "oneOf", "anyOf", "prefixItems")
_SINGLES = ("items", "additionalProperties", "not")


def _walk(spec: Spec, start: Node, schemas: dict[SchemaId, SchemaInfo]) -> None:
    """Add every schema reachable from ``start`` (resolved) to ``schemas``, each once."""
    resolve = spec.resolve
    stack = [start]
    while stack:
        node = stack.pop()
        sid = (node.file, node.pointer)
        if sid in schemas:
            continue
        info = SchemaInfo(node)
        schemas[sid] = info
        value = node.value
        file, pointer = node.file, node.pointer
        children = info.children
        pending: list[tuple[str | None, Any, str]] = []  # (field name, raw schema, pointer)
        props = value.get("properties")
        if isinstance(props, Mapping):
            base = pointer + "/properties/"
            pending.extend(
                (str(name), raw, base + escape(str(name))) for name, raw in props.items()
            )
        for keyword in _COMPOSITES:
            parts = value.get(keyword)
            if isinstance(parts, list):
                pending.extend(
                    (None, part, f"{pointer}/{keyword}/{j}") for j, part in enumerate(parts)
                )
        for keyword in _SINGLES:
            child = value.get(keyword)
            if isinstance(child, Mapping):
                pending.append((None, child, f"{pointer}/{keyword}"))
        for name, raw, child_pointer in pending:
            target: Node | None = None
            if type(raw) is dict or isinstance(raw, Mapping):
                # Most children are inline: skip resolve() unless there is a $ref.
                node_ = Node(raw, file, child_pointer)
                target = resolve(node_) if "$ref" in raw else node_
            tid: SchemaId | None = None
            if target is not None and (
                type(target.value) is dict or isinstance(target.value, Mapping)
            ):
                tid = (target.file, target.pointer)
                children.append(tid)
                if tid not in schemas:
                    stack.append(target)
            if name is not None:
                target_value = target.value if tid is not None and target is not None else {}
                info.fields.append(Field(name, sid, file, child_pointer, target_value, tid))


# --- small helpers ---------------------------------------------------------------------


class Sink:
    """Findings keyed by (file, pointer, message), kept at the strictest rank reported."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str, str], Rank] = {}

    def add(self, file: str, pointer: str, message: str, rank: Rank) -> None:
        key = (file, pointer, message)
        self._hits[key] = _max_rank(self._hits.get(key), rank)

    def __iter__(self) -> Iterator[Hit]:
        for (file, pointer, message), (s, a) in self._hits.items():
            yield Hit(
                message=message, pointer=pointer, file=file, scope=SCOPES[s], audience=AUDIENCES[a]
            )


def option(ctx: Any, key: str, default: Any) -> Any:
    value = ctx.options.get(key) if ctx.options else None
    return default if value is None else value


def prepare(ctx: SpecContext) -> tuple[SpecIndex, Attribution]:
    """The spec's index and the ranks of its elements in this context."""
    index = spec_index(ctx.spec)
    return index, attribution(ctx.spec, ctx.touched, ctx.audience, index)


_WORD_RE = re.compile(r"[A-Z]+(?![a-z])\d*|[A-Z]?[a-z]+\d*|\d+")
_SPLIT_RE = re.compile(r"[^A-Za-z0-9]+")


def words(name: str) -> list[str]:
    """Lower-case words of a name in any casing: ``imageRef`` and ``image-ref`` -> image, ref."""
    return list(_words(name))


@functools.lru_cache(maxsize=65536)
def _words(name: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in _SPLIT_RE.split(name):
        if part:
            out.extend(w.lower() for w in _WORD_RE.findall(part))
    return tuple(out)


def snake(name: str) -> str:
    return "_".join(words(name)) or name.lower()


def squash(name: str) -> str:
    """A name without case and word separators: ``tenantId`` == ``tenant_id`` == ``Tenant-ID``.

    Other punctuation stays: ``user.id`` (a dotted filter path) is not ``user_id``.
    """
    return name.lower().replace("_", "").replace("-", "").replace(" ", "")


def _is_json(media: str) -> bool:
    mime = media.split(";", 1)[0].strip().lower()
    return mime.endswith("/json") or mime.endswith("+json")


def _json_schemas(spec: Spec, body: Any) -> Iterator[Node]:
    """Resolved JSON schemas of a request body or response."""
    for media, schema in body.content.items():
        if schema is None or not _is_json(media):
            continue
        node = spec.resolve(schema)
        if node is not None and isinstance(node.value, Mapping):
            yield node


def _success(op: Operation) -> list[str]:
    return [s for s in op.responses if s[:1] == "2"]


def _response_pointer(op: Operation, status: str) -> str:
    responses = op.node.get("responses")
    base = responses.pointer if responses is not None else join(op.node.pointer, "responses")
    return join(base, status)


def _op_file(op: Operation) -> str:
    return op.node.file


_VERSION_RE = re.compile(r"^v?\d+(\.\d+)*((alpha|beta)\d*)?$", re.IGNORECASE)


_FORMAT_SUFFIX_RE = re.compile(r"\.(json|xml|ya?ml|txt|html)$", re.IGNORECASE)


def static_segments(path: str) -> list[tuple[int, str]]:
    """(index, segment) of the literal, non-version segments of a path template.

    A format suffix (``/backups.json``) is not part of the resource name and is removed.
    """
    out = []
    for i, seg in enumerate(path.split("/")):
        if not seg or "{" in seg or _VERSION_RE.match(seg):
            continue
        seg = _FORMAT_SUFFIX_RE.sub("", seg)
        if seg:
            out.append((i, seg))
    return out


def _last_static(path: str) -> str | None:
    """The last segment when it is literal (a resource, not a version or a parameter)."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if not last or "{" in last or _VERSION_RE.match(last):
        return None
    return last


def _path_pointer(path: str) -> str:
    return join("", "paths", path)


def _path_rank(index: SpecIndex, attr: Attribution, path: str) -> Rank:
    rank: Rank | None = None
    for i in index.paths.get(path, ()):
        rank = _max_rank(rank, attr.ops[i])
    return rank or (0, 0)


def _is_collection(index: SpecIndex, op: Operation) -> bool:
    return normalize_path(op.path) in index.collections


def _header_names(body: Any) -> Iterator[tuple[str, Node]]:
    """(name as written, resolved header node) of a response's headers."""
    raw = body.node.value.get("headers")
    names = {str(k).lower(): str(k) for k in raw} if isinstance(raw, Mapping) else {}
    for lower, node in body.headers.items():
        yield names.get(lower, lower), node


def schema_kinds(spec: Spec, schema: Mapping[str, Any], file: str) -> list[tuple[str, Any]]:
    """Every non-null (type, format) a schema allows (its own, else its oneOf/anyOf parts)."""
    t = schema_type(schema)
    if t is not None and t != "null":
        return [(t, schema.get("format"))]
    out = []
    for keyword in ("oneOf", "anyOf"):
        parts = schema.get(keyword)
        if isinstance(parts, list):
            for part in parts:
                value = spec.deref(Node(part, file, "")) if isinstance(part, Mapping) else {}
                pt = schema_type(value)
                if pt is not None and pt != "null":
                    out.append((pt, value.get("format")))
    return out


# === 1. Naming ==========================================================================

SNAKE_CASE = r"^[a-z][a-z0-9_]*$"


def _rename(what: str, name: str, pattern: re.Pattern[str]) -> str:
    better = snake(name)
    if better != name and pattern.match(better):
        return f"{what} `{name}` is not snake_case: rename it to `{better}`."
    return f"{what} `{name}` is not snake_case: give it a snake_case name (`^[a-z][a-z0-9_]*$`)."


@rule(
    "CON001",
    "field-snake-case",
    kind="spec",
    severity=Severity.WARNING,
    options={"pattern": SNAKE_CASE, "allow": []},
    guideline="NAM-04",
)
def field_snake_case(ctx: SpecContext) -> Iterable[Hit]:
    """Request and response body fields are named in snake_case.

    What it checks:
        Every property name of every request and response schema, nested ones included,
        matches the ``pattern`` option (default ``^[a-z][a-z0-9_]*$``). Names listed in
        ``allow`` (exact names or regular expressions) are accepted.

    Why it matters:
        Clients of every OpenStack service read the same JSON; one naming convention
        means one way to write model classes, filters and sort keys.

    Example:
        ``{"imageRef": "..."}`` or ``{"OS-EXT-STS:task_state": "..."}``.

    Fix:
        Rename the field to snake_case (``image_ref``); on existing surface, add the new
        name in a new microversion and deprecate the old one.

    References:
        API-SIG naming guideline (NAM-04):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    index, attr = prepare(ctx)
    pattern = re.compile(option(ctx, "pattern", SNAKE_CASE))
    allow = [re.compile(f"^(?:{a})$") for a in option(ctx, "allow", [])]
    sink = Sink()
    for sid, info in index.schemas.items():
        for f in info.fields:
            if pattern.match(f.name) or any(a.match(f.name) for a in allow):
                continue
            sink.add(f.file, f.pointer, _rename("Field", f.name, pattern), attr.schema(sid))
    return sink


@rule(
    "CON002",
    "query-parameter-snake-case",
    kind="spec",
    severity=Severity.WARNING,
    options={"pattern": SNAKE_CASE, "allow": []},
    guideline="NAM-04",
)
def query_parameter_snake_case(ctx: SpecContext) -> Iterable[Hit]:
    """Query parameters are named in snake_case, like the fields they filter.

    What it checks:
        Every query parameter name matches the ``pattern`` option (default
        ``^[a-z][a-z0-9_]*$``); names in ``allow`` (exact or regular expressions) pass.

    Why it matters:
        Filters are named after the body fields they match (FIL-01), and body fields are
        snake_case (NAM-04): ``?min_ram=`` filters ``min_ram``. A camelCase filter is a
        second vocabulary for the same field.

    Example:
        ``GET /flavors?minRam=512``.

    Fix:
        Name the parameter like the field it filters, in snake_case (``min_ram``).

    References:
        API-SIG naming (NAM-04) and filtering (FIL-01) guidelines:
        https://specs.openstack.org/openstack/api-sig/guidelines/pagination_filter_sort.html
    """
    index, attr = prepare(ctx)
    pattern = re.compile(option(ctx, "pattern", SNAKE_CASE))
    allow = [re.compile(f"^(?:{a})$") for a in option(ctx, "allow", [])]
    sink = Sink()
    for i, op in enumerate(index.ops):
        for p in op.parameters:
            if (
                p.location != "query"
                or pattern.match(p.name)
                or any(a.match(p.name) for a in allow)
            ):
                continue
            sink.add(
                p.node.file,
                p.node.pointer,
                _rename("Query parameter", p.name, pattern),
                attr.ops[i],
            )
    return sink


def _boolean_fields(ctx: SpecContext) -> Iterator[tuple[Field, Rank]]:
    index, attr = prepare(ctx)
    for sid, info in index.schemas.items():
        for f in info.fields:
            if schema_type(f.schema) == "boolean":
                yield f, attr.schema(sid)


@rule("CON003", "boolean-name-prefix", kind="spec", severity=Severity.WARNING, guideline="NAM-05")
def boolean_name_prefix(ctx: SpecContext) -> Iterable[Hit]:
    """Boolean fields are adjectives (``enabled``), not ``is_x`` or ``enable_x``.

    What it checks:
        A ``type: boolean`` property whose name starts with ``is_`` or with the verbs
        ``enable_``/``disable_`` (camelCase spellings included).

    Why it matters:
        A boolean field completes "this is ___" or "this has ___": ``enabled``,
        ``dhcp_enabled``. Prefixes and verbs make the same concept appear under several
        names across services.

    Example:
        ``is_public: true``, ``enable_dhcp: false``.

    Fix:
        Rename to the adjective form: ``public``, ``dhcp_enabled``.

    References:
        API-SIG naming guideline, booleans (NAM-05):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    sink = Sink()
    for f, rank in _boolean_fields(ctx):
        w = words(f.name)
        if len(w) < 2:
            continue
        if w[0] == "is":
            better = "_".join(w[1:])
        elif w[0] == "enable":
            better = "_".join(w[1:]) + "_enabled"
        elif w[0] == "disable":
            better = "_".join(w[1:]) + "_enabled (with the value inverted)"
        else:
            continue
        sink.add(
            f.file,
            f.pointer,
            f"Boolean field `{f.name}` uses a prefix or a verb: name it as an adjective, "
            f"`{better}`.",
            rank,
        )
    return sink


_NEGATIVE_WORDS = frozenset({"not", "no", "non", "disabled", "disable", "never", "without"})


def _negative(name: str) -> bool:
    return any(w in _NEGATIVE_WORDS for w in words(name))


@rule("CON004", "boolean-name-negative", kind="spec", severity=Severity.WARNING, guideline="NAM-06")
def boolean_name_negative(ctx: SpecContext) -> Iterable[Hit]:
    """Boolean fields and boolean query parameters are not named negatively.

    What it checks:
        A boolean property, or a boolean query parameter, whose name contains a negative
        word (``not``, ``no``, ``non``, ``never``, ``without``, ``disabled``, ``disable``).

    Why it matters:
        ``disabled: false`` is a double negative that users misread; the guideline
        "strongly recommends" positive names, for parameters that change behaviour too
        (NAM-07).

    Example:
        ``disabled: true``, ``GET /servers?not_shared=true``.

    Fix:
        Use the positive name and invert the value: ``enabled``, ``shared``.

    References:
        API-SIG naming guideline, booleans (NAM-06, NAM-07):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    sink = Sink()
    for f, rank in _boolean_fields(ctx):
        if _negative(f.name):
            sink.add(
                f.file,
                f.pointer,
                f"Boolean field `{f.name}` has a negative name: use the positive form "
                "(for example `enabled` rather than `disabled`) and invert the value.",
                rank,
            )
    index, attr = prepare(ctx)
    for i, op in enumerate(index.ops):
        for p in op.parameters:
            if p.location != "query" or p.schema is None or not _negative(p.name):
                continue
            if schema_type(ctx.spec.deref(p.schema)) != "boolean":
                continue
            sink.add(
                p.node.file,
                p.node.pointer,
                f"Boolean query parameter `{p.name}` has a negative name: use the positive "
                "form and invert the value.",
                attr.ops[i],
            )
    return sink


def _path_rules(ctx: SpecContext) -> Iterator[tuple[str, list[tuple[int, str]], list[str], Rank]]:
    index, attr = prepare(ctx)
    for path in index.paths:
        yield path, static_segments(path), path.split("/"), _path_rank(index, attr, path)


_DEFAULT_SEGMENT_ALLOW = [".well-known"]


@rule(
    "CON005",
    "path-segment-lowercase",
    kind="spec",
    severity=Severity.WARNING,
    options={"allow": _DEFAULT_SEGMENT_ALLOW},
    guideline="NAM-02",
)
def path_segment_lowercase(ctx: SpecContext) -> Iterable[Hit]:
    """Resource names in URLs are all lowercase.

    What it checks:
        Every literal segment of every path (parameters ``{x}`` and version segments
        such as ``v2.1`` are skipped) has no upper-case letter. Segments listed in the
        ``allow`` option are accepted.

    Why it matters:
        Paths are case sensitive (URI-04): ``/Servers`` and ``/servers`` are different
        resources, and mixed case invites clients to guess wrong.

    Example:
        ``/v2/OS-Hypervisors``.

    Fix:
        Use the lowercase name: ``/v2/os-hypervisors``.

    References:
        API-SIG naming guideline (NAM-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    allow = set(option(ctx, "allow", _DEFAULT_SEGMENT_ALLOW))
    sink = Sink()
    for path, segments, _, rank in _path_rules(ctx):
        for _, seg in segments:
            if seg != seg.lower() and seg not in allow:
                sink.add(
                    ctx.spec.file,
                    _path_pointer(path),
                    f"Path segment `{seg}` of `{path}` has upper-case letters: "
                    f"use `{seg.lower()}`.",
                    rank,
                )
    return sink


_HYPHENATED = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@rule(
    "CON006",
    "path-segment-hyphenated",
    kind="spec",
    severity=Severity.WARNING,
    options={"allow": _DEFAULT_SEGMENT_ALLOW},
    guideline="NAM-03",
)
def path_segment_hyphenated(ctx: SpecContext) -> Iterable[Hit]:
    """Resource names in URLs separate words with hyphens, never underscores.

    What it checks:
        Every literal, non-version path segment, lower-cased, is words of letters and
        digits joined by single hyphens: no ``_``, ``.``, ``~``, ``:`` or other
        punctuation. Segments in the ``allow`` option (default ``.well-known``) pass.

    Why it matters:
        One URL style across services; the nova-specs template says the same ("URL
        should not include underscores, and use hyphens instead").

    Example:
        ``/os-volumes_boot``, ``/resource_providers``.

    Fix:
        Use hyphens: ``/os-volumes-boot``, ``/resource-providers``.

    References:
        API-SIG naming guideline (NAM-03):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    allow = set(option(ctx, "allow", _DEFAULT_SEGMENT_ALLOW))
    sink = Sink()
    for path, segments, _, rank in _path_rules(ctx):
        for _, seg in segments:
            if seg in allow or _HYPHENATED.match(seg.lower()):
                continue
            better = "-".join(words(seg)) or seg
            sink.add(
                ctx.spec.file,
                _path_pointer(path),
                f"Path segment `{seg}` of `{path}` has underscores or punctuation: "
                f"separate words with hyphens (`{better}`).",
                rank,
            )
    return sink


# fmt: off
UNCOUNTABLE = [
    "info", "information", "metadata", "data", "media", "software", "hardware", "equipment",
    "feedback", "news", "series", "species", "people", "children", "men", "women",
    "criteria", "indices", "matrices", "analytics", "traffic", "staff", "usage",
]
# fmt: on


def _plural(word: str, uncountable: set[str]) -> bool:
    if word in uncountable:
        return True
    # "-is" is singular in analysis/axis/tennis but plural in acronyms (apis, uris, kpis).
    return word.endswith("s") and not word.endswith(("ss", "us", "sis", "xis", "nis", "tis"))


@rule(
    "CON007",
    "collection-name-plural",
    kind="spec",
    severity=Severity.WARNING,
    options={"allow": UNCOUNTABLE},
    guideline="NAM-01",
)
def collection_name_plural(ctx: SpecContext) -> Iterable[Hit]:
    """Collections in URLs are named with plural nouns.

    What it checks:
        A literal path segment directly followed by a parameter (``/<name>/{id}``) names
        a collection, so its last word should be plural. A heuristic: the word ends in
        ``s`` but not ``ss``/``us``/``is``, or is in the ``allow`` option (uncountable
        nouns such as ``info``, ``metadata``, ``data``).

    Why it matters:
        ``/servers/{id}`` reads as "the server with this id in the servers collection";
        mixing ``/server/{id}`` and ``/volumes/{id}`` makes every client special-case URLs.

    Example:
        ``/v2/flavor/{flavor_id}``.

    Fix:
        Use the plural: ``/v2/flavors/{flavor_id}``. Add an uncountable noun to the
        rule's ``allow`` option in the policy.

    References:
        API-SIG naming guideline (NAM-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    allow = {a.lower() for a in option(ctx, "allow", UNCOUNTABLE)}
    sink = Sink()
    for path, segments, parts, rank in _path_rules(ctx):
        for i, seg in segments:
            if i + 1 >= len(parts) or not parts[i + 1].startswith("{"):
                continue
            w = words(seg)
            if not w or seg.lower() in allow or _plural(w[-1], allow):
                continue
            sink.add(
                ctx.spec.file,
                _path_pointer(path),
                f"Collection `{seg}` in `{path}` is singular: name collections with plural "
                f"nouns (for example `{seg}s`), or add the word to this rule's `allow` option "
                "if it is uncountable.",
                rank,
            )
    return sink


# fmt: off
VERBS = [
    "get", "list", "create", "update", "delete", "remove", "add", "set", "edit", "modify",
    "fetch", "retrieve", "destroy", "insert",
]
# fmt: on


@rule(
    "CON008",
    "path-no-verb",
    kind="spec",
    severity=Severity.WARNING,
    options={"verbs": VERBS},
    guideline="URI-01",
)
def path_no_verb(ctx: SpecContext) -> Iterable[Hit]:
    """Paths name resources, not methods: no ``/delete`` or ``/get-x`` segments.

    What it checks:
        A literal path segment whose first word is one of the ``verbs`` option (default:
        get, list, create, update, delete, remove, add, set, edit, modify, fetch,
        retrieve, destroy, insert).

    Why it matters:
        Each resource has one URI and the HTTP method says what to do with it. A method-
        like sub-URI duplicates the method, escapes HTTP semantics (caching, idempotency)
        and multiplies URLs.

    Example:
        ``POST /servers/{server_id}/delete``.

    Fix:
        Use the method on the resource's URI: ``DELETE /servers/{server_id}``.

    References:
        API-SIG URI guideline (URI-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/uri.html
    """
    verbs = {v.lower() for v in option(ctx, "verbs", VERBS)}
    sink = Sink()
    for path, segments, _, rank in _path_rules(ctx):
        for _, seg in segments:
            w = words(seg)
            if w and w[0] in verbs:
                sink.add(
                    ctx.spec.file,
                    _path_pointer(path),
                    f"Path `{path}` has the verb segment `{seg}`: address the resource itself "
                    "and let the HTTP method say what to do.",
                    rank,
                )
    return sink


# === 2. Representation ===================================================================


@rule(
    "CON009",
    "collection-response-object",
    kind="spec",
    severity=Severity.WARNING,
    guideline="REP-01",
)
def collection_response_object(ctx: SpecContext) -> Iterable[Hit]:
    """A list response is a JSON object holding the array, never a bare array.

    What it checks:
        A 2xx JSON response of a ``GET`` whose schema is ``type: array`` at the root.

    Why it matters:
        An object can grow (``count``, pagination ``links``) without breaking clients;
        a bare array cannot, and bare top-level arrays have had JSON-hijacking issues.

    Example:
        ``GET /tags`` returning ``["a", "b"]``.

    Fix:
        Wrap the array in an object with one plural key: ``{"tags": ["a", "b"]}``.

    References:
        API-SIG representation structure guideline (REP-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/representation_structure.html
    """
    index, attr = prepare(ctx)
    spec = ctx.spec
    sink = Sink()
    for i, op in enumerate(index.ops):
        if op.method != "get":
            continue
        for status in _success(op):
            for node in _json_schemas(spec, op.responses[status]):
                if schema_type(node.value) == "array":
                    sink.add(
                        _op_file(op),
                        _response_pointer(op, status),
                        f"{op.label} returns a bare JSON array ({status}): return an object "
                        "with one plural key holding the array, for example "
                        '`{"items": [...]}`.',
                        attr.ops[i],
                    )
    return sink


@rule("CON010", "bulk-request-object", kind="spec", severity=Severity.WARNING, guideline="REP-01")
def bulk_request_object(ctx: SpecContext) -> Iterable[Hit]:
    """A bulk request body is a JSON object holding the array, never a bare array.

    What it checks:
        A JSON request body whose schema is ``type: array`` at the root.

    Why it matters:
        The same reason as for collection responses: an object can later carry more
        members without a breaking change; a bare array cannot.

    Example:
        ``POST /volumes`` with ``[{"size": 1}, {"size": 2}]``.

    Fix:
        Send an object with one plural key: ``{"volumes": [{"size": 1}, {"size": 2}]}``.

    References:
        API-SIG representation structure guideline (REP-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/representation_structure.html
    """
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        if op.request_body is None:
            continue
        for node in _json_schemas(ctx.spec, op.request_body):
            if schema_type(node.value) == "array":
                sink.add(
                    op.request_body.node.file,
                    op.request_body.node.pointer,
                    f"The request body of {op.label} is a bare JSON array: send an object "
                    "with one plural key holding the array.",
                    attr.ops[i],
                )
    return sink


@rule(
    "CON011",
    "collection-key-name",
    kind="spec",
    severity=Severity.WARNING,
    options={"strip_prefixes": ["os-"]},
    guideline="REP-01",
)
def collection_key_name(ctx: SpecContext) -> Iterable[Hit]:
    """A collection response holds its items under the collection's name.

    What it checks:
        For ``GET`` on a collection path (one that has a member path ``<path>/{id}``),
        a 2xx JSON object response with array properties should have one named after
        the last path segment, hyphens as underscores, after removing a prefix from the
        ``strip_prefixes`` option (default ``os-``): ``/os-hypervisors`` -> ``hypervisors``.

    Why it matters:
        ``{"networks": [...]}`` from ``GET /networks`` lets generic clients and SDKs find
        the items without per-resource knowledge.

    Example:
        ``GET /networks`` returning ``{"items": [...]}``.

    Fix:
        Name the array after the collection: ``{"networks": [...]}``.

    References:
        API-SIG representation structure guideline (REP-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/representation_structure.html
    """
    index, attr = prepare(ctx)
    prefixes = tuple(option(ctx, "strip_prefixes", ["os-"]))
    sink = Sink()
    for i, op in enumerate(index.ops):
        if op.method != "get" or not _is_collection(index, op):
            continue
        last = _last_static(op.path) or ""
        for prefix in prefixes:
            if prefix and last.startswith(prefix):
                last = last[len(prefix) :]
        expected = last.replace("-", "_")
        for status in _success(op):
            for node in _json_schemas(ctx.spec, op.responses[status]):
                props = properties(ctx.spec, node)
                arrays = [n for n, p in props.items() if schema_type(p.node.value) == "array"]
                if not arrays or expected in props or squash(expected) in map(squash, arrays):
                    continue
                sink.add(
                    _op_file(op),
                    _response_pointer(op, status),
                    f"{op.label} returns its items under `{arrays[0]}`: name the array after "
                    f"the collection, `{expected}`.",
                    attr.ops[i],
                )
    return sink


# === 3. Methods ========================================================================

_NO_BODY_METHODS = ("get", "delete", "head", "options", "trace")


@rule(
    "CON012",
    "no-request-body-on-safe-method",
    kind="spec",
    severity=Severity.WARNING,
    guideline="MET-02",
)
def no_request_body(ctx: SpecContext) -> Iterable[Hit]:
    """GET, DELETE, HEAD, OPTIONS and TRACE take no request body.

    What it checks:
        An operation with one of those methods that declares a request body.

    Why it matters:
        Bodies on these methods have no defined semantics in HTTP; proxies and client
        libraries drop them, so the request that reaches the service is not the one sent.

    Example:
        ``DELETE /servers/{id}`` with ``{"force": true}``.

    Fix:
        Move the inputs to query parameters or headers, or make it a ``POST`` on a
        resource that represents the action.

    References:
        API-SIG HTTP methods guideline (MET-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/methods.html
    """
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        if op.method in _NO_BODY_METHODS and op.request_body is not None:
            node = op.node.get("requestBody") or op.request_body.node
            sink.add(
                node.file,
                node.pointer,
                f"{op.label} declares a request body: {op.method.upper()} requests carry none; "
                "use query parameters or headers instead.",
                attr.ops[i],
            )
    return sink


@rule("CON013", "head-needs-get", kind="spec", severity=Severity.WARNING, guideline="MET-05")
def head_needs_get(ctx: SpecContext) -> Iterable[Hit]:
    """A path that offers HEAD also offers GET.

    What it checks:
        A ``HEAD`` operation on a path that has no ``GET``.

    Why it matters:
        HEAD is GET without the body: clients expect the same resource to be readable
        with GET, with the same status and headers.

    Example:
        ``HEAD /images/{id}`` alone.

    Fix:
        Add the matching ``GET`` (or drop the ``HEAD``).

    References:
        API-SIG HTTP methods guideline (MET-05):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/methods.html
    """
    index, attr = prepare(ctx)
    sink = Sink()
    for path, idxs in index.paths.items():
        methods = {index.ops[i].method for i in idxs}
        if "head" in methods and "get" not in methods:
            for i in idxs:
                op = index.ops[i]
                if op.method == "head":
                    sink.add(
                        op.node.file,
                        op.node.pointer,
                        f"{op.label} has no matching GET on `{path}`: add the GET that "
                        "returns the same resource with a body.",
                        attr.ops[i],
                    )
    return sink


@rule("CON014", "put-create-on-member", kind="spec", severity=Severity.WARNING, guideline="MET-03")
def put_create_on_member(ctx: SpecContext) -> Iterable[Hit]:
    """PUT creates only at a URI the client names; on a collection, create with POST.

    What it checks:
        A ``PUT`` on a collection path (one with a member path ``<path>/{id}``) that
        declares ``201 Created``.

    Why it matters:
        When the server picks the new resource's URI, the method is ``POST`` on the
        collection; ``PUT`` means "store this at exactly this URI".

    Example:
        ``PUT /volumes`` returning ``201``.

    Fix:
        Create with ``POST /volumes``, or ``PUT /volumes/{volume_id}`` if the client
        chooses the id.

    References:
        API-SIG HTTP methods guideline (MET-03):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/methods.html
    """
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        if op.method == "put" and "201" in op.responses and _is_collection(index, op):
            sink.add(
                _op_file(op),
                _response_pointer(op, "201"),
                f"{op.label} creates on a collection URI: create with POST on the collection, "
                "or PUT on the member URI the client chooses.",
                attr.ops[i],
            )
    return sink


# === 4. Status codes ===================================================================


def _creates(index: SpecIndex, op: Operation) -> bool:
    return op.method == "post" and _is_collection(index, op)


@rule("CON015", "create-returns-201", kind="spec", severity=Severity.ERROR, guideline="RC-01")
def create_returns_201(ctx: SpecContext) -> Iterable[Hit]:
    """A synchronous create answers 201 Created (202 Accepted when asynchronous).

    What it checks:
        A ``POST`` on a collection path (one with a member path ``<path>/{id}``) whose
        success codes include neither 201 nor 202 (typically a 200).

    Why it matters:
        201 tells clients and caches that a resource now exists and where; a 200 is
        indistinguishable from an action or a search.

    Example:
        ``POST /flavors`` answering ``200``.

    Fix:
        Answer ``201 Created`` with a ``Location`` header and the representation
        (``202 Accepted`` with ``Location`` when the creation completes later).

    References:
        API-SIG response codes guideline (RC-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        if not _creates(index, op):
            continue
        success = _success(op)
        if not success or "201" in success or "202" in success or "2XX" in success:
            continue
        status = success[0]
        sink.add(
            _op_file(op),
            _response_pointer(op, status),
            f"{op.label} creates a resource but answers {status}: answer 201 Created with a "
            "Location header (202 Accepted if the creation is asynchronous).",
            attr.ops[i],
        )
    return sink


@rule("CON016", "created-has-location", kind="spec", severity=Severity.ERROR, guideline="RC-01")
def created_has_location(ctx: SpecContext) -> Iterable[Hit]:
    """A 201 Created response carries a Location header.

    What it checks:
        Every ``201`` response declares a ``Location`` header.

    Why it matters:
        The client needs the URI of what it just created; without ``Location`` it has to
        build it from conventions or search for it.

    Example:
        ``POST /servers`` -> ``201`` with no ``headers``.

    Fix:
        Declare ``headers: {Location: {description: ..., schema: {type: string, format: uri}}}``.

    References:
        API-SIG response codes guideline (RC-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        body = op.responses.get("201")
        if body is not None and "location" not in body.headers:
            sink.add(
                _op_file(op),
                _response_pointer(op, "201"),
                f"The 201 response of {op.label} has no Location header: declare `Location` "
                "with the URI of the new resource.",
                attr.ops[i],
            )
    return sink


@rule("CON017", "accepted-has-location", kind="spec", severity=Severity.ERROR, guideline="RC-02")
def accepted_has_location(ctx: SpecContext) -> Iterable[Hit]:
    """An asynchronous create (202 Accepted) carries a Location header.

    What it checks:
        A ``POST`` on a collection path (one with a member path ``<path>/{id}``) whose
        ``202`` response declares no ``Location`` header. Actions that answer 202 are
        not creates and are not checked.

    Why it matters:
        The client must be able to follow the new resource (or a status resource) while
        it is being built.

    Example:
        ``POST /servers`` -> ``202`` with no ``Location``.

    Fix:
        Declare a ``Location`` header pointing to the future resource or to a status
        resource.

    References:
        API-SIG response codes guideline (RC-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        body = op.responses.get("202")
        if body is None or not _creates(index, op) or "location" in body.headers:
            continue
        sink.add(
            _op_file(op),
            _response_pointer(op, "202"),
            f"The 202 response of {op.label} has no Location header: point `Location` to the "
            "resource being created or to a status resource.",
            attr.ops[i],
        )
    return sink


@rule("CON018", "delete-returns-204", kind="spec", severity=Severity.ERROR, guideline="RC-03")
def delete_returns_204(ctx: SpecContext) -> Iterable[Hit]:
    """A synchronous DELETE answers 204 No Content (202 when asynchronous).

    What it checks:
        A ``DELETE`` that declares success codes but neither 204 nor 202.

    Why it matters:
        204 says "done, nothing to read"; clients should not have to parse a body to
        learn that a deletion succeeded.

    Example:
        ``DELETE /volumes/{id}`` answering ``200`` with the deleted volume.

    Fix:
        Answer ``204 No Content`` (or ``202 Accepted`` if the deletion completes later).

    References:
        API-SIG response codes guideline (RC-03):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        if op.method != "delete":
            continue
        success = _success(op)
        if not success or {"204", "202", "2XX"} & set(success):
            continue
        sink.add(
            _op_file(op),
            _response_pointer(op, success[0]),
            f"{op.label} answers {success[0]}: a synchronous delete answers 204 No Content "
            "(202 Accepted if asynchronous).",
            attr.ops[i],
        )
    return sink


USUAL_SUCCESS = ["200", "201", "202", "204"]


@rule(
    "CON019",
    "success-status-usual",
    kind="spec",
    severity=Severity.WARNING,
    options={"allow": USUAL_SUCCESS},
    guideline="RC-04",
)
def success_status_usual(ctx: SpecContext) -> Iterable[Hit]:
    """Success codes are 200, 201, 202 or 204.

    What it checks:
        A 2xx response code outside the ``allow`` option (default 200, 201, 202, 204;
        the range ``2XX`` is accepted).

    Why it matters:
        Clients handle the common codes; 203, 205, 206 or 207 each need special handling
        that few clients have.

    Example:
        ``POST /servers/{id}/action`` answering ``207``.

    Fix:
        Use ``200`` for other successful requests, or add the code to the option when
        the semantics really need it (``206`` for range requests).

    References:
        API-SIG response codes guideline (RC-04):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    allow = {str(a) for a in option(ctx, "allow", USUAL_SUCCESS)} | {"2XX"}
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        for status in _success(op):
            if status.upper() not in allow:
                sink.add(
                    _op_file(op),
                    _response_pointer(op, status),
                    f"{op.label} answers the unusual success code {status}: use 200 (or "
                    "201/202/204 where they apply).",
                    attr.ops[i],
                )
    return sink


@rule(
    "CON020",
    "over-quota-is-403",
    kind="spec",
    severity=Severity.ERROR,
    options={"keywords": ["quota"]},
    guideline="RC-06",
)
def over_quota_is_403(ctx: SpecContext) -> Iterable[Hit]:
    """Going over quota is 403 Forbidden, never 413.

    What it checks:
        A ``413`` response whose description mentions a word of the ``keywords`` option
        (default ``quota``).

    Why it matters:
        413 means "this request body is too large"; a client that retries with a smaller
        body will never succeed against a quota.

    Example:
        ``413: description: Quota exceeded for instances``.

    Fix:
        Answer ``403 Forbidden`` with an error that names the quota.

    References:
        API-SIG response codes guideline (RC-06):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    keywords = [k.lower() for k in option(ctx, "keywords", ["quota"])]
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        body = op.responses.get("413")
        if body is None:
            continue
        text = " ".join(
            str(body.node.value.get(k) or "") for k in ("description", "summary")
        ).lower()
        if any(k in text for k in keywords):
            sink.add(
                _op_file(op),
                _response_pointer(op, "413"),
                f"{op.label} answers 413 for going over quota: answer 403 Forbidden instead.",
                attr.ops[i],
            )
    return sink


def _status_rule(ctx: SpecContext, status: str, message: str) -> Iterable[Hit]:
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        if status in op.responses:
            sink.add(
                _op_file(op),
                _response_pointer(op, status),
                message.format(op=op.label),
                attr.ops[i],
            )
    return sink


@rule("CON021", "no-422", kind="spec", severity=Severity.ERROR, guideline="RC-07")
def no_422(ctx: SpecContext) -> Iterable[Hit]:
    """Malformed or invalid requests answer 400, never 422.

    What it checks:
        Any operation that declares a ``422`` response.

    Why it matters:
        422 comes from WebDAV; OpenStack clients treat 400 as "fix your request", and
        one code for one meaning keeps error handling uniform across services.

    Example:
        ``POST /servers`` -> ``422: Unprocessable Entity``.

    Fix:
        Answer ``400 Bad Request`` with an error body that says what is wrong.

    References:
        API-SIG response codes guideline (RC-07):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    return _status_rule(
        ctx, "422", "{op} declares 422: answer 400 Bad Request for malformed or invalid requests."
    )


@rule("CON022", "no-501", kind="spec", severity=Severity.ERROR, guideline="RC-16")
def no_501(ctx: SpecContext) -> Iterable[Hit]:
    """An unsupported feature answers 400 (or 404), never 501 Not Implemented.

    What it checks:
        Any operation that declares a ``501`` response.

    Why it matters:
        501 says the server does not support the HTTP *method* at all; the guideline
        calls its use for a missing feature "completely incorrect". Clients cannot tell
        a deployment choice from a server bug.

    Example:
        ``POST /servers/{id}/action`` -> ``501: not implemented by this driver``.

    Fix:
        Answer ``400`` with a clear message (``404`` if the URI will never exist).

    References:
        API-SIG response codes guideline (RC-16):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    return _status_rule(
        ctx,
        "501",
        "{op} declares 501: answer 400 with a clear message for an unsupported feature "
        "(404 if the URI will never exist).",
    )


TRACE_FIELDS = ["traceback", "stack_trace", "stacktrace", "backtrace", "stack"]


@rule(
    "CON023",
    "no-stack-trace-in-errors",
    kind="spec",
    severity=Severity.ERROR,
    options={"names": TRACE_FIELDS},
    guideline="RC-15",
)
def no_stack_trace(ctx: SpecContext) -> Iterable[Hit]:
    """Error bodies never carry stack traces.

    What it checks:
        A field, at any depth of a 4xx/5xx response schema, named like a stack trace
        (the ``names`` option: ``traceback``, ``stack_trace``, ``stacktrace``,
        ``backtrace``, ``stack``; compared without case or separators).

    Why it matters:
        Tracebacks leak internals (paths, versions, sometimes secrets) and are useless to
        API users.

    Example:
        ``{"errors": [{"code": "...", "traceback": "..."}]}``.

    Fix:
        Remove the field; log the trace on the server with the request id.

    References:
        API-SIG response codes guideline (RC-15):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    names = {squash(n) for n in option(ctx, "names", TRACE_FIELDS)}
    index, attr = prepare(ctx)
    sink = Sink()
    for sid in index.error_schemas:
        info = index.schemas.get(sid)
        if info is None:
            continue
        for f in info.fields:
            if squash(f.name) in names:
                sink.add(
                    f.file,
                    f.pointer,
                    f"Error field `{f.name}` exposes a stack trace: remove it and log the "
                    "trace on the server instead.",
                    attr.schema(sid),
                )
    return sink


# --- errors format (ERR-01/02) ---------------------------------------------------------

ERROR_ITEM_FIELDS = ["code", "status", "title", "detail", "links"]


def _errors_apply(ctx: SpecContext, index: SpecIndex) -> bool:
    applies = option(ctx, "applies_to", "openstack")
    if applies == "all":
        return True
    if applies == "openstack":
        return index.openstack
    return False


def _error_bodies(ctx: SpecContext) -> Iterator[tuple[Operation, str, Node, Rank]]:
    index, attr = prepare(ctx)
    if not _errors_apply(ctx, index):
        return
    for i, op in enumerate(index.ops):
        for status, body in op.responses.items():
            if status[:1] in ("4", "5"):
                for node in _json_schemas(ctx.spec, body):
                    yield op, status, node, attr.ops[i]


@rule(
    "CON024",
    "error-body-format",
    kind="spec",
    severity=Severity.ERROR,
    options={"applies_to": "openstack"},
    guideline="ERR-01",
)
def error_body_format(ctx: SpecContext) -> Iterable[Hit]:
    """Error responses use the API-SIG format ``{"errors": [...]}``.

    What it checks:
        Every 4xx/5xx response that documents a JSON schema has a top-level ``errors``
        property that is an array. The ``applies_to`` option says where: ``openstack``
        (the default: only specs that use OpenStack conventions, i.e. an ``x-openstack``
        extension on an operation or "OpenStack" in ``info.title``), ``all`` or ``none``.
        Off by default elsewhere because the format is an OpenStack convention, not an
        HTTP one; a community adopting it sets ``applies_to: all`` in its policy.
        Responses without a schema are not checked.

    Why it matters:
        One error format lets every client and SDK show errors the same way, with
        machine-readable codes and help links.

    Example:
        ``404: {"itemNotFound": {"message": "...", "code": 404}}``.

    Fix:
        Return ``{"errors": [{"code": "compute.server.not_found", "status": 404,
        "title": "...", "detail": "...", "links": [{"rel": "help", "href": "..."}]}]}``.

    References:
        API-SIG errors guideline (ERR-01, RC-17):
        https://specs.openstack.org/openstack/api-sig/guidelines/errors.html
    """
    sink = Sink()
    spec = ctx.spec
    for op, status, node, rank in _error_bodies(ctx):
        if schema_type(node.value) not in (None, "object") and "properties" not in node.value:
            ok = False
        else:
            errors = properties(spec, node).get("errors")
            ok = errors is not None and schema_type(errors.node.value) == "array"
        if not ok:
            sink.add(
                node.file,
                node.pointer,
                f"The {status} error body of {op.label} is not in the API-SIG format: return "
                '`{"errors": [{"code", "status", "title", "detail", "links"}]}`.',
                rank,
            )
    return sink


@rule(
    "CON025",
    "error-item-fields",
    kind="spec",
    severity=Severity.ERROR,
    options={"applies_to": "openstack", "required": ERROR_ITEM_FIELDS},
    guideline="ERR-02",
)
def error_item_fields(ctx: SpecContext) -> Iterable[Hit]:
    """Each item of ``errors`` requires ``code``, ``status``, ``title``, ``detail``, ``links``.

    What it checks:
        In 4xx/5xx bodies that have an ``errors`` array, the item schema lists every name
        of the ``required`` option in its ``required``. Applies where CON024 applies (the
        ``applies_to`` option, default ``openstack``).

    Why it matters:
        Clients rely on ``code`` to branch, ``status`` to match the HTTP status, and the
        ``help`` link to point users at documentation.

    Example:
        ``errors: {type: array, items: {properties: {message: {type: string}}}}``.

    Fix:
        Declare the five fields and list them in ``required``; ``request_id`` is optional.

    References:
        API-SIG errors guideline (ERR-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/errors.html
    """
    wanted = list(option(ctx, "required", ERROR_ITEM_FIELDS))
    spec = ctx.spec
    sink = Sink()
    for op, status, node, rank in _error_bodies(ctx):
        errors = properties(spec, node).get("errors")
        if errors is None or schema_type(errors.node.value) != "array":
            continue
        items = spec.resolve(errors.node.get("items"))
        if items is None or not isinstance(items.value, Mapping):
            continue
        props = properties(spec, items)
        missing = [n for n in wanted if n not in props or not props[n].required]
        if missing:
            sink.add(
                items.file,
                items.pointer,
                f"Error items of {op.label} ({status}) do not require "
                + ", ".join(f"`{m}`" for m in missing)
                + ": declare them and list them in `required`.",
                rank,
            )
    return sink


# === 5. Pagination, sorting, counting ==================================================

# fmt: off
PAGE_PARAMETERS = [
    "page", "per_page", "page_size", "page_number", "offset", "cursor", "page_token",
    "start_index", "skip",
]
# fmt: on


def _query_params(ctx: SpecContext) -> Iterator[tuple[int, Operation, Any]]:
    index, _ = prepare(ctx)
    for i, op in enumerate(index.ops):
        for p in op.parameters:
            if p.location == "query":
                yield i, op, p


@rule(
    "CON026",
    "pagination-limit-marker",
    kind="spec",
    severity=Severity.WARNING,
    options={"discouraged": PAGE_PARAMETERS},
    guideline="PAG-01",
)
def pagination_limit_marker(ctx: SpecContext) -> Iterable[Hit]:
    """Lists are paginated with ``limit`` and ``marker``.

    What it checks:
        A query parameter named like another paging scheme (the ``discouraged`` option:
        ``page``, ``per_page``, ``page_size``, ``page_number``, ``offset``, ``cursor``,
        ``page_token``, ``start_index``, ``skip``; compared without case or separators).

    Why it matters:
        One paging scheme across services means one client helper. Markers (the id of
        the last item seen) stay correct while items are added or removed; offsets and
        page numbers skip or repeat items.

    Example:
        ``GET /volumes?page=2&per_page=50``.

    Fix:
        Use ``limit`` (maximum number of items) and ``marker`` (id of the last item
        seen), and give ``next`` links.

    References:
        API-SIG pagination guideline (PAG-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/pagination_filter_sort.html
    """
    discouraged = {squash(n) for n in option(ctx, "discouraged", PAGE_PARAMETERS)}
    _, attr = prepare(ctx)
    sink = Sink()
    for i, _op, p in _query_params(ctx):
        if squash(p.name) in discouraged:
            sink.add(
                p.node.file,
                p.node.pointer,
                f"Query parameter `{p.name}` pages differently from the other services: use "
                "`limit` and `marker` (the id of the last item seen).",
                attr.ops[i],
            )
    return sink


def _declares(op: Operation, status: str) -> bool:
    return status in op.responses or f"{status[0]}XX" in op.responses or "default" in op.responses


@rule("CON027", "marker-declares-400", kind="spec", severity=Severity.WARNING, guideline="PAG-02")
def marker_declares_400(ctx: SpecContext) -> Iterable[Hit]:
    """An operation that takes ``marker`` documents the 400 for an unknown marker.

    What it checks:
        An operation with a ``marker`` query parameter and no ``400`` (nor ``4XX`` or
        ``default``) response.

    Why it matters:
        A marker that no longer exists must fail clearly with 400, not silently restart
        from the first page; clients need to know to expect it.

    Example:
        ``GET /servers?marker=...`` documenting only ``200``.

    Fix:
        Declare the ``400`` response with an error body.

    References:
        API-SIG pagination guideline (PAG-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/pagination_filter_sort.html
    """
    _, attr = prepare(ctx)
    sink = Sink()
    for i, op, p in _query_params(ctx):
        if p.name == "marker" and not _declares(op, "400"):
            sink.add(
                op.node.file,
                op.node.pointer,
                f"{op.label} takes `marker` but documents no 400: declare the 400 returned for "
                "an unknown marker.",
                attr.ops[i],
            )
    return sink


LEGACY_SORT = ["sort_key", "sort_dir"]


@rule(
    "CON028",
    "sort-parameter",
    kind="spec",
    severity=Severity.WARNING,
    options={"legacy": LEGACY_SORT},
    guideline="SRT-01",
)
def sort_parameter(ctx: SpecContext) -> Iterable[Hit]:
    """Sorting uses one ``sort=key1:asc,key2:desc`` parameter, not ``sort_key``/``sort_dir``.

    What it checks:
        A query parameter named in the ``legacy`` option (default ``sort_key``,
        ``sort_dir``) that is not marked ``deprecated: true``.

    Why it matters:
        Separate key and direction lists pair up by position, which is error-prone; the
        single ``sort`` parameter is the cross-service form. Keeping the legacy pair as
        deprecated is fine (SRT-02); adding it to new operations is not.

    Example:
        ``GET /volumes?sort_key=size&sort_dir=desc``.

    Fix:
        Accept ``sort=size:desc``; keep the old parameters only as ``deprecated: true``.

    References:
        API-SIG sorting guideline (SRT-01, SRT-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/pagination_filter_sort.html
    """
    legacy = {squash(n) for n in option(ctx, "legacy", LEGACY_SORT)}
    _, attr = prepare(ctx)
    sink = Sink()
    for i, _op, p in _query_params(ctx):
        if squash(p.name) in legacy and not p.deprecated:
            sink.add(
                p.node.file,
                p.node.pointer,
                f"Query parameter `{p.name}` is the legacy sort form: accept "
                "`sort=key1:asc,key2:desc` and mark this one `deprecated: true`.",
                attr.ops[i],
            )
    return sink


COUNT_FIELDS = ["total", "total_count", "num_results", "total_results", "total_items"]
COUNT_PARAMETERS = ["include_count", "with_total", "total_count", "show_count", "include_total"]


def _list_objects(ctx: SpecContext) -> Iterator[tuple[Operation, Node, Rank]]:
    index, attr = prepare(ctx)
    for i, op in enumerate(index.ops):
        if op.method != "get":
            continue
        for status in _success(op):
            for node in _json_schemas(ctx.spec, op.responses[status]):
                if schema_type(node.value) in (None, "object"):
                    yield op, node, attr.ops[i]


@rule(
    "CON029",
    "count-with-count",
    kind="spec",
    severity=Severity.WARNING,
    options={"fields": COUNT_FIELDS, "parameters": COUNT_PARAMETERS},
    guideline="CNT-01",
)
def count_with_count(ctx: SpecContext) -> Iterable[Hit]:
    """Totals are asked for with ``with_count`` and returned as ``count``.

    What it checks:
        A top-level field of a ``GET`` 2xx response named in the ``fields`` option
        (``total``, ``total_count``, ``num_results``, ...), and a query parameter named in
        the ``parameters`` option (``include_count``, ``with_total``, ...); names are
        compared without case or separators.

    Why it matters:
        Counting is expensive; one opt-in parameter and one field name let clients ask
        for it the same way everywhere.

    Example:
        ``GET /volumes?include_count=true`` -> ``{"volumes": [...], "total": 42}``.

    Fix:
        Accept ``with_count`` and return the integer ``count`` next to the collection.

    References:
        API-SIG counting guideline (CNT-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/counting.html
    """
    fields = {squash(n) for n in option(ctx, "fields", COUNT_FIELDS)}
    params = {squash(n) for n in option(ctx, "parameters", COUNT_PARAMETERS)}
    _, attr = prepare(ctx)
    sink = Sink()
    for op, node, rank in _list_objects(ctx):
        for name, prop in properties(ctx.spec, node).items():
            if squash(name) in fields:
                sink.add(
                    prop.owner.file,
                    join(prop.owner.pointer, "properties", name),
                    f"Field `{name}` in the response of {op.label} carries a total: name it "
                    "`count` (an integer, returned when `with_count` is true).",
                    rank,
                )
    for i, _op, p in _query_params(ctx):
        if squash(p.name) in params:
            sink.add(
                p.node.file,
                p.node.pointer,
                f"Query parameter `{p.name}` asks for a total: name it `with_count`.",
                attr.ops[i],
            )
    return sink


@rule("CON030", "count-integer", kind="spec", severity=Severity.WARNING, guideline="CNT-01")
def count_integer(ctx: SpecContext) -> Iterable[Hit]:
    """The top-level ``count`` of a list response is an integer.

    What it checks:
        A top-level ``count`` field of a ``GET`` 2xx JSON response whose declared type
        is not ``integer``.

    Why it matters:
        Clients compare and add counts; a string or number type forces conversions and
        hides rounding.

    Example:
        ``count: {type: string}``.

    Fix:
        Declare ``count: {type: integer, minimum: 0}``.

    References:
        API-SIG counting guideline (CNT-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/counting.html
    """
    sink = Sink()
    for op, node, rank in _list_objects(ctx):
        prop = properties(ctx.spec, node).get("count")
        if prop is None:
            continue
        t = schema_type(prop.node.value)
        if t is not None and t != "integer":
            sink.add(
                prop.owner.file,
                join(prop.owner.pointer, "properties", "count"),
                f"Field `count` in the response of {op.label} is {_article(t)}: declare it as "
                "an integer.",
                rank,
            )
    return sink


# === 6. Time ==========================================================================

TIME_FIELDS = r"(^|_)at$|^(created|updated|deleted)$"


@rule(
    "CON031",
    "datetime-iso8601",
    kind="spec",
    severity=Severity.WARNING,
    options={"pattern": TIME_FIELDS},
    guideline="TIM-01",
)
def datetime_iso8601(ctx: SpecContext) -> Iterable[Hit]:
    """Timestamps are ISO 8601 strings: ``type: string, format: date-time``.

    What it checks:
        A field whose snake_case name matches the ``pattern`` option (default: ends in
        ``_at``, or is ``created``/``updated``/``deleted``) and whose schema is not a
        ``date-time`` string (a ``oneOf``/``anyOf`` with a ``date-time`` string branch
        passes). Fields without any declared type are not checked.

    Why it matters:
        Epoch integers and free-form strings lose the time zone and force every client
        to guess the unit; ISO 8601 (preferably UTC) is the cross-service format.

    Example:
        ``created_at: {type: integer}``, ``updated_at: {type: string}``.

    Fix:
        Declare ``{type: string, format: date-time}`` and return values such as
        ``2024-05-13T10:00:00Z``.

    References:
        API-SIG time guideline (TIM-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/time.html
    """
    pattern = re.compile(option(ctx, "pattern", TIME_FIELDS))
    index, attr = prepare(ctx)
    spec = ctx.spec
    sink = Sink()
    for sid, info in index.schemas.items():
        for f in info.fields:
            if not pattern.search(snake(f.name)):
                continue
            kinds = schema_kinds(spec, f.schema, f.target[0] if f.target else f.file)
            if not kinds or ("string", "date-time") in kinds:
                continue
            t, fmt = kinds[0]
            if t == "boolean":
                continue  # a flag such as nova's `deleted`, not a timestamp
            if t == "string" and not fmt:
                message = (
                    f"Timestamp field `{f.name}` is a string without a format: add "
                    "`format: date-time` (ISO 8601, for example `2024-05-13T10:00:00Z`)."
                )
            else:
                what = _article(t) + (f" ({fmt})" if fmt else "")
                message = (
                    f"Timestamp field `{f.name}` is {what}: declare it as an ISO 8601 string "
                    "(`type: string, format: date-time`)."
                )
            sink.add(
                f.file,
                f.pointer,
                message,
                attr.schema(sid),
            )
    return sink


# === 7. Headers =======================================================================

ALLOWED_X_HEADERS = ["X-Auth-Token", "X-Subject-Token", "X-Service-Token", "X-OpenStack-Request-Id"]


def _headers(ctx: SpecContext) -> Iterator[tuple[str, Node, Rank, str]]:
    """(name, node, rank, where) of every header parameter and response header."""
    index, attr = prepare(ctx)
    for i, op in enumerate(index.ops):
        rank = attr.ops[i]
        for p in op.parameters:
            if p.location == "header":
                yield p.name, p.node, rank, "request header"
        for body in op.responses.values():
            for name, node in _header_names(body):
                yield name, node, rank, "response header"


@rule(
    "CON032",
    "header-no-x-prefix",
    kind="spec",
    severity=Severity.WARNING,
    options={"allow": ALLOWED_X_HEADERS},
    guideline="HDR-01",
)
def header_no_x_prefix(ctx: SpecContext) -> Iterable[Hit]:
    """New headers do not use the ``X-`` prefix.

    What it checks:
        Request and response header names starting with ``X-``, except the
        community-wide ones in the ``allow`` option (default ``X-Auth-Token``,
        ``X-Subject-Token``, ``X-Service-Token``, ``X-OpenStack-Request-Id``), compared
        without case. Existing headers may stay (the finding is mild on existing surface).

    Why it matters:
        RFC 6648 deprecates ``X-``: experimental headers become standard and then carry
        a misleading prefix forever.

    Example:
        ``X-Compute-Request-Id``.

    Fix:
        Name it ``OpenStack-<Service-Type>-<Name>`` (or reuse a generic header).

    References:
        API-SIG headers guideline (HDR-01), RFC 6648:
        https://specs.openstack.org/openstack/api-sig/guidelines/headers.html
    """
    allow = {a.lower() for a in option(ctx, "allow", ALLOWED_X_HEADERS)}
    sink = Sink()
    for name, node, rank, where in _headers(ctx):
        if name.lower().startswith("x-") and name.lower() not in allow:
            sink.add(
                node.file,
                node.pointer,
                f"The {where} `{name}` uses the `X-` prefix: name new headers without it, "
                "for example `OpenStack-<Service-Type>-<Name>`.",
                rank,
            )
    return sink


# fmt: off
PROJECT_NAMES = [
    "nova", "cinder", "glance", "keystone", "neutron", "swift", "heat", "ironic", "manila",
    "octavia", "designate", "barbican", "trove", "zaqar", "magnum", "senlin", "mistral",
    "aodh", "gnocchi", "masakari", "watcher", "cyborg", "zun", "blazar", "freezer", "sahara",
    "tacker", "vitrage", "ceilometer", "cloudkitty",
]
# fmt: on


@rule(
    "CON033",
    "header-no-project-name",
    kind="spec",
    severity=Severity.WARNING,
    options={"projects": PROJECT_NAMES},
    guideline="HDR-02",
)
def header_no_project_name(ctx: SpecContext) -> Iterable[Hit]:
    """Header names do not contain a project name; one generic header per purpose.

    What it checks:
        Request and response header names containing, as a hyphen-separated word, a
        project code name from the ``projects`` option (nova, cinder, keystone, ...).

    Why it matters:
        Per-project headers multiply the vocabulary (``OpenStack-Nova-API-Version``,
        ``OpenStack-Cinder-API-Version``, ...); one header with the service *type* in its
        value works for every service, and service types outlive project names.

    Example:
        ``X-OpenStack-Nova-API-Version: 2.1``.

    Fix:
        Use the generic header with the service type in the value:
        ``OpenStack-API-Version: compute 2.1``.

    References:
        API-SIG headers guideline (HDR-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/headers.html
    """
    projects = {p.lower() for p in option(ctx, "projects", PROJECT_NAMES)}
    sink = Sink()
    for name, node, rank, where in _headers(ctx):
        hit = next((w for w in name.lower().split("-") if w in projects), None)
        if hit:
            sink.add(
                node.file,
                node.pointer,
                f"The {where} `{name}` names the project `{hit}`: use one generic header with "
                "the service type in its value (for example `OpenStack-API-Version: compute 2.1`).",
                rank,
            )
    return sink


# === 8. Documentation ===================================================================


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


@rule("CON034", "operation-described", kind="spec", severity=Severity.WARNING, guideline="DOC-01")
def operation_described(ctx: SpecContext) -> Iterable[Hit]:
    """Every operation has a summary or a description.

    What it checks:
        An operation with neither a non-empty ``summary`` nor a non-empty ``description``.

    Why it matters:
        The API reference is generated from the spec; an undocumented operation is one
        users cannot discover or use correctly.

    Example:
        ``get: {operationId: servers:get, responses: ...}``.

    Fix:
        Add a one-line ``summary`` and a ``description`` of the behaviour and its
        conditions.

    References:
        API-SIG API documentation guideline (DOC-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/api-docs.html
    """
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        if not _text(op.value.get("summary")) and not _text(op.value.get("description")):
            sink.add(
                op.node.file,
                op.node.pointer,
                f"{op.label} has no summary or description: add a one-line `summary` and a "
                "`description`.",
                attr.ops[i],
            )
    return sink


@rule(
    "CON035", "operation-status-codes", kind="spec", severity=Severity.WARNING, guideline="DOC-01"
)
def operation_status_codes(ctx: SpecContext) -> Iterable[Hit]:
    """Every operation documents a success response and an error response.

    What it checks:
        An operation with no 2xx (or ``2XX``) response, or with no 4xx (or ``4XX``, or
        ``default``) response.

    Why it matters:
        Users write error handling from the documented codes; the guideline asks for
        both the normal and the error codes of each method.

    Example:
        ``responses: {'200': ...}`` only.

    Fix:
        Declare the success code and each client error the operation can return (at
        least 400/401/403/404 where they apply).

    References:
        API-SIG API documentation guideline (DOC-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/api-docs.html
    """
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        codes = set(op.responses)
        success = any(c[:1] == "2" for c in codes)
        error = any(c[:1] == "4" for c in codes) or "default" in codes
        missing = [
            w for w, ok in (("success (2xx)", success), ("client error (4xx)", error)) if not ok
        ]
        if missing:
            responses = op.node.get("responses") or op.node
            sink.add(
                responses.file,
                responses.pointer,
                f"{op.label} documents no {' and no '.join(missing)} response: declare the "
                "codes it returns.",
                attr.ops[i],
            )
    return sink


@rule("CON036", "parameter-described", kind="spec", severity=Severity.WARNING, guideline="DOC-01")
def parameter_described(ctx: SpecContext) -> Iterable[Hit]:
    """Every parameter has a description and a typed schema.

    What it checks:
        A parameter with no non-empty ``description``, or whose schema declares no
        ``type`` (nor ``enum``, ``const``, ``oneOf``, ``anyOf`` or ``allOf``).

    Why it matters:
        The reference must say what each parameter does, its type and whether it is
        optional; generated clients need the type.

    Example:
        ``- {name: all_tenants, in: query, schema: {}}``.

    Fix:
        Add a ``description`` and ``schema: {type: ...}``.

    References:
        API-SIG API documentation guideline (DOC-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/api-docs.html
    """
    index, attr = prepare(ctx)
    spec = ctx.spec
    sink = Sink()
    for i, op in enumerate(index.ops):
        for p in op.parameters:
            missing = []
            if not _text(p.node.value.get("description")):
                missing.append("description")
            schema = spec.deref(p.schema) if p.schema is not None else {}
            if not schema and "content" in p.node.value:
                schema = {"type": "object"}
            if not any(k in schema for k in ("type", "enum", "const", "oneOf", "anyOf", "allOf")):
                missing.append("schema type")
            if missing:
                sink.add(
                    p.node.file,
                    p.node.pointer,
                    f"Parameter `{p.name}` ({p.location}) has no {' and no '.join(missing)}: "
                    "document it.",
                    attr.ops[i],
                )
    return sink


# === 9. Structure ======================================================================


@rule(
    "CON037",
    "operation-id-unique",
    kind="spec",
    severity=Severity.ERROR,
    guideline="OAS-operationId",
)
def operation_id_unique(ctx: SpecContext) -> Iterable[Hit]:
    """Operation ids are unique in the document.

    What it checks:
        Two or more operations with the same ``operationId``; each one is reported,
        naming the others.

    Why it matters:
        The OpenAPI specification requires uniqueness; code generators name methods
        after operation ids and silently drop or overwrite duplicates.

    Example:
        ``GET /servers`` and ``GET /servers/detail`` both ``operationId: listServers``.

    Fix:
        Give each operation its own id (``listServers``, ``listServersDetailed``).

    References:
        OpenAPI Specification, Operation Object ``operationId``:
        https://spec.openapis.org/oas/v3.1.0#operation-object
    """
    index, attr = prepare(ctx)
    by_id: dict[str, list[int]] = {}
    for i, op in enumerate(index.ops):
        if op.operation_id is not None:
            by_id.setdefault(op.operation_id, []).append(i)
    sink = Sink()
    for op_id, idxs in by_id.items():
        if len(idxs) < 2:
            continue
        for i in idxs:
            op = index.ops[i]
            others = ", ".join(index.ops[j].label for j in idxs if j != i)
            sink.add(
                op.node.file,
                join(op.node.pointer, "operationId"),
                f"operationId `{op_id}` of {op.label} is also used by {others}: give each "
                "operation a unique id.",
                attr.ops[i],
            )
    return sink


_TEMPLATE_RE = re.compile(r"\{([^}/]+)\}")


@rule(
    "CON038",
    "path-parameters-declared",
    kind="spec",
    severity=Severity.ERROR,
    guideline="OAS-path-templating",
)
def path_parameters_declared(ctx: SpecContext) -> Iterable[Hit]:
    """Path template variables and path parameters match one to one.

    What it checks:
        For each operation, every ``{name}`` of the path template has a declared
        ``in: path`` parameter (on the operation or its path item), and every declared
        path parameter appears in the template.

    Why it matters:
        The OpenAPI specification requires it; documentation and generated clients
        cannot build the URL otherwise.

    Example:
        ``/servers/{server_id}`` with a parameter ``{name: id, in: path}``.

    Fix:
        Declare the parameter under the template's name (or rename the template).

    References:
        OpenAPI Specification, Path Templating:
        https://spec.openapis.org/oas/v3.1.0#path-templating
    """
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        template = _TEMPLATE_RE.findall(op.path)
        declared = [p.name for p in op.parameters if p.location == "path"]
        for name in template:
            if name not in declared:
                sink.add(
                    op.node.file,
                    op.node.pointer,
                    f"{op.label} does not declare the path parameter `{name}`: add "
                    f"`{{name: {name}, in: path, required: true}}`.",
                    attr.ops[i],
                )
        for p in op.parameters:
            if p.location == "path" and p.name not in template:
                sink.add(
                    p.node.file,
                    p.node.pointer,
                    f"Path parameter `{p.name}` is not in the template of `{op.path}`: remove "
                    "it or rename it to a template variable.",
                    attr.ops[i],
                )
    return sink


_MICROVERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


# Where an x-openstack mapping with a version window sits: (mapping, file, pointer of the
# mapping, operation index or None, schema id or None).
_Window = tuple[Mapping[str, Any], str, str, "int | None", "SchemaId | None"]


def _windows(index: SpecIndex) -> list[_Window]:
    cached = index.memo.get("windows")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    out: list[_Window] = []

    def visit(node: Node, op: int | None, sid: SchemaId | None) -> None:
        ext = node.value.get("x-openstack") if isinstance(node.value, Mapping) else None
        if isinstance(ext, Mapping) and ("min-ver" in ext or "max-ver" in ext):
            out.append((ext, node.file, join(node.pointer, "x-openstack"), op, sid))

    for i, op in enumerate(index.ops):
        visit(op.node, i, None)
        for p in op.parameters:
            visit(p.node, i, None)
        for body in op.responses.values():
            for _, header in _header_names(body):
                visit(header, i, None)
    for sid, info in index.schemas.items():
        visit(info.node, None, sid)
    index.memo["windows"] = out
    return out


def _microversions(ctx: SpecContext) -> Iterator[tuple[Mapping[str, Any], str, str, Rank]]:
    """(x-openstack mapping, file, pointer of the mapping, rank) everywhere it is used."""
    index, attr = prepare(ctx)
    for ext, file, pointer, op, sid in _windows(index):
        rank = attr.ops[op] if op is not None else attr.schema(sid)  # type: ignore[arg-type]
        yield ext, file, pointer, rank


def _version_ok(value: Any) -> bool:
    return isinstance(value, str) and bool(_MICROVERSION_RE.match(value))


def _version_tuple(value: str) -> tuple[int, int]:
    major, minor = value.split(".")
    return int(major), int(minor)


@rule("CON039", "microversion-format", kind="spec", severity=Severity.ERROR, guideline="MV-01")
def microversion_format(ctx: SpecContext) -> Iterable[Hit]:
    """Microversions are ``X.Y`` strings: ``x-openstack`` ``min-ver``/``max-ver`` and info.version.

    What it checks:
        Every ``x-openstack`` ``min-ver``/``max-ver`` (on operations, parameters,
        response headers and schemas) is a string matching ``^([1-9]\\d*)\\.([1-9]\\d*|0)$``;
        in a microversioned spec, ``info.version`` too.

    Why it matters:
        A microversion is one monotonic counter, not semver. YAML reads an unquoted
        ``2.10`` as the number 2.1, silently changing the version.

    Example:
        ``x-openstack: {min-ver: 2.10}`` (a float), ``max-ver: '2.1.0'``.

    Fix:
        Quote the value and use ``X.Y``: ``min-ver: '2.10'``.

    References:
        API-SIG microversion specification (MV-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/microversion_specification.html
    """
    sink = Sink()
    microversioned = False
    for ext, file, pointer, rank in _microversions(ctx):
        microversioned = True
        for key in ("min-ver", "max-ver"):
            if key in ext and not _version_ok(ext[key]):
                value = ext[key]
                hint = (
                    " (quote it: YAML reads an unquoted version as a number)"
                    if isinstance(value, (int, float))
                    else ""
                )
                sink.add(
                    file,
                    join(pointer, key),
                    f"Microversion {key} `{value}` is not an `X.Y` string{hint}: write it as "
                    "`'2.10'`.",
                    rank,
                )
    data = ctx.spec.data or {}
    info = data.get("info")
    version = info.get("version") if isinstance(info, Mapping) else None
    if microversioned and version is not None and not _version_ok(version):
        _, attr = prepare(ctx)
        rank = attr.spec
        if ctx.touched is not None:
            base_info = (ctx.base.data or {}).get("info") if ctx.base is not None else None
            old = base_info.get("version") if isinstance(base_info, Mapping) else None
            rank = (1 if old != version else 0, rank[1])
        sink.add(
            ctx.spec.file,
            "/info/version",
            f"info.version `{version}` of this microversioned API is not `X.Y`: use the "
            "maximum microversion, for example `'2.96'`.",
            rank,
        )
    return sink


@rule("CON040", "microversion-range", kind="spec", severity=Severity.ERROR, guideline="MV-01")
def microversion_range(ctx: SpecContext) -> Iterable[Hit]:
    """A microversion window is not empty: ``min-ver`` <= ``max-ver``.

    What it checks:
        An ``x-openstack`` mapping whose ``min-ver`` is greater than its ``max-ver``
        (compared as numbers: ``2.9`` < ``2.10``).

    Why it matters:
        An empty window means the element exists in no version; usually the two values
        were swapped or ``2.10`` was compared as text.

    Example:
        ``x-openstack: {min-ver: '2.35', max-ver: '2.3'}``.

    Fix:
        Set ``min-ver`` to the version that introduced the element and ``max-ver`` to
        the last version that has it.

    References:
        API-SIG microversion specification (MV-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/microversion_specification.html
    """
    sink = Sink()
    for ext, file, pointer, rank in _microversions(ctx):
        low, high = ext.get("min-ver"), ext.get("max-ver")
        if _version_ok(low) and _version_ok(high) and _version_tuple(low) > _version_tuple(high):
            sink.add(
                file,
                pointer,
                f"Microversion window {low}..{high} is empty: min-ver must not be greater "
                "than max-ver.",
                rank,
            )
    return sink


# === 10. Tags and links ================================================================


def _named_fields(ctx: SpecContext, name: str) -> Iterator[tuple[Field, Rank]]:
    index, attr = prepare(ctx)
    for sid, info in index.schemas.items():
        for f in info.fields:
            if f.name == name:
                yield f, attr.schema(sid)


@rule("CON041", "tags-list-of-strings", kind="spec", severity=Severity.WARNING, guideline="TAG-01")
def tags_list_of_strings(ctx: SpecContext) -> Iterable[Hit]:
    """A resource's ``tags`` field is a list of strings.

    What it checks:
        A field named ``tags`` whose schema is not ``type: array`` of ``type: string``
        items (fields without a declared type are not checked).

    Why it matters:
        Tags are the same simple concept in every service, filtered with the same
        ``tags``/``tags-any``/``not-tags`` parameters; objects or maps need per-service
        client code.

    Example:
        ``tags: {type: object, additionalProperties: {type: string}}``.

    Fix:
        Declare ``tags: {type: array, items: {type: string}}``; key/value pairs belong in
        ``metadata``.

    References:
        API-SIG tags guideline (TAG-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/tags.html
    """
    spec = ctx.spec
    sink = Sink()
    for f, rank in _named_fields(ctx, "tags"):
        t = schema_type(f.schema)
        if t is None:
            continue
        item_type = None
        if t == "array":
            items = f.schema.get("items")
            if isinstance(items, Mapping):
                item_type = schema_type(
                    spec.deref(Node(items, f.target[0] if f.target else f.file, ""))
                )
            if item_type in ("string", None):
                continue
        what = f"an array of {item_type}" if t == "array" else _article(t)
        sink.add(
            f.file,
            f.pointer,
            f"Field `tags` is {what}: declare it as a list of strings "
            "(`type: array, items: {type: string}`); key/value pairs belong in `metadata`.",
            rank,
        )
    return sink


@rule("CON042", "links-rel-href", kind="spec", severity=Severity.WARNING, guideline="LNK-01")
def links_rel_href(ctx: SpecContext) -> Iterable[Hit]:
    """A ``links`` field is an array of ``{rel, href}`` objects.

    What it checks:
        A field named ``links`` that is not an array, or whose item objects declare
        properties but not both ``rel`` and ``href``.

    Why it matters:
        Clients follow pagination (``next``) and ``self``/``bookmark`` links the same way
        in every service only if links have one shape.

    Example:
        ``links: {type: object, properties: {next: {type: string}}}``.

    Fix:
        Declare ``links: {type: array, items: {type: object, required: [rel, href],
        properties: {rel: {type: string}, href: {type: string, format: uri}}}}``.

    References:
        API-SIG links guideline (LNK-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/links.html
    """
    spec = ctx.spec
    sink = Sink()
    for f, rank in _named_fields(ctx, "links"):
        t = schema_type(f.schema)
        if t is None:
            continue
        problem = None
        if t != "array":
            problem = f"is {_article(t)}"
        else:
            items = f.schema.get("items")
            if isinstance(items, Mapping):
                props = properties(spec, Node(items, f.target[0] if f.target else f.file, ""))
                if props and not {"rel", "href"} <= set(props):
                    missing = sorted({"rel", "href"} - set(props))
                    problem = "has items without " + " and ".join(f"`{m}`" for m in missing)
        if problem:
            sink.add(
                f.file,
                f.pointer,
                f"Field `links` {problem}: declare it as an array of `{{rel, href}}` objects.",
                rank,
            )
    return sink


# === 11. Strict request schemas, version discovery =====================================


@rule(
    "CON043",
    "request-rejects-unknown-fields",
    kind="spec",
    severity=Severity.WARNING,
    guideline="RC-10",
)
def request_rejects_unknown_fields(ctx: SpecContext) -> Iterable[Hit]:
    """Request body objects reject unknown fields: ``additionalProperties: false``.

    What it checks:
        The top-level JSON request body schema (and each branch of a top-level
        ``oneOf``/``anyOf``) that is an object with ``properties`` but does not set
        ``additionalProperties: false``. Schemas built with ``allOf`` are not checked.

    Why it matters:
        An unexpected attribute must be a 400, not silently ignored: a typo such as
        ``"flavour_ref"`` would otherwise create something the user did not ask for. The
        nova-specs template asks for schemas "as restrictive as possible".

    Example:
        ``{type: object, properties: {name: {type: string}}}``.

    Fix:
        Add ``additionalProperties: false``.

    References:
        API-SIG response codes guideline (RC-10):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    index, attr = prepare(ctx)
    spec = ctx.spec
    sink = Sink()
    for i, op in enumerate(index.ops):
        if op.request_body is None:
            continue
        for root in _json_schemas(spec, op.request_body):
            candidates = [root]
            for keyword in ("oneOf", "anyOf"):
                parts = root.get(keyword)
                if parts is not None and isinstance(parts.value, list):
                    candidates.extend(
                        n
                        for n in (spec.resolve(parts.child(j)) for j in range(len(parts.value)))
                        if n is not None and isinstance(n.value, Mapping)
                    )
            for node in candidates:
                value = node.value
                if "properties" not in value or "allOf" in value:
                    continue
                if schema_type(value) not in (None, "object"):
                    continue
                if value.get("additionalProperties") is False:
                    continue
                sink.add(
                    node.file,
                    node.pointer,
                    "This request body schema accepts unknown fields: add "
                    "`additionalProperties: false` so that typos are rejected with 400.",
                    attr.ops[i],
                )
    return sink


_DISCOVERY_RE = re.compile(r"^/(v\d+(\.\d+)?/?)?$")


@rule(
    "CON044",
    "version-discovery-public",
    kind="spec",
    severity=Severity.ERROR,
    guideline="VD-01",
)
def version_discovery_public(ctx: SpecContext) -> Iterable[Hit]:
    """Version discovery documents need no authentication.

    What it checks:
        ``GET /`` and ``GET /v<N>[.<M>]/`` whose effective ``security`` requires
        credentials (a non-empty list without an empty ``{}`` alternative).

    Why it matters:
        Clients discover which versions and microversions a cloud supports before they
        authenticate; a protected discovery document breaks every SDK's negotiation.

    Example:
        Global ``security: [{keystone: []}]`` that also applies to ``GET /``.

    Fix:
        Set ``security: []`` on the discovery operations.

    References:
        API-SIG discoverability guideline (VD-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/discoverability.html
    """
    index, attr = prepare(ctx)
    sink = Sink()
    for i, op in enumerate(index.ops):
        if op.method != "get" or not _DISCOVERY_RE.match(op.path):
            continue
        sec = op.security
        if isinstance(sec, list) and sec and not any(isinstance(s, Mapping) and not s for s in sec):
            sink.add(
                op.node.file,
                op.node.pointer,
                f"{op.label} is a version discovery document but requires authentication: "
                "set `security: []` on it.",
                attr.ops[i],
            )
    return sink
