"""The surface model: a loaded API description and the surface read from it.

Format-neutral: a reader (:mod:`govbot.openapi` for OpenAPI and Swagger documents,
:mod:`govbot.apiref` for OpenStack's api-ref trees) builds a :class:`Spec` in the
OpenAPI object shape, with the problems it met; every later stage (audience, diff,
rules) reads the operations, parameters and schemas below and never the original
format. What differs between formats is only how a writer spells a lifecycle mark
(its :class:`Dialect`), which the rules need to give advice a writer can follow. Every value keeps where it came from (file and JSON
pointer) so that any finding can be placed on a line. ``$ref``s are followed lazily
through :meth:`Spec.resolve`; the reader has already refused the ones that leave the
repository, reach the network or loop.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from govbot.findings import Problem

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def escape(token: str) -> str:
    # Called tens of thousands of times per big spec; most tokens need no escaping.
    if "~" not in token and "/" not in token:
        return token
    return token.replace("~", "~0").replace("/", "~1")


def is_mapping(value: Any) -> bool:
    """``isinstance(value, Mapping)``, quick for what a parsed document holds.

    The ABC's check costs several times the exact type test, and the walks over a big
    spec ask it some hundred thousand times (a tenth of a check of a 13 MB pair)."""
    return type(value) is dict or (value is not None and isinstance(value, Mapping))


def unescape(token: str) -> str:
    if "~" not in token:  # most tokens: nothing escaped
        return token
    return token.replace("~1", "/").replace("~0", "~")


def join(pointer: str, *tokens: str | int) -> str:
    if len(tokens) == 1:  # the usual call (a child's pointer): no generator
        token = tokens[0]
        return pointer + "/" + escape(token if type(token) is str else str(token))
    return pointer + "".join("/" + escape(str(t)) for t in tokens)


def split(pointer: str) -> list[str]:
    if not pointer:
        return []
    if "~" not in pointer:  # most pointers: nothing escaped
        return pointer.split("/")[1:]
    return [unescape(t) for t in pointer.split("/")[1:]]


def get_pointer(doc: Any, pointer: str) -> Any:
    """The value at ``pointer`` in ``doc``; raises KeyError/IndexError/TypeError if absent."""
    node = doc
    for token in split(pointer):
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


@dataclass(frozen=True, slots=True)
class Node:
    """A JSON value with its origin."""

    value: Any
    file: str
    pointer: str

    def child(self, *tokens: str | int) -> Node:
        if len(tokens) == 1:  # the usual call
            token = tokens[0]
            return Node(self.value[token], self.file, join(self.pointer, token))
        value = self.value
        for t in tokens:
            value = value[t]
        return Node(value, self.file, join(self.pointer, *tokens))

    def get(self, key: str) -> Node | None:
        value = self.value
        if is_mapping(value) and key in value:
            return Node(value[key], self.file, join(self.pointer, key))
        return None


# A line lookup for one file: pointer -> 1-based line (None when unknown).
LineLookup = Callable[[str], "int | None"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """How a format writes what the rules ask for, so that their advice can be followed.

    The rules judge the model; only the words of their advice, and whether a format can
    say something at all (a sunset date), depend on the format.
    """

    name: str
    deprecate: str  # how a writer marks an element deprecated
    max_version: str  # how the last microversion of an element is written
    sunset: bool = True  # the format has a place for a sunset date (``x-sunset``)
    # Where the writer keeps the API's (maximum micro)version; None: outside the API
    # description (OpenStack's microversion ledger in the code).
    version_field: str | None = "`info.version`"

    def how_to_deprecate(self, days: int) -> str:
        """The advice of a removal rule: how to deprecate first, with notice."""
        if self.sunset:
            return f"{self.deprecate} with an `x-sunset` date at least {days} days away"
        return f"{self.deprecate} for at least one release"


OPENAPI = Dialect("openapi", "mark it `deprecated: true`", "`x-openstack.max-ver`")


@dataclass(frozen=True)
class Spec:
    """One loaded OpenAPI document and the files its ``$ref``s reach.

    ``data`` is None when the document could not be loaded at all; ``problems`` then
    says why. ``documents`` maps each file (display path) to its parsed content and
    ``refs`` maps (file, ref string) to the (file, pointer) it resolves to; the loader
    leaves refused or broken refs out, so resolving them gives None. ``facts`` is what
    a reader knew beyond this model (the api-ref reader's facts, the project's
    microversion ledger and policy defaults), read through that reader's accessor.
    """

    file: str
    data: Mapping[str, Any] | None
    version: str = ""
    documents: Mapping[str, Any] = field(default_factory=dict)
    refs: Mapping[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    lines: Mapping[str, LineLookup] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    dialect: Dialect = OPENAPI
    facts: Any = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.data is not None

    @property
    def is_swagger(self) -> bool:
        return self.version == "2.0"

    @property
    def root(self) -> Node:
        return Node(self.data, self.file, "")

    def line(self, file: str, pointer: str) -> int | None:
        """Line of ``pointer`` in ``file``, or of its nearest ancestor that has one."""
        lookup = self.lines.get(file)
        if lookup is None:
            return None
        while True:
            line = lookup(pointer)
            if line is not None or not pointer:
                return line
            pointer = pointer.rsplit("/", 1)[0]

    def resolve(self, node: Node | None) -> Node | None:
        """Follow ``$ref`` chains from ``node``; None for a broken or refused ref.

        Loops of pure refs were reported by the loader and are left out of ``refs``;
        the hop limit is a second guard so that no walk can spin.
        """
        if node is None:
            return node
        value = node.value
        if not is_mapping(value) or "$ref" not in value:
            return node
        ref = node.value["$ref"]
        if not isinstance(ref, str):
            return None
        # Where a ref leads depends on its file and text alone: each is followed once per
        # spec (the rules ask again and again), remembered in the instance like its index.
        known = self.__dict__.setdefault("_govbot_resolved", {})
        key = (node.file, ref)
        if key in known:
            return known[key]  # type: ignore[no-any-return]
        hops = 0
        while node is not None and is_mapping(node.value) and "$ref" in node.value:
            ref = node.value["$ref"]
            if not isinstance(ref, str):
                node = None
                break
            target = self.refs.get((node.file, ref))
            if target is None or hops > 64:
                node = None
                break
            file, pointer = target
            try:
                value = get_pointer(self.documents[file], pointer)
            except (KeyError, IndexError, TypeError, ValueError):
                node = None
                break
            node = Node(value, file, pointer)
            hops += 1
        known[key] = node
        return node

    def deref(self, node: Node | None) -> Mapping[str, Any]:
        """The mapping behind ``node`` (following refs), or an empty mapping."""
        target = self.resolve(node)
        if target is not None and is_mapping(target.value):
            return target.value
        return {}


@dataclass(frozen=True)
class Lineage:
    """The version of the same file read just before a spec, in a process that walks a
    file's versions one after the other (``govbot backfill``), and which of the spec's
    units (:mod:`govbot.openapi.units`: a path item, a component, a top-level member)
    are stable: neither they nor anything they reach through refs changed, and they are
    the very objects the previous version held. What was worked out of a stable unit on
    the previous version (its operations, the index entries of its schemas) holds for
    this one as it is.
    """

    previous: Spec
    stable: frozenset[tuple[str, ...]]
    unit_at: Callable[[str], tuple[str, ...] | None]  # the unit of a JSON pointer

    def holds(self, pointer: str) -> bool:
        """Whether what the previous version made of ``pointer`` holds for this one."""
        return self.unit_at(pointer) in self.stable


_LINEAGE = "_govbot_lineage"


def lineage_of(spec: Spec) -> Lineage | None:
    """The spec's :class:`Lineage`, when its reader knew the version before."""
    found = spec.__dict__.get(_LINEAGE)
    return found if isinstance(found, Lineage) else None


