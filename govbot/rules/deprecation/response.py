"""DEP014-DEP016, DEP018, DEP020, DEP025, DEP027: what existing clients read must stay (API-SIG INT)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from govbot.findings import Severity, Side
from govbot.rules.deprecation.direction import sites
from govbot.rules.deprecation.elements import (
    Collector,
    advisory_of,
    base_aud,
    head_aud,
    is_deprecated,
    is_writeonly,
    key_node,
    show,
    ticked,
)
from govbot.rules.registry import DiffContext, Hit, Kind, rule


def _response_removals(ctx: DiffContext, *, required: bool) -> Iterator[Hit]:
    hits = Collector()
    for d in ctx.diff.changed:
        aud = base_aud(ctx, d)
        for direction, body, _schema, f in d.fields():
            if direction != "response" or f.kind != "removed" or not f.path:
                continue
            if (
                f.base_required is not required
                or is_deprecated(f.base)
                or is_writeonly(f, Side.BASE)
            ):
                continue
            assert f.base is not None
            status = body.status
            hits.on_base(
                f.base,
                aud,
                d.label,
                lambda where, path=f.path, status=status: (
                    f"{'required' if required else 'optional'} field {ticked(path)} of the "
                    f"{status} response of {where} was removed without being deprecated first; "
                    "keep returning it, mark it `deprecated: true` with an `x-sunset` date, "
                    "and remove it in a later version"
                ),
                advisory=advisory_of(d, f.base),
            )
    yield from hits.hits()


@rule(
    "DEP014",
    "response-required-property-removed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-04",
)
def response_required_property_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A required response field was removed without having been deprecated first.

    What it checks:
        Fields listed as ``required`` in a response schema of the base (at any depth) that
        are missing from the head's schema and were not ``deprecated: true``.

    Why it matters:
        Clients rely on required fields being present; their code fails when one is gone.

    Example:
        ``server.status`` disappears from the 200 response of ``GET /servers/{server_id}``.

    Fix:
        Keep returning the field, deprecate it with an ``x-sunset`` date, and remove it in
        a later version.

    References:
        API-SIG INT-04; oasdiff ``response-required-property-removed``.
    """
    yield from _response_removals(ctx, required=True)


@rule(
    "DEP015",
    "response-property-became-optional",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-05",
)
def response_property_became_optional(ctx: DiffContext) -> Iterator[Hit]:
    """A required response field became optional or nullable.

    What it checks:
        Response schema fields (at any depth) that were required and are no longer
        listed as required, or that became ``nullable``. ``writeOnly`` fields never
        appear in responses and are left out.

    Why it matters:
        Clients written against the old contract read the field unconditionally and fail
        when it is absent or null.

    Example:
        ``server.created`` is dropped from the ``required`` list of the 200 response.

    Fix:
        Keep the field required and non-null; if it can really be missing, introduce that
        with a new version.

    References:
        API-SIG INT-05; oasdiff ``response-property-became-optional``,
        ``response-property-became-nullable``.
    """
    hits = Collector()
    for d in ctx.diff.changed:
        aud = head_aud(ctx, d)
        for direction, body, _schema, f in d.fields():
            if direction != "response" or f.kind != "changed" or f.head is None or not f.path:
                continue
            if is_writeonly(f, Side.BASE) or is_writeonly(f, Side.HEAD):
                continue  # never in a response, whatever ``required`` says
            required = f.change("required")
            nullable = f.change("nullable")
            if required is not None and required.new is False:
                how = "is no longer required"
            elif nullable is not None and nullable.new is True:
                how = "became nullable"
            else:
                continue
            status = body.status
            hits.on_head(
                f.head,
                aud,
                d.label,
                lambda where, path=f.path, how=how, status=status: (
                    f"field {ticked(path)} of the {status} response of {where} {how}; clients "
                    "read it unconditionally, so keep it required and non-null (or change it "
                    "in a new version)"
                ),
                tag=how,
                advisory=advisory_of(d, f.base),
            )
    yield from hits.hits()


@rule(
    "DEP016",
    "response-optional-property-removed",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    guideline="INT-04",
)
def response_optional_property_removed(ctx: DiffContext) -> Iterator[Hit]:
    """An optional response field was removed without having been deprecated first.

    What it checks:
        Optional fields of a response schema of the base (at any depth) that are missing
        from the head and were not ``deprecated: true``.

    Why it matters:
        Clients that use the field when it is present lose data silently.

    Example:
        ``server.description`` disappears from the 200 response of ``GET /servers/{id}``.

    Fix:
        Keep returning it, deprecate it with an ``x-sunset`` date, remove it later.

    References:
        API-SIG INT-04; oasdiff ``response-optional-property-removed``.
    """
    yield from _response_removals(ctx, required=False)


