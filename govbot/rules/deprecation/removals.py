"""DEP001-DEP003: removing an operation (API-SIG DEP-03)."""

from __future__ import annotations

from collections.abc import Iterator

from govbot.findings import Severity
from govbot.rules.deprecation.elements import (
    NOTICE_DAYS,
    Collector,
    base_aud,
    future_sunset,
    info_version,
    is_deprecated,
    is_retired,
    key_node,
    microversion,
    notice_days,
    removed_elements,
    sunset_of,
)
from govbot.rules.registry import DiffContext, Hit, Kind, rule


@rule(
    "DEP001",
    "removed-without-deprecation",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    options={"min_notice_days": dict(NOTICE_DAYS)},
    guideline="DEP-03",
)
def removed_without_deprecation(ctx: DiffContext) -> Iterator[Hit]:
    """An operation was removed without having been deprecated first.

    What it checks:
        Operations present in the base spec and missing from the head (matched by method
        and path, ignoring path-parameter names and trailing slashes) that the base did
        not mark ``deprecated: true`` (or, in OpenStack specs, retire at a microversion
        with ``x-openstack.max-ver``). In an api-ref, deprecated means a "(DEPRECATED)"
        title, a warning or note saying so, or a place under the index's "Deprecated
        APIs"; retired means a ``max_version``. An operation the base marks
        experimental (``x-experimental: true``; an api-ref "(EXPERIMENTAL)" title or
        note) carries no stability promise: its removal is reported by DEP003.

    Why it matters:
        Clients of an external API get no warning and break on upgrade. OpenStack's
        standard deprecation keeps a feature deprecated and working for at least one
        release and three months before removing it.

    Example:
        ``DELETE /servers/{server_id}`` is in the base spec, not deprecated, and gone
        from the revision.

    Fix:
        Put the operation back, mark it ``deprecated: true`` with an ``x-sunset`` date
        at least the notice period away, and remove it in a later release.

    References:
        API-SIG DEP-02, DEP-03 (``api_interoperability.rst``, governance tag
        ``assert:follows-standard-deprecation``); RFC 8594; oasdiff
        ``api-removed-without-deprecation``.
    """
    for d in ctx.diff.removed:
        op = d.base
        assert op is not None
        if op.deprecated or is_retired(op) or op.experimental:
            continue
        days = notice_days(ctx.options, base_aud(ctx, d))
        yield ctx.on_base(
            op.node,
            f"{op.label} was removed without being deprecated first; "
            f"{ctx.base.dialect.how_to_deprecate(days)}, and remove it in a later release",
            d,
        )


@rule(
    "DEP002", "removed-before-sunset", kind=Kind.DIFF, severity=Severity.ERROR, guideline="DEP-03"
)
def removed_before_sunset(ctx: DiffContext) -> Iterator[Hit]:
    """Something was removed before the sunset date it announced.

    What it checks:
        Operations, parameters, schema fields and response headers removed by the change
        whose base version carries an ``x-sunset`` date that is still in the future.

    Why it matters:
        The sunset date is a promise: clients plan their migration around it (RFC 8594).
        Removing early breaks the clients that trusted it.

    Example:
        ``GET /os-agents`` has ``deprecated: true`` and ``x-sunset: 2099-01-01`` and is
        removed today.

    Fix:
        Keep the element until its sunset date has passed, then remove it.

    References:
        RFC 8594 (the Sunset header); API-SIG DEP-03; oasdiff ``api-removed-before-sunset``.
    """
    today = ctx.today
    for d in ctx.diff.removed:
        op = d.base
        assert op is not None
        date = future_sunset(op.sunset, today)
        if date is not None:
            yield ctx.on_base(
                op.node,
                f"{op.label} was removed before its sunset date {date.isoformat()}; keep it "
                "until that date has passed",
                d,
            )
    hits = Collector()
    for element, aud in removed_elements(ctx):
        date = future_sunset(sunset_of(element.base), today)
        if date is None:
            continue
        what = element.what.rsplit(" of ", 1)[0]
        hits.on_base(
            element.node,
            aud,
            element.op.label,
            lambda where, what=what, date=date: (
                f"{what} of {where} was removed before its sunset date {date.isoformat()}; "
                "keep it until that date has passed"
            ),
        )
    yield from hits.hits()


@rule(
    "DEP003",
    "removed-after-deprecation",
    kind=Kind.DIFF,
    severity=Severity.INFO,
    internal=Severity.INFO,
    guideline="DEP-03",
)
def removed_after_deprecation(ctx: DiffContext) -> Iterator[Hit]:
    """A deprecated element was removed, as the deprecation policy allows (for the record).

    What it checks:
        Operations, parameters, fields and headers removed after having been deprecated
        (and whose sunset date, if any, has passed), operations removed that the base
        marked experimental, and OpenStack operations newly retired at a future
        microversion (``x-openstack.max-ver``, an api-ref's ``max_version``, set to at
        least the base spec's microversion), which older microversions keep.

    Why it matters:
        This is the lawful end of a deprecation. It is reported so that reviewers and
        the TC digest see removals happen.

    Example:
        ``GET /orgs/{org}/projects`` was ``deprecated: true`` in GHES 3.16 and is gone in
        3.17.

    Fix:
        Nothing to fix. Mention the removal in the release notes.

    References:
        API-SIG DEP-02, DEP-03, DEP-05; oasdiff ``api-removed-with-deprecation``.
    """
    today = ctx.today
    for d in ctx.diff.removed:
        op = d.base
        assert op is not None
        if not (op.deprecated or is_retired(op) or op.experimental):
            continue
        if future_sunset(op.sunset, today):
            continue
        if op.deprecated:
            how = "deprecated"
        elif is_retired(op):
            how = f"retired after microversion {op.x_openstack['max-ver']}"
        else:
            how = "experimental (no deprecation needed)"
        yield ctx.on_base(
            op.node,
            f"{op.label} was removed after being {how}; note the removal in the release notes",
            d,
        )
    yield from _retired_by_the_change(ctx)
    hits = Collector()
    for element, aud in removed_elements(ctx):
        if not is_deprecated(element.base) or future_sunset(sunset_of(element.base), today):
            continue
        what = element.what.rsplit(" of ", 1)[0]
        hits.on_base(
            element.node,
            aud,
            element.op.label,
            lambda where, what=what: f"{what} of {where} was removed after being deprecated",
        )
    yield from hits.hits()


def _retired_by_the_change(ctx: DiffContext) -> Iterator[Hit]:
    """Operations the change retires after a microversion (a new ``max-ver``)."""
    base_mv = microversion(info_version(ctx.base))
    for d in ctx.diff.changed:
        c = d.change("x-openstack")
        if c is None or d.head is None:
            continue
        new_max = microversion((c.new or {}).get("max-ver"))
        old_max = microversion((c.old or {}).get("max-ver"))
        if new_max is None or new_max == old_max:
            continue
        if base_mv is not None and new_max < base_mv:
            continue  # retroactive: DEP024 reports it
        yield ctx.on_head(
            key_node(d.head.node, "x-openstack"),
            f"{d.label} is removed from microversion {new_max[0]}.{new_max[1] + 1} on "
            f"({ctx.head.dialect.max_version} {c.new['max-ver']}); older microversions keep it",
            d,
        )
