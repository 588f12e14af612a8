"""Structural diff of two versions of a spec: what changed, never whether it is allowed.

:func:`diff_specs` matches operations by :attr:`Operation.key` (so ``{id}`` vs
``{server_id}`` and a trailing slash are renames, not removals), then compares
parameters, request bodies, responses, headers and schemas down to nested fields. ``$ref``
and inline schemas compare by content. Every change keeps the nodes of both sides so that
a rule can point into the head spec, or into the base spec for something removed.

Speed: raw values are compared first (a C-level ``==``) and the diff descends only where
they differ or where a ``$ref`` inside them reaches content that differs; which refs do
is worked out once per diff over the ref graph.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import orjson

from govbot.openapi.model import (
    HTTP_METHODS,
    Body,
    Node,
    Operation,
    Parameter,
    Spec,
    get_pointer,
    operations,
    properties,
)

Kind = Literal["added", "removed", "changed"]
Side = Literal["base", "head"]


# --- the diff values -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """One attribute whose value differs between the sides; ``None`` stands for absent."""

    attr: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """A schema, or a field inside one, that was added, removed or changed.

    ``path`` is the dotted field path from the schema root ("" = the root itself,
    ``servers[].id``, ``metadata{}`` for ``additionalProperties``). ``base`` / ``head``
    are the field's resolved schema on each side (None on the side it is missing from);
    ``*_required`` say whether the enclosing object lists it as required.
    """

    path: str
    kind: Kind
    base: Node | None
    head: Node | None
    base_required: bool = False
    head_required: bool = False
    changes: tuple[Change, ...] = ()
    enum_added: tuple[Any, ...] = ()
    enum_removed: tuple[Any, ...] = ()

    def change(self, attr: str) -> Change | None:
        return next((c for c in self.changes if c.attr == attr), None)

    @property
    def node(self) -> Node:
        """The head node when the field still exists, else the base node."""
        node = self.head or self.base
        assert node is not None
        return node


@dataclass(frozen=True, slots=True)
class SchemaDiff:
    """The schema of one media type of a request body or response."""

    media_type: str
    base: Node | None
    head: Node | None
    fields: tuple[FieldDiff, ...]


@dataclass(frozen=True, slots=True)
class ParameterDiff:
    name: str
    location: str  # the head's location, else the base's (a move shows as Change("in", ...))
    kind: Kind
    base: Parameter | None
    head: Parameter | None
    changes: tuple[Change, ...] = ()  # required, deprecated, x-sunset, in, style, ...
    fields: tuple[FieldDiff, ...] = ()  # its schema; path "" is the schema itself

    def change(self, attr: str) -> Change | None:
        return next((c for c in self.changes if c.attr == attr), None)

    @property
    def node(self) -> Node:
        param = self.head or self.base
        assert param is not None
        return param.node

    @property
    def root(self) -> FieldDiff | None:
        return next((f for f in self.fields if f.path == ""), None)


@dataclass(frozen=True, slots=True)
class HeaderDiff:
    """A response header (names compared case-insensitively)."""

    name: str
    kind: Kind
    base: Node | None
    head: Node | None
    changes: tuple[Change, ...] = ()
    fields: tuple[FieldDiff, ...] = ()

    @property
    def node(self) -> Node:
        node = self.head or self.base
        assert node is not None
        return node


@dataclass(frozen=True, slots=True)
class BodyDiff:
    """The request body (``status`` None) or one response (``status`` "200", "default")."""

    status: str | None
    kind: Kind
    base: Body | None
    head: Body | None
    changes: tuple[Change, ...] = ()  # "required" (request bodies)
    media_added: tuple[str, ...] = ()
    media_removed: tuple[str, ...] = ()
    schemas: tuple[SchemaDiff, ...] = ()
    headers: tuple[HeaderDiff, ...] = ()

    def change(self, attr: str) -> Change | None:
        return next((c for c in self.changes if c.attr == attr), None)

    @property
    def node(self) -> Node:
        body = self.head or self.base
        assert body is not None
        return body.node


@dataclass(frozen=True, slots=True)
class OperationDiff:
    """One operation added, removed, or changed (a path rename alone counts as changed).

    ``changes`` holds operation-level attributes: ``deprecated``, ``x-sunset``,
    ``x-openstack`` (its ``{min-ver, max-ver}``), ``operationId``, ``security``
    (normalised, see :func:`security_alternatives`) and ``path`` for a rename.
    """

    key: str
    kind: Kind
    base: Operation | None
    head: Operation | None
    changes: tuple[Change, ...] = ()
    parameters: tuple[ParameterDiff, ...] = ()
    request_body: BodyDiff | None = None
    responses: tuple[BodyDiff, ...] = ()

    def change(self, attr: str) -> Change | None:
        return next((c for c in self.changes if c.attr == attr), None)

    @property
    def op(self) -> Operation:
        """The head operation, or the base one for a removal."""
        op = self.head or self.base
        assert op is not None
        return op

    @property
    def label(self) -> str:
        return self.op.label

    @property
    def renamed(self) -> bool:
        return self.base is not None and self.head is not None and self.base.path != self.head.path

    def fields(
        self,
    ) -> Iterator[tuple[Literal["request", "response"], BodyDiff, SchemaDiff, FieldDiff]]:
        """Every schema field change of the operation's request body and responses."""
        bodies = ([self.request_body] if self.request_body else []) + list(self.responses)
        for body in bodies:
            direction: Literal["request", "response"] = (
                "request" if body.status is None else "response"
            )
            for schema in body.schemas:
                for f in schema.fields:
                    yield direction, body, schema, f


