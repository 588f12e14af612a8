"""The shared index of a spec for the CON rules: operations, schemas, and who uses what.

Every rule reads one memoised index of the spec: its operations, and a graph of the
request and response schemas in which each schema definition appears once however
many operations use it. Findings about shared elements (a component schema, a parameter
defined once) are reported once, at the element, with the strictest scope and audience of
the operations that reach it (:class:`Attribution`, :class:`Sink`): a field of a schema
that a changed operation uses is changed surface, even if unchanged operations use it too.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from govbot.audience import Classification
from govbot.findings import Audience, Scope
from govbot.rules.consistency.changes import ElementScope
from govbot.rules.consistency.language import data_names
from govbot.rules.registry import CrossContext, Hit, SpecContext
from govbot.surface import (
    Node,
    Operation,
    Spec,
    escape,
    get_pointer,
    is_mapping,
    join,
    normalize_path,
    operations,
    reusable_lineage,
)

SCOPES: tuple[Scope, ...] = (Scope.EXISTING, Scope.CHANGED, Scope.NEW)
AUDIENCES: tuple[Audience, ...] = (Audience.INTERNAL, Audience.EXTERNAL_ADMIN, Audience.EXTERNAL)
_AUDIENCE_RANK = {a: i for i, a in enumerate(AUDIENCES)}
Rank = tuple[int, int]  # (scope rank, audience rank); bigger is stricter
SchemaId = tuple[str, str]  # (file, pointer) of a resolved schema


def max_rank(a: Rank | None, b: Rank) -> Rank:
    if a is None:
        return b
    return (a[0] if a[0] >= b[0] else b[0], a[1] if a[1] >= b[1] else b[1])


@dataclass(frozen=True, slots=True)
class Field:
    """A property name as written in an object schema, with the schema it names."""

    name: str
    owner: SchemaId  # the object schema whose ``properties`` declare it
    file: str
    pointer: str  # where the name is written: <owner>/properties/<name>
    schema: Mapping[str, Any]  # the property's schema, refs followed ({} when broken)
    target: SchemaId | None  # the resolved property schema
    # A name that is data, not a field name: a map key written out as a property, or a
    # JSON Schema keyword of an object that carries a schema (language.data_names).
    data: bool = False


@dataclass(slots=True)
class SchemaInfo:
    node: Node  # resolved
    fields: list[Field] = field(default_factory=list)
    children: list[SchemaId] = field(default_factory=list)
    # What a rule works out from this entry alone (and the schemas it reaches), by the
    # rule and its options. The next version's index keeps an entry whose schema and all
    # it reaches are unchanged (a backfill's next commit keeps most): it carries this.
    derived: dict[str, Any] = field(default_factory=dict)


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
    # Normalised paths that have a member path "<path>/{}" not only POSTed (a collection).
    collections: frozenset[str]
    openstack: bool  # the spec uses OpenStack conventions (x-openstack)
    memo: dict[str, Any] = field(default_factory=dict)  # rules' own derived data
    # Per operation (aligned with ops), what a rule works out from it alone (and what
    # it reaches), by the rule and its options. An operation the next version shares
    # (the same object: its path item and all it reaches unchanged) carries it along.
    derived: list[dict[str, Any]] = field(default_factory=list)
    _attributions: dict[tuple[Any, int], tuple[Any, Attribution]] = field(default_factory=dict)
    # The build's own record, for the next version's (_build_index): the schemas of a
    # 4xx/5xx response in discovery order, and before each operation's walk, how many
    # schemas and of those there were.
    _error_roots: list[SchemaId] = field(default_factory=list)
    _marks: list[tuple[int, int]] = field(default_factory=list)


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
    spec: Spec,
    touched: frozenset[str] | None,
    audience: Classification | None,
    index: SpecIndex | None = None,
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
    if len({r[0] for r in op_ranks}) <= 1:
        ranks = _ranks_of_one_scope(index, op_ranks)
    else:
        ranks = schema_ranks(index, op_ranks)
    spec_rank: Rank = (0, 0)
    for r in op_ranks:
        spec_rank = max_rank(spec_rank, r)
    if not op_ranks:
        spec_rank = (2 if touched is None else 0, 2)
    result = Attribution(op_ranks, ranks, spec_rank)
    index._attributions[key] = (audience, result)
    return result


def schema_ranks(index: SpecIndex, op_ranks: list[Rank]) -> dict[SchemaId, Rank]:
    """Each schema's rank: the strictest, scope and audience each, of the operations
    (ranked ``op_ranks``) that reach it."""
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
            new = max_rank(cur, rank)
            ranks[sid] = new
            info = schemas.get(sid)
            if info is not None:
                stack.extend(info.children)
    return ranks


def _ranks_of_one_scope(index: SpecIndex, op_ranks: list[Rank]) -> dict[SchemaId, Rank]:
    """:func:`schema_ranks` when every operation has the same scope (no change under
    review, or all of it new): the ranks are then in a line, and a schema's is that of
    the strictest group of operations that reaches it, the first to reach it when the
    groups walk strictest first, each schema once."""
    groups: dict[Rank, list[int]] = {}
    for i, rank in enumerate(op_ranks):
        groups.setdefault(rank, []).append(i)
    ranks: dict[SchemaId, Rank] = {}
    schemas, roots = index.schemas, index.roots
    for rank in sorted(groups, reverse=True):
        stack = [sid for i in groups[rank] for sid in roots[i]]
        while stack:
            sid = stack.pop()
            if sid in ranks:
                continue
            ranks[sid] = rank
            info = schemas.get(sid)
            if info is not None:
                stack.extend(info.children)
    return ranks


def _audience_of(classification: Classification | None, op_key: str) -> Audience:
    if classification is None:
        return Audience.EXTERNAL
    return classification.of(op_key)


def _build_index(spec: Spec) -> SpecIndex:
    ops = operations(spec)
    known = _Known(spec)
    # The operations a version shares, in order, from the first one, with the version
    # before walk the very same schemas in the same order: that part of its index is
    # taken as it is, and the walk starts at the first operation that differs.
    start, before = known.prefix(ops)
    if before is not None:
        if start < len(before.ops):
            count, errors = before._marks[start]
        else:  # every operation of the version before comes first in this one
            count, errors = len(before.schemas), len(before._error_roots)
        schemas = dict(itertools.islice(before.schemas.items(), count))
        roots = before.roots[:start]
        error_roots = before._error_roots[:errors]
        marks = before._marks[:start]
    else:
        schemas, roots, error_roots, marks = {}, [], [], []
    paths: dict[str, list[int]] = {}
    openstack = False
    for i, op in enumerate(ops):
        paths.setdefault(op.path, []).append(i)
        if op.x_openstack:
            openstack = True
    resolve = spec.resolve
    for op in ops[start:]:
        marks.append((len(schemas), len(error_roots)))
        op_roots: list[SchemaId] = []
        bodies = [("", op.request_body)] if op.request_body is not None else []
        bodies.extend(op.responses.items())
        for status, body in bodies:
            if body is None:
                continue
            for schema in body.content.values():
                node = resolve(schema) if schema is not None else None
                if node is None or not is_mapping(node.value):
                    continue
                sid = (node.file, node.pointer)
                if sid not in schemas:
                    _walk(spec, node, schemas, known)
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
    # A member URI is read, replaced or deleted; a `<path>/{x}` that takes only POST
    # (`POST /evaluations/{feature}`) is an action with an argument, no member.
    members = {
        normalize_path(p) for p, idx in paths.items() if {ops[i].method for i in idx} != {"post"}
    }
    collections = frozenset(
        p for p in normalised if (p.rstrip("/") + "/{}") in members and last_static(p)
    )
    if not openstack and spec.data is not None:
        info = spec.data.get("info")
        title = info.get("title") if isinstance(info, Mapping) else None
        openstack = isinstance(title, str) and "openstack" in title.lower()
    index = SpecIndex(ops, roots, schemas, error_schemas, paths, collections, openstack)
    index._error_roots, index._marks = error_roots, marks
    index.derived = known.derived(ops)
    return index


_COMPOSITES = ("allOf", "oneOf", "anyOf", "prefixItems")
_SINGLES = ("items", "additionalProperties", "not")


class _Known:
    """What the previous version's index says of the schemas in units that are stable in
    ``spec`` (:class:`~govbot.surface.Lineage`): their entries, which hold as they are
    (such a schema and all it reaches are the previous version's objects, at the same
    places). Knows nothing without a previous version."""

    def __init__(self, spec: Spec) -> None:
        lineage = reusable_lineage(spec)
        index = lineage.previous.__dict__.get(_CACHE_ATTR) if lineage is not None else None
        usable = lineage is not None and index is not None
        self._index: SpecIndex | None = index if usable else None
        self._before: dict[SchemaId, SchemaInfo] = index.schemas if usable else {}
        self._holds = lineage.holds if lineage is not None else _nowhere

    def prefix(self, ops: tuple[Operation, ...]) -> tuple[int, SpecIndex | None]:
        """How many of ``ops``, from the first, are the previous version's operations
        (the same objects, which the surface reuses only for path items that hold, and
        a path item that holds reaches only schemas that hold), and that version's
        index; (0, None) without one."""
        index = self._index
        if index is None or len(index._marks) != len(index.ops):
            return 0, None
        count = 0
        for mine, theirs in zip(ops, index.ops, strict=False):
            if mine is not theirs:
                break
            count += 1
        return count, index if count else None

    def derived(self, ops: tuple[Operation, ...]) -> list[dict[str, Any]]:
        """What rules derived of each of ``ops`` that the previous version has too (the
        same objects: both versions hold them, so an id names one of them); empty for
        the others."""
        index = self._index
        if index is None:
            return [{} for _ in ops]
        before = {id(op): d for op, d in zip(index.ops, index.derived, strict=False)}
        return [before.get(id(op)) or {} for op in ops]

    def __call__(self, sid: SchemaId, node: Node) -> SchemaInfo | None:
        """The previous entry of the schema at ``sid``, ``node`` there now, if it holds."""
        info = self._before.get(sid)
        if info is None or info.node.value is not node.value:
            return None
        return info if self._holds(sid[1]) else None

    def child(self, sid: SchemaId) -> Node | None:
        """The node of a schema that an entry given by this reaches: the previous
        version's, which is this version's (a unit that holds reaches only units that
        hold, whose objects are the previous version's)."""
        info = self._before.get(sid)
        return info.node if info is not None else None


def _nowhere(pointer: str) -> bool:
    return False


def _walk(
    spec: Spec,
    start: Node,
    schemas: dict[SchemaId, SchemaInfo],
    known: _Known | None = None,
) -> None:
    """Add every schema reachable from ``start`` (resolved) to ``schemas``, each once
    (the entry ``known`` gives, when it gives one: the previous version's)."""
    resolve = spec.resolve
    stack = [start]
    while stack:
        node = stack.pop()
        sid = (node.file, node.pointer)
        if sid in schemas:
            continue
        kept = known(sid, node) if known is not None else None
        if kept is not None:
            schemas[sid] = kept
            # The walk goes on as it would have: the same children, in the same order.
            for tid in kept.children:
                if tid not in schemas:
                    stack.append(known.child(tid) or _node_at(spec, tid))
            continue
        info = SchemaInfo(node)
        schemas[sid] = info
        value = node.value
        file, pointer = node.file, node.pointer
        children = info.children
        pending: list[tuple[str | None, Any, str]] = []  # (field name, raw schema, pointer)
        props = value.get("properties")
        data: frozenset[str] = frozenset()
        if is_mapping(props):
            base = pointer + "/properties/"
            pending.extend(
                (str(name), raw, base + escape(str(name))) for name, raw in props.items()
            )
            data = data_names(str(n) for n in props)
        for keyword in _COMPOSITES:
            parts = value.get(keyword)
            if isinstance(parts, list):
                pending.extend(
                    (None, part, f"{pointer}/{keyword}/{j}") for j, part in enumerate(parts)
                )
        for keyword in _SINGLES:
            child = value.get(keyword)
            if is_mapping(child):
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
                info.fields.append(
                    Field(name, sid, file, child_pointer, target_value, tid, name in data)
                )


def _node_at(spec: Spec, sid: SchemaId) -> Node:
    file, pointer = sid
    return Node(get_pointer(spec.documents[file], pointer), file, pointer)


class Located(Protocol):
    """Anything at a place of a spec: a :class:`~govbot.surface.Node`, a :class:`Field`."""

    @property
    def file(self) -> str: ...

    @property
    def pointer(self) -> str: ...


_SCOPE_RANK = {Scope.EXISTING: 0, Scope.CHANGED: 1, Scope.NEW: 2}


@dataclass(slots=True)
class _Entry:
    rank: Rank
    about: tuple[str, str] | None
    keys: tuple[str, ...] | None
    cause: str | None


class Sink:
    """Findings keyed by (file, pointer, message), at the strictest audience reported.

    Their scope is that of the element they are about (:class:`ElementScope`): the node
    at the pointer (or only the ``keys`` the rule read there; ``name_only``: whether the
    name existed), and ``about`` (the node the rule looked at, when it is not where the
    finding is placed); never the scope of the operations that reach it. Without a
    base, everything is new.
    """

    def __init__(self, ctx: SpecContext | CrossContext | None = None) -> None:
        self._hits: dict[tuple[str, str, str], _Entry] = {}
        self._scopes: dict[str, ElementScope | Scope] = {}
        self._ctx = ctx

    def add(
        self,
        file: str,
        pointer: str,
        message: str,
        rank: Rank,
        *,
        about: Located | None = None,
        name_only: bool = False,
        keys: tuple[str, ...] | None = None,
        cause: str | None = None,
    ) -> None:
        """A finding; its scope compares the element at ``pointer`` (its ``keys`` only,
        when given; ``name_only``: whether it existed), and ``about`` when given."""
        key = (file, pointer, message)
        entry = self._hits.get(key)
        if entry is None:
            where = (about.file, about.pointer) if about is not None else None
            self._hits[key] = _Entry(rank, where, () if name_only else keys, cause)
        else:
            entry.rank = max_rank(entry.rank, rank)

    def at(self, where: Located, message: str, rank: Rank, **kw: Any) -> None:
        """A finding at ``where`` (its file and pointer)."""
        self.add(where.file, where.pointer, message, rank, **kw)

    def response(self, op: Operation, status: str, message: str, rank: Rank, **kw: Any) -> None:
        """A finding at the ``status`` response of ``op`` (declared or not)."""
        self.add(op.node.file, response_pointer(op, status), message, rank, **kw)

    def __iter__(self) -> Iterator[Hit]:
        for (file, pointer, message), entry in self._hits.items():
            s, a = entry.rank
            scope = self._scope(file, pointer, entry, SCOPES[s])
            yield Hit(
                message,
                pointer,
                file,
                audience=AUDIENCES[a],
                scope=scope,
                cause=entry.cause,
            )

    def _scope(self, file: str, pointer: str, entry: _Entry, fallback: Scope) -> Scope:
        elements = self._elements(file)
        if elements is None:
            return fallback
        if isinstance(elements, Scope):
            return elements
        scope = elements.of(file, pointer, keys=entry.keys)
        if scope is Scope.NEW or entry.about is None:
            return scope
        other = elements.of(*entry.about)
        return scope if _SCOPE_RANK[scope] >= _SCOPE_RANK[other] else other

    def _elements(self, file: str) -> ElementScope | Scope | None:
        """The element scope of the spec holding ``file`` (a Scope: the same for all)."""
        ctx = self._ctx
        if ctx is None:
            return None
        found = self._scopes.get(file)
        if found is not None:
            return found
        if isinstance(ctx, SpecContext):
            found = (
                ElementScope(ctx.spec, ctx.base)
                if ctx.touched is not None and ctx.base is not None
                else None
            )
        else:
            found = cross_elements(ctx, file)
        if found is not None:
            self._scopes[file] = found
        return found


def cross_elements(ctx: CrossContext, file: str) -> ElementScope | Scope | None:
    """The element scope of the spec of ``file`` in a cross-spec check (a Scope: all of it)."""
    spec = next((s for s in ctx.specs if file == s.file or file in s.documents), None)
    if spec is None or not ctx.touched:
        return None
    if spec.file not in ctx.touched:
        return Scope.EXISTING  # given for comparison, not under change
    base = ctx.bases.get(spec.file)
    if ctx.touched[spec.file] is None or base is None:
        return Scope.NEW
    return ElementScope(spec, base)


def value_cause(message: str, value: Any) -> str:
    """A cause for a finding about a schema's value: identical inlined copies are one cause."""
    try:
        digest = hashlib.sha1(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()
    except (TypeError, orjson.JSONEncodeError):
        digest = str(id(value))
    return f"{message}#{digest[:16]}"


def option(ctx: SpecContext | CrossContext, key: str, default: Any) -> Any:
    """The rule option ``key`` of the context (the policy's, else the rule's default)."""
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


@functools.lru_cache(maxsize=65536)
def snake(name: str) -> str:
    return "_".join(_words(name)) or name.lower()


def squash(name: str) -> str:
    """A name without case and word separators: ``tenantId`` == ``tenant_id`` == ``Tenant-ID``.

    Other punctuation stays: ``user.id`` (a dotted filter path) is not ``user_id``.
    """
    return name.lower().replace("_", "").replace("-", "").replace(" ", "")


def _is_json(media: str) -> bool:
    mime = media.split(";", 1)[0].strip().lower()
    return mime.endswith("/json") or mime.endswith("+json")


def json_schemas(spec: Spec, body: Any) -> Iterator[Node]:
    """Resolved JSON schemas of a request body or response."""
    for _, node in json_bodies(spec, body):
        yield node


def json_bodies(spec: Spec, body: Any) -> Iterator[tuple[str, Node]]:
    """(media type, lower case without parameters; resolved schema) of a body's JSON kinds."""
    for media, schema in body.content.items():
        if schema is None or not _is_json(media):
            continue
        node = spec.resolve(schema)
        if node is not None and isinstance(node.value, Mapping):
            yield media.split(";", 1)[0].strip().lower(), node


def success_statuses(op: Operation) -> list[str]:
    return [s for s in op.responses if s[:1] == "2"]


def response_pointer(op: Operation, status: str) -> str:
    responses = op.node.get("responses")
    base = responses.pointer if responses is not None else join(op.node.pointer, "responses")
    return join(base, status)


_VERSION_RE = re.compile(r"^v?\d+(\.\d+)*((alpha|beta)\d*)?$", re.IGNORECASE)


_FORMAT_SUFFIX_RE = re.compile(r"\.(json|xml|ya?ml|txt|html)$", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)
def static_segments(path: str) -> tuple[tuple[int, str], ...]:
    """(index, segment) of the literal, non-version segments of a path template.

    A format suffix (``/backups.json``) is not part of the resource name and is removed.
    Asked of every path by several rules: worked out once per path.
    """
    out = []
    for i, seg in enumerate(path.split("/")):
        if not seg or "{" in seg or _VERSION_RE.match(seg):
            continue
        seg = _FORMAT_SUFFIX_RE.sub("", seg)
        if seg:
            out.append((i, seg))
    return tuple(out)


def last_static(path: str) -> str | None:
    """The last segment when it is literal (a resource, not a version or a parameter)."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if not last or "{" in last or _VERSION_RE.match(last):
        return None
    return last


def is_collection(index: SpecIndex, op: Operation) -> bool:
    return normalize_path(op.path) in index.collections


def types_of(schema: Mapping[str, Any]) -> frozenset[str]:
    """The declared types, ``null`` left out (``type: [string, "null"]``, ``nullable``).

    OpenAPI 3.1 type lists are read as the union they are, never as their first member.
    """
    t = schema.get("type")
    if isinstance(t, str):
        return frozenset((t,)) if t != "null" else frozenset()
    if isinstance(t, list):
        return frozenset(x for x in t if isinstance(x, str) and x != "null")
    return frozenset()


def type_name(schema: Mapping[str, Any]) -> str | None:
    """The declared type as one name: ``string``, ``integer|string`` for a list; None if none."""
    types = types_of(schema)
    return "|".join(sorted(types)) if types else None


def only_type(schema: Mapping[str, Any], wanted: str) -> bool:
    """Whether the schema's one non-null type is ``wanted`` (``[boolean, null]`` is boolean)."""
    return types_of(schema) == {wanted}


def schema_kinds(spec: Spec, schema: Mapping[str, Any], file: str) -> list[tuple[str, Any]]:
    """Every non-null (type, format) a schema allows (its own, else its oneOf/anyOf parts)."""
    types = types_of(schema)
    if types:
        return [(t, schema.get("format")) for t in sorted(types)]
    out = []
    for keyword in ("oneOf", "anyOf"):
        parts = schema.get(keyword)
        if isinstance(parts, list):
            for part in parts:
                value = spec.deref(Node(part, file, "")) if isinstance(part, Mapping) else {}
                out.extend((t, value.get("format")) for t in sorted(types_of(value)))
    return out


def article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word
