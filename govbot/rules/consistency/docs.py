"""CON034-CON038: documentation and OpenAPI structure (API-SIG DOC-01, OpenAPI)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from govbot.findings import Severity
from govbot.rules.consistency.index import (
    Sink,
    prepare,
)
from govbot.rules.registry import API_SIG, Hit, Kind, SpecContext, rule
from govbot.surface import Node, Operation, join


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


# OpenAPI (3.0 and 3.1, Parameter Object, field `name`): a header parameter named Accept,
# Content-Type or Authorization "SHALL be ignored"; the media types and the security
# schemes say these, so a missing description is no gap in the reference.
_IGNORED_HEADERS = frozenset(("accept", "content-type", "authorization"))


@rule(
    "CON034", "operation-described", kind=Kind.SPEC, severity=Severity.WARNING, guideline="DOC-01"
)
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
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        if not _text(op.value.get("summary")) and not _text(op.value.get("description")):
            sink.at(
                op.node,
                f"{op.label} has no summary or description: add a one-line `summary` and a "
                "`description`.",
                attr.ops[i],
                keys=("summary", "description"),
            )
    return sink


@rule(
    "CON035",
    "operation-status-codes",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    guideline="DOC-01",
)
def operation_status_codes(ctx: SpecContext) -> Iterable[Hit]:
    """Every operation documents a success response and an error response.

    What it checks:
        An operation with no success (2xx or 3xx, ``2XX``; or ``101 Switching Protocols``,
        the success of an upgrade such as a WebSocket channel, RFC 9110 15.2.2 and RFC
        6455) response, or with no 4xx (or
        ``4XX``, or ``default``) response. Under the ``generic`` profile only the success response
        is asked for (the OpenAPI specification: a single response "SHOULD be the
        response for a successful operation call"); documenting the error codes of each
        method is the API-SIG's DOC-01.

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
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        codes = set(op.responses)
        # 3xx is a successful outcome too (303 See Other for an asynchronous task), and so
        # is 101 Switching Protocols, the answer to an upgrade (a WebSocket channel); under
        # the generic profile a lone `default` documents every outcome.
        success = any(c[:1] in ("2", "3") or c == "101" for c in codes) or (
            ctx.profile != API_SIG and "default" in codes
        )
        error = any(c[:1] == "4" for c in codes) or "default" in codes or ctx.profile != API_SIG
        missing = [
            w
            for w, ok in (("success (2xx or 3xx)", success), ("client error (4xx)", error))
            if not ok
        ]
        if missing:
            responses = op.node.get("responses") or op.node
            sink.at(
                responses,
                f"{op.label} documents no {' and no '.join(missing)} response: declare the "
                "codes it returns.",
                attr.ops[i],
            )
    return sink


@rule(
    "CON036", "parameter-described", kind=Kind.SPEC, severity=Severity.WARNING, guideline="DOC-01"
)
def parameter_described(ctx: SpecContext) -> Iterable[Hit]:
    """Every parameter has a description and a typed schema.

    What it checks:
        A parameter with no non-empty ``description`` (on the parameter or on its
        schema), or whose schema declares no
        ``type`` (nor ``enum``, ``const``, ``oneOf``, ``anyOf`` or ``allOf``). Header
        parameters named ``Accept``, ``Content-Type`` or ``Authorization`` are left
        out: OpenAPI says their definitions are ignored (the media types and security
        schemes document them).

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

    def undocumented(op: Operation) -> list[tuple[Node, str]]:
        out = []
        for p in op.parameters:
            if p.location == "header" and p.name.lower() in _IGNORED_HEADERS:
                continue
            missing = []
            schema = spec.deref(p.schema) if p.schema is not None else {}
            # A description on the parameter's schema documents it too (reference
            # renderers show it): `offset: {schema: {description: "The index..."}}`.
            if not _text(p.node.value.get("description")) and not _text(schema.get("description")):
                missing.append("description")
            if not schema and "content" in p.node.value:
                schema = {"type": "object"}
            if not any(k in schema for k in ("type", "enum", "const", "oneOf", "anyOf", "allOf")):
                missing.append("schema type")
            if missing:
                what = " and no ".join(missing)
                out.append(
                    (p.node, f"Parameter `{p.name}` ({p.location}) has no {what}: document it.")
                )
        return out

    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        derived = index.derived[i]
        found = derived.get("CON036")
        if found is None:
            found = derived["CON036"] = undocumented(op)
        for node, message in found:
            sink.at(node, message, attr.ops[i], keys=("description", "schema", "content"))
    return sink


@rule(
    "CON037",
    "operation-id-unique",
    kind=Kind.SPEC,
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
    sink = Sink(ctx)
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
    kind=Kind.SPEC,
    severity=Severity.ERROR,
    guideline="OAS-path-templating",
)
def path_parameters_declared(ctx: SpecContext) -> Iterable[Hit]:
    """Path template variables and path parameters match one to one.

    What it checks:
        For each operation, every ``{name}`` of the path template has a declared
        ``in: path`` parameter (on the operation or its path item), and every declared
        path parameter appears in the template; the latter is reported at the
        operation's own parameter entry (the faulty ``$ref``), not at a shared component.
        What the OpenAPI validator already reported (OAS014, "was not resolved") is not
        reported again: one report per defect.

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
    reported = _validator_said(ctx)
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        template = _TEMPLATE_RE.findall(op.path)
        declared = [p.name for p in op.parameters if p.location == "path"]
        for name in template:
            if name not in declared and (name, op.method, op.path) not in reported:
                sink.at(
                    op.node,
                    f"{op.label} does not declare the path parameter `{name}`: add "
                    f"`{{name: {name}, in: path, required: true}}`.",
                    attr.ops[i],
                    keys=("parameters",),
                )
        for p in op.parameters:
            if p.location != "path" or p.name in template:
                continue
            if (p.name, op.method, op.path) in reported:
                continue
            # At the operation's own entry (often a $ref), not at a shared component
            # that other operations use correctly.
            sink.at(
                _entry(ctx, op, p.node),
                f"Path parameter `{p.name}` is not in the template of `{op.path}`: remove "
                "it or rename it to a template variable.",
                attr.ops[i],
            )
    return sink


_UNRESOLVED_RE = re.compile(
    r"Path parameter '([^']*)' for '([^']*)' operation in '([^']*)' was not resolved"
)


def _validator_said(ctx: SpecContext) -> set[tuple[str, str, str]]:
    """(name, method, path) of the path parameters the validator already reported
    (OAS014): one report per defect."""
    out = set()
    for problem in ctx.spec.problems:
        for m in _UNRESOLVED_RE.finditer(problem.message):
            out.add((m.group(1), m.group(2).lower(), m.group(3)))
    return out


def _entry(ctx: SpecContext, op: Operation, resolved: Node) -> Node:
    """The item of the operation's (or its path's) ``parameters`` that resolves to
    ``resolved``; ``resolved`` itself when none does."""
    for holder in (op.node, op.path_node):
        items = holder.get("parameters")
        if items is None or not isinstance(items.value, list):
            continue
        for j in range(len(items.value)):
            item = items.child(j)
            target = ctx.spec.resolve(item)
            if target is not None and (target.file, target.pointer) == (
                resolved.file,
                resolved.pointer,
            ):
                return item
    return resolved