@rule(
    "DEP018",
    "response-success-status-removed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-02",
)
def response_success_status_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A success status code was removed from an operation.

    What it checks:
        2xx responses (``200``, ``201``, ``2XX``, ...) declared in the base and missing from
        the head of an operation present on both sides.

    Why it matters:
        Clients branch on the status code; changing one success code for another (201 to
        204, say) breaks them, and API-SIG requires a new version for it.

    Example:
        ``POST /servers`` answered ``202``; the revision declares only ``201``.

    Fix:
        Keep the old status code, or change it in a new microversion / major version.

    References:
        API-SIG INT-02; oasdiff ``response-success-status-removed``.
    """
    for d in ctx.diff.changed:
        for body in d.responses:
            if body.kind != "removed" or body.base is None or not str(body.status).startswith("2"):
                continue
            added = [
                b.status for b in d.responses if b.kind == "added" and str(b.status).startswith("2")
            ]
            instead = (
                f" (the revision declares {', '.join(map(str, added))} instead)" if added else ""
            )
            yield ctx.on_base(
                body.base.node,
                f"{d.label} no longer declares its {body.status} response{instead}; clients "
                "check for that status, so keep it or change it in a new version",
                d,
            )


@rule(
    "DEP020",
    "response-enum-value-added",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-06",
)
def response_enum_value_added(ctx: DiffContext) -> Iterator[Hit]:
    """A response field can carry a value clients have never seen.

    What it checks:
        ``enum`` values added to response fields (at any depth, not ``writeOnly``) and
        response headers of operations present on both sides, unless the field is marked
        ``x-extensible-enum`` (Zalando's convention: clients must handle unknown values).

    Why it matters:
        Clients that switch over the documented values (generated SDK enums, say) fail
        or misbehave on an unknown one.

    Example:
        ``server.status`` of ``GET /servers/{id}`` gains ``SHELVED``.

    Fix:
        Introduce the value with a new version, or document the enum as extensible
        (``x-extensible-enum``) so that clients handle unknown values.

    References:
        API-SIG INT-06; oasdiff ``response-property-enum-value-added``.
    """
    hits = Collector()
    for d in ctx.diff.changed:
        aud = head_aud(ctx, d)
        for site in sites(d, "response"):
            f, label = site.field, site.label
            if not f.enum_added or f.head is None:
                continue
            if isinstance(f.head.value, Mapping) and "x-extensible-enum" in f.head.value:
                continue
            values = ", ".join(ticked(show(v)) for v in f.enum_added)
            hits.on_head(
                key_node(f.head, "enum"),
                aud,
                d.label,
                lambda where, label=label, values=values: (
                    f"{label} of {where} can now return {values}; clients that only know the "
                    "old values may fail, so add it in a new version or mark the enum "
                    "`x-extensible-enum`"
                ),
                advisory=advisory_of(d, f.base),
            )
    yield from hits.hits()


@rule(
    "DEP025",
    "response-header-removed",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    guideline="INT-03",
)
def response_header_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A response header was removed without having been deprecated first.

    What it checks:
        Headers declared on a response in the base and missing from the head's response
        (names compared case-insensitively), unless ``deprecated: true`` in the base.
        Required headers removed are DEP039's.

    Why it matters:
        Clients read headers such as ``Location`` or ``OpenStack-API-Version``; API-SIG
        counts adding or removing a header as an interoperability change.

    Example:
        The 202 response of ``POST /servers`` no longer declares ``Location``.

    Fix:
        Keep sending the header, or remove it in a new version.

    References:
        API-SIG INT-03; oasdiff ``response-optional-header-removed``,
        ``response-required-header-removed``.
    """
    for d in ctx.diff.changed:
        for body in d.responses:
            for h in body.headers:
                if h.kind != "removed" or h.base is None or is_deprecated(h.base):
                    continue
                if isinstance(h.base.value, Mapping) and h.base.value.get("required") is True:
                    continue  # DEP039
                yield ctx.on_base(
                    h.base,
                    f"header {ticked(h.name)} of the {body.status} response of {d.label} was "
                    "removed without being deprecated first; keep sending it, or remove it "
                    "in a new version",
                    d,
                )


@rule("DEP027", "media-type-removed", kind=Kind.DIFF, severity=Severity.ERROR, guideline="INT-03")
def media_type_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A request or response media type was removed.

    What it checks:
        Media types (``application/json``, ...) of the request body or of a response of
        an operation present on both sides that the head no longer declares (parameters
        such as ``charset`` are ignored).

    Why it matters:
        Clients sending that ``Content-Type`` get 415; clients asking for it with
        ``Accept`` get 406 or something they cannot parse.

    Example:
        ``PUT /objects/{name}`` accepted ``application/octet-stream`` and
        ``application/json``; the revision only accepts ``application/json``.

    Fix:
        Keep the media type, or remove it in a new version.

    References:
        API-SIG INT-03; oasdiff ``request-body-media-type-removed``,
        ``response-media-type-removed``.
    """
    for d in ctx.diff.changed:
        bodies = ([d.request_body] if d.request_body else []) + list(d.responses)
        for body in bodies:
            if body.base is None:
                continue
            for media in body.media_removed:
                where = "request body" if body.status is None else f"{body.status} response"
                node = body.base.node
                content = node.get("content")
                if content is not None and isinstance(content.value, Mapping):
                    node = key_node(content, media)
                yield ctx.on_base(
                    node,
                    f"the {where} of {d.label} no longer supports {ticked(media)}; clients "
                    "using it will fail, so keep it or remove it in a new version",
                    d,
                )
