"""DEP032, DEP038, DEP039: what clients read may now carry what they have never seen.

Judged by the direction logic of :mod:`.direction` on the response side: a response
body, field or header that got looser breaks the clients that decode it. ``writeOnly``
fields never appear in responses and are left out. A webhook's payload is sent by the
API to the subscriber, so it is judged like a response (DEP038).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from govbot.diff import BodyDiff, FieldDiff, OperationDiff
from govbot.findings import Severity
from govbot.rules.deprecation.direction import breaks, joined, reported, stricter_or_looser
from govbot.rules.deprecation.elements import (
    Collector,
    advisory_of,
    field_label,
    head_aud,
    is_deprecated,
    ticked,
)
from govbot.rules.registry import DiffContext, Hit, Kind, rule


@rule(
    "DEP032",
    "response-looser",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-05",
)
def response_looser(ctx: DiffContext) -> Iterator[Hit]:
    """A response body, field or header may now carry values clients have never seen.

    What it checks:
        Response bodies, their fields (at any depth, ``allOf`` parts merged, not
        ``writeOnly``) and response headers of operations present on both sides that got
        looser: a bound widened or dropped (``minimum``/``maximum`` and their exclusive
        forms, ``minLength``/``maxLength``, ``minItems``/``maxItems``,
        ``minContains``/``maxContains``, ``multipleOf``), a ``pattern``, ``format``,
        ``const``, ``contentEncoding`` or ``contentMediaType`` removed or changed, an
        ``enum`` dropped, the body itself or a header becoming nullable, a header no
        longer required, ``additionalProperties`` opened, ``uniqueItems`` removed, a
        ``type`` dropped, and OpenAPI 3.1's ``prefixItems``, ``contains``,
        ``propertyNames``, ``patternProperties``, ``dependentRequired``,
        ``dependentSchemas`` and ``contentSchema`` removed or loosened. Fields becoming
        optional or nullable are DEP015's, enum values added DEP020's, type changes
        DEP013's, ``oneOf``/``anyOf`` DEP034's.

    Why it matters:
        Clients were written, and SDKs generated, against the values the old contract
        promised: a longer string overflows a column, a negative number breaks a
        calculation, a null crashes a decoder.

    Example:
        Before::

            quota: {type: integer, minimum: 0, maximum: 1000}

        After::

            quota: {type: integer, minimum: -1, maximum: 1000}

    Fix:
        Keep the values in the old range (map new cases onto old values), or return the
        new values only to clients that ask for them (a new microversion).

    References:
        API-SIG INT-05; ``docs/breaking-changes.md``; oasdiff
        ``response-property-max-increased``, ``response-body-became-nullable``,
        ``response-header-became-optional``, ``response-property-pattern-property-removed``
        and their kin.
    """
    yield from reported(
        ctx,
        "response",
        stricter_or_looser,
        lambda label, where, text: (
            f"{label} of {where} may now carry values clients have never seen ({text}); "
            "keep the old range, or return the new values only to clients that ask for "
            "them"
        ),
        kinds=("body", "header"),
    )
    for d in ctx.diff.changed:
        for body in d.responses:
            for h in body.headers:
                c = next((c for c in h.changes if c.attr == "required"), None)
                if h.kind != "changed" or c is None or not breaks("response", c):
                    continue
                assert h.head is not None
                yield ctx.on_head(
                    h.head,
                    f"header {ticked(h.name)} of the {body.status} response of {d.label} is "
                    "no longer required; clients read it unconditionally, so keep sending "
                    "it (or change it in a new version)",
                    d,
                )


@rule(
    "DEP039",
    "response-required-header-removed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-03",
)
def response_required_header_removed(ctx: DiffContext) -> Iterator[Hit]:
    """A required response header was removed without having been deprecated first.

    What it checks:
        Headers declared ``required: true`` on a response in the base and missing from
        the head's response (names compared case-insensitively), unless ``deprecated:
        true`` in the base. Optional headers removed are DEP025's.

    Why it matters:
        A required header is one clients read unconditionally (``Location`` after a
        create, ``OpenStack-API-Version``); without it their code fails.

    Example:
        Before::

            headers:
              Location: {required: true, schema: {type: string}}

        After::

            headers: {}

    Fix:
        Keep sending the header, deprecate it, and remove it in a new version.

    References:
        API-SIG INT-03; oasdiff ``required-response-header-removed``.
    """
    for d in ctx.diff.changed:
        for body in d.responses:
            for h in body.headers:
                if h.kind != "removed" or h.base is None or is_deprecated(h.base):
                    continue
                if not (isinstance(h.base.value, Mapping) and h.base.value.get("required")):
                    continue
                yield ctx.on_base(
                    h.base,
                    f"required header {ticked(h.name)} of the {body.status} response of "
                    f"{d.label} was removed without being deprecated first; clients read it "
                    "unconditionally, so keep sending it, or remove it in a new version",
                    d,
                )


@rule(
    "DEP038",
    "webhook-payload-looser",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-05",
)
def webhook_payload_looser(ctx: DiffContext) -> Iterator[Hit]:
    """A webhook now sends its subscribers what they have never seen.

    What it checks:
        OpenAPI 3.1 ``webhooks`` present on both sides whose payload (the request body
        the API sends to the subscriber) got looser, judged as a response: a required
        field removed or made optional or nullable, a bound widened, an ``enum`` value
        added (unless ``x-extensible-enum``), a type changed, an alternative added, a
        media type or the payload itself dropped.

    Why it matters:
        The subscriber is the client here: its handler decodes the payload against the
        contract it was written for, and fails on what that contract ruled out.

    Example:
        Before::

            webhooks:
              serverCreated:
                post:
                  requestBody:
                    content:
                      application/json:
                        schema:
                          required: [id, status]

        After::

            webhooks:
              serverCreated:
                post:
                  requestBody:
                    content:
                      application/json:
                        schema:
                          required: [id]

    Fix:
        Keep the payload's old guarantees; send new shapes under a new webhook (or
        event version) that subscribers opt into.

    References:
        OpenAPI 3.1 (``webhooks``); ``docs/breaking-changes.md``; oasdiff
        ``webhook-removed`` and the operation checks it applies to changed webhooks.
    """
    hits = Collector()
    for d in ctx.diff.webhooks:
        if d.kind != "changed" or d.request_body is None:
            continue
        name = webhook_label(d)
        body = d.request_body
        if body.kind == "removed" or body.media_removed:
            assert d.base is not None
            yield ctx.on_base(
                d.base.node,
                f"{name} no longer sends the payload it sent ({_media(body)}); subscribers "
                "expect it, so keep sending it or add a new webhook",
                d,
            )
        for _direction, _body, _schema, f in d.fields():
            if _direction != "request":
                continue
            text = _payload_change(f)
            if text is None:
                continue
            label = field_label("request", body, f).replace("request field", "field", 1)
            report = hits.on_base if f.head is None else hits.on_head
            report(
                f.node,
                head_aud(ctx, d),
                name,
                lambda where, label=label, text=text: (
                    f"{label} of the payload of {where} {text}; subscribers decode it against "
                    "the old contract, so keep its guarantees or send the new shape under a "
                    "new webhook"
                ),
                advisory=advisory_of(d, f.base),
            )
    yield from hits.hits()


def webhook_label(d: OperationDiff) -> str:
    method = d.op.method.upper()
    return f"webhook {ticked(d.op.path)}" + (f" ({method})" if method != "POST" else "")


def _media(body: BodyDiff) -> str:
    if body.kind == "removed":
        return "the whole request body"
    return ", ".join(ticked(m) for m in body.media_removed)


def _payload_change(f: FieldDiff) -> str | None:
    """What makes a payload field looser for its reader, in words (None: nothing)."""
    if f.kind == "removed":
        if f.base_required and not is_deprecated(f.base):
            return "was removed"
        return None
    if f.kind != "changed":
        return None
    found = [c for c in f.changes if breaks("response", c)]
    extensible = f.head is not None and "x-extensible-enum" in (f.head.value or {})
    parts = [joined(found)] if found else []
    if f.enum_added and not extensible:
        parts.append("`enum` values " + ", ".join(ticked(str(v)) for v in f.enum_added) + " added")
    return "changed (" + "; ".join(parts) + ")" if parts else None
