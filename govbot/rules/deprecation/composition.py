"""DEP033-DEP034: composition (``oneOf``, ``anyOf``, ``not``, ``if``/``then``/``else``).

A ``oneOf`` or ``anyOf`` lists alternatives: one more widens what is valid, one fewer
narrows it; ``not``, ``then`` and ``else`` add conditions, and a change inside ``not``
has the opposite effect. ``allOf`` is not judged as a list: its parts are merged (every
part applies) and what a part adds or removes is judged as a change of the merged
schema (DEP012, DEP014, DEP030, DEP032). The direction logic is :mod:`.direction`'s.
"""

from __future__ import annotations

from collections.abc import Iterator

from govbot.diff import Change
from govbot.findings import Severity
from govbot.rules.deprecation.direction import Site, composition, reported
from govbot.rules.registry import DiffContext, Hit, Kind, rule


def _composition(site: Site, change: Change) -> bool:
    return composition(change.attr)


@rule(
    "DEP033",
    "request-composition-stricter",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-04",
)
def request_composition_stricter(ctx: DiffContext) -> Iterator[Hit]:
    """A request schema lost an alternative, or gained a condition.

    What it checks:
        Parameters and request body schemas (at any depth, not ``readOnly``) of
        operations present on both sides: a ``oneOf`` or ``anyOf`` branch removed, a
        ``not``, ``then`` or ``else`` added, or a stricter change inside one of them
        (more required names in a ``then``, a lower bound inside ``not``...).

    Why it matters:
        Clients that send a value of the removed alternative, or one the new condition
        refuses, get a 400 for a request that used to be valid.

    Example:
        Before::

            pet:
              oneOf:
                - $ref: '#/components/schemas/Cat'
                - $ref: '#/components/schemas/Dog'

        After::

            pet:
              oneOf:
                - $ref: '#/components/schemas/Cat'

    Fix:
        Keep accepting the old alternatives (deprecate them in the description), or make
        the change in a new microversion or major version.

    References:
        API-SIG INT-04; ``docs/breaking-changes.md``; oasdiff
        ``request-body-one-of-removed``, ``request-property-any-of-removed``,
        ``request-body-then-added``, ``request-property-else-added``.
    """
    yield from reported(
        ctx,
        "request",
        _composition,
        lambda label, where, text: (
            f"{label} of {where} accepts less than before ({text}); requests that were "
            "valid may now be rejected, so keep the old alternatives or make the change "
            "in a new version"
        ),
        kinds=("parameter", "body"),
    )


@rule(
    "DEP034",
    "response-composition-looser",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-05",
)
def response_composition_looser(ctx: DiffContext) -> Iterator[Hit]:
    """A response schema gained an alternative, or lost a condition.

    What it checks:
        Response bodies and headers (at any depth, not ``writeOnly``) of operations
        present on both sides: a ``oneOf`` or ``anyOf`` branch added (a schema wrapped
        into a ``oneOf`` with others counts), a ``not``, ``then`` or ``else`` removed, or
        a looser change inside one of them.

    Why it matters:
        Clients decode responses into the shapes they know; a response of the new
        alternative fails to decode, or takes a branch of their code that was never
        written.

    Example:
        Before::

            schema: {$ref: '#/components/schemas/Server'}

        After::

            schema:
              oneOf:
                - $ref: '#/components/schemas/Server'
                - $ref: '#/components/schemas/ServerStub'

    Fix:
        Return the new shape only to clients that ask for it (a new microversion, a
        query parameter), or add it in a new major version.

    References:
        API-SIG INT-05; ``docs/breaking-changes.md``; oasdiff
        ``response-body-one-of-added``, ``response-property-one-of-added``,
        ``response-body-wrapped-in-one-of``, ``response-body-then-removed``.
    """
    yield from reported(
        ctx,
        "response",
        _composition,
        lambda label, where, text: (
            f"{label} of {where} may now carry what clients have never seen ({text}); "
            "return the new shape only to clients that ask for it, or change it in a new "
            "version"
        ),
        kinds=("body", "header"),
    )