def reusable_lineage(spec: Spec, reads: tuple[str, ...] = ()) -> Lineage | None:
    """The spec's :class:`Lineage`, when the version before is of the same file and
    OpenAPI version and holds the very same objects as this one at the document's
    top-level members ``reads`` (what a stage reads besides the units it reuses)."""
    lineage = lineage_of(spec)
    if lineage is None:
        return None
    previous = lineage.previous
    if previous.file != spec.file or previous.version != spec.version:
        return None
    before, now = previous.data or {}, spec.data or {}
    return None if any(before.get(k) is not now.get(k) for k in reads) else lineage


def set_lineage(spec: Spec, lineage: Lineage | None) -> None:
    """Give ``spec`` its lineage (None: forget it, so that versions do not chain)."""
    if lineage is None:
        spec.__dict__.pop(_LINEAGE, None)
    else:
        spec.__dict__[_LINEAGE] = lineage


# --- the surface -----------------------------------------------------------------------

_PARAM_RE = re.compile(r"\{[^}/]*\}")


@functools.lru_cache(maxsize=65536)
def normalize_path(path: str) -> str:
    """Path key that ignores parameter names and a trailing slash (``/a/{id}/`` == ``/a/{x}``).

    Asked of every path by the index and several rules, in every version of a spec."""
    key = _PARAM_RE.sub("{}", path)
    if len(key) > 1:
        key = key.rstrip("/") or "/"
    return key


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str  # query | header | path | cookie (Swagger body/formData are folded into the request body)
    required: bool
    deprecated: bool
    node: Node  # the resolved parameter object
    schema: Node | None

    @property
    def key(self) -> tuple[str, str]:
        # Header names are case-insensitive; path parameter names do not matter (normalised).
        if self.location == "header":
            return (self.location, self.name.lower())
        if self.location == "path":
            return (self.location, "")
        return (self.location, self.name)


