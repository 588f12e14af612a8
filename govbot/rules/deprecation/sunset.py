"""DEP004-DEP009: deprecation and sunset dates (API-SIG DEP-01/DEP-03, RFC 8594)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from govbot.findings import Severity
from govbot.rules.deprecation.elements import (
    NOTICE_DAYS,
    REPLACEMENT,
    Collector,
    Element,
    audience_of,
    find_key,
    head_aud,
    is_deprecated,
    is_retired,
    key_node,
    newly_deprecated,
    notice_days,
    op_key_of,
    op_sunset,
    parse_sunset,
    spec_scope,
    sunset_changes,
    sunset_of,
)
from govbot.rules.registry import DiffContext, Hit, Kind, SpecContext, rule
from govbot.surface import mentions


@rule(
    "DEP004",
    "deprecated-without-sunset",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    options={"min_notice_days": dict(NOTICE_DAYS)},
    guideline="DEP-03",
)
def deprecated_without_sunset(ctx: DiffContext) -> Iterator[Hit]:
    """A newly deprecated element has no ``x-sunset`` date.

    What it checks:
        Operations, parameters, schema fields and response headers that the change marks
        ``deprecated: true`` without an ``x-sunset`` date (for operations, an OpenStack
        ``x-openstack.max-ver`` retiring it at a microversion counts as one). Formats
        with no place for a date are not asked for one: an api-ref deprecation is
        release-based (deprecated in one release, removed in a later one, which DEP001
        and DEP003 check).

    Why it matters:
        Clients cannot plan a migration without knowing when the element goes away;
        RFC 8594 gives that date a standard form.

    Example:
        ``GET /orgs/{org}/projects`` gains ``deprecated: true`` and nothing else.

    Fix:
        Add ``x-sunset: YYYY-MM-DD`` at least the policy's notice period away (90 days for
        external APIs by default), next to ``deprecated: true``.

    References:
        RFC 8594; API-SIG DEP-01, DEP-03; oasdiff ``api-deprecated-sunset-missing``.
    """
    if not ctx.head.dialect.sunset:
        return  # the format has no place for a date: it deprecates for a release
    hits = Collector()
    for element in newly_deprecated(ctx.diff):
        if element.head is None or sunset_of(element.head) is not None:
            continue
        if element.kind == "operation" and (
            op_sunset(element.op.head) is not None or is_retired(element.op.head)
        ):
            continue
        aud = head_aud(ctx, element.op)
        days = notice_days(ctx.options, aud)
        subject = element.what.rsplit(" of ", 1)[0] if element.kind != "operation" else ""
        hits.on_head(
            key_node(element.head, "deprecated"),
            aud,
            element.op.label,
            lambda where, subject=subject, days=days: (
                f"{subject + ' of ' if subject else ''}{where} is newly deprecated but has no "
                f"`x-sunset` date; add `x-sunset: YYYY-MM-DD` at least {days} days away so "
                "that clients know when it goes"
            ),
        )
    yield from hits.hits()


@rule(
    "DEP005",
    "sunset-too-soon",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    options={"min_notice_days": dict(NOTICE_DAYS)},
    guideline="DEP-03",
)
def sunset_too_soon(ctx: DiffContext) -> Iterator[Hit]:
    """A new or changed sunset date gives less notice than the policy asks for.

    What it checks:
        ``x-sunset`` dates that the change sets or changes on a deprecated element and
        that are fewer than ``min_notice_days`` days after today (default: 90 for external
        APIs, 30 for internal ones).

    Why it matters:
        OpenStack's standard deprecation keeps a feature for at least one release and three
        months; a shorter window leaves clients no time to migrate.

    Example:
        ``x-sunset: 2000-01-01`` on an operation deprecated today.

    Fix:
        Move the date to at least the notice period from today.

    References:
        API-SIG DEP-03; RFC 8594; oasdiff ``api-sunset-date-too-small``.
    """
    hits = Collector()
    candidates: list[tuple[Element, Any]] = []
    for element in newly_deprecated(ctx.diff):
        value = sunset_of(element.head)
        if value is None and element.kind == "operation":
            value = op_sunset(element.op.head)
        if value is not None:
            candidates.append((element, value))
    for element, _old, new in sunset_changes(ctx.diff):
        if new is not None:
            candidates.append((element, new))
    for element, value in candidates:
        node = element.head
        if node is None:
            continue
        if element.kind == "operation" and element.op.head is not None:
            deprecated = element.op.head.deprecated
        else:
            deprecated = is_deprecated(node)
        date = parse_sunset(value)
        if date is None or not deprecated:
            continue
        aud = head_aud(ctx, element.op)
        days = notice_days(ctx.options, aud)
        if (date - ctx.today).days >= days:
            continue
        target = key_node(node, "x-sunset")
        earliest = (ctx.today + dt.timedelta(days=days)).isoformat()
        subject = element.what.rsplit(" of ", 1)[0] if element.kind != "operation" else ""
        hits.on_head(
            target,
            aud,
            element.op.label,
            lambda where, subject=subject, date=date, days=days, earliest=earliest: (
                f"the sunset date {date.isoformat()} of {subject + ' of ' if subject else ''}"
                f"{where} gives less than the {days} days of notice the policy asks for; "
                f"move `x-sunset` to {earliest} or later"
            ),
        )
    yield from hits.hits()


@rule("DEP006", "sunset-unparseable", kind=Kind.SPEC, severity=Severity.ERROR, guideline="RFC 8594")
def sunset_unparseable(ctx: SpecContext) -> Iterator[Hit]:
    """An ``x-sunset`` value is not a date.

    What it checks:
        Every ``x-sunset`` in the spec (on operations, path items, parameters, schemas and
        headers) must be an RFC 3339 date (``2026-03-31``), an RFC 3339 date-time, or an
        HTTP-date as in RFC 8594 (``Tue, 31 Mar 2026 00:00:00 GMT``).

    Why it matters:
        Neither clients nor govbot can act on a sunset they cannot read; the removal
        checks treat it as absent.

    Example:
        ``x-sunset: next spring``

    Fix:
        Write the date as ``YYYY-MM-DD``.

    References:
        RFC 8594; RFC 3339; oasdiff ``api-deprecated-sunset-parse``.
    """
    spec = ctx.spec
    for file, doc in spec.documents.items():
        if not mentions(spec, file, "x-sunset"):
            continue
        for pointer, value in find_key(doc, "x-sunset"):
            if parse_sunset(value) is not None:
                continue
            key = op_key_of(spec, file, pointer)
            yield Hit(
                f"`x-sunset: {value}` is not a date; write it as `YYYY-MM-DD` (RFC 3339), "
                "for example `x-sunset: 2027-03-31`",
                pointer,
                file,
                audience=audience_of(ctx.audience, key),
                scope=spec_scope(ctx, file, pointer, value),
            )


@rule("DEP007", "sunset-removed", kind=Kind.DIFF, severity=Severity.ERROR, guideline="RFC 8594")
def sunset_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A deprecated element lost its sunset date.

    What it checks:
        Elements still deprecated in the head whose ``x-sunset`` the change deletes.

    Why it matters:
        Clients planned around the announced date; dropping it silently leaves them
        unsure whether the removal is earlier, later or cancelled.

    Example:
        ``deprecated: true`` stays, ``x-sunset: 2027-01-01`` is deleted.

    Fix:
        Keep the date, or move it later. To cancel a deprecation, remove
        ``deprecated: true`` as well.

    References:
        RFC 8594; oasdiff ``sunset-deleted``.
    """
    hits = Collector()
    for element, old, new in sunset_changes(ctx.diff):
        if old is None or new is not None or element.head is None or element.base is None:
            continue
        if element.kind == "operation":
            still = element.op.head is not None and element.op.head.deprecated
            node = element.base
            target = key_node(element.base, "x-sunset")
        else:
            still = is_deprecated(element.head)
            node = element.base
            target = key_node(node, "x-sunset")
        if not still:
            continue
        subject = element.what.rsplit(" of ", 1)[0] if element.kind != "operation" else ""
        hits.on_base(
            target,
            head_aud(ctx, element.op),
            element.op.label,
            lambda where, subject=subject, old=old: (
                f"{subject + ' of ' if subject else ''}{where} is still deprecated but its "
                f"`x-sunset: {old}` was removed; keep the sunset date (or move it later)"
            ),
        )
    yield from hits.hits()


