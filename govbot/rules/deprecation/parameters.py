"""DEP028-DEP029: request parameters that accept less, or mean something else, than before.

The schema of a query, header, path or cookie parameter is judged by the direction
logic of :mod:`.direction` (the request side: stricter breaks); how the parameter is
sent (its location, ``style``, ``explode``, ``allowEmptyValue``) is judged here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from govbot.diff import Change, ParameterDiff
from govbot.findings import Severity
from govbot.rules.deprecation.direction import (
    Site,
    breaks,
    reported,
    show,
    stricter_or_looser,
)
from govbot.rules.deprecation.elements import (
    Collector,
    advisory_of,
    head_aud,
    ticked,
)
from govbot.rules.registry import DiffContext, Hit, Kind, rule

# OpenAPI's defaults: how a parameter is serialised when the spec does not say.
_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}


@rule(
    "DEP028",
    "request-parameter-stricter",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-07",
)
def request_parameter_stricter(ctx: DiffContext) -> Iterator[Hit]:
    """A request parameter accepts less than before, or must be sent differently.

    What it checks:
        Query, header, path and cookie parameters of operations present on both sides
        whose schema (or a field of an object parameter) got stricter: a bound raised or
        lowered into the old range (``minimum``, ``maximum`` and their exclusive forms,
        ``minLength``, ``maxLength``, ``minItems``, ``maxItems``, ``multipleOf``), a
        ``pattern``, ``format`` or ``const`` added or changed, an ``enum`` introduced or
        ``x-extensible-enum`` values dropped, ``nullable`` removed, a ``type`` where there
        was none, ``uniqueItems`` added; and parameters that moved (query to header), or
        whose ``style``, ``explode`` or ``allowEmptyValue`` changed. Type changes are
        DEP013's, enum values removed DEP019's, a parameter becoming required DEP011's.

    Why it matters:
        A request that was valid may now be rejected: clients send what the old contract
        allowed, and validating gateways and servers refuse it with a 400.

    Example:
        Before::

            - name: limit
              in: query
              schema: {type: integer, maximum: 1000}

        After::

            - name: limit
              in: query
              schema: {type: integer, maximum: 100}

    Fix:
        Keep accepting what the old contract accepted (clamp or ignore instead of
        rejecting), or make the change in a new microversion or major version.

    References:
        API-SIG INT-07 (``api_interoperability.rst``); the principle and the coverage
        table in ``docs/breaking-changes.md``; oasdiff ``request-parameter-max-decreased``,
        ``request-parameter-pattern-added``, ``request-parameter-became-enum`` and their
        kin.
    """
    yield from reported(
        ctx,
        "request",
        stricter_or_looser,
        lambda label, where, text: (
            f"{label} of {where} accepts less than before ({text}); requests that were "
            "valid may now be rejected, so keep accepting them or make the change in a "
            "new version"
        ),
        kinds=("parameter",),
    )
    hits = Collector()
    for d in ctx.diff.changed:
        for p in d.parameters:
            if p.kind != "changed" or p.head is None:
                continue
            found = _sending(p)
            if not found:
                continue
            text = "; ".join(found)
            label = f"{p.location} parameter {ticked(p.name)}"
            hits.on_head(
                p.head.node,
                head_aud(ctx, d),
                d.label,
                lambda where, label=label, text=text: (
                    f"{label} of {where} must be sent differently ({text}); clients that "
                    "send it the old way may be rejected or misread, so keep the old form "
                    "or make the change in a new version"
                ),
                advisory=advisory_of(d, p.base.node if p.base else None),
            )
    yield from hits.hits()


def _sending(p: ParameterDiff) -> list[str]:
    """How sending the parameter changed, in words, when old requests may now fail."""
    out = []
    moved = p.change("in")
    if moved is not None:
        out.append(f"moved from {moved.old} to {moved.new}")
    assert p.base is not None and p.head is not None
    for attr in ("style", "explode"):
        old = _effective(attr, p.base.node.value, p.base.location)
        new = _effective(attr, p.head.node.value, p.head.location)
        if old != new and moved is None:
            out.append(f"{ticked(attr)} changed from {show(old)} to {show(new)}")
    empty = p.change("allowEmptyValue")
    if empty is not None and breaks("request", empty):
        out.append("`allowEmptyValue` removed: an empty value is no longer accepted")
    return out


def _effective(attr: str, value: Any, location: str) -> Any:
    style = value.get("style") or _STYLE.get(location, "form")
    if attr == "style":
        return style
    explode = value.get("explode")
    return explode if isinstance(explode, bool) else style == "form"


@rule(
    "DEP029",
    "request-default-changed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-07",
)
def request_default_changed(ctx: DiffContext) -> Iterator[Hit]:
    """The default of a request parameter or request field was changed or removed.

    What it checks:
        The ``default`` of parameters and of request body fields (at any depth, not
        ``readOnly``) of operations present on both sides: changed to another value, or
        removed. A default added where there was none documents what the server does
        with an omitted value, a new promise, and is not reported; nor is the default of
        a parameter or field that was required, which no valid request left out.

    Why it matters:
        The default is what the server promises to assume when a client leaves the value
        out. The same request now means something else: a listing returns a different
        page size, a create call makes a different resource. Nothing fails, so nobody
        notices.

    Example:
        Before::

            - name: limit
              in: query
              schema: {type: integer, default: 20}

        After::

            - name: limit
              in: query
              schema: {type: integer, default: 50}

    Fix:
        Keep the old default; offer the new behaviour through an explicit value, or
        change the default in a new microversion or major version.

    References:
        API-SIG INT-07; oasdiff ``request-parameter-default-value-changed``,
        ``request-parameter-default-value-removed``.
    """
    yield from reported(
        ctx,
        "request",
        _default,
        lambda label, where, text: (
            f"{label} of {where} changed its default ({text}); clients that leave it out "
            "now get a different behaviour, so keep the old default or change it in a new "
            "version"
        ),
        kinds=("parameter", "body"),
        judge=lambda _direction, _change, text=False: True,
    )


def _default(site: Site, change: Change) -> bool:
    # A default appearing documents what the server does with an omitted value: a new
    # promise, which breaks no one. Changing or withdrawing one does, unless every valid
    # request already sent the value (a required parameter or field): then the old
    # default never applied to anyone.
    return change.attr == "default" and change.old is not None and not site.always_sent
