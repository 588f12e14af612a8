"""Which path segments the spec itself shows to be resource collections (evidence).

A segment followed by a parameter (``/things/{id}``) is not a collection by its shape
alone: ``/geoip/{ip}`` looks an address up, ``/parent/{uuid}`` reads a relation of an
item. The path-shape rules (CON007, CON008) judge a segment as a collection only when the
operations show it, one of:

- **lists**: ``GET /things`` answers a bare array, or an object whose array property is
  named after the collection (REP-01's ``{"things": [...]}``) or holds the schema that
  ``GET /things/{id}`` answers;
- **creates**: ``POST /things`` answers ``201 Created`` or a ``Location`` header (RC-01),
  or the schema that ``GET /things/{id}`` answers;
- **member operations**: ``/things/{id}`` is read and written (GET with PUT, PATCH or
  DELETE), or written two ways (PUT or PATCH, and DELETE), as URI-01 puts all the methods
  of a resource on its one URI;
- **its plural beside it**: the API names the same collection in the plural at the same
  place (``/signins`` beside ``/signin/{id}``, ``/sm/devices`` beside ``/sm/device/{id}``).

A lone ``GET /geoip/{ip}`` shows none of these: a lookup or a function, no collection.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from govbot.rules.consistency.index import SpecIndex, squash, types_of, words
from govbot.rules.consistency.language import plural_of
from govbot.surface import Node, Operation, Spec, normalize_path

_NOT_PATH_RE = re.compile(r"[?#]")
_WRITES = frozenset({"put", "patch", "delete"})
_MEMO = "resources.evidenced"


def evidenced(spec: Spec, index: SpecIndex) -> frozenset[str]:
    """Normalised collection paths (``/v2/things``) the spec shows to be collections."""
    found = index.memo.get(_MEMO)
    if found is None:
        found = index.memo[_MEMO] = _evidenced(spec, index)
    return found  # type: ignore[no-any-return]


def template(path: str) -> str:
    """A path key without its ``?query`` or ``#fragment`` (APIs.guru's AWS keys), RFC 3986."""
    return _NOT_PATH_RE.split(path, maxsplit=1)[0]


def _evidenced(spec: Spec, index: SpecIndex) -> frozenset[str]:
    methods: dict[str, dict[str, Operation]] = {}
    for path, idx in index.paths.items():
        key = normalize_path(template(path))
        for i in idx:
            methods.setdefault(key, {}).setdefault(index.ops[i].method, index.ops[i])
    candidates: set[str] = set()
    prefixes: set[str] = set()  # every literal-ended prefix, lower case, no format suffix
    for key in methods:
        parts = key.split("/")
        for i in range(1, len(parts)):
            if parts[i] and "{" not in parts[i]:
                prefixes.add(_FORMAT_RE.sub("", "/".join(parts[: i + 1]).lower()))
            if i + 1 < len(parts) and parts[i + 1] == "{}" and parts[i] and "{" not in parts[i]:
                candidates.add("/".join(parts[: i + 1]))
    out = {c for c in candidates if _plural_beside(c, prefixes)}
    for coll in candidates:
        bare = methods.get(coll, {})
        member = methods.get(coll + "/{}", {})
        item = _item_schemas(spec, member.get("get"))
        name = squash(coll.rsplit("/", 1)[-1])
        if (
            _member_operations(member)
            or _lists(spec, bare.get("get"), item, name)
            or _creates(spec, bare.get("post"), item)
        ):
            out.add(coll)
    return frozenset(out)


_FORMAT_RE = re.compile(r"\.(json|xml|ya?ml)$")


def _plural_beside(coll: str, prefixes: set[str]) -> bool:
    """Whether the API names ``coll`` in the plural at the same place (``/a/signins``
    beside ``/a/signin``): the segment is that collection's singular."""
    parent, _, seg = coll.rpartition("/")
    last = (words(seg) or [""])[-1]
    lower = seg.lower()
    if not last.isalpha() or not lower.endswith(last):
        return False
    plural = lower[: len(lower) - len(last)] + plural_of(last)
    return plural != lower and f"{parent.lower()}/{plural}" in prefixes


def _member_operations(member: Mapping[str, Operation]) -> bool:
    writes = _WRITES & member.keys()
    return bool(writes) and ("get" in member or ({"put", "patch"} & writes and "delete" in writes))


def _success_schemas(spec: Spec, op: Operation | None) -> list[Node]:
    if op is None:
        return []
    out = []
    for status, body in op.responses.items():
        if status[:1] != "2":
            continue
        for schema in body.content.values():
            node = spec.resolve(schema) if schema is not None else None
            if node is not None and isinstance(node.value, Mapping):
                out.append(node)
    return out


def _shape(node: Node) -> tuple[tuple[str, str], frozenset[str]]:
    """A schema's identity: where it is defined, and its property names."""
    props = node.value.get("properties")
    names = frozenset(str(n) for n in props) if isinstance(props, Mapping) else frozenset()
    return (node.file, node.pointer), names


def _item_schemas(spec: Spec, get: Operation | None) -> list[tuple[Any, frozenset[str]]]:
    return [_shape(n) for n in _success_schemas(spec, get)]


def _same_item(node: Node | None, item: list[tuple[Any, frozenset[str]]]) -> bool:
    if node is None or not isinstance(node.value, Mapping):
        return False
    where, names = _shape(node)
    return any(where == w or (names and names == n) for w, n in item)


def _lists(spec: Spec, get: Operation | None, item: list[Any], name: str) -> bool:
    """Whether ``GET <collection>`` answers a list (a bare array, or a list wrapper)."""
    for node in _success_schemas(spec, get):
        value = node.value
        if types_of(value) == {"array"}:
            return True
        props = value.get("properties")
        if not isinstance(props, Mapping):
            continue
        for prop, raw in props.items():
            if not isinstance(raw, Mapping):
                continue
            schema = spec.resolve(Node(raw, node.file, f"{node.pointer}/properties/{prop}"))
            if schema is None or types_of(schema.value) != {"array"}:
                continue
            items = schema.value.get("items")
            inner = (
                spec.resolve(Node(items, schema.file, f"{schema.pointer}/items"))
                if isinstance(items, Mapping)
                else None
            )
            if squash(str(prop)) == name or _same_item(inner, item):
                return True
    return False


def _creates(spec: Spec, post: Operation | None, item: list[Any]) -> bool:
    """Whether ``POST <collection>`` creates a member: 201, a Location, or the item."""
    if post is None:
        return False
    if "201" in post.responses:
        return True
    if any("location" in body.headers for s, body in post.responses.items() if s[:1] == "2"):
        return True
    return any(_same_item(n, item) for n in _success_schemas(spec, post))