@dataclass(frozen=True, slots=True)
class Body:
    """A request body or a response, with one schema per media type."""

    node: Node
    required: bool
    content: Mapping[str, Node | None]  # media type -> schema node (None when no schema)
    headers: Mapping[str, Node]  # response headers (lower-case name -> header object)


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    key: str  # "GET /servers/{}": what identifies an operation across versions
    node: Node
    path_node: Node
    parameters: tuple[Parameter, ...]
    request_body: Body | None
    responses: Mapping[str, Body]
    security: Any  # effective security requirements (operation's, else the document's), or None
    # The body key of a server-style action (OpenStack's POST .../action), part of the key,
    # so that each action is its own operation; "" for every other operation.
    action: str = ""

    @property
    def value(self) -> Mapping[str, Any]:
        return self.node.value

    @property
    def operation_id(self) -> str | None:
        op_id = self.value.get("operationId")
        return op_id if isinstance(op_id, str) else None

    @property
    def tags(self) -> tuple[str, ...]:
        tags = self.value.get("tags")
        return tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()

    @property
    def deprecated(self) -> bool:
        return self.value.get("deprecated") is True

    @property
    def sunset(self) -> Any:
        """``x-sunset`` of the operation, else of its path item (raw value, validated by rules)."""
        if "x-sunset" in self.value:
            return self.value["x-sunset"]
        path_item = self.path_node.value
        return path_item.get("x-sunset") if isinstance(path_item, Mapping) else None

    @property
    def experimental(self) -> bool:
        """``x-experimental: true``: published for trial, without a stability promise."""
        return self.value.get("x-experimental") is True

    @property
    def x_openstack(self) -> Mapping[str, Any]:
        ext = self.value.get("x-openstack")
        return ext if is_mapping(ext) else {}

    @property
    def label(self) -> str:
        base = f"{self.method.upper()} {self.path}"
        return f"{base} ({self.action})" if self.action else base


def operations(spec: Spec) -> tuple[Operation, ...]:
    """Every operation of the spec, Swagger 2.0 folded into the OpenAPI 3 shape.

    Computed once per spec: classify, diff and every rule family ask for it, and a spec
    is immutable, so the result is kept on the instance.
    """
    cached = spec.__dict__.get("_operations")
    if cached is None:
        by_path = _operations(spec)
        cached = tuple(op for ops in by_path.values() for op in ops)
        spec.__dict__["_operations"] = cached
        spec.__dict__["_operations_by_path"] = by_path
    return cached


