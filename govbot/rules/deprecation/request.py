"""DEP010-DEP013, DEP017, DEP019, DEP021: what existing clients send must stay accepted (API-SIG INT)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from govbot.diff import (
    FieldDiff,
    OperationDiff,
    SecurityAlternative,
)
from govbot.findings import Severity, Side
from govbot.rules.deprecation.direction import breaks, sites
from govbot.rules.deprecation.elements import (
    Collector,
    advisory_of,
    base_aud,
    field_label,
    head_aud,
    is_deprecated,
    is_readonly,
    key_node,
    show,
    ticked,
)
from govbot.rules.registry import DiffContext, Hit, Kind, rule
from govbot.surface import (
    Spec,
)


@rule(
    "DEP010",
    "request-parameter-removed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-07",
)
def request_parameter_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A request parameter was removed without having been deprecated first.

    What it checks:
        Query, header and cookie parameters of an operation that is still there, present
        in the base, missing from the head, and not ``deprecated: true`` in the base.

    Why it matters:
        Clients that send it get an error, or silently lose the behaviour it selected.

    Example:
        ``GET /servers`` drops its ``sort_key`` query parameter.

    Fix:
        Keep the parameter and mark it ``deprecated: true`` with an ``x-sunset`` date;
        remove it in a later release.

    References:
        API-SIG INT-07, DEP-07; oasdiff ``request-parameter-removed``.
    """
    for d in ctx.diff.changed:
        for p in d.parameters:
            if p.kind != "removed" or p.base is None or p.base.deprecated:
                continue
            if p.base.location == "path":
                continue
            yield ctx.on_base(
                p.base.node,
                f"{p.location} parameter {ticked(p.name)} of {d.label} was removed without "
                "being deprecated first; keep it, mark it `deprecated: true` with an "
                "`x-sunset` date, and remove it in a later release",
                d,
            )


@rule(
    "DEP011",
    "new-required-request-parameter",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-07",
)
def new_required_request_parameter(ctx: DiffContext) -> Iterator[Hit]:
    """An existing operation gained a required parameter, or a parameter became required.

    What it checks:
        Parameters added as ``required: true`` to operations present on both sides, and
        optional parameters that became required.

    Why it matters:
        Every existing client call lacks the parameter and starts failing.

    Example:
        ``GET /servers`` gains ``required: true`` on its ``project_id`` query parameter.

    Fix:
        Make the parameter optional with a default that keeps today's behaviour.

    References:
        API-SIG INT-07; oasdiff ``new-required-request-parameter``,
        ``request-parameter-became-required``.
    """
    for d in ctx.diff.changed:
        for p in d.parameters:
            if p.head is None or p.location == "path":
                continue
            if p.kind == "added" and p.head.required:
                verb = "gained the required"
            elif p.kind == "changed" and (c := p.change("required")) and c.new is True:
                verb = "now requires the"
            else:
                continue
            node = key_node(p.head.node, "required")
            yield ctx.on_head(
                node,
                f"{d.label} {verb} {p.location} parameter {ticked(p.name)}; existing clients "
                "do not send it, so make it optional with a default that keeps today's "
                "behaviour",
                d,
            )


@rule(
    "DEP012",
    "new-required-request-property",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-04",
)
def new_required_request_property(ctx: DiffContext) -> Iterator[Hit]:
    """A request body or request field became required for an existing operation.

    What it checks:
        On operations present on both sides: a request body added as required or made
        required; fields added to the request schema, or to an object parameter, as
        required (not ``readOnly``); and optional request fields that became required.
        A ``default`` does not make a required field optional: validators reject a
        request without it all the same.

    Why it matters:
        Existing clients do not send the new field or body and start getting 400s.

    Example:
        Before::

            ServerCreate:
              required: [name]

        After::

            ServerCreate:
              required: [name, flavor_ref]

    Fix:
        Make it optional (with a server-side default), or introduce it with a new
        microversion or major version.

    References:
        API-SIG INT-04; oasdiff ``new-required-request-property``,
        ``new-required-request-property-with-default``,
        ``request-property-became-required``, ``request-body-became-required``,
        ``new-required-request-header-property``.
    """
    hits = Collector()
    for d in ctx.diff.changed:
        aud = head_aud(ctx, d)
        body = d.request_body
        if body is not None and body.head is not None:
            c = body.change("required")
            if (body.kind == "added" and body.head.required) or (c is not None and c.new is True):
                node = key_node(body.head.node, "required")
                yield ctx.on_head(
                    node,
                    f"{d.label} now requires a request body; existing clients send none, so "
                    "make the body optional",
                    d,
                )
        fields = [("request field", f) for k, _b, _s, f in d.fields() if k == "request"]
        for p in d.parameters:
            label = f"{p.location} parameter {ticked(p.name)} field"
            fields.extend((label, f) for f in p.fields)
        for label, f in fields:
            if not f.path or f.head is None or is_readonly(f, Side.HEAD):
                continue
            if f.kind == "added" and f.head_required:
                verb = "is new and required"
            elif f.kind == "changed" and (c := f.change("required")) and c.new is True:
                verb = "became required"
            else:
                continue
            hits.on_head(
                f.head,
                aud,
                d.label,
                lambda where, label=label, path=f.path, verb=verb: (
                    f"{label} {ticked(path)} of {where} {verb}; existing clients do not "
                    "send it, so make it optional with a server-side default"
                ),
                advisory=advisory_of(d, f.base, f.head),
            )
    yield from hits.hits()


