"""POL rules: findings about the policy and the engine itself, raised by :mod:`govbot.evaluate`.

Their check functions yield nothing: the evaluator produces these findings (it is the
only place that knows about waivers and crashed rules). They are registered so that
they have a code, a severity the policy can change, and documentation like every rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from govbot.findings import Severity
from govbot.rules.registry import Hit, rule


@rule(
    "POL001", "expired-waiver", kind="cross", severity=Severity.WARNING, internal=Severity.WARNING
)
def expired_waiver(ctx: Any) -> Iterator[Hit]:
    """A waiver in the policy is past its expiry date and no longer applies.

    What it checks:
        Every waiver in ``policies/*.yaml`` whose ``expires`` date has passed and whose
        ``path`` glob matches a spec of this check. The finding points at the waiver in
        the policy file; the findings it used to waive are reported again.

    Why it matters:
        Waivers are temporary by design: the TC accepted a deviation *until* a date. An
        expired waiver that stays in the policy silently stops working, and nobody
        decides whether to renew it or fix the spec.

    Example:
        ``{rule: CON001, path: api-specs/legacy/**, reason: "frozen API", expires: 2024-12-31}``
        checked on 2025-01-01.

    Fix:
        Fix the findings it covered, or renew the waiver with a new date and a reason
        (a TC decision, reviewed like any policy change), or remove it.

    References:
        design.md §3 (policy) and issue 2 (waivers with reason and expiry).
    """
    return iter(())


@rule("POL002", "rule-crashed", kind="cross", severity=Severity.ERROR, internal=Severity.ERROR)
def rule_crashed(ctx: Any) -> Iterator[Hit]:
    """A rule failed with an internal error on this spec; its verdict is incomplete.

    What it checks:
        The evaluator runs every rule inside its own boundary. When one raises an
        exception, the failure is logged (with the trace under ``--debug``), reported
        as this finding, and every other rule still runs.

    Why it matters:
        A crashed rule cannot say whether the change breaks its policy. Reporting it as
        an error fails closed: a breaking change must not pass because a check crashed.

    Example:
        ``rule DEP001 (removed-without-deprecation) crashed on api-specs/compute.yaml:
        KeyError: 'paths'``.

    Fix:
        Report it to the govbot maintainers with the spec (run ``govbot --debug check``
        for the trace). Until it is fixed, the TC may waive it for that spec.

    References:
        house style §8 (errors are contained at the edges; the others carry on).
    """
    return iter(())
