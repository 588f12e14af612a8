"""The differ: one base -> head pair of specs compared operation by operation.

Raw values are compared first (a C-level ``==``) and the diff descends only where they
differ or where a ``$ref`` inside them reaches content that differs; which refs do is
worked out once per diff over the ref graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from govbot.diff.compare import (
    EMPTY,
    HEADER_ATTRS,
    LIFECYCLE,
    PARAM_ATTRS,
    SCHEMA_ATTRS,
    attrs,
    branch_label,
    branch_name,
    enum_diff,
    media_key,
    param_key,
    param_schema,
    param_schema_node,
    prefixed,
    refs_in,
    values_differ,
    versions,
)
from govbot.diff.keywords import SCHEMA_LISTS, SCHEMA_MAPS, SUBSCHEMAS, Effect, effect
from govbot.diff.model import (
    BodyDiff,
    Change,
    FieldDiff,
    HeaderDiff,
    OperationDiff,
    ParameterDiff,
    SchemaDiff,
    security_alternatives,
)
from govbot.diff.refgraph import dirty_refs
from govbot.surface import Body, Node, Operation, Parameter, Spec, is_mapping, properties


class Differ:
    """Compares one base operation with its head, memoising what operations share."""

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
        return all(self._ref_clean(bfile, hfile, r) for r in refs_in(value))

    def _ref_clean(self, bfile: str, hfile: str, ref: str) -> bool:
        start = (bfile, hfile, ref)  # worked out once per diff over the ref graph
        known = self._dirty.get(start)
        if known is not None:
            return not known
        self._dirty.update(dirty_refs(self.base, self.head, start, self._dirty))
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
            (
                "x-stability-level",
                b.value.get("x-stability-level"),
                h.value.get("x-stability-level"),
            ),
            ("x-openstack", versions(b.x_openstack), versions(h.x_openstack)),
            ("operationId", b.operation_id, h.operation_id),
        ):
            if values_differ(old, new):
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
        pb = {param_key(b, p): p for p in b.parameters}
        ph = {param_key(h, p): p for p in h.parameters}
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
        for attr in PARAM_ATTRS:
            if attr == "required":
                old, new = p.required, q.required
            elif attr == "x-openstack":
                old, new = versions(p.node.value.get(attr)), versions(q.node.value.get(attr))
            else:
                old, new = p.node.value.get(attr), q.node.value.get(attr)
            if values_differ(old, new):
                changes.append(Change(attr, old, new))
        fields = self.schema_fields(
            param_schema(p), param_schema(q), p.node, q.node, skip_root=LIFECYCLE
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
        mb = {media_key(m): m for m in b.content}
        mh = {media_key(m): m for m in h.content}
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
            for attr in HEADER_ATTRS:
                old, new = node.value.get(attr), other.value.get(attr)
                if values_differ(old, new):
                    changes.append(Change(attr, old, new))
            fields = self.schema_fields(
                param_schema_node(node),
                param_schema_node(other),
                node,
                other,
                skip_root=LIFECYCLE,
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
        if rb is None or not is_mapping(rb.value):
            rb = Node({}, b.file if b else "", b.pointer if b else "")
        if rh is None or not is_mapping(rh.value):
            rh = Node({}, h.file if h else "", h.pointer if h else "")
        if self.same(rb, rh):
            return EMPTY
        key = (rb.file, rb.pointer, rh.file, rh.pointer)
        memo = self._memo.get(key)
        if memo is not None:
            return memo  # type: ignore[no-any-return]
        if key in self._active:
            # A recursive schema: this pair is being compared further up; its changes are
            # reported there, once.
            return EMPTY
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
        wrapped = self._wrapped(rb, rh)
        if wrapped is not None:
            return wrapped
        ab, ah = attrs(self.base, rb), attrs(self.head, rh)
        own = [
            Change(a, ab.get(a), ah.get(a))
            for a in SCHEMA_ATTRS
            if values_differ(ab.get(a), ah.get(a))
        ]
        enum_added, enum_removed = enum_diff(ab.get("enum"), ah.get("enum"))
        if (ab.get("enum") is None) != (ah.get("enum") is None):
            own.append(Change("enum", ab.get("enum"), ah.get("enum")))
        tb, th = ab.get("type"), ah.get("type")
        if tb is not None and th is not None and tb != th:
            # A different type: what lies below is not comparable field by field.
            return tuple(own), enum_added, enum_removed, ()
        children = self._properties(rb, rh)
        children += self._containers(rb, rh, own)
        own.extend(self._subschemas(rb, rh))
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

    def _properties(self, rb: Node, rh: Node) -> list[FieldDiff]:
        """The properties of two object schemas, by name, and what changed below them."""
        children: list[FieldDiff] = []
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
                    change = FieldDiff(
                        name, "changed", p.node, q.node, p.required, q.required, c_own, c_add, c_rm
                    )
                    children.append(change)
                children.extend(prefixed(name, c_children))
        return children

    def _containers(self, rb: Node, rh: Node, own: list[Change]) -> list[FieldDiff]:
        """``items`` and ``additionalProperties``: the schemas inside a list or a map."""
        children: list[FieldDiff] = []
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
            children.extend(prefixed(suffix, c_children))
        return children

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
        by_ref_h = {branch_name(n): n for n in nh if branch_name(n)}
        pairs: list[tuple[Node, Node]] = []
        rest_b, used = [], set()
        for n in nb:
            name = branch_name(n)
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
            match = next((m for m in unmatched_h if self.schema(n, m) == EMPTY), None)
            if match is not None:
                unmatched_h.remove(match)
            else:
                unmatched_b.append(n)
        for n, m in zip(unmatched_b, unmatched_h, strict=False):
            pairs.append((n, m))
        k = min(len(unmatched_b), len(unmatched_h))
        only_b = tuple(branch_label(self.base, n) for n in unmatched_b[k:])
        only_h = tuple(branch_label(self.head, n) for n in unmatched_h[k:])
        return pairs, only_b, only_h

    # -- sub-schemas and wrappers ----------------------------------------------------------

    def _subschemas(self, rb: Node, rh: Node) -> list[Change]:
        """Sub-schema keywords (``not``, ``then``, ``contains``, ``prefixItems``, ...): one
        appearing or disappearing is a change of that keyword; changes inside one come as
        ``"<keyword>/<attr>"`` (``"prefixItems/0/type"``, ``"dependentSchemas[a]/required"``)."""
        out: list[Change] = []
        for keyword in SUBSCHEMAS:
            sb, sh = rb.get(keyword), rh.get(keyword)
            if sb is None and sh is None:
                continue
            if sb is None or sh is None:
                out.append(Change(keyword, sb.value if sb else None, sh.value if sh else None))
            else:
                out.extend(self._nested(keyword, sb, sh))
        for keyword in SCHEMA_LISTS:
            lb, lh = _as(rb.get(keyword), list), _as(rh.get(keyword), list)
            nb = len(lb.value) if lb is not None else None
            nh = len(lh.value) if lh is not None else None
            if nb != nh:
                out.append(Change(keyword, nb, nh))
            for i in range(min(nb or 0, nh or 0)):
                assert lb is not None and lh is not None
                out.extend(self._nested(f"{keyword}/{i}", lb.child(i), lh.child(i)))
        for keyword in SCHEMA_MAPS:
            mb, mh = _as(rb.get(keyword), Mapping), _as(rh.get(keyword), Mapping)
            kb = [str(k) for k in mb.value] if mb is not None else []
            kh = [str(k) for k in mh.value] if mh is not None else []
            if set(kb) != set(kh):
                out.append(Change(keyword, kb or None, kh or None))
            for k in kb:
                if k in kh:
                    assert mb is not None and mh is not None
                    out.extend(self._nested(f"{keyword}[{k}]", mb.child(k), mh.child(k)))
        return out

    def _nested(self, prefix: str, sb: Node, sh: Node) -> list[Change]:
        """The changes inside one pair of sub-schemas, named under ``prefix``."""
        c_own, c_add, c_rm, c_children = self.schema(sb, sh)
        out = [Change(f"{prefix}/{c.attr}", c.old, c.new) for c in c_own]
        if c_add or c_rm:
            out.append(Change(f"{prefix}/enum-values", c_rm, c_add))
        for f in c_children:
            where = f"{prefix}/{f.path}"
            if f.kind == "changed":
                out.extend(Change(f"{where}/{c.attr}", c.old, c.new) for c in f.changes)
                if f.enum_added or f.enum_removed:
                    out.append(Change(f"{where}/enum-values", f.enum_removed, f.enum_added))
            elif f.kind == "added" and f.head_required:
                out.append(Change(f"{where}/required", False, True))
            elif f.kind == "removed" and f.base_required:
                out.append(Change(f"{where}/required", True, False))
        return out

    def _wrapped(
        self, rb: Node, rh: Node
    ) -> tuple[tuple[Change, ...], tuple[Any, ...], tuple[Any, ...], tuple[FieldDiff, ...]] | None:
        """A schema wrapped into (or unwrapped from) a ``oneOf``/``anyOf`` that keeps it as
        one branch: compared with that branch, the other branches being added (or
        removed) alternatives, and a ``{type: 'null'}`` branch a change of ``nullable``."""
        for keyword in ("oneOf", "anyOf"):
            lb, lh = rb.get(keyword), rh.get(keyword)
            if (lb is None) == (lh is None):
                continue
            on_head = lb is None
            wrapper, outer = (rh, rb) if on_head else (rb, rh)
            listed = lh if on_head else lb
            assert listed is not None
            if not isinstance(listed.value, list) or not _pure_wrapper(wrapper.value, keyword):
                continue
            branches = [listed.child(i) for i in range(len(listed.value))]
            match = self._kept_branch(outer, branches, on_head)
            if match is None:
                continue
            pair = (outer, match) if on_head else (match, outer)
            own, added, removed, children = self.schema(*pair)
            rest = [n for n in branches if n is not match]
            spec = self.head if on_head else self.base
            nulls = [n for n in rest if _null_schema(spec.resolve(n))]
            # A branch the kept one already holds adds (or takes away) no value: an error
            # body wrapped as oneOf [Error, PolicyError] where PolicyError is an Error
            # with one more field.
            others = tuple(
                branch_label(spec, n)
                for n in rest
                if n not in nulls and not self._holds(outer, n, on_head)
            )
            extra = list(own)
            if nulls and not attrs(self.base if on_head else self.head, outer).get("nullable"):
                extra.append(
                    Change("nullable", None, True) if on_head else Change("nullable", True, None)
                )
            if others:
                extra.append(
                    Change(keyword, (), others) if on_head else Change(keyword, others, ())
                )
            return tuple(extra), added, removed, children
        return None

    def _kept_branch(self, outer: Node, branches: list[Node], on_head: bool) -> Node | None:
        """The branch that is ``outer`` itself: by component name, else by equal content."""
        name = outer.pointer.rsplit("/", 1)[-1] if "/schemas/" in outer.pointer else ""
        if name:
            for n in branches:
                if branch_name(n) == name:
                    return n
        for n in branches:
            pair = (outer, n) if on_head else (n, outer)
            if self.schema(*pair) == EMPTY:
                return n
        return None

    def _holds(self, outer: Node, branch: Node, on_head: bool) -> bool:
        """Whether every value ``branch`` allows is one ``outer`` allows too (``outer`` is
        on the unwrapped side: the base when ``on_head``). Read from their diff: every
        change moves the other way than widening ``outer`` (narrowed when the branch is the
        head's); fields the branch adds at its root are held by an open ``outer``; any
        other field removed or added, or a change of unknown effect, is not held."""
        pair = (outer, branch) if on_head else (branch, outer)
        own, added, removed, children = self.schema(*pair)
        held = Effect.NARROWED if on_head else Effect.WIDENED
        if added if on_head else removed:
            return False
        open_root = isinstance(outer.value, Mapping) and all(
            outer.value.get(k) is not False
            for k in ("additionalProperties", "unevaluatedProperties")
        )
        extra = "added" if on_head else "removed"
        for f in children:
            if f.kind == extra and open_root and not any(c in f.path for c in ".[{"):
                continue
            if f.kind != "changed" or (f.enum_added if on_head else f.enum_removed):
                return False
            if not all(effect(c.attr, c.old, c.new) in (held, None) for c in f.changes):
                return False
        return all(effect(c.attr, c.old, c.new) in (held, None) for c in own)


# Keywords a oneOf/anyOf wrapper may carry besides its branches (annotations only).
_ANNOTATIONS = frozenset(
    {"description", "title", "discriminator", "example", "examples", "nullable", "deprecated"}
)


def _pure_wrapper(value: Any, keyword: str) -> bool:
    return isinstance(value, Mapping) and all(
        k == keyword or k in _ANNOTATIONS or str(k).startswith("x-") for k in value
    )


def _null_schema(node: Node | None) -> bool:
    if node is None or not isinstance(node.value, Mapping):
        return False
    t = node.value.get("type")
    return t == "null" or t == ["null"]


def _as(node: Node | None, kind: type) -> Node | None:
    return node if node is not None and isinstance(node.value, kind) else None
