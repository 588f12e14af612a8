"""CON009-CON014: representations and methods (API-SIG REP-01, MET-02, MET-03, MET-05)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from govbot.findings import Severity
from govbot.rules.consistency.index import (
    Sink,
    is_collection,
    json_bodies,
    json_schemas,
    last_static,
    option,
    prepare,
    squash,
    success_statuses,
    types_of,
)
from govbot.rules.registry import API_SIG_ONLY, Hit, Kind, SpecContext, rule
from govbot.surface import Node, Operation, properties

# JSON media types whose document is an array by definition (RFC 6902, section 3).
ARRAY_FORMATS = frozenset({"application/json-patch+json"})


@rule(
    "CON009",
    "collection-response-object",
    kind=Kind.SPEC,
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
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        if op.method != "get":
            continue
        for status in success_statuses(op):
            for node in json_schemas(spec, op.responses[status]):
                if types_of(node.value) == {"array"}:
                    sink.response(
                        op,
                        status,
                        f"{op.label} returns a bare JSON array ({status}): return an object "
                        "with one plural key holding the array, for example "
                        '`{"items": [...]}`.',
                        attr.ops[i],
                        about=node,
                    )
    return sink


def _json_patch(ctx: SpecContext, op: Operation, node: Node) -> bool:
    """Whether a PATCH body is a JSON Patch document (RFC 6902) under a plain JSON media
    type: its items are operations (``op`` and ``path`` members), or the body says so."""
    if op.method != "patch":
        return False
    items = ctx.spec.deref(node.get("items"))
    members = items.get("properties")
    if isinstance(members, Mapping) and {"op", "path"} <= set(members):
        return True
    text = (
        " ".join(str(v.get("description") or "") for v in (op.request_body.node.value, node.value))
        if op.request_body is not None
        else ""
    )
    return "json patch" in text.lower()


@rule(
    "CON010", "bulk-request-object", kind=Kind.SPEC, severity=Severity.WARNING, guideline="REP-01"
)
def bulk_request_object(ctx: SpecContext) -> Iterable[Hit]:
    """A bulk request body is a JSON object holding the array, never a bare array.

    What it checks:
        A JSON request body whose schema is ``type: array`` at the root. Media types
        whose format is an array are left alone: a JSON Patch document
        (``application/json-patch+json``, RFC 6902) is an array of operations; a PATCH
        body whose items are such operations (``op``, ``path``) or which says it is a
        JSON Patch document, sent as plain JSON, is asked for that media type instead of
        an object wrapper. One
        schema sent by several operations (a shared ``components/requestBodies`` entry
        or a named schema) is one finding, its other operations listed.

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
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        if op.request_body is None:
            continue
        for media, node in json_bodies(ctx.spec, op.request_body):
            if media in ARRAY_FORMATS or types_of(node.value) != {"array"}:
                continue  # an object, or a format that is an array: nothing to wrap
            patch = _json_patch(ctx, op, node)
            message = (
                f"The request body of {op.label} is a JSON Patch document sent as {media}: "
                "declare `application/json-patch+json` (RFC 6902)."
                if patch
                else f"The request body of {op.label} is a bare JSON array: send an object "
                "with one plural key holding the array."
            )
            sink.at(
                op.request_body.node,
                message,
                attr.ops[i],
                about=node,
                # One schema (a shared request body or a named schema) is one defect,
                # however many operations send it; an inline schema is its own.
                cause=f"{'json-patch' if patch else 'bare-array'} {node.file}#{node.pointer}",
            )
    return sink


@rule(
    "CON011",
    "collection-key-name",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"strip_prefixes": ["os-"]},
    guideline="REP-01",
    profiles=API_SIG_ONLY,
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
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        if op.method != "get" or not is_collection(index, op):
            continue
        last = last_static(op.path) or ""
        for prefix in prefixes:
            if prefix and last.startswith(prefix):
                last = last[len(prefix) :]
        expected = last.replace("-", "_")
        for status in success_statuses(op):
            for node in json_schemas(ctx.spec, op.responses[status]):
                props = {
                    n: p
                    for n, p in properties(ctx.spec, node).items()
                    if p.node.value.get("writeOnly") is not True  # never in a response
                }
                arrays = [n for n, p in props.items() if types_of(p.node.value) == {"array"}]
                if not arrays or expected in props or squash(expected) in map(squash, arrays):
                    continue
                sink.response(
                    op,
                    status,
                    f"{op.label} returns its items under `{arrays[0]}`: name the array after "
                    f"the collection, `{expected}`.",
                    attr.ops[i],
                )
    return sink


