"""DEP035-DEP037: stability levels, which only move forward, and webhooks removed.

``x-stability-level`` (``draft`` -> ``alpha`` -> ``beta`` -> ``stable``; no level means
stable) says how much a surface promises. Draft and alpha surface promises nothing:
every DEP finding about it is reported, not held against the change (the evaluator
rates it info; :func:`govbot.rules.registry.unstable_note`). A level may only move
forward, and only to a level that exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from govbot.diff.keywords import STABILITY_LEVELS
from govbot.findings import Severity
from govbot.rules.deprecation.elements import (
    audience_of,
    find_key,
    key_node,
    op_key_of,
    spec_scope,
    ticked,
)
from govbot.rules.deprecation.response_body import webhook_label
from govbot.rules.registry import DiffContext, Hit, Kind, SpecContext, rule
from govbot.surface import mentions

KEY = "x-stability-level"


def _rank(value: Any) -> int | None:
    """The position of a level (absent: stable); None for a value that is no level."""
    if value is None:
        return len(STABILITY_LEVELS) - 1
    return STABILITY_LEVELS.index(value) if value in STABILITY_LEVELS else None


@rule(
    "DEP035",
    "stability-decreased",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="DEP-01",
)
def stability_decreased(ctx: DiffContext) -> Iterator[Hit]:
    """An operation, parameter or field moved back to a less stable level.

    What it checks:
        ``x-stability-level`` of operations, parameters and schema fields present on
        both sides: the level may only move forward (``draft`` -> ``alpha`` -> ``beta``
        -> ``stable``); no level means ``stable``. A move backwards (``stable`` ->
        ``beta``, or a level added to surface that had none) is reported.

    Why it matters:
        Clients build on surface by its promised stability. Moving it back withdraws the
        promise, and with it the protection against breaking changes that govbot gives
        stable and beta surface.

    Example:
        Before::

            get:
              x-stability-level: stable

        After::

            get:
              x-stability-level: beta

    Fix:
        Keep the level. To change a stable operation freely, add a new operation at
        ``alpha`` and deprecate the old one.

    References:
        oasdiff ``api-stability-decreased``, ``request-property-stability-decreased``,
        ``response-property-stability-decreased`` (its STABILITY.md); API-SIG DEP-01.
    """
    for d in ctx.diff.changed:
        c = d.change(KEY)
        if c is not None and d.head is not None:
            text = _backwards(c.old, c.new)
            if text:
                yield ctx.on_head(
                    key_node(d.head.node, KEY),
                    f"{d.label} moved back {text}; a stability level only moves forward",
                    d,
                )
        for p in d.parameters:
            c = p.change(KEY)
            if c is not None and p.head is not None and (text := _backwards(c.old, c.new)):
                yield ctx.on_head(
                    key_node(p.head.node, KEY),
                    f"{p.location} parameter {ticked(p.name)} of {d.label} moved back {text}; "
                    "a stability level only moves forward",
                    d,
                )
        for _direction, _body, _schema, f in d.fields():
            c = f.change(KEY)
            if c is None or f.head is None or not f.path:
                continue
            if text := _backwards(c.old, c.new):
                yield ctx.on_head(
                    key_node(f.head, KEY),
                    f"field {ticked(f.path)} of {d.label} moved back {text}; a stability "
                    "level only moves forward",
                    d,
                )


def _backwards(old: Any, new: Any) -> str:
    a, b = _rank(old), _rank(new)
    if a is None or b is None or b >= a:
        return ""
    return f"from {old or 'stable (no level)'} to {new}"


@rule(
    "DEP036",
    "stability-level-invalid",
    kind=Kind.SPEC,
    severity=Severity.ERROR,
    guideline="DEP-01",
)
def stability_level_invalid(ctx: SpecContext) -> Iterator[Hit]:
    """An ``x-stability-level`` value is not a stability level.

    What it checks:
        Every ``x-stability-level`` in the spec must be one of ``draft``, ``alpha``,
        ``beta`` or ``stable``.

    Why it matters:
        govbot (and oasdiff) judge changes by the level: a value it cannot read counts as
        stable, so a surface meant as draft is held to the stable contract, and readers
        cannot tell what was promised.

    Example:
        Before::

            x-stability-level: beta

        After::

            x-stability-level: preview

    Fix:
        Use one of ``draft``, ``alpha``, ``beta``, ``stable``.

    References:
        oasdiff ``api-invalid-stability-level`` (its STABILITY.md).
    """
    spec = ctx.spec
    for file, doc in spec.documents.items():
        if not mentions(spec, file, KEY):
            continue
        for pointer, value in find_key(doc, KEY):
            if isinstance(value, str) and value in STABILITY_LEVELS:
                continue
            key = op_key_of(spec, file, pointer)
            yield Hit(
                f"`{KEY}: {value}` is not a stability level; use one of "
                f"{', '.join(STABILITY_LEVELS)}",
                pointer,
                file,
                audience=audience_of(ctx.audience, key),
                scope=spec_scope(ctx, file, pointer, value),
            )


@rule(
    "DEP037",
    "webhook-removed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="DEP-03",
)
def webhook_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A webhook was removed without having been deprecated first.

    What it checks:
        OpenAPI 3.1 ``webhooks`` (each method of each) in the base and missing from the
        head, unless ``deprecated: true`` in the base.

    Why it matters:
        Subscribers stop receiving the events they built on, without warning and without
        an error to notice it by.

    Example:
        Before::

            webhooks:
              serverDeleted:
                post: {requestBody: {$ref: '#/components/requestBodies/Event'}}

        After::

            webhooks: {}

    Fix:
        Keep sending the webhook, mark it ``deprecated: true`` with an ``x-sunset`` date,
        and remove it in a later release.

    References:
        OpenAPI 3.1 (``webhooks``); API-SIG DEP-03; oasdiff ``webhook-removed``.
    """
    for d in ctx.diff.webhooks:
        if d.kind != "removed" or d.base is None or d.base.deprecated:
            continue
        yield ctx.on_base(
            d.base.node,
            f"{webhook_label(d)} was removed without being deprecated first; subscribers "
            "stop getting its events without notice, so mark it `deprecated: true` with an "
            "`x-sunset` date and remove it in a later release",
            d,
        )
