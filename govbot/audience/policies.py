"""Who may call each operation, from the project's policy defaults that name it.

The defaults are read (parsed, never run) by :mod:`govbot.apiref.policies` and their
check strings evaluated by :mod:`govbot.apiref.checkstr`; this module decides.

Each default's check string is evaluated for a project reader, member and manager, a
cloud admin (project- or system-scoped) and a service user:

* a project user may call it -> **external**;
* otherwise a service user may (an admin as a stop-gap) -> **internal**;
* otherwise only an admin -> **external-admin**.

An operation named by several defaults (nova's ``GET /servers`` by ``index`` and
``index:get_all_tenants``) is as open as the most permissive one. Policy operations are
matched to API operations by method and path template, ignoring parameter names, the
version prefix (``/v2.1``, ``/v3/{project_id}``) and a trailing slash; an action policy
(``POST /servers/{server_id}/action (reboot)``) names that action, or, in an OpenAPI
spec whose actions share one operation, that operation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from govbot.apiref.checkstr import (
    MANAGER,
    MEMBER,
    PROJECT_ADMIN,
    READER,
    SERVICE,
    SYSTEM_ADMIN,
    Check,
    Persona,
    Truth,
    evaluate,
    parse,
)
from govbot.apiref.policies import PolicyDefault, PolicyDefaults
from govbot.audience.model import Access, PolicyEvidence
from govbot.findings import Audience
from govbot.surface import Operation, normalize_path

SOURCE = "policy-defaults"
_VERSION_PREFIX = re.compile(r"^/v\d+(?:\.\d+)?(?=/|$)")
_OWNER_SEGMENT = re.compile(r"^/\{[^}/]*(?:project|tenant)[^}/]*\}(?=/|$)")
_RANK = {Audience.EXTERNAL: 3, Audience.INTERNAL: 2, Audience.EXTERNAL_ADMIN: 1}


@dataclass(frozen=True, slots=True)
class PolicyVerdict:
    """What one default allows: the truth for each kind of caller."""

    policy: PolicyDefault
    project: Truth
    service: Truth
    admin: Truth
    audience: Audience | None  # None: undecided (unknown parts) or no one may call it
    notes: tuple[str, ...] = ()
    # With the default's deprecated rule, which oslo.policy still honours meanwhile.
    now: Access = Access()  # noqa: RUF009 - a frozen value

    @property
    def sentence(self) -> str:
        who = {
            Audience.EXTERNAL: "a project user may call it",
            Audience.INTERNAL: "only a service user (or an admin) may call it",
            Audience.EXTERNAL_ADMIN: "only an admin may call it",
        }
        if self.audience is not None:
            what = who[self.audience]
        elif self.project is False and self.service is False and self.admin is False:
            what = "no one may call it"
        else:
            what = (
                "undecided: " + "; ".join(dict.fromkeys(self.notes)) if self.notes else "undecided"
            )
        p = self.policy
        return f"policy {p.name} ({p.where}) defaults to {p.check_str!r}: {what}"


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """The audience of one operation from the defaults naming it (most permissive wins)."""

    audience: Audience | None
    verdicts: tuple[PolicyVerdict, ...]

    @property
    def deciding(self) -> PolicyVerdict | None:
        return next((v for v in self.verdicts if v.audience is self.audience), None)

    def cited(self) -> tuple[PolicyEvidence, ...]:
        """Each default naming the operation, as a decision cites it."""
        return tuple(
            PolicyEvidence(
                v.policy.name,
                v.policy.check_str,
                v.policy.where.file,
                v.policy.where.line,
                v.audience,
                Access(v.project, v.service, v.admin),
                v.now,
                v.policy.deprecated_check_str,
            )
            for v in self.verdicts
        )

    @property
    def evidence(self) -> str:
        deciding = self.deciding
        if deciding is not None:
            others = len(self.verdicts) - 1
            tail = f" (most permissive of {len(self.verdicts)} defaults)" if others else ""
            return deciding.sentence + tail
        return "; ".join(v.sentence for v in self.verdicts)


class Evaluator:
    """Verdicts of the defaults of one set of trees, each default evaluated once."""

    def __init__(self, defaults: PolicyDefaults) -> None:
        self.defaults = defaults
        self._parsed: dict[str, Check] = {}
        self._verdicts: dict[str, PolicyVerdict] = {}
        # Many defaults share a check string (nova: "rule:admin_or_owner"): each string
        # is evaluated once, with the notes that explain an unknown.
        self._by_text: dict[str, tuple[tuple[Truth, Truth, Truth], tuple[str, ...]]] = {}

    def rule(self, name: str) -> Check | None:
        policy = self.defaults.policies.get(name)
        if policy is None:
            return None
        if name not in self._parsed:
            self._parsed[name] = parse(policy.check_str)
        return self._parsed[name]

    def verdict(self, policy: PolicyDefault) -> PolicyVerdict:
        found = self._verdicts.get(policy.name)
        if found is not None:
            return found
        (project, service, admin), notes = self._access(policy.check_str)
        now = Access(project, service, admin)
        if policy.deprecated_check_str is not None:
            old, _ = self._access(policy.deprecated_check_str)
            now = Access(
                *(_any((a, b)) for a, b in zip((project, service, admin), old, strict=True))
            )
        audience: Audience | None = None
        if project is True:
            audience = Audience.EXTERNAL
        elif project is False and service is True:
            audience = Audience.INTERNAL
        elif project is False and service is False and admin is True:
            audience = Audience.EXTERNAL_ADMIN
        verdict = PolicyVerdict(policy, project, service, admin, audience, notes, now)
        self._verdicts[policy.name] = verdict
        return verdict

    def _access(self, text: str) -> tuple[tuple[Truth, Truth, Truth], tuple[str, ...]]:
        """Whether (a project user, a service user, a cloud admin) may call, and notes."""
        found = self._by_text.get(text)
        if found is None:
            check = parse(text)
            notes: list[str] = []
            project = _any(self._truth(check, p, notes) for p in (READER, MEMBER, MANAGER))
            service = self._truth(check, SERVICE, notes)
            admin = _any(self._truth(check, p, notes) for p in (PROJECT_ADMIN, SYSTEM_ADMIN))
            found = ((project, service, admin), tuple(notes))
            self._by_text[text] = found
        return found

    def _truth(self, check: Check, persona: Persona, notes: list[str]) -> Truth:
        return evaluate(check, persona, self.rule, notes)


def _any(values: Iterable[Truth]) -> Truth:
    seen = list(values)
    return True if True in seen else (None if None in seen else False)


def path_key(path: str) -> str:
    """A policy or API path as the matching sees it ("/v2.1/servers/{id}" -> "/servers/{}")."""
    path = path.split("?", 1)[0].strip()
    path = _VERSION_PREFIX.sub("", path)
    path = _OWNER_SEGMENT.sub("", path)
    return normalize_path(path or "/")


def audience_from_policies(
    ops: Iterable[Operation], defaults: PolicyDefaults
) -> dict[str, PolicyDecision]:
    """The decision for each operation (by ``Operation.key``) that some default names."""
    evaluator = Evaluator(defaults)
    index: dict[tuple[str, str], list[tuple[str, PolicyDefault]]] = {}
    for policy in defaults.naming():
        for pop in policy.operations:
            index.setdefault((pop.method, path_key(pop.path)), []).append((pop.action, policy))
    out: dict[str, PolicyDecision] = {}
    for op in ops:
        named = index.get((op.method.upper(), path_key(op.path)), [])
        policies = {
            p.name: p for action, p in named if not op.action or not action or action == op.action
        }
        if not policies:
            continue
        verdicts = tuple(evaluator.verdict(p) for p in policies.values())
        out[op.key] = PolicyDecision(_widest(verdicts), verdicts)
    return out


def _widest(verdicts: tuple[PolicyVerdict, ...]) -> Audience | None:
    decided = [v.audience for v in verdicts if v.audience is not None]
    if Audience.EXTERNAL in decided:
        return Audience.EXTERNAL
    if any(v.audience is None and v.project is not False for v in verdicts):
        return None  # an undecided default could make it external
    if not decided:
        return None
    return max(decided, key=lambda a: _RANK[a])