@dataclass(frozen=True, slots=True)
class SpecDiff:
    base_file: str
    head_file: str
    added: tuple[OperationDiff, ...] = ()
    removed: tuple[OperationDiff, ...] = ()
    changed: tuple[OperationDiff, ...] = ()
    renamed_paths: tuple[tuple[str, str], ...] = ()  # (base path, head path), one per path
    info_version: Change | None = None
    unchanged: int = 0  # operations present on both sides with no structural change

    @property
    def operations(self) -> tuple[OperationDiff, ...]:
        return self.added + self.removed + self.changed

    @property
    def touched(self) -> frozenset[str]:
        """Operation keys added or changed: the surface a change is judged strictly on."""
        return frozenset(d.key for d in self.added + self.changed)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.info_version)


# --- helpers shared with the rules ------------------------------------------------------


SecurityAlternative = tuple[tuple[str, tuple[str, ...]], ...]


def security_alternatives(security: Any) -> tuple[SecurityAlternative, ...]:
    """Effective security as sorted alternatives of (scheme, scopes); ``()`` = anonymous.

    No ``security`` at all, or an empty list, means anonymous access.
    """
    if not isinstance(security, list) or not security:
        return ((),)
    out = set()
    for requirement in security:
        if not isinstance(requirement, Mapping):
            continue
        out.add(
            tuple(
                sorted(
                    (
                        str(scheme),
                        tuple(sorted(str(s) for s in scopes)) if isinstance(scopes, list) else (),
                    )
                    for scheme, scopes in requirement.items()
                )
            )
        )
    return tuple(sorted(out)) or ((),)


# --- the differ -------------------------------------------------------------------------

_REF_RE = re.compile(rb'"\$ref":"((?:[^"\\]|\\.)*)"')
_PATH_PARAM_RE = re.compile(r"\{([^}/]*)\}")
_SCHEMA_ATTRS = (
    "type",
    "format",
    "nullable",
    "readOnly",
    "writeOnly",
    "deprecated",
    "x-sunset",
    "x-openstack",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "additionalProperties",
)
_LIFECYCLE = frozenset({"deprecated", "x-sunset", "x-openstack"})
_PARAM_ATTRS = (
    "required",
    "deprecated",
    "x-sunset",
    "x-openstack",
    "style",
    "explode",
    "allowEmptyValue",
)
_HEADER_ATTRS = ("required", "deprecated", "x-sunset")
_EMPTY: tuple[tuple[Change, ...], tuple[Any, ...], tuple[Any, ...], tuple[FieldDiff, ...]] = (
    (),
    (),
    (),
    (),
)


