"""Which ``$ref``s of a base -> head pair reach content that differs, over the ref graph.

A ref is dirty when the values it reaches on the two sides differ, or when they are
equal but hold a ref that is dirty. The differ asks once per (base file, head file, ref)
and keeps the answers (:class:`govbot.diff.differ.Differ`).
"""

from __future__ import annotations

from collections.abc import Mapping

from govbot.diff.compare import lookup, refs_in
from govbot.surface import Spec

RefKey = tuple[str, str, str]  # (base file, head file, ref)


def dirty_refs(
    base: Spec, head: Spec, start: RefKey, known: Mapping[RefKey, bool]
) -> dict[RefKey, bool]:
    """Whether each ref reachable from ``start`` and not in ``known`` is dirty."""
    # Explore the part of the ref graph reachable from here that is not known yet.
    raw_dirty: dict[RefKey, bool] = {}
    edges: dict[RefKey, list[RefKey]] = {}
    stack = [start]
    seen = {start}
    while stack:
        key = stack.pop()
        bf, hf, r = key
        bt, ht = base.refs.get((bf, r)), head.refs.get((hf, r))
        succ: list[RefKey] = []
        if bt is None and ht is None:
            dirty = False  # unresolvable on both sides: the same string
        elif bt is None or ht is None:
            dirty = True
        else:
            vb, vh = lookup(base, bt), lookup(head, ht)
            dirty = vb != vh
            if not dirty:
                succ = [(bt[0], ht[0], r2) for r2 in refs_in(vb)]
        raw_dirty[key] = dirty
        edges[key] = succ
        for s in succ:
            if s not in seen and s not in known:
                seen.add(s)
                stack.append(s)
    # Dirty = differs itself, or reaches something that does.
    reverse: dict[RefKey, list[RefKey]] = {}
    work = []
    for key, succ in edges.items():
        if raw_dirty[key] or any(known.get(s) for s in succ):
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
    return {key: key in dirty_set for key in raw_dirty}