_NO_BODY_METHODS = ("get", "delete", "head", "options", "trace")


def _relationship_url(path: str) -> bool:
    """Whether ``path`` is a JSON:API relationship URL (``/{type}/{id}/relationships/{name}``),
    to which a DELETE sends the members to remove (JSON:API 1.0, "Updating To-Many
    Relationships")."""
    parts = path.rstrip("/").split("/")
    return len(parts) >= 3 and parts[-2] == "relationships" and "{" not in parts[-1]


@rule(
    "CON012",
    "no-request-body-on-safe-method",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    guideline="MET-02",
)
def no_request_body(ctx: SpecContext) -> Iterable[Hit]:
    """GET, DELETE, HEAD, OPTIONS and TRACE take no request body.

    What it checks:
        An operation with one of those methods that declares a request body. A
        ``DELETE`` on a JSON:API relationship URL (``.../relationships/{name}``) is left
        alone: JSON:API 1.0 ("Updating To-Many Relationships") prescribes its body, the
        members to remove.

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
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        if op.method in _NO_BODY_METHODS and op.request_body is not None:
            if op.method == "delete" and _relationship_url(op.path):
                continue  # JSON:API prescribes this body: the members to remove
            node = op.node.get("requestBody") or op.request_body.node
            sink.at(
                node,
                f"{op.label} declares a request body: {op.method.upper()} requests carry none; "
                "use query parameters or headers instead.",
                attr.ops[i],
            )
    return sink


@rule("CON013", "head-needs-get", kind=Kind.SPEC, severity=Severity.WARNING, guideline="MET-05")
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
    sink = Sink(ctx)
    for path, idxs in index.paths.items():
        methods = {index.ops[i].method for i in idxs}
        if "head" in methods and "get" not in methods:
            for i in idxs:
                op = index.ops[i]
                if op.method == "head":
                    sink.at(
                        op.node,
                        f"{op.label} has no matching GET on `{path}`: add the GET that "
                        "returns the same resource with a body.",
                        attr.ops[i],
                    )
    return sink


@rule(
    "CON014", "put-create-on-member", kind=Kind.SPEC, severity=Severity.WARNING, guideline="MET-03"
)
def put_create_on_member(ctx: SpecContext) -> Iterable[Hit]:
    """PUT creates only at a URI the client names; on a collection, create with POST.

    What it checks:
        A ``PUT`` on a collection path (one with a member path ``<path>/{id}`` that
        takes more than POST) that
        declares ``201 Created``. The guidelines' own exceptions are honoured: ``PUT``
        of the full list on ``<resource>/tags`` (TAG-02) and of the full set on
        ``<resource>/metadata`` (MDT-01), and so is any ``PUT`` whose body is the full
        list (a bare array, or an object whose one member is the array): it replaces
        the collection as a whole at the URI the client names, as TAG-02 does.

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
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        if op.method == "put" and "201" in op.responses and is_collection(index, op):
            if last_static(op.path) in ("tags", "metadata") or _full_list(ctx, op):
                continue  # TAG-02 and MDT-01 prescribe PUT of the full list or set
            sink.response(
                op,
                "201",
                f"{op.label} creates on a collection URI: create with POST on the collection, "
                "or PUT on the member URI the client chooses.",
                attr.ops[i],
            )
    return sink


def _full_list(ctx: SpecContext, op: Operation) -> bool:
    """The request body is the whole collection: an array, or ``{"<one key>": [...]}``."""
    if op.request_body is None:
        return False
    for node in json_schemas(ctx.spec, op.request_body):
        if types_of(node.value) == {"array"}:
            return True
        members = [m.node.value for m in properties(ctx.spec, node).values()]
        if (
            len(members) == 1
            and isinstance(members[0], Mapping)
            and types_of(members[0]) == {"array"}
        ):
            return True
    return False
