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

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from govbot.diff.differ import Differ
from govbot.diff.keywords import Effect, effect
from govbot.diff.model import (
    BodyDiff,
    Change,
    FieldDiff,
    HeaderDiff,
    Kind,
    OperationDiff,
    ParameterDiff,
    SchemaDiff,
    SecurityAlternative,
    SpecDiff,
    security_alternatives,
)
from govbot.surface import HTTP_METHODS, Operation, Spec, is_mapping, join, operations


def diff_specs(
    base: Spec,
    head: Spec,
    *,
    surfaces: tuple[Sequence[Operation], Sequence[Operation]] | None = None,
) -> SpecDiff:
    """The structural changes from ``base`` to ``head`` (pure: no judgement, no I/O).

    ``surfaces``: the operations of base and head when the caller has them already
    (``govbot check`` classified both); otherwise only the operations of the path items
    that differ are built.
    """
    if not base.ok or not head.ok:
        return SpecDiff(base.file, head.file)
    differ = Differ(base, head)
    same_paths, unchanged = _same_path_items(differ, base, head)
    ops_b: dict[str, list[Operation]] = {}
    ops_h: dict[str, list[Operation]] = {}
    for op in _changed_surface(base, same_paths, surfaces[0] if surfaces else None):
        ops_b.setdefault(op.key, []).append(op)
    for op in _changed_surface(head, same_paths, surfaces[1] if surfaces else None):
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
        webhooks=_webhooks(base, head),
        base_file=base.file,
        head_file=head.file,
        added=tuple(added),
        removed=tuple(removed),
        changed=tuple(changed),
        renamed_paths=tuple(renamed),
        info_version=Change("info.version", vb, vh) if vb != vh else None,
        unchanged=unchanged,
    )


def _same_path_items(differ: Differ, base: Spec, head: Spec) -> tuple[set[str], int]:
    """Path items identical on both sides (text, content and reachable refs), and how
    many operations they hold: on big specs most are, and they need no Operation objects,
    which are the cost of building the surface."""
    paths_b = base.root.get("paths")
    paths_h = head.root.get("paths")
    same_paths: set[str] = set()
    unchanged = 0
    if (
        not differ.globals_same
        or paths_b is None
        or paths_h is None
        or not isinstance(paths_b.value, Mapping)
        or not isinstance(paths_h.value, Mapping)
    ):
        return same_paths, unchanged
    for path in paths_b.value:
        if path in paths_h.value and differ.same(paths_b.child(path), paths_h.child(path)):
            same_paths.add(path)
            item = base.resolve(paths_b.child(path))
            if item is not None and isinstance(item.value, Mapping):
                unchanged += sum(1 for m in HTTP_METHODS if is_mapping(item.value.get(m)))
    return same_paths, unchanged


def _changed_surface(
    spec: Spec, same_paths: set[str], known: Sequence[Operation] | None
) -> Sequence[Operation]:
    """The operations of ``spec`` outside the path items ``same_paths``."""
    if known is None:
        return operations(_without_paths(spec, same_paths))
    paths = spec.root.get("paths")
    if not same_paths or paths is None:
        return known
    skip: set[tuple[str, str, str]] = set()
    for path in same_paths:
        item = spec.resolve(paths.child(path)) or paths.child(path)
        value = item.value if isinstance(item.value, Mapping) else {}
        # the path an operation carries (surface._operations): an action's real path
        real, action = value.get("x-govbot-path"), value.get("x-govbot-action")
        if not isinstance(real, str) or not isinstance(action, str) or not action:
            real = path
        skip.add((item.file, item.pointer, real))
    return [op for op in known if (op.path_node.file, op.path_node.pointer, op.path) not in skip]


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


def _webhooks(base: Spec, head: Spec) -> tuple[OperationDiff, ...]:
    """The OpenAPI 3.1 ``webhooks`` of both sides, compared as operations."""
    vb, vh = _webhook_view(base), _webhook_view(head)
    if vb is None and vh is None:
        return ()
    vb = vb or replace(base, data={"paths": {}})
    vh = vh or replace(head, data={"paths": {}})
    ops_b = {op.key: op for op in operations(vb)}
    ops_h = {op.key: op for op in operations(vh)}
    differ = Differ(vb, vh)
    out: list[OperationDiff] = []
    for key, b in ops_b.items():
        h = ops_h.get(key)
        if h is None:
            out.append(OperationDiff(key, "removed", b, None))
        elif (d := differ.operation(b, h)) is not None:
            out.append(d)
    out.extend(OperationDiff(k, "added", None, h) for k, h in ops_h.items() if k not in ops_b)
    return tuple(out)


def _webhook_view(spec: Spec) -> Spec | None:
    """``spec`` with its webhooks as its only path items, each a ``$ref`` to the webhook,
    so that the operations read from it keep their real pointers (``/webhooks/...``)."""
    hooks = (spec.data or {}).get("webhooks")
    if not isinstance(hooks, Mapping) or not hooks:
        return None
    paths: dict[str, Any] = {}
    refs = dict(spec.refs)
    for name in hooks:
        pointer = join("/webhooks", str(name))
        ref = "#" + pointer
        paths[str(name)] = {"$ref": ref}
        refs[(spec.file, ref)] = (spec.file, pointer)
    data = {**(spec.data or {}), "paths": paths}
    return replace(spec, data=data, refs=refs)


def _info_version(spec: Spec) -> str | None:
    info = (spec.data or {}).get("info")
    version = info.get("version") if isinstance(info, Mapping) else None
    return None if version is None else str(version)


__all__ = [
    "BodyDiff",
    "Change",
    "Effect",
    "FieldDiff",
    "HeaderDiff",
    "Kind",
    "OperationDiff",
    "ParameterDiff",
    "SchemaDiff",
    "SecurityAlternative",
    "SpecDiff",
    "diff_specs",
    "effect",
    "security_alternatives",
]
