"""CON024-CON025: the error body format (API-SIG errors guideline, ERR-01/02)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from govbot.findings import Severity
from govbot.rules.consistency.index import (
    Rank,
    Sink,
    SpecIndex,
    json_schemas,
    option,
    prepare,
    types_of,
    value_cause,
)
from govbot.rules.registry import API_SIG_ONLY, Hit, Kind, SpecContext, rule
from govbot.surface import (
    Node,
    Operation,
    properties,
)

ERROR_ITEM_FIELDS = ["code", "status", "title", "detail", "links"]


def _errors_apply(ctx: SpecContext, index: SpecIndex) -> bool:
    applies = option(ctx, "applies_to", "openstack")
    if applies == "all":
        return True
    if applies == "openstack":
        return index.openstack
    return False


def _error_bodies(ctx: SpecContext) -> Iterator[tuple[Operation, str, Node, Rank]]:
    index, attr = prepare(ctx)
    if not _errors_apply(ctx, index):
        return
    for i, op in enumerate(index.ops):
        for status, body in op.responses.items():
            if status[:1] in ("4", "5"):
                for node in json_schemas(ctx.spec, body):
                    yield op, status, node, attr.ops[i]


@rule(
    "CON024",
    "error-body-format",
    kind=Kind.SPEC,
    severity=Severity.ERROR,
    options={"applies_to": "openstack"},
    guideline="ERR-01",
    profiles=API_SIG_ONLY,
)
def error_body_format(ctx: SpecContext) -> Iterable[Hit]:
    """Error responses use the API-SIG format ``{"errors": [...]}``.

    What it checks:
        Every 4xx/5xx response that documents a JSON schema has a top-level ``errors``
        property that is an array. The ``applies_to`` option says where: ``openstack``
        (the default: only specs that use OpenStack conventions, i.e. an ``x-openstack``
        extension on an operation or "OpenStack" in ``info.title``), ``all`` or ``none``.
        Off by default elsewhere because the format is an OpenStack convention, not an
        HTTP one; a community adopting it sets ``applies_to: all`` in its policy.
        Responses without a schema are not checked.

    Why it matters:
        One error format lets every client and SDK show errors the same way, with
        machine-readable codes and help links.

    Example:
        ``404: {"itemNotFound": {"message": "...", "code": 404}}``.

    Fix:
        Return ``{"errors": [{"code": "compute.server.not_found", "status": 404,
        "title": "...", "detail": "...", "links": [{"rel": "help", "href": "..."}]}]}``.

    References:
        API-SIG errors guideline (ERR-01, RC-17):
        https://specs.openstack.org/openstack/api-sig/guidelines/errors.html
    """
    sink = Sink(ctx)
    spec = ctx.spec
    message = (
        "This error body is not in the API-SIG format: return "
        '`{"errors": [{"code", "status", "title", "detail", "links"}]}`.'
    )
    for _op, _status, node, rank in _error_bodies(ctx):
        if types_of(node.value) - {"object"} and "properties" not in node.value:
            ok = False
        else:
            errors = properties(spec, node).get("errors")
            ok = errors is not None and types_of(errors.node.value) == {"array"}
        if not ok:
            # One finding per error schema, however many responses use or copy it.
            sink.at(node, message, rank, cause=value_cause(message, node.value))
    return sink


@rule(
    "CON025",
    "error-item-fields",
    kind=Kind.SPEC,
    severity=Severity.ERROR,
    options={"applies_to": "openstack", "required": ERROR_ITEM_FIELDS},
    guideline="ERR-02",
    profiles=API_SIG_ONLY,
)
def error_item_fields(ctx: SpecContext) -> Iterable[Hit]:
    """Each item of ``errors`` requires ``code``, ``status``, ``title``, ``detail``, ``links``.

    What it checks:
        In 4xx/5xx bodies that have an ``errors`` array, the item schema lists every name
        of the ``required`` option in its ``required``. Applies where CON024 applies (the
        ``applies_to`` option, default ``openstack``).

    Why it matters:
        Clients rely on ``code`` to branch, ``status`` to match the HTTP status, and the
        ``help`` link to point users at documentation.

    Example:
        ``errors: {type: array, items: {properties: {message: {type: string}}}}``.

    Fix:
        Declare the five fields and list them in ``required``; ``request_id`` is optional.

    References:
        API-SIG errors guideline (ERR-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/errors.html
    """
    wanted = list(option(ctx, "required", ERROR_ITEM_FIELDS))
    spec = ctx.spec
    sink = Sink(ctx)
    for _op, _status, node, rank in _error_bodies(ctx):
        errors = properties(spec, node).get("errors")
        if errors is None or types_of(errors.node.value) != {"array"}:
            continue
        items = spec.resolve(errors.node.get("items"))
        if items is None or not isinstance(items.value, Mapping):
            continue
        props = properties(spec, items)
        missing = [n for n in wanted if n not in props or not props[n].required]
        if missing:
            message = (
                "Error items do not require "
                + ", ".join(f"`{m}`" for m in missing)
                + ": declare them and list them in `required`."
            )
            sink.at(items, message, rank, cause=value_cause(message, items.value))
    return sink
