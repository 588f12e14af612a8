"""DEP030-DEP031: request bodies that accept less than before, or are gone.

Judged by the direction logic of :mod:`.direction` on the request side: a request body
schema or field that got stricter breaks the clients that send what it used to allow.
``readOnly`` fields are never sent and are left out.
"""

from __future__ import annotations

from collections.abc import Iterator

from govbot.findings import Severity
from govbot.rules.deprecation.direction import reported, stricter_or_looser
from govbot.rules.deprecation.elements import is_deprecated
from govbot.rules.registry import DiffContext, Hit, Kind, rule


@rule(
    "DEP030",
    "request-body-stricter",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-04",
)
def request_body_stricter(ctx: DiffContext) -> Iterator[Hit]:
    """A request body, or a field of it, accepts less than before.

    What it checks:
        Request body schemas and their fields (at any depth, ``allOf`` parts merged, not
        ``readOnly``) of operations present on both sides that got stricter: bounds
        (``minimum``/``maximum`` and their exclusive forms, ``minLength``/``maxLength``,
        ``minItems``/``maxItems``, ``minProperties``/``maxProperties``,
        ``minContains``/``maxContains``, ``multipleOf``), a ``pattern``, ``format``,
        ``const``, ``contentEncoding`` or ``contentMediaType`` added or changed, an
        ``enum`` introduced or ``x-extensible-enum`` values dropped, ``nullable`` removed,
        ``additionalProperties``/``unevaluatedProperties``/``unevaluatedItems`` closed,
        ``uniqueItems`` added, names made required without being declared, and OpenAPI
        3.1's ``dependentRequired``, ``dependentSchemas``, ``prefixItems``, ``contains``,
        ``propertyNames``, ``patternProperties`` and ``contentSchema`` added or tightened.
        Type changes are DEP013's, enum values removed DEP019's, fields becoming required
        DEP012's, ``oneOf``/``anyOf``/``not``/``if``-``then``-``else`` DEP033's.

    Why it matters:
        A request that was valid may now be rejected: clients send what the old schema
        allowed, and validating gateways, servers and generated SDKs refuse it.

    Example:
        Before::

            name: {type: string, maxLength: 255}

        After::

            name: {type: string, maxLength: 64}

    Fix:
        Keep accepting what the old schema accepted (truncate or normalise on the server
        instead of rejecting), or make the change in a new microversion or major version.

    References:
        API-SIG INT-04, INT-05; ``docs/breaking-changes.md`` (the principle and the
        coverage table); oasdiff ``request-property-max-length-decreased``,
        ``request-body-became-not-nullable``, ``request-property-dependent-required-added``
        and their kin.
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
        kinds=("body",),
    )


@rule(
    "DEP031",
    "request-body-removed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-04",
)
def request_body_removed(ctx: DiffContext) -> Iterator[Hit]:
    """An operation no longer takes the request body it took.

    What it checks:
        Operations present on both sides whose base declares a request body (OpenAPI
        ``requestBody``, Swagger ``in: body`` or ``formData`` parameters) and whose head
        declares none, unless the base body was ``deprecated: true``.

    Why it matters:
        Clients keep sending the body: a strict server rejects the request, a lenient one
        silently ignores what the client asked for.

    Example:
        Before::

            post:
              requestBody:
                content:
                  application/json:
                    schema: {$ref: '#/components/schemas/Reboot'}

        After::

            post: {}

    Fix:
        Keep accepting the body (and ignore it if it no longer matters), or remove it in
        a new microversion or major version.

    References:
        API-SIG INT-04; oasdiff ``request-body-removed``.
    """
    for d in ctx.diff.changed:
        body = d.request_body
        if body is None or body.kind != "removed" or body.base is None:
            continue
        if is_deprecated(body.base.node):
            continue
        yield ctx.on_base(
            body.base.node,
            f"{d.label} no longer takes a request body; clients still send it and may be "
            "rejected, or silently ignored, so keep accepting it or remove it in a new "
            "version",
            d,
        )