@rule(
    "DEP013", "property-type-changed", kind=Kind.DIFF, severity=Severity.ERROR, guideline="INT-05"
)
def property_type_changed(ctx: DiffContext) -> Iterator[Hit]:
    """The type or format of a parameter, request field or response field changed incompatibly.

    What it checks:
        ``type`` or ``format`` changes from one value to another of parameters, of
        request and response schema fields (at any depth) and of response headers, on
        operations present on both sides, in the direction that breaks: what clients
        send may not narrow (``number`` to ``integer``, ``int64`` to ``int32``), what
        they read may not widen (``integer`` to ``number``, a second type in a type
        list); a change to an unrelated type breaks both. ``readOnly`` fields are not
        sent and ``writeOnly`` fields not read.

    Why it matters:
        Clients parse and build values by type; a string that becomes an integer breaks
        deserialisation and validation in every typed SDK.

    Example:
        ``server.id`` in the response of ``GET /servers/{server_id}`` goes from
        ``type: integer`` to ``type: string``.

    Fix:
        Keep the old field as it is and add a new field with the new type (deprecating
        the old one), or introduce the change with a new version.

    References:
        API-SIG INT-05; oasdiff ``request-property-type-changed``,
        ``response-property-type-changed``, ``request-parameter-type-changed``.
    """
    hits = Collector()
    for d in ctx.diff.changed:
        aud = head_aud(ctx, d)
        for direction in ("request", "response"):
            for site in sites(d, direction):
                f = site.field
                # A type or format appearing or disappearing loosens or tightens a schema
                # without changing what a value is (DEP028, DEP030, DEP032); here only a
                # change from one to another, and only in the direction that breaks: an
                # integer becoming a number is fine to send, not to receive.
                found = [
                    c
                    for c in f.changes
                    if c.attr in ("type", "format")
                    and c.old is not None
                    and c.new is not None
                    and breaks(direction, c, text=site.text)
                ]
                if not found or f.head is None:
                    continue
                attr = found[0].attr
                joined = " and ".join(f"{c.attr} from {c.old} to {c.new}" for c in found)
                hits.on_head(
                    key_node(f.head, attr),
                    aud,
                    d.label,
                    lambda where, label=site.label, parts=joined: (
                        f"{label} of {where} changed {parts}; keep the old field unchanged and "
                        "add a new one (deprecating the old), or make the change in a new "
                        "version"
                    ),
                    advisory=advisory_of(d, f.base),
                )
    yield from hits.hits()