def operation_at(spec: Spec, file: str, pointer: str) -> Operation | None:
    """The operation whose object holds ``pointer`` of ``file`` (itself or below), if any."""
    index = spec.__dict__.get("_operation_index")
    if index is None:
        index = {(op.node.file, op.node.pointer): op for op in operations(spec)}
        spec.__dict__["_operation_index"] = index
    while True:
        found = index.get((file, pointer))
        if found is not None or not pointer:
            return found
        pointer = pointer.rsplit("/", 1)[0]


def _operations(spec: Spec) -> dict[str, tuple[Operation, ...]]:
    """The operations of each path item (by its key in ``paths``), in document order."""
    if not spec.ok:
        return {}
    data = spec.data
    assert data is not None
    paths = spec.root.get("paths")
    if paths is None or not isinstance(paths.value, Mapping):
        return {}
    global_security = data.get("security")
    known = _stable_operations(spec)
    out: dict[str, tuple[Operation, ...]] = {}
    for path in paths.value:
        if not isinstance(path, str):
            continue
        if path in known:
            out[path] = known[path]
            continue
        ops: list[Operation] = []
        item_node = paths.child(path)
        item = spec.resolve(item_node) or item_node
        if not is_mapping(item.value):
            continue
        shared = _parameters(spec, item.get("parameters"))
        # A path item of one action (the api-ref reader's) names its real path and action.
        real, action = item.value.get("x-govbot-path"), item.value.get("x-govbot-action")
        if not isinstance(real, str) or not isinstance(action, str) or not action:
            real, action = path, ""
        suffix = f" ({action})" if action else ""
        for method in HTTP_METHODS:
            op_node = item.get(method)
            if op_node is None:
                continue
            op_node = spec.resolve(op_node) or op_node
            if not is_mapping(op_node.value):
                continue
            own = _parameters(spec, op_node.get("parameters"))
            merged = {p.key if p.location != "path" else (p.location, p.name): p for p in shared}
            merged.update({p.key if p.location != "path" else (p.location, p.name): p for p in own})
            params = tuple(merged.values())
            if spec.is_swagger:
                body, params = _swagger_request_body(spec, op_node, params)
                responses = _swagger_responses(spec, op_node)
            else:
                body = _request_body(spec, op_node.get("requestBody"))
                responses = _responses(spec, op_node.get("responses"))
            security = op_node.value.get("security", global_security)
            ops.append(
                Operation(
                    method=method,
                    path=real,
                    key=f"{method.upper()} {normalize_path(real)}{suffix}",
                    node=op_node,
                    path_node=item,
                    parameters=tuple(p for p in params if p.location not in ("body", "formData")),
                    request_body=body,
                    responses=responses,
                    security=security,
                    action=action,
                )
            )
        out[path] = tuple(ops)
    return out


def _stable_operations(spec: Spec) -> Mapping[str, tuple[Operation, ...]]:
    """The previous version's operations of the path items that are stable in ``spec``
    (:class:`Lineage`), when what else they are built from is the same: the OpenAPI
    version, and the document-wide security (and Swagger's consumes and produces), the
    same objects."""
    lineage = reusable_lineage(spec, ("security", "consumes", "produces"))
    by_path = lineage.previous.__dict__.get("_operations_by_path") if lineage else None
    if lineage is None or by_path is None:
        return {}
    return {p: ops for p, ops in by_path.items() if lineage.holds(join("/paths", p))}


