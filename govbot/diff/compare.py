"""Comparing raw spec values: keywords of schemas, parameters and headers, and ``$ref``s."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

import orjson

from govbot.diff.keywords import stricter
from govbot.diff.model import Change, FieldDiff
from govbot.surface import Node, Operation, Parameter, Spec, get_pointer, is_mapping

REF_RE = re.compile(rb'"\$ref":"((?:[^"\\]|\\.)*)"')
PATH_PARAM_RE = re.compile(r"\{([^}/]*)\}")
SCHEMA_ATTRS = (
    "type",
    "format",
    "nullable",
    "readOnly",
    "writeOnly",
    "deprecated",
    "x-sunset",
    "x-openstack",
    "x-stability-level",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
    "const",
    "x-extensible-enum",
    "contentEncoding",
    "contentMediaType",
    "dependentRequired",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "requiredNames",
)
# Keywords whose value may be a schema: compared by form (false, a schema, true); what
# changes inside a schema form is compared as a nested schema (``{}``) or not at all.
CLOSERS = frozenset({"additionalProperties", "unevaluatedProperties", "unevaluatedItems"})
LIFECYCLE = frozenset({"deprecated", "x-sunset", "x-openstack"})
PARAM_ATTRS = (
    "required",
    "deprecated",
    "x-sunset",
    "x-openstack",
    "x-stability-level",
    "style",
    "explode",
    "allowEmptyValue",
)
HEADER_ATTRS = ("required", "deprecated", "x-sunset")
EMPTY: tuple[tuple[Change, ...], tuple[Any, ...], tuple[Any, ...], tuple[FieldDiff, ...]] = (
    (),
    (),
    (),
    (),
)


def refs_in(value: Any) -> set[str]:
    """Every ``$ref`` string inside ``value`` (serialised in C, then scanned)."""
    try:
        raw = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # a YAML value orjson cannot write (a set, bytes): walk it instead
        return set(walk_refs(value))
    if b'"$ref"' not in raw:
        return set()
    return {orjson.loads(b'"' + m + b'"') for m in REF_RE.findall(raw)}


def walk_refs(value: Any) -> Iterator[str]:
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


def child_path(prefix: str, rel: str) -> str:
    if not prefix:
        return rel
    if not rel:
        return prefix
    if rel[0] in "[{":
        return prefix + rel
    return f"{prefix}.{rel}"


def media_key(media: str) -> str:
    return media.split(";", 1)[0].strip().lower()


def values_differ(a: Any, b: Any) -> bool:
    # A YAML date and the same date quoted are one value; but ``1 == True`` in Python,
    # and a boolean flag turning into a number is a change.
    a, b = norm(a), norm(b)
    return a != b or type(a) is not type(b)


def norm(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def enum_diff(old: Any, new: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    old_l = old if isinstance(old, list) else []
    new_l = new if isinstance(new, list) else []
    if not old_l or not new_l:
        # An enum appearing or disappearing is a change of the allowed set, not of values.
        return (), ()
    added = tuple(v for v in new_l if v not in old_l)
    removed = tuple(v for v in old_l if v not in new_l)
    return added, removed


def lookup(spec: Spec, target: tuple[str, str]) -> Any:
    try:
        return get_pointer(spec.documents[target[0]], target[1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def prefixed(prefix: str, fields: Iterable[FieldDiff]) -> list[FieldDiff]:
    return [replace(f, path=child_path(prefix, f.path)) for f in fields]


def branch_name(node: Node) -> str:
    ref = node.value.get("$ref") if isinstance(node.value, Mapping) else None
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else ""


def branch_label(spec: Spec, node: Node) -> str:
    """How a ``oneOf``/``anyOf`` branch reads in a message: its component name, else its
    ``title``, else the component its ``allOf`` starts from, else its position."""
    name = branch_name(node)
    if name:
        return name
    value = spec.deref(node)
    if isinstance(value.get("title"), str):
        return str(value["title"])
    parts = value.get("allOf")
    if isinstance(parts, list) and parts and isinstance(parts[0], Mapping):
        ref = parts[0].get("$ref")
        if isinstance(ref, str):
            return ref.rsplit("/", 1)[-1] + " (extended)"
    return "#" + str(int(node.pointer.rsplit("/", 1)[-1]) + 1)


def type_name(schema: Mapping[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        names = sorted(str(x) for x in t if x != "null")
        return "|".join(names) if names else ("null" if "null" in t else None)
    return t if isinstance(t, str) else None


def attrs(spec: Spec, node: Node) -> dict[str, Any]:
    """The compared keywords of a schema, its ``allOf`` parts merged in.

    Every ``allOf`` part applies, so a keyword several parts set takes the stricter
    value (:func:`govbot.diff.keywords.stricter`): the merged schema is what a value
    must satisfy. ``type`` is implied by ``properties`` (object) and ``items`` (array);
    ``requiredNames`` are the required names no ``properties`` declare (declared ones
    are compared per field).
    """
    sources = [node.value]
    all_of = node.get("allOf")
    if all_of is not None and isinstance(all_of.value, list):
        for i in range(len(all_of.value)):
            part = spec.resolve(all_of.child(i))
            if part is not None and isinstance(part.value, Mapping):
                sources.append(part.value)
    out: dict[str, Any] = {}
    for value in sources:
        for attr, found in _own_attrs(value):
            out[attr] = stricter(attr, out[attr], found) if attr in out else found
    if "type" not in out:
        implied = _implied_type(sources)
        if implied is not None:
            out["type"] = implied
    names = _undeclared_required(sources)
    if names:
        out["requiredNames"] = names
    if out.get("x-openstack") is None:
        out.pop("x-openstack", None)
    return out


def _own_attrs(value: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(keyword, compared value) of one schema object, ``allOf`` aside."""
    for attr in (*SCHEMA_ATTRS, "enum"):
        if attr == "type":
            t = type_name(value)
            if t is not None:
                yield attr, t
        elif attr == "nullable":
            t = value.get("type")
            if (
                value.get("nullable") is True
                or value.get("x-nullable") is True
                or (isinstance(t, list) and "null" in t)
            ):
                yield attr, True
        elif attr in CLOSERS:
            extra = value.get(attr)
            if isinstance(extra, bool):
                yield attr, extra
            elif is_mapping(extra):
                yield attr, {}
        elif attr == "requiredNames":
            continue
        elif attr in value:
            yield attr, versions(value[attr]) if attr == "x-openstack" else value[attr]