@rule(
    "DEP008", "sunset-moved-earlier", kind=Kind.DIFF, severity=Severity.ERROR, guideline="RFC 8594"
)
def sunset_moved_earlier(ctx: DiffContext) -> Iterator[Hit]:
    """A sunset date was moved earlier.

    What it checks:
        ``x-sunset`` dates that the change replaces with an earlier date.

    Why it matters:
        A sunset date may only move later: clients that planned for the announced date
        would be cut off early.

    Example:
        ``x-sunset: 2027-06-30`` becomes ``x-sunset: 2027-01-31``.

    Fix:
        Keep the original date, or choose a later one.

    References:
        RFC 8594; oasdiff ``api-sunset-date-changed-too-small``.
    """
    hits = Collector()
    for element, old, new in sunset_changes(ctx.diff):
        old_date, new_date = parse_sunset(old), parse_sunset(new)
        if old_date is None or new_date is None or new_date >= old_date or element.head is None:
            continue
        subject = element.what.rsplit(" of ", 1)[0] if element.kind != "operation" else ""
        hits.on_head(
            key_node(element.head, "x-sunset"),
            head_aud(ctx, element.op),
            element.op.label,
            lambda where, subject=subject, o=old_date, n=new_date: (
                f"the sunset date of {subject + ' of ' if subject else ''}{where} moved earlier, "
                f"from {o.isoformat()} to {n.isoformat()}; a sunset may only move later, "
                f"so keep {o.isoformat()} or a later date"
            ),
        )
    yield from hits.hits()