def _parameters(spec: Spec, node: Node | None) -> list[Parameter]:
    if node is None or not isinstance(node.value, list):
        return []
    out = []
    for i in range(len(node.value)):
        p = spec.resolve(node.child(i))
        if p is None or not is_mapping(p.value):
            continue
        name, location = p.value.get("name"), p.value.get("in")
        if not isinstance(name, str) or not isinstance(location, str):
            continue
        schema = p.get("schema")
        if schema is None and spec.is_swagger and location != "body":
            schema = p  # Swagger 2.0 non-body parameters carry their schema inline
        out.append(
            Parameter(
                name=name,
                location=location,
                required=p.value.get("required") is True or location == "path",
                deprecated=p.value.get("deprecated") is True,
                node=p,
                schema=schema,
            )
        )
    return out


def _content(spec: Spec, node: Node | None) -> dict[str, Node | None]:
    content = spec.resolve(node) if node is not None else None
    if content is None or not is_mapping(content.value):
        return {}
    out: dict[str, Node | None] = {}
    for media in content.value:
        media_node = spec.resolve(content.child(media))
        out[str(media)] = media_node.get("schema") if media_node is not None else None
    return out


def _headers(spec: Spec, node: Node | None) -> dict[str, Node]:
    headers = spec.resolve(node) if node is not None else None
    if headers is None or not isinstance(headers.value, Mapping):
        return {}
    out = {}
    for name in headers.value:
        h = spec.resolve(headers.child(name))
        if h is not None:
            out[str(name).lower()] = h
    return out


def _request_body(spec: Spec, node: Node | None) -> Body | None:
    body = spec.resolve(node) if node is not None else None
    if body is None or not isinstance(body.value, Mapping):
        return None
    return Body(
        node=body,
        required=body.value.get("required") is True,
        content=_content(spec, body.get("content")),
        headers={},
    )


def _responses(spec: Spec, node: Node | None) -> dict[str, Body]:
    responses = spec.resolve(node) if node is not None else None
    if responses is None or not is_mapping(responses.value):
        return {}
    out = {}
    for status in responses.value:
        if str(status).startswith("x-"):
            continue
        r = spec.resolve(responses.child(status))
        if r is None or not is_mapping(r.value):
            continue
        out[str(status)] = Body(
            node=r,
            required=False,
            content=_content(spec, r.get("content")),
            headers=_headers(spec, r.get("headers")),
        )
    return out


def _swagger_request_body(
    spec: Spec, op: Node, params: tuple[Parameter, ...]
) -> tuple[Body | None, tuple[Parameter, ...]]:
    consumes = op.value.get("consumes") or (spec.data or {}).get("consumes") or ["application/json"]
    media = consumes[0] if isinstance(consumes, list) and consumes else "application/json"
    for p in params:
        if p.location == "body":
            return Body(p.node, p.required, {str(media): p.node.get("schema")}, {}), params
    form = [p for p in params if p.location == "formData"]
    if form:
        # formData parameters become the properties of one object schema; they have no
        # single node in the document, so point at the operation's parameters.
        schema = {
            "type": "object",
            "properties": {p.name: p.node.value for p in form},
            "required": [p.name for p in form if p.required],
        }
        anchor = op.get("parameters") or op
        return Body(
            anchor,
            any(p.required for p in form),
            {str(media): Node(schema, anchor.file, anchor.pointer)},
            {},
        ), params
    return None, params


def _swagger_responses(spec: Spec, op: Node) -> dict[str, Body]:
    responses = spec.resolve(op.get("responses"))
    if responses is None or not isinstance(responses.value, Mapping):
        return {}
    produces = op.value.get("produces") or (spec.data or {}).get("produces") or ["application/json"]
    media = produces[0] if isinstance(produces, list) and produces else "application/json"
    out = {}
    for status in responses.value:
        if str(status).startswith("x-"):
            continue
        r = spec.resolve(responses.child(status))
        if r is None or not isinstance(r.value, Mapping):
            continue
        schema = r.get("schema")
        out[str(status)] = Body(
            node=r,
            required=False,
            content={str(media): schema} if schema is not None else {},
            headers=_headers(spec, r.get("headers")),
        )
    return out


# --- schemas ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    node: Node  # the property's schema, resolved
    required: bool
    owner: Node  # the object schema that declares it