def _implied_type(sources: list[Mapping[str, Any]]) -> str | None:
    for value in sources:
        if "properties" in value or isinstance(value.get("additionalProperties"), Mapping):
            return "object"
        if "items" in value or "prefixItems" in value:
            return "array"
    return None


def _undeclared_required(sources: list[Mapping[str, Any]]) -> tuple[str, ...]:
    required: set[str] = set()
    declared: set[str] = set()
    for value in sources:
        names = value.get("required")
        if isinstance(names, list):
            required.update(n for n in names if isinstance(n, str))
        props = value.get("properties")
        if isinstance(props, Mapping):
            declared.update(str(k) for k in props)
    return tuple(sorted(required - declared))


def versions(ext: Any) -> dict[str, Any] | None:
    """The ``{min-ver, max-ver}`` part of an ``x-openstack`` extension (None when absent)."""
    if not isinstance(ext, Mapping):
        return None
    out = {k: str(ext[k]) for k in ("min-ver", "max-ver") if k in ext and ext[k] is not None}
    return out or None


def param_key(op: Operation, p: Parameter) -> tuple[str, str]:
    if p.location == "path":
        # Path parameters match by position in the template, not by name.
        names = PATH_PARAM_RE.findall(op.path)
        return ("path", str(names.index(p.name)) if p.name in names else p.name)
    return p.key


def param_schema(p: Parameter) -> Node | None:
    if p.schema is not None:
        return p.schema
    return param_schema_node(p.node)


def param_schema_node(node: Node) -> Node | None:
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