@rule(
    "DEP009",
    "deprecated-without-replacement",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    options={"replacement_pattern": REPLACEMENT},
    guideline="DEP-01",
)
def deprecated_without_replacement(ctx: DiffContext) -> Iterator[Hit]:
    """A newly deprecated operation or parameter does not say what to use instead.

    What it checks:
        Operations and parameters the change marks ``deprecated: true`` whose
        ``description`` and ``summary`` do not name a replacement (they match none of the
        words of the ``replacement_pattern`` option: "use", "instead", "replaced by",
        "superseded", "migrate", "see", ...).

    Why it matters:
        A deprecation is only actionable with a migration path; API-SIG asks for one to
        be documented.

    Example:
        ``deprecated: true`` on ``GET /os-floating-ips`` with the description "List
        floating IPs."

    Fix:
        Say what replaces it: "Deprecated: use the Networking API's ``GET
        /v2.0/floatingips`` instead."

    References:
        API-SIG DEP-01, DEP-03 (document a migration path).
    """
    pattern = re.compile(str(ctx.options.get("replacement_pattern", REPLACEMENT)), re.IGNORECASE)
    for element in newly_deprecated(ctx.diff):
        if element.kind not in ("operation", "parameter") or element.head is None:
            continue
        value = element.head.value
        text = " ".join(
            str(value.get(k) or "") for k in ("description", "summary", "x-deprecated-message")
        )
        if pattern.search(text):
            continue
        yield ctx.on_head(
            key_node(element.head, "deprecated"),
            f"{element.what} is newly deprecated but its description does not name a "
            'replacement; say what clients should use instead (for example "Deprecated: '
            'use ... instead")',
            element.op,
        )
