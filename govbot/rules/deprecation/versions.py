"""DEP022-DEP024, DEP026: microversions and version numbers (API-SIG MV-02, MV-06, DEP-05)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from govbot.diff import (
    FieldDiff,
    OperationDiff,
)
from govbot.findings import Audience, Scope, Severity
from govbot.rules.deprecation.composition import (
    request_composition_stricter,
    response_composition_looser,
)
from govbot.rules.deprecation.elements import (
    SEMVER,
    audience_of,
    field_label,
    head_aud,
    info_version,
    key_node,
    microversion,
    ticked,
)
from govbot.rules.deprecation.lifecycle import stability_decreased, webhook_removed
from govbot.rules.deprecation.parameters import request_default_changed, request_parameter_stricter
from govbot.rules.deprecation.removals import removed_before_sunset, removed_without_deprecation
from govbot.rules.deprecation.request import (
    new_required_request_parameter,
    new_required_request_property,
    property_type_changed,
    request_enum_value_removed,
    request_parameter_removed,
    security_tightened,
)
from govbot.rules.deprecation.request_body import request_body_removed, request_body_stricter
from govbot.rules.deprecation.response import (
    media_type_removed,
    response_enum_value_added,
    response_property_became_optional,
    response_required_property_removed,
    response_success_status_removed,
)
from govbot.rules.deprecation.response_body import (
    response_looser,
    response_required_header_removed,
    webhook_payload_looser,
)
from govbot.rules.registry import DiffContext, Hit, Kind, Rule, SpecContext, rule
from govbot.surface import (
    Spec,
    operations,
)


def _microversioned(spec: Spec, options: Mapping[str, Any]) -> bool:
    """OpenStack-style: ops carry ``x-openstack: {min-ver, max-ver}`` (or the policy says so)."""
    setting = options.get("microversions", "auto")
    if setting is True or setting is False:
        return bool(setting)
    if microversion(info_version(spec)) is None:
        return False
    return any(
        "min-ver" in op.x_openstack or "max-ver" in op.x_openstack for op in operations(spec)
    )


def _api_change(d: OperationDiff) -> str | None:
    """The first change of an operation that API-SIG says needs a version, in words."""
    if d.kind == "added":
        return "is a new operation"
    if d.change("security"):
        return "changed its security requirements"
    for p in d.parameters:
        if p.kind != "changed":
            return f"{p.kind} the {p.location} parameter {ticked(p.name)}"
        if any(c.attr not in ("deprecated", "x-sunset", "x-openstack") for c in p.changes):
            return f"changed the {p.location} parameter {ticked(p.name)}"
        if any(_interop_field(f) for f in p.fields):
            return f"changed the {p.location} parameter {ticked(p.name)}"
    bodies = ([d.request_body] if d.request_body else []) + list(d.responses)
    for body in bodies:
        where = "the request body" if body.status is None else f"the {body.status} response"
        if body.kind != "changed":
            return f"{body.kind} {where}"
        if body.changes or body.media_added or body.media_removed:
            return f"changed {where}"
        for schema in body.schemas:
            for f in schema.fields:
                if _interop_field(f):
                    name = f"field {ticked(f.path)}" if f.path else "the schema"
                    return f"{f.kind} {name} of {where}"
        for h in body.headers:
            if h.kind != "changed" or h.fields:
                return f"{h.kind} header {ticked(h.name)} of {where}"
    return None


def _interop_field(f: FieldDiff) -> bool:
    if f.kind != "changed" or f.enum_added or f.enum_removed:
        return True
    return any(
        c.attr not in ("deprecated", "x-sunset", "x-openstack", "default") for c in f.changes
    )


@rule(
    "DEP022",
    "needs-microversion",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    options={"microversions": "auto"},
    guideline="MV-02",
)
def needs_microversion(ctx: DiffContext) -> Iterator[Hit]:
    """An API change to a microversioned (OpenStack) API comes without a new microversion.

    What it checks:
        In specs whose operations carry ``x-openstack: {min-ver, max-ver}`` (or when the
        ``microversions`` option is true): every added operation and every operation whose
        URL, parameters, request or response fields, enums, headers, status codes or
        security changed needs ``info.version`` (the maximum microversion) to go up.
        When it did go up, a new operation must be gated with an ``x-openstack.min-ver``
        above the base's maximum microversion, so that older microversions do not grow it.
        An API whose maximum is kept in a ledger outside the description (an api-ref
        tree) is judged by the MVR rules instead.

    Why it matters:
        API-SIG's interoperability rule: even additive changes break interoperability
        between clouds at the "same" version, so each one needs a new microversion.

    Example:
        A new property ``host_status`` in the response of ``GET /servers/{id}`` while
        ``info.version`` stays ``2.96``.

    Fix:
        Raise ``info.version`` to the next microversion and gate the change with
        ``x-openstack: {min-ver: '<that version>'}``.

    References:
        API-SIG MV-02, INT-01 to INT-06 (``microversion_specification.rst``,
        ``api_interoperability.rst``).
    """
    if not (_microversioned(ctx.head, ctx.options) or _microversioned(ctx.base, ctx.options)):
        return
    if ctx.head.dialect.version_field is None:
        return  # kept in a ledger outside the description: the MVR rules ask for it
    vb_text, vh_text = info_version(ctx.base), info_version(ctx.head)
    vb, vh = microversion(vb_text), microversion(vh_text)
    if vb is None or vh is None:
        return
    bumped = vh > vb
    proposed = f"{vb[0]}.{vb[1] + 1}"
    for d in ctx.diff.added + ctx.diff.changed:
        assert d.head is not None
        what = _api_change(d)
        if what is None:
            continue
        if not bumped:
            yield Hit.at(
                d.head.node,
                f"{d.label} {what}, but `info.version` is still {vh_text}; every API change "
                f"needs a new microversion: raise `info.version` to {proposed} and gate the "
                f"change with `x-openstack: {{min-ver: '{proposed}'}}`",
                audience=head_aud(ctx, d),
                scope=Scope.NEW if d.kind == "added" else Scope.CHANGED,
            )
        elif d.kind == "added":
            min_ver = microversion(d.head.x_openstack.get("min-ver"))
            if min_ver is not None and min_ver > vb:
                continue
            yield Hit.at(
                key_node(d.head.node, "x-openstack"),
                f"{d.label} is new but is not gated by a new microversion, so clients of "
                f"microversion {vb_text} and earlier would see it; add "
                f"`x-openstack: {{min-ver: '{proposed}'}}`",
                audience=head_aud(ctx, d),
                scope=Scope.NEW,
            )


def _breaking_checks() -> tuple[Rule, ...]:
    """The rules whose findings are incompatible changes (used by DEP023)."""
    return (
        removed_without_deprecation,
        removed_before_sunset,
        request_parameter_removed,
        new_required_request_parameter,
        new_required_request_property,
        property_type_changed,
        response_required_property_removed,
        response_property_became_optional,
        response_success_status_removed,
        request_enum_value_removed,
        security_tightened,
        microversion_range_narrowed,
        response_enum_value_added,
        media_type_removed,
        request_parameter_stricter,
        request_default_changed,
        request_body_stricter,
        request_body_removed,
        response_looser,
        request_composition_stricter,
        response_composition_looser,
        stability_decreased,
        webhook_removed,
        webhook_payload_looser,
        response_required_header_removed,
    )


@rule(
    "DEP023",
    "major-version-not-bumped",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    options={"microversions": "auto"},
    guideline="MV-02",
)
def major_version_not_bumped(ctx: DiffContext) -> Iterator[Hit]:
    """Incompatible changes come without a new major ``info.version``.

    What it checks:
        In specs that are not microversioned, when the change contains incompatible
        changes (those reported by DEP001, DEP002, DEP010 to DEP015, DEP018 to DEP021,
        DEP024, DEP027 to DEP035, DEP037 to DEP039; not those about draft or alpha
        surface), the major part of ``info.version`` (semantic versioning) must go up.

    Why it matters:
        The version is how clients and SDKs learn that a release can break them.

    Example:
        ``info.version`` goes from ``1.4.0`` to ``1.5.0`` while an operation is removed
        without deprecation.

    Fix:
        Make the changes compatible, or raise the major version (``2.0.0``).

    References:
        API-SIG MV-02 (versions mark incompatible changes); semver.org; oasdiff
        ``api-major-version-not-bumped``.
    """
    if _microversioned(ctx.head, ctx.options):
        return
    vb_text, vh_text = info_version(ctx.base), info_version(ctx.head)
    mb = SEMVER.match(vb_text or "")
    mh = SEMVER.match(vh_text or "")
    if mb is None or mh is None or int(mh.group(1)) > int(mb.group(1)):
        return
    # Draft and alpha surface promises nothing: its changes are not incompatible.
    breaking: list[Hit] = [
        hit for check in _breaking_checks() for hit in check.run(ctx) if not hit.advisory
    ]
    external = [h for h in breaking if h.audience.is_external]
    if not breaking:
        return
    info = ctx.head.root.get("info")
    node = key_node(info, "version") if info is not None else ctx.head.root
    count = len(breaking)
    first = breaking[0].message.split(";", 1)[0]
    yield Hit.at(
        node,
        f"this change has {count} incompatible change{'s' if count != 1 else ''} (first: "
        f"{first}) but `info.version` goes from {vb_text} to {vh_text}; raise the major "
        f"version to {int(mb.group(1)) + 1}.0.0 or make the changes compatible",
        audience=Audience.EXTERNAL if external else Audience.INTERNAL,
        scope=Scope.CHANGED,
    )


@rule(
    "DEP024",
    "microversion-range-narrowed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="MV-06",
)
def microversion_range_narrowed(ctx: DiffContext) -> Iterator[Hit]:
    """An operation, parameter or field disappears from microversions already released.

    What it checks:
        Changes of the ``x-openstack`` range of an operation, of a parameter or of a
        request or response field (the microversion window an api-ref ``min_version`` /
        ``max_version`` gives): a raised ``min-ver``, or a ``max-ver`` set or lowered
        below the base spec's maximum microversion (``info.version``). Removing an
        operation *from a new microversion* on (``max-ver`` at least the base's maximum)
        is lawful and reported by DEP003.

    Why it matters:
        Each microversion is a contract: clients pinned to 2.40 must see the same API
        forever. Raising the minimum version breaks old clients: the parameter they send
        is refused, the field they read is gone.

    Example:
        Before::

            GET /os-agents:
              x-openstack: {min-ver: '2.1'}

        After::

            GET /os-agents:
              x-openstack: {min-ver: '2.60'}

    Fix:
        Keep the old range and retire the operation (or parameter, or field) with
        ``max-ver`` set to the current maximum microversion, so that it goes away from
        the next microversion on.

    References:
        API-SIG MV-06, DEP-02, DEP-05.
    """
    base_mv = microversion(info_version(ctx.base))
    released = info_version(ctx.base)
    tail = (
        "keep its range and retire it with `max-ver` set to the current maximum "
        "microversion instead"
    )
    for d in ctx.diff.changed:
        c = d.change("x-openstack")
        if c is not None and d.head is not None:
            problems = _window_narrowed(c.old, c.new, base_mv, released)
            if problems:
                yield ctx.on_head(
                    key_node(d.head.node, "x-openstack"),
                    f"{d.label} disappears from microversions already released ({problems}); "
                    + tail,
                    d,
                )
        for p in d.parameters:
            c = p.change("x-openstack")
            if c is None or p.head is None:
                continue
            if problems := _window_narrowed(c.old, c.new, base_mv, released):
                yield ctx.on_head(
                    key_node(p.head.node, "x-openstack"),
                    f"{p.location} parameter {ticked(p.name)} of {d.label} disappears from "
                    f"microversions already released ({problems}); " + tail,
                    d,
                )
        for direction, body, _schema, f in d.fields():
            c = f.change("x-openstack")
            if c is None or f.head is None or not f.path:
                continue
            if problems := _window_narrowed(c.old, c.new, base_mv, released):
                yield ctx.on_head(
                    key_node(f.head, "x-openstack"),
                    f"{field_label(direction, body, f)} of {d.label} disappears from "
                    f"microversions already released ({problems}); " + tail,
                    d,
                )


def _window_narrowed(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    base_mv: tuple[int, int] | None,
    released: str | None,
) -> str:
    """How a ``{min-ver, max-ver}`` window lost released microversions, in words ("")."""
    old, new = old or {}, new or {}
    problems = []
    old_min, new_min = microversion(old.get("min-ver")), microversion(new.get("min-ver"))
    # A min-ver appearing where there was none may only annotate the API's own minimum,
    # so only a raised one counts.
    if new_min is not None and old_min is not None and new_min > old_min:
        problems.append(f"`min-ver` rose from {old['min-ver']} to {new['min-ver']}")
    old_max, new_max = microversion(old.get("max-ver")), microversion(new.get("max-ver"))
    lowered = new_max is not None and (old_max is None or new_max < old_max)
    if lowered and base_mv is not None and new_max is not None and new_max < base_mv:
        problems.append(f"`max-ver` became {new['max-ver']}, below the released {released}")
    return "; ".join(problems)


@rule(
    "DEP026",
    "retired-operation-not-deprecated",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    guideline="DEP-05",
)
def retired_operation_not_deprecated(ctx: SpecContext) -> Iterator[Hit]:
    """An operation retired at a microversion is not marked deprecated.

    What it checks:
        Operations with ``x-openstack.max-ver`` (gone after that microversion) that lack
        ``deprecated: true``.

    Why it matters:
        OpenStack's OpenAPI convention shows a retired window as ``deprecated: true`` plus
        ``x-openstack: {min-ver, max-ver}``; documentation and SDK generators rely on the
        flag to warn users.

    Example:
        ``GET /v2.1/images`` has ``x-openstack: {min-ver: '2.1', max-ver: '2.35'}`` and no
        ``deprecated``.

    Fix:
        Add ``deprecated: true`` (and a description naming the replacement).

    References:
        API-SIG DEP-05, DEP-06.
    """
    if microversion(info_version(ctx.spec)) is None:
        return  # not an OpenStack microversioned spec: nothing can carry max-ver
    for op in operations(ctx.spec):
        if "max-ver" not in op.x_openstack or op.deprecated:
            continue
        node = key_node(op.node, "x-openstack")
        yield Hit.at(
            node,
            f"{op.label} is retired after microversion {op.x_openstack['max-ver']} but is not "
            f"marked deprecated; {ctx.spec.dialect.deprecate} so that documentation and SDKs "
            "warn users",
            audience=audience_of(ctx.audience, op.key),
            scope=ctx.scope_of(op.key),
        )