@rule(
    "DEP017",
    "request-property-removed",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    guideline="INT-04",
)
def request_property_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A request field was removed without having been deprecated first.

    What it checks:
        Fields of a request body schema of the base (at any depth, not ``readOnly``)
        missing from the head's schema and not ``deprecated: true``.

    Why it matters:
        Clients that send the field get a 400 from a strict schema
        (``additionalProperties: false``), or silently lose what it did.

    Example:
        ``POST /servers`` drops ``server.personality`` from its request schema.

    Fix:
        Keep accepting it, deprecate it with an ``x-sunset`` date, remove it later.

    References:
        API-SIG INT-04; oasdiff ``request-property-removed``.
    """
    hits = Collector()
    for d in ctx.diff.changed:
        aud = base_aud(ctx, d)
        for direction, _body, _schema, f in d.fields():
            if direction != "request" or f.kind != "removed" or not f.path or f.base is None:
                continue
            if is_deprecated(f.base) or is_readonly(f, Side.BASE):
                continue
            hits.on_base(
                f.base,
                aud,
                d.label,
                lambda where, path=f.path: (
                    f"request field {ticked(path)} of {where} was removed without being "
                    "deprecated first; keep accepting it, mark it `deprecated: true` with an "
                    "`x-sunset` date, and remove it in a later version"
                ),
                advisory=advisory_of(d, f.base),
            )
    yield from hits.hits()


@rule(
    "DEP019",
    "request-enum-value-removed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-06",
)
def request_enum_value_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A value clients could send was removed from an enum.

    What it checks:
        ``enum`` values of parameters and request fields (at any depth, not
        ``readOnly``) present in the base and missing from the head.

    Why it matters:
        Requests that use the removed value start failing validation.

    Example:
        ``sort_dir`` of ``GET /servers`` allowed ``[asc, desc]`` and now allows ``[asc]``.

    Fix:
        Keep accepting the value (deprecate it in the description), or remove it in a new
        version.

    References:
        API-SIG INT-06; oasdiff ``request-property-enum-value-removed``,
        ``request-parameter-enum-value-removed``.
    """
    hits = Collector()
    for d in ctx.diff.changed:
        aud = head_aud(ctx, d)
        items = _parameter_fields(d)
        for direction, body, _schema, f in d.fields():
            if direction == "request" and not is_readonly(f, Side.HEAD):
                items.append((field_label(direction, body, f), f))
        for label, f in items:
            if not f.enum_removed or f.head is None:
                continue
            values = ", ".join(ticked(show(v)) for v in f.enum_removed)
            hits.on_head(
                key_node(f.head, "enum"),
                aud,
                d.label,
                lambda where, label=label, values=values: (
                    f"{label} of {where} no longer accepts {values}; clients sending it will "
                    "fail, so keep the value(s) or remove them in a new version"
                ),
                advisory=advisory_of(d, f.base),
            )
    yield from hits.hits()


@rule("DEP021", "security-tightened", kind=Kind.DIFF, severity=Severity.ERROR, guideline="INT-07")
def security_tightened(ctx: DiffContext) -> Iterator[Hit]:
    """An operation asks for more authentication or authorisation than before.

    What it checks:
        The effective security requirements of operations present on both sides: each
        way a client could authenticate before (a scheme with its scopes, or anonymous
        access) must still be enough afterwards.

    Why it matters:
        Requests that used to succeed now fail with 401 or 403.

    Example:
        ``GET /flavors`` had ``security: []`` (anonymous) and now requires ``oauth2``.

    Fix:
        Keep accepting the old credentials, or tighten security in a new version.

    References:
        API-SIG INT-07; oasdiff ``api-security-added``, ``api-security-scope-added``.
    """
    if not _declares_security(ctx.base):
        # A base that documents no security at all says nothing about anonymous access;
        # documenting the real requirements later is not a tightening.
        return
    for d in ctx.diff.changed:
        c = d.change("security")
        if c is None or d.head is None:
            continue
        lost = [a for a in c.old if not any(_covers(a, h) for h in c.new)]
        if not lost:
            continue
        node = key_node(d.head.node, "security")
        yield ctx.on_head(
            node,
            f"{d.label} no longer accepts {_describe_security(lost[0])}; it now requires "
            f"{' or '.join(_describe_security(a) for a in c.new)}. Keep accepting the old "
            "credentials, or tighten security in a new version",
            d,
        )


def _declares_security(spec: Spec) -> bool:
    data = spec.data or {}
    components = data.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
    return bool(schemes or data.get("securityDefinitions") or data.get("security"))


def _covers(old: SecurityAlternative, new: SecurityAlternative) -> bool:
    """True when a client satisfying ``old`` also satisfies ``new``."""
    have = dict(old)
    return all(scheme in have and set(scopes) <= set(have[scheme]) for scheme, scopes in new)


def _describe_security(alt: SecurityAlternative) -> str:
    if not alt:
        return "anonymous requests"
    return " + ".join(
        f"`{scheme}`" + (f" (scopes {', '.join(scopes)})" if scopes else "")
        for scheme, scopes in alt
    )


def _parameter_fields(d: OperationDiff) -> list[tuple[str, FieldDiff]]:
    """(label, field diff) of every parameter of ``d`` whose schema changed."""
    items = []
    for p in d.parameters:
        label = f"{p.location} parameter {ticked(p.name)}"
        for f in p.fields:
            items.append((label + (f" (field {ticked(f.path)})" if f.path else ""), f))
    return items