def _refs_in(value: Any) -> set[str]:
    """Every ``$ref`` string inside ``value`` (serialised in C, then scanned)."""
    try:
        raw = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # a YAML value orjson cannot write (a set, bytes): walk it instead
        return set(_walk_refs(value))
    if b'"$ref"' not in raw:
        return set()
    return {orjson.loads(b'"' + m + b'"') for m in _REF_RE.findall(raw)}


def _walk_refs(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Mapping):
            ref = v.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


def _child_path(prefix: str, rel: str) -> str:
    if not prefix:
        return rel
    if not rel:
        return prefix
    if rel[0] in "[{":
        return prefix + rel
    return f"{prefix}.{rel}"


def _media_key(media: str) -> str:
    return media.split(";", 1)[0].strip().lower()


def _values_differ(a: Any, b: Any) -> bool:
    # A YAML date and the same date quoted are one value; but ``1 == True`` in Python,
    # and a boolean flag turning into a number is a change.
    a, b = _norm(a), _norm(b)
    return a != b or type(a) is not type(b)


def _norm(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _enum_diff(old: Any, new: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    old_l = old if isinstance(old, list) else []
    new_l = new if isinstance(new, list) else []
    if not old_l or not new_l:
        # An enum appearing or disappearing is a change of the allowed set, not of values.
        return (), ()
    added = tuple(v for v in new_l if v not in old_l)
    removed = tuple(v for v in old_l if v not in new_l)
    return added, removed


class _Differ:
    def __init__(self, base: Spec, head: Spec) -> None:
        self.base = base
        self.head = head
        # (base file, head file, ref) -> True when the content the ref reaches differs.
        self._dirty: dict[tuple[str, str, str], bool] = {}
        self._memo: dict[tuple[str, str, str, str], Any] = {}
        self._active: set[tuple[str, str, str, str]] = set()
        bdata, hdata = base.data or {}, head.data or {}
        self.globals_same = all(
            bdata.get(k) == hdata.get(k) for k in ("security", "consumes", "produces")
        ) and self._refs_clean(base.file, head.file, bdata.get("security"))

    # -- equality fast path ------------------------------------------------------------

    def same(self, b: Node | None, h: Node | None) -> bool:
        """True when both raw values are equal and every ``$ref`` inside reaches equal content."""
        if b is None or h is None:
            return b is h
        if b.value is not h.value and b.value != h.value:
            return False
        return self._refs_clean(b.file, h.file, b.value)

    def _refs_clean(self, bfile: str, hfile: str, value: Any) -> bool:
        return all(self._ref_clean(bfile, hfile, r) for r in _refs_in(value))

    def _ref_clean(self, bfile: str, hfile: str, ref: str) -> bool:
        start = (bfile, hfile, ref)
        known = self._dirty.get(start)
        if known is not None:
            return not known
        # Explore the part of the ref graph reachable from here that is not known yet.
        raw_dirty: dict[tuple[str, str, str], bool] = {}
        edges: dict[tuple[str, str, str], list[tuple[str, str, str]]] = {}
        stack = [start]
        seen = {start}
        while stack:
            key = stack.pop()
            bf, hf, r = key
            bt, ht = self.base.refs.get((bf, r)), self.head.refs.get((hf, r))
            succ: list[tuple[str, str, str]] = []
            if bt is None and ht is None:
                dirty = False  # unresolvable on both sides: the same string
            elif bt is None or ht is None:
                dirty = True
            else:
                vb, vh = _lookup(self.base, bt), _lookup(self.head, ht)
                dirty = vb != vh
                if not dirty:
                    succ = [(bt[0], ht[0], r2) for r2 in _refs_in(vb)]
            raw_dirty[key] = dirty
            edges[key] = succ
            for s in succ:
                if s not in seen and s not in self._dirty:
                    seen.add(s)
                    stack.append(s)
        # Dirty = differs itself, or reaches something that does.
        reverse: dict[tuple[str, str, str], list[tuple[str, str, str]]] = {}
        work = []
        for key, succ in edges.items():
            if raw_dirty[key] or any(self._dirty.get(s) for s in succ):
                work.append(key)
            for s in succ:
                if s in raw_dirty:
                    reverse.setdefault(s, []).append(key)
        dirty_set = set(work)
        while work:
            key = work.pop()
            for pred in reverse.get(key, ()):
                if pred not in dirty_set:
                    dirty_set.add(pred)
                    work.append(pred)
        for key in raw_dirty:
            self._dirty[key] = key in dirty_set
        return not self._dirty[start]

    # -- operations --------------------------------------------------------------------

    def operation(self, b: Operation, h: Operation) -> OperationDiff | None:
        renamed = b.path != h.path
        if (
            not renamed
            and self.globals_same
            and self.same(b.node, h.node)
            and self.same(b.path_node.get("parameters"), h.path_node.get("parameters"))
        ):
            return None
        changes: list[Change] = []
        if renamed:
            changes.append(Change("path", b.path, h.path))
        for attr, old, new in (
            ("deprecated", b.deprecated, h.deprecated),
            ("x-sunset", b.sunset, h.sunset),
            ("x-openstack", _versions(b.x_openstack), _versions(h.x_openstack)),
            ("operationId", b.operation_id, h.operation_id),
        ):
            if _values_differ(old, new):
                changes.append(Change(attr, old, new))
        sb, sh = security_alternatives(b.security), security_alternatives(h.security)
        if sb != sh:
            changes.append(Change("security", sb, sh))
        params = self.parameters(b, h)
        body = self.body(None, b.request_body, h.request_body)
        responses = []
        for status in list(b.responses) + [s for s in h.responses if s not in b.responses]:
            d = self.body(status, b.responses.get(status), h.responses.get(status))
            if d is not None:
                responses.append(d)
        if not (changes or params or body or responses):
            return None
        return OperationDiff(b.key, "changed", b, h, tuple(changes), params, body, tuple(responses))

    def parameters(self, b: Operation, h: Operation) -> tuple[ParameterDiff, ...]:
        pb = {_param_key(b, p): p for p in b.parameters}
        ph = {_param_key(h, p): p for p in h.parameters}
        out: list[ParameterDiff] = []
        removed = [k for k in pb if k not in ph]
        added = [k for k in ph if k not in pb]
        # A parameter that moved (query -> header) is the same parameter, changed.
        moved: dict[tuple[str, str], tuple[str, str]] = {}
        for rk in removed:
            for ak in added:
                if ak not in moved.values() and pb[rk].name.lower() == ph[ak].name.lower():
                    moved[rk] = ak
                    break
        for key, p in pb.items():
            other_key = key if key in ph else moved.get(key)
            if other_key is None:
                out.append(ParameterDiff(p.name, p.location, "removed", p, None))
                continue
            q = ph[other_key]
            d = self.parameter(p, q)
            if d is not None:
                out.append(d)
        for key in added:
            if key not in moved.values():
                q = ph[key]
                out.append(ParameterDiff(q.name, q.location, "added", None, q))
        return tuple(out)

    def parameter(self, p: Parameter, q: Parameter) -> ParameterDiff | None:
        if p.location == q.location and self.same(p.node, q.node):
            return None
        changes = []
        if p.location != q.location:
            changes.append(Change("in", p.location, q.location))
        for attr in _PARAM_ATTRS:
            if attr == "required":
                old, new = p.required, q.required
            elif attr == "x-openstack":
                old, new = _versions(p.node.value.get(attr)), _versions(q.node.value.get(attr))
            else:
                old, new = p.node.value.get(attr), q.node.value.get(attr)
            if _values_differ(old, new):
                changes.append(Change(attr, old, new))
        fields = self.schema_fields(
            _param_schema(p), _param_schema(q), p.node, q.node, skip_root=_LIFECYCLE
        )
        if not changes and not fields:
            return None
        return ParameterDiff(q.name, q.location, "changed", p, q, tuple(changes), fields)

    def body(self, status: str | None, b: Body | None, h: Body | None) -> BodyDiff | None:
        if b is None and h is None:
            return None
        if b is None:
            return BodyDiff(status, "added", None, h)
        if h is None:
            return BodyDiff(status, "removed", b, None)
        if self.same(b.node, h.node):
            return None
        changes = []
        if status is None and b.required != h.required:
            changes.append(Change("required", b.required, h.required))
        mb = {_media_key(m): m for m in b.content}
        mh = {_media_key(m): m for m in h.content}
        media_removed = tuple(mb[k] for k in mb if k not in mh)
        media_added = tuple(mh[k] for k in mh if k not in mb)
        schemas = []
        for k, media in mb.items():
            if k not in mh:
                continue
            sb, sh = b.content[media], h.content[mh[k]]
            anchor_b = b.node.child("content", media) if "content" in b.node.value else b.node
            anchor_h = h.node.child("content", mh[k]) if "content" in h.node.value else h.node
            fields = self.schema_fields(sb, sh, anchor_b, anchor_h)
            if fields:
                schemas.append(SchemaDiff(mh[k], sb, sh, fields))
        headers = self.headers(b, h)
        if not (changes or media_added or media_removed or schemas or headers):
            return None
        return BodyDiff(
            status,
            "changed",
            b,
            h,
            tuple(changes),
            media_added,
            media_removed,
            tuple(schemas),
            headers,
        )

    def headers(self, b: Body, h: Body) -> tuple[HeaderDiff, ...]:
        out = []
        for name, node in b.headers.items():
            other = h.headers.get(name)
            if other is None:
                out.append(HeaderDiff(name, "removed", node, None))
                continue
            if self.same(node, other):
                continue
            changes = []
            for attr in _HEADER_ATTRS:
                old, new = node.value.get(attr), other.value.get(attr)
                if _values_differ(old, new):
                    changes.append(Change(attr, old, new))
            fields = self.schema_fields(
                _param_schema_node(node),
                _param_schema_node(other),
                node,
                other,
                skip_root=_LIFECYCLE,
            )
            if changes or fields:
                out.append(HeaderDiff(name, "changed", node, other, tuple(changes), fields))
        for name, node in h.headers.items():
            if name not in b.headers:
                out.append(HeaderDiff(name, "added", None, node))
        return tuple(out)

    # -- schemas -------------------------------------------------------------------------

    def schema_fields(
        self,
        b: Node | None,
        h: Node | None,
        anchor_b: Node,
        anchor_h: Node,
        *,
        skip_root: frozenset[str] = frozenset(),
    ) -> tuple[FieldDiff, ...]:
        """Field changes between two schemas; a missing schema compares as ``{}``."""
        b = b if b is not None else Node({}, anchor_b.file, anchor_b.pointer)
        h = h if h is not None else Node({}, anchor_h.file, anchor_h.pointer)
        own, enum_added, enum_removed, children = self.schema(b, h)
        own = tuple(c for c in own if c.attr not in skip_root)
        out = []
        if own or enum_added or enum_removed:
            rb = self.base.resolve(b) or b
            rh = self.head.resolve(h) or h
            out.append(FieldDiff("", "changed", rb, rh, True, True, own, enum_added, enum_removed))
        out.extend(children)
        return tuple(out)

    def schema(
        self, b: Node | None, h: Node | None
    ) -> tuple[tuple[Change, ...], tuple[Any, ...], tuple[Any, ...], tuple[FieldDiff, ...]]:
        """(own attribute changes, enum values added, removed, nested field changes)."""
        rb = self.base.resolve(b) if b is not None else None
        rh = self.head.resolve(h) if h is not None else None
        if rb is None or not isinstance(rb.value, Mapping):
            rb = Node({}, b.file if b else "", b.pointer if b else "")
        if rh is None or not isinstance(rh.value, Mapping):
            rh = Node({}, h.file if h else "", h.pointer if h else "")
        if self.same(rb, rh):
            return _EMPTY
        key = (rb.file, rb.pointer, rh.file, rh.pointer)
        memo = self._memo.get(key)
        if memo is not None:
            return memo  # type: ignore[no-any-return]
        if key in self._active:
            # A recursive schema: this pair is being compared further up; its changes are
            # reported there, once.
            return _EMPTY
        self._active.add(key)
        try:
            result = self._compare(rb, rh)
        finally:
            self._active.discard(key)
        self._memo[key] = result
        return result

    def _compare(
        self, rb: Node, rh: Node
    ) -> tuple[tuple[Change, ...], tuple[Any, ...], tuple[Any, ...], tuple[FieldDiff, ...]]:
        ab, ah = _attrs(self.base, rb), _attrs(self.head, rh)
        own = [
            Change(a, ab.get(a), ah.get(a))
            for a in _SCHEMA_ATTRS
            if _values_differ(ab.get(a), ah.get(a))
        ]
        enum_added, enum_removed = _enum_diff(ab.get("enum"), ah.get("enum"))
        if (ab.get("enum") is None) != (ah.get("enum") is None):
            own.append(Change("enum", ab.get("enum"), ah.get("enum")))
        children: list[FieldDiff] = []
        tb, th = ab.get("type"), ah.get("type")
        if tb is not None and th is not None and tb != th:
            # A different type: what lies below is not comparable field by field.
            return tuple(own), enum_added, enum_removed, ()

        pb, ph = properties(self.base, rb), properties(self.head, rh)
        for name in list(pb) + [n for n in ph if n not in pb]:
            p, q = pb.get(name), ph.get(name)
            if q is None:
                assert p is not None
                children.append(FieldDiff(name, "removed", p.node, None, p.required, False))
            elif p is None:
                children.append(FieldDiff(name, "added", None, q.node, False, q.required))
            else:
                c_own, c_add, c_rm, c_children = self.schema(p.node, q.node)
                if p.required != q.required:
                    c_own = (*c_own, Change("required", p.required, q.required))
                if c_own or c_add or c_rm:
                    children.append(
                        FieldDiff(
                            name,
                            "changed",
                            p.node,
                            q.node,
                            p.required,
                            q.required,
                            c_own,
                            c_add,
                            c_rm,
                        )
                    )
                children.extend(_prefixed(name, c_children))

        for keyword, suffix in (("items", "[]"), ("additionalProperties", "{}")):
            sb, sh = rb.get(keyword), rh.get(keyword)
            if (
                sb is None
                or sh is None
                or not isinstance(sb.value, Mapping)
                or not isinstance(sh.value, Mapping)
            ):
                if keyword == "items" and (sb is None) != (sh is None):
                    own.append(Change("items", sb is not None, sh is not None))
                continue
            c_own, c_add, c_rm, c_children = self.schema(sb, sh)
            if c_own or c_add or c_rm:
                node_b = self.base.resolve(sb) or sb
                node_h = self.head.resolve(sh) or sh
                children.append(
                    FieldDiff(suffix, "changed", node_b, node_h, False, False, c_own, c_add, c_rm)
                )
            children.extend(_prefixed(suffix, c_children))

        for keyword in ("oneOf", "anyOf"):
            pairs, only_b, only_h = self._branches(rb.get(keyword), rh.get(keyword))
            if only_b or only_h:
                own.append(Change(keyword, only_b, only_h))
            for nb, nh in pairs:
                c_own, c_add, c_rm, c_children = self.schema(nb, nh)
                own.extend(c for c in c_own if c not in own)
                enum_added += tuple(v for v in c_add if v not in enum_added)
                enum_removed += tuple(v for v in c_rm if v not in enum_removed)
                children.extend(c_children)
        return tuple(own), enum_added, enum_removed, tuple(children)

    def _branches(
        self, lb: Node | None, lh: Node | None
    ) -> tuple[list[tuple[Node, Node]], tuple[str, ...], tuple[str, ...]]:
        """Pair ``oneOf``/``anyOf`` branches: by ``$ref`` name, then by position."""
        nb = (
            [lb.child(i) for i in range(len(lb.value))]
            if lb is not None and isinstance(lb.value, list)
            else []
        )
        nh = (
            [lh.child(i) for i in range(len(lh.value))]
            if lh is not None and isinstance(lh.value, list)
            else []
        )
        if not nb and not nh:
            return [], (), ()
        by_ref_h = {_branch_name(n): n for n in nh if _branch_name(n)}
        pairs: list[tuple[Node, Node]] = []
        rest_b, used = [], set()
        for n in nb:
            name = _branch_name(n)
            if name and name in by_ref_h:
                pairs.append((n, by_ref_h[name]))
                used.add(id(by_ref_h[name]))
            else:
                rest_b.append(n)
        rest_h = [n for n in nh if id(n) not in used]
        # Left-overs pair up when their content is the same ($ref vs inline), else by order.
        unmatched_h = list(rest_h)
        unmatched_b = []
        for n in rest_b:
            match = next((m for m in unmatched_h if self.schema(n, m) == _EMPTY), None)
            if match is not None:
                unmatched_h.remove(match)
            else:
                unmatched_b.append(n)
        for n, m in zip(unmatched_b, unmatched_h, strict=False):
            pairs.append((n, m))
        k = min(len(unmatched_b), len(unmatched_h))
        only_b = tuple(_branch_name(n) or n.pointer for n in unmatched_b[k:])
        only_h = tuple(_branch_name(n) or n.pointer for n in unmatched_h[k:])
        return pairs, only_b, only_h


def _lookup(spec: Spec, target: tuple[str, str]) -> Any:
    try:
        return get_pointer(spec.documents[target[0]], target[1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _prefixed(prefix: str, fields: Iterable[FieldDiff]) -> list[FieldDiff]:
    return [replace(f, path=_child_path(prefix, f.path)) for f in fields]


def _branch_name(node: Node) -> str:
    ref = node.value.get("$ref") if isinstance(node.value, Mapping) else None
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else ""


def _type_name(schema: Mapping[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        names = sorted(str(x) for x in t if x != "null")
        return "|".join(names) if names else ("null" if "null" in t else None)
    return t if isinstance(t, str) else None


def _attrs(spec: Spec, node: Node) -> dict[str, Any]:
    """The compared keywords of a schema; ``allOf`` parts fill in what it lacks."""
    out: dict[str, Any] = {}
    sources = [node.value]
    all_of = node.get("allOf")
    if all_of is not None and isinstance(all_of.value, list):
        for i in range(len(all_of.value)):
            part = spec.resolve(all_of.child(i))
            if part is not None and isinstance(part.value, Mapping):
                sources.append(part.value)
    for value in sources:
        for attr in (*_SCHEMA_ATTRS, "enum"):
            if attr in out:
                continue
            if attr == "type":
                t = _type_name(value)
                if t is not None:
                    out["type"] = t
            elif attr == "nullable":
                t = value.get("type")
                if (
                    value.get("nullable") is True
                    or value.get("x-nullable") is True
                    or (isinstance(t, list) and "null" in t)
                ):
                    out["nullable"] = True
            elif attr == "additionalProperties":
                extra = value.get(attr)
                if isinstance(extra, bool):
                    out[attr] = extra
            elif attr in value:
                out[attr] = _versions(value[attr]) if attr == "x-openstack" else value[attr]
    if out.get("x-openstack") is None:
        out.pop("x-openstack", None)
    return out


def _versions(ext: Any) -> dict[str, Any] | None:
    """The ``{min-ver, max-ver}`` part of an ``x-openstack`` extension (None when absent)."""
    if not isinstance(ext, Mapping):
        return None
    out = {k: str(ext[k]) for k in ("min-ver", "max-ver") if k in ext and ext[k] is not None}
    return out or None


def _param_key(op: Operation, p: Parameter) -> tuple[str, str]:
    if p.location == "path":
        # Path parameters match by position in the template, not by name.
        names = _PATH_PARAM_RE.findall(op.path)
        return ("path", str(names.index(p.name)) if p.name in names else p.name)
    return p.key


def _param_schema(p: Parameter) -> Node | None:
    if p.schema is not None:
        return p.schema
    return _param_schema_node(p.node)


def _param_schema_node(node: Node) -> Node | None:
    """The schema of a parameter or header object (``schema``, else the first ``content``)."""
    schema = node.get("schema")
    if schema is not None:
        return schema
    content = node.get("content")
    if content is not None and isinstance(content.value, Mapping):
        for media in content.value:
            media_node = content.child(media)
            if isinstance(media_node.value, Mapping) and "schema" in media_node.value:
                return media_node.child("schema")
    if "type" in node.value:  # Swagger 2.0 headers carry their schema inline
        return node
    return None


# --- entry point ------------------------------------------------------------------------


def diff_specs(base: Spec, head: Spec) -> SpecDiff:
    """The structural changes from ``base`` to ``head`` (pure: no judgement, no I/O)."""
    if not base.ok or not head.ok:
        return SpecDiff(base.file, head.file)
    differ = _Differ(base, head)
    # Path items whose text, content and reachable refs are identical need no Operation
    # objects at all: on big specs most of them are, and building the surface is the cost.
    paths_b = base.root.get("paths")
    paths_h = head.root.get("paths")
    same_paths: set[str] = set()
    unchanged = 0
    if (
        differ.globals_same
        and paths_b is not None
        and paths_h is not None
        and isinstance(paths_b.value, Mapping)
        and isinstance(paths_h.value, Mapping)
    ):
        for path in paths_b.value:
            if path in paths_h.value and differ.same(paths_b.child(path), paths_h.child(path)):
                same_paths.add(path)
                item = base.resolve(paths_b.child(path))
                if item is not None and isinstance(item.value, Mapping):
                    unchanged += sum(
                        1 for m in HTTP_METHODS if isinstance(item.value.get(m), Mapping)
                    )
    ops_b: dict[str, list[Operation]] = {}
    ops_h: dict[str, list[Operation]] = {}
    for op in operations(_without_paths(base, same_paths)):
        ops_b.setdefault(op.key, []).append(op)
    for op in operations(_without_paths(head, same_paths)):
        ops_h.setdefault(op.key, []).append(op)

    added: list[OperationDiff] = []
    removed: list[OperationDiff] = []
    changed: list[OperationDiff] = []
    renamed: dict[tuple[str, str], None] = {}
    for key in list(ops_b) + [k for k in ops_h if k not in ops_b]:
        pairs, extra = _pair_ops(ops_b.get(key, []), ops_h.get(key, []))
        added.extend(OperationDiff(key, "added", None, h) for h in extra)
        for b, h in pairs:
            if h is None:
                removed.append(OperationDiff(key, "removed", b, None))
                continue
            d = differ.operation(b, h)
            if d is None:
                unchanged += 1
                continue
            changed.append(d)
            if d.renamed:
                renamed[(b.path, h.path)] = None

    vb = _info_version(base)
    vh = _info_version(head)
    return SpecDiff(
        base_file=base.file,
        head_file=head.file,
        added=tuple(added),
        removed=tuple(removed),
        changed=tuple(changed),
        renamed_paths=tuple(renamed),
        info_version=Change("info.version", vb, vh) if vb != vh else None,
        unchanged=unchanged,
    )


def _without_paths(spec: Spec, skip: set[str]) -> Spec:
    """The same spec with some path items left out (nodes keep their pointers)."""
    if not skip or spec.data is None:
        return spec
    paths = spec.data.get("paths")
    if not isinstance(paths, Mapping):
        return spec
    data = dict(spec.data)
    data["paths"] = {p: v for p, v in paths.items() if p not in skip}
    return replace(spec, data=data)


def _pair_ops(
    bs: list[Operation], hs: list[Operation]
) -> tuple[list[tuple[Operation, Operation | None]], list[Operation]]:
    """Pair the base operations of one key with the head's (same path text first).

    Returns the pairs (head None: removed) and the head operations left over (added).
    """
    if len(bs) == 1 and len(hs) == 1:
        return [(bs[0], hs[0])], []
    rest = list(hs)
    out: list[tuple[Operation, Operation | None]] = []
    pending = []
    for b in bs:
        same = next((h for h in rest if h.path == b.path), None)
        if same is not None:
            rest.remove(same)
            out.append((b, same))
        else:
            pending.append(b)
    for b in pending:
        out.append((b, rest.pop(0) if rest else None))
    return out, rest


def _info_version(spec: Spec) -> str | None:
    info = (spec.data or {}).get("info")
    version = info.get("version") if isinstance(info, Mapping) else None
    return None if version is None else str(version)


__all__ = [
    "BodyDiff",
    "Change",
    "FieldDiff",
    "HeaderDiff",
    "OperationDiff",
    "ParameterDiff",
    "SchemaDiff",
    "SpecDiff",
    "diff_specs",
    "security_alternatives",
]
