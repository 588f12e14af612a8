"""POL rules: findings about the policy and the engine itself, raised by :mod:`govbot.evaluate`.

They have no check: only the evaluator sees an expired waiver in use or a crashed
rule. They are rules all the same, with a code, a severity the policy can change and
documentation.
"""

from __future__ import annotations

from govbot.findings import Severity
from govbot.rules.registry import Kind, make_rule

EXPIRED_WAIVER = make_rule(
    "POL001",
    "expired-waiver",
    kind=Kind.CROSS,
    severity=Severity.WARNING,
    internal=Severity.WARNING,
    doc="""A waiver in the policy is past its expiry date and no longer applies.

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
        The ``waivers`` section of the policy (``policies/schema.json``) and the
        decision order in ``govbot/evaluate.py``.
    """,
)

RULE_CRASHED = make_rule(
    "POL002",
    "rule-crashed",
    kind=Kind.CROSS,
    severity=Severity.ERROR,
    internal=Severity.ERROR,
    doc="""A rule failed with an internal error on this spec; its verdict is incomplete.

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
        The decision order in ``govbot/evaluate.py`` (step 6, containment).
    """,
)
