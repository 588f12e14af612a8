"""AUD rules: a change of a policy default changes who may call existing operations.

Who may call an operation is its audience (:mod:`govbot.audience`), and where a project
keeps policy defaults in code they decide it: a project user (reader, member or
manager), a service user, a cloud admin. A change that takes access away from a kind of
caller breaks the callers of that kind; one that opens an operation to project users
makes it external, and the strict rules of external surface apply to it (the pipeline
counts an operation whose audience changed as changed surface).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from govbot.apiref.policies import PolicyDefaults
from govbot.apiref.project import facts_of
from govbot.audience import Decision, PolicyEvidence
from govbot.findings import Audience, OperationRef, Scope, Severity, Side
from govbot.rules.registry import DiffContext, Hit, Kind, operation_ref, rule
from govbot.surface import Spec, operations

_CALLERS = (("project", "project users"), ("service", "service users"), ("admin", "cloud admins"))
_RULE_REF = re.compile(r"\brule:([^\s()]+)")


def _allows(policies: Sequence[PolicyEvidence], kind: str, *, now: bool) -> bool | None:
    """Whether any default lets ``kind`` of caller in (the most permissive one decides);
    ``now``: counting the deprecated rules oslo.policy still honours."""
    values = [getattr(p.allows_now if now else p.allows, kind) for p in policies]
    if True in values:
        return True
    return None if None in values or not values else False


@dataclass(frozen=True)
class _Moved:
    key: str
    base: Decision
    head: Decision
    lost: tuple[str, ...]  # callers who could call it and no longer can
    gained: tuple[str, ...]


def _moves(ctx: DiffContext) -> Iterator[_Moved]:
    """Operations on both sides whose policy defaults let other callers in."""
    before = ctx.base_audience.operations
    for op in operations(ctx.head):
        base, head = before.get(op.key), ctx.head_audience.operations.get(op.key)
        if base is None or head is None or not base.policies or not head.policies:
            continue
        lost, gained = [], []
        for kind, who in _CALLERS:
            old_now = _allows(base.policies, kind, now=True)
            new_now = _allows(head.policies, kind, now=True)
            # Access a deprecated rule kept in the base was announced to go: its end is
            # lawful, like a removal after deprecation.
            announced = _allows(base.policies, kind, now=False) is False
            if old_now is True and new_now is False and not announced:
                lost.append(who)
            elif old_now is False and new_now is True:
                gained.append(who)
        if lost or gained:
            yield _Moved(op.key, base, head, tuple(lost), tuple(gained))


def _defaults(spec: Spec) -> PolicyDefaults | None:
    facts = facts_of(spec)
    return facts.policies if facts is not None else None


def _changed_default(ctx: DiffContext, head: Decision) -> PolicyEvidence | None:
    """The default whose change moved the decision: a cited one whose check string
    changed, else one they refer to (``rule:NAME``, followed through the head's
    defaults); the first cited default when none is found."""
    base_defaults, head_defaults = _defaults(ctx.base), _defaults(ctx.head)
    if base_defaults is None or head_defaults is None:
        return head.policies[0] if head.policies else None
    old = base_defaults.policies
    queue = [p.name for p in head.policies]
    seen: set[str] = set()
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        new = head_defaults.policies.get(name)
        if new is None:
            continue
        if name not in old or old[name].check_str != new.check_str:
            w = new.where
            return PolicyEvidence(new.name, new.check_str, w.file, w.line, None)
        queue.extend(_RULE_REF.findall(new.check_str))
    return head.policies[0] if head.policies else None


def _grouped(
    ctx: DiffContext, moved: Sequence[_Moved]
) -> Mapping[tuple[str, int], list[tuple[_Moved, PolicyEvidence]]]:
    """The moves by the policy line that caused them: one finding per changed default."""
    out: dict[tuple[str, int], list[tuple[_Moved, PolicyEvidence]]] = {}
    for m in moved:
        cause = _changed_default(ctx, m.head)
        if cause is not None:
            out.setdefault((cause.file, cause.line), []).append((m, cause))
    return out


def _ops(group: list[tuple[_Moved, PolicyEvidence]]) -> str:
    first = group[0][0].head.label
    more = len(group) - 1
    return first + (f" (and {more} other operation{'s' if more > 1 else ''})" if more else "")


def _old_check(ctx: DiffContext, name: str) -> str:
    defaults = _defaults(ctx.base)
    old = defaults.policies.get(name) if defaults is not None else None
    return f"`{old.check_str}`" if old is not None else "no default"


@rule(
    "AUD001",
    "policy-default-narrowed",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="INT-07",
)
def policy_default_narrowed(ctx: DiffContext) -> Iterator[Hit]:
    """A policy default change takes away access that callers had.

    What it checks:
        For every operation named by the project's policy defaults on both sides, the
        kinds of caller its defaults let in: a project user (reader, member or
        manager), a service user, a cloud admin (check strings evaluated, never run).
        A kind that could call the operation before the change and cannot after it
        lost access. A default that keeps the old check string as its
        ``deprecated_rule`` keeps its callers for now (oslo.policy honours both), and
        dropping a deprecated rule later is the announced end: neither is reported.
        Reported once per changed default, at its line (the default the operation
        names, or a rule it refers to with ``rule:``), naming the operations.

    Why it matters:
        Deployments keep the defaults: after the upgrade every caller of that kind gets
        403 from an API it used. oslo.policy has a way to change a default without
        breaking anyone: keep the old check string as a deprecated rule for a release,
        so operators can adopt the new one first.

    Example:
        ``os_compute_api:os-hypervisors:list`` changes from ``PROJECT_READER_OR_ADMIN``
        to ``ADMIN``: project readers lose ``GET /os-hypervisors``.

    Fix:
        Keep the old default, or add the new one with ``deprecated_rule`` set to the old
        check string (``oslo_policy.policy.DeprecatedRule``) and a release note, so that
        the narrowing takes effect a release later.

    References:
        oslo.policy, "Deprecating policies"
        (https://docs.openstack.org/oslo.policy/latest/user/usage.html); API-SIG INT-07
        (existing clients keep working).
    """
    narrowed = [m for m in _moves(ctx) if m.lost]
    for (file, line), group in _grouped(ctx, narrowed).items():
        m, cause = group[0]
        lost = sorted({w for g, _ in group for w in g.lost})
        yield Hit(
            f"policy default {cause.name} changed from {_old_check(ctx, cause.name)} to "
            f"`{cause.check_str}`: {' and '.join(lost)} can no longer call {_ops(group)}; "
            "this breaks existing callers: keep the old default, or deprecate it "
            "(deprecated_rule) for a release first",
            "",
            file,
            Side.HEAD,
            ctx.base_audience.of(m.key),
            Scope.CHANGED,
            line=line,
            operation=_ref(ctx, m.key),
        )


@rule(
    "AUD002",
    "policy-default-widened",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    guideline="INT-07",
)
def policy_default_widened(ctx: DiffContext) -> Iterator[Hit]:
    """A policy default change opens existing operations to more callers.

    What it checks:
        As AUD001, the kinds of caller the policy defaults let call each operation on
        both sides; here a kind that could not call it before the change and can after
        it. When project users gain access the operation becomes external: from this
        change on it is held to the rules of external APIs (compatibility, deprecation,
        consistency), and the change is judged as changed surface.

    Why it matters:
        Widening access is a security decision, and an operation meant for admins or
        services carries compromises (internal names, loose error handling) that users
        will now depend on.

    Example:
        ``os_compute_api:os-migrate-server:migrate`` changes from ``ADMIN`` to
        ``PROJECT_MEMBER_OR_ADMIN``.

    Fix:
        Make sure the operation is ready for its new callers (a spec and a use case),
        or keep the default.

    References:
        oslo.policy defaults; OpenStack "Consistent and Secure Default RBAC" goal.
    """
    widened = [m for m in _moves(ctx) if m.gained and not m.lost]
    for (file, line), group in _grouped(ctx, widened).items():
        m, cause = group[0]
        gained = sorted({w for g, _ in group for w in g.gained})
        external = m.head.audience is Audience.EXTERNAL and m.base.audience is not Audience.EXTERNAL
        tail = "; it is now external and held to the rules of external APIs" if external else ""
        yield Hit(
            f"policy default {cause.name} changed from {_old_check(ctx, cause.name)} to "
            f"`{cause.check_str}`: {' and '.join(gained)} may now call {_ops(group)}{tail}",
            "",
            file,
            Side.HEAD,
            ctx.head_audience.of(m.key),
            Scope.CHANGED,
            line=line,
            operation=_ref(ctx, m.key),
        )


def _ref(ctx: DiffContext, key: str) -> OperationRef | None:
    op = next((o for o in operations(ctx.head) if o.key == key), None)
    return operation_ref(op) if op is not None else None