def schema_type(schema: Mapping[str, Any]) -> str | None:
    """The declared type, one name (3.1 type lists: the first non-null one)."""
    t = schema.get("type")
    if isinstance(t, list):
        names = [x for x in t if isinstance(x, str) and x != "null"]
        return names[0] if names else ("null" if "null" in t else None)
    return t if isinstance(t, str) else None


def properties(spec: Spec, schema: Node | None) -> dict[str, Property]:
    """The properties of an object schema, ``allOf`` parts merged, refs followed."""
    out: dict[str, Property] = {}
    _collect(spec, schema, out, set(), 0)
    return out


def _collect(
    spec: Spec,
    schema: Node | None,
    out: dict[str, Property],
    seen: set[tuple[str, str]],
    depth: int,
) -> None:
    node = spec.resolve(schema)
    if node is None or not is_mapping(node.value) or depth > 32:
        return
    ident = (node.file, node.pointer)
    if ident in seen:
        return
    seen.add(ident)
    value = node.value
    required = value.get("required")
    required_set = (
        {r for r in required if isinstance(r, str)} if isinstance(required, list) else set()
    )
    props = node.get("properties")
    if props is not None and isinstance(props.value, Mapping):
        for name in props.value:
            child = spec.resolve(props.child(name))
            if child is None:
                continue
            out[str(name)] = Property(str(name), child, name in required_set, node)
    all_of = node.get("allOf")
    if all_of is not None and isinstance(all_of.value, list):
        for i in range(len(all_of.value)):
            _collect(spec, all_of.child(i), out, seen, depth + 1)
    # A property listed as required by an allOf sibling is required too.
    for name in required_set:
        if name in out and not out[name].required:
            p = out[name]
            out[name] = Property(p.name, p.node, True, p.owner)


def walk_schemas(
    spec: Spec, schema: Node | None, *, max_nodes: int = 100_000
) -> Iterator[tuple[str, Node]]:
    """Every (dotted field path, schema) reachable from ``schema``, each schema once.

    Recursive schemas are visited once per definition, so the walk is finite.
    """
    seen: set[tuple[str, str]] = set()
    stack: list[tuple[str, Node | None]] = [("", schema)]
    count = 0
    while stack and count < max_nodes:
        path, raw = stack.pop()
        node = spec.resolve(raw)
        if node is None or not isinstance(node.value, Mapping):
            continue
        ident = (node.file, node.pointer)
        if ident in seen:
            continue
        seen.add(ident)
        count += 1
        yield path, node
        for keyword in ("allOf", "oneOf", "anyOf"):
            parts = node.get(keyword)
            if parts is not None and isinstance(parts.value, list):
                stack.extend((path, parts.child(i)) for i in range(len(parts.value)))
        props = node.get("properties")
        if props is not None and isinstance(props.value, Mapping):
            for name in props.value:
                stack.append((f"{path}.{name}" if path else str(name), props.child(name)))
        items = node.get("items")
        if items is not None:
            stack.append((f"{path}[]", items))
        extra = node.get("additionalProperties")
        if extra is not None and isinstance(extra.value, Mapping):
            stack.append((f"{path}{{}}", extra))


def mentions(spec: Spec, file: str, key: str) -> bool:
    """Whether ``key`` may occur in a document of ``spec`` (serialised in C once per spec
    and file, then searched: DEP006 and DEP036 look for their key, the engine for
    ``x-govbot-ignore``)."""
    cache: dict[str, bytes] = spec.__dict__.setdefault("_serialised", {})
    raw = cache.get(file)
    if raw is None:
        # A JSON file written by a serializer is its own serialization: searched as read.
        serialized = getattr(spec.lines.get(file), "serialized", None)
        raw = serialized() if serialized is not None else None
    if raw is None:
        try:
            raw = orjson.dumps(spec.documents[file], option=orjson.OPT_NON_STR_KEYS)
        except TypeError:  # a YAML value orjson cannot write: search it the slow way
            raw = b""
    cache[file] = raw
    return not raw or f'"{key}"'.encode() in raw
