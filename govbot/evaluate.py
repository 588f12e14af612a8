"""The one decision point: which rules run, at what severity, and what is waived.

flake8's DecisionEngine in govbot's terms. Rule bodies only *find* things (they yield
:class:`~govbot.rules.registry.Hit`); everything that turns a hit into a verdict lives
here, in this order:

1. selection: a rule the policy turns off does not run;
2. severity: the policy's override for the hit's audience, else the rule's default for
   that audience; on *existing* surface (not added or changed by the change under
   review) one step milder, so at most a warning: strict on new or changed surface;
3. placement: file and line on the side the hit is about (the base spec for removals);
4. in-spec suppression: ``x-govbot-ignore: [CODE, ...]`` on any object of the spec
   silences those codes at that object and below (on the document root: everywhere);
5. waivers from the policy (rule, path glob, pointer prefix, reason, expiry); an
   expired waiver no longer applies and is itself reported (POL001);
6. containment: a rule that crashes is logged and reported (POL002); the others run;
7. one finding per cause: hits of one consistency rule with the same cause (the same
   defect reached through several ``$ref`` copies or inlined duplicates) become one
   finding at its strictest place, the other places listed (``Finding.locations``).

Selection also follows the policy's rule profile (``api-sig``, ``generic``, or ``auto``:
by the spec's own conventions): a rule runs on a spec only if it belongs to the
spec's profile. Scope is the hit's: the consistency rules rate each finding by the
element it is about (:mod:`govbot.rules.consistency.changes`), so old debt of an
operation the change touched stays existing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govbot.audience import Classification
from govbot.diff import SpecDiff
from govbot.findings import Audience, Finding, Location, Scope, Severity, Side, fingerprint_of
from govbot.paths import glob_match
from govbot.policy import Policy, Waiver
from govbot.rules.consistency.index import spec_index
from govbot.rules.policy_rules import EXPIRED_WAIVER, RULE_CRASHED
from govbot.rules.registry import (
    API_SIG,
    AUTO,
    GENERIC,
    CrossContext,
    DiffContext,
    DocumentContext,
    Hit,
    Kind,
    LoadContext,
    Rule,
    SpecContext,
    operation_ref,
)
from govbot.surface import Spec, mentions, operation_at, split

LOG = logging.getLogger(__name__)

IGNORE_KEY = "x-govbot-ignore"
# Rule kinds that judge documents other than OpenAPI specs (design specs, commit
# messages); they run through evaluate_documents, never on OpenAPI subjects.
DOCUMENT_KINDS = frozenset({Kind.BLUEPRINT, Kind.CHANGE})
# Rule kinds whose hits are grouped by cause (one finding per defect, its copies listed).
GROUPED_KINDS = frozenset({Kind.SPEC, Kind.CROSS})
_SCOPE_RANK = {Scope.EXISTING: 0, Scope.CHANGED: 1, Scope.NEW: 2}


@dataclass(frozen=True)
class Subject:
    """One spec of a check: its head, and its base when the check compares two versions.

    ``deleted`` marks a spec removed by the change: ``head`` is then an empty stand-in
    (no paths), so that the diff reports every operation as removed, and rules about a
    single spec do not run on it.
    """

    head: Spec
    head_audience: Classification | None = None
    base: Spec | None = None
    base_audience: Classification | None = None
    diff: SpecDiff | None = None
    deleted: bool = False

    @property
    def touched(self) -> frozenset[str] | None:
        """Operation keys added or changed; None when there is no base (all surface is new)."""
        if self.base is None or not self.base.ok:
            return None
        if self.diff is None:
            return None
        return frozenset(self.diff.touched)


def profile_of(subject: Subject, policy: Policy) -> str:
    """The rule profile ``subject`` is judged under: the policy's, or by the spec (auto).

    ``auto`` picks the API-SIG profile for a spec that follows OpenStack's conventions
    (an ``x-openstack`` extension, or "OpenStack" in its title), else the generic one.
    """
    name = policy.active_profile
    if name != AUTO:
        return name
    spec = subject.head if subject.head.ok else subject.base
    if spec is None or not spec.ok:
        return GENERIC
    return API_SIG if spec_index(spec).openstack else GENERIC


@dataclass(frozen=True)
class Evaluation:
    """The verdict of one evaluation: the findings, and what was kept quiet and why.

    Iterating over it (or ``len()``) gives the findings, so it reads like the list of
    findings it mostly is.
    """

    findings: tuple[Finding, ...]
    waived: tuple[Finding, ...] = ()
    suppressed: tuple[Finding, ...] = ()

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)


def evaluate(
    subjects: Sequence[Subject],
    policy: Policy,
    today: dt.date,
    *,
    rules: Iterable[Rule] | None = None,
    columns: bool = True,
) -> Evaluation:
    """Run every enabled rule on ``subjects`` under ``policy`` and decide the findings.

    ``rules`` defaults to the policy's catalogue. ``columns=False``: the findings are
    placed on their lines only (a column costs measuring a minified document's
    containers on the finding's way; the index stores lines).
    """
    engine = _Engine(policy, today, columns=columns)
    for rule in policy.catalog if rules is None else rules:
        if rule.engine or rule.kind in DOCUMENT_KINDS:
            continue  # raised by the engine itself; documents: see evaluate_documents
        if policy.rule_config(rule.code).enabled:
            _RUNNERS[rule.kind](engine, rule, subjects)
    engine.report_expired_waivers(subjects)
    return engine.evaluation()


def evaluate_documents(
    contexts: Sequence[DocumentContext],
    policy: Policy,
    today: dt.date,
    *,
    rules: Iterable[Rule] | None = None,
) -> Evaluation:
    """Run the enabled document rules (kinds in DOCUMENT_KINDS) on ``contexts``.

    Each context is a frozen dataclass with ``kind``, ``file`` and ``options`` (see
    :mod:`govbot.rules.blueprints`); a rule runs on the contexts of its kind. Selection,
    severity, waivers and crash containment are decided as for specs; hits carry their
    own ``line``, and findings have no audience.
    """
    engine = _Engine(policy, today)
    for rule in policy.catalog if rules is None else rules:
        if rule.kind not in DOCUMENT_KINDS or not policy.rule_config(rule.code).enabled:
            continue
        for ctx in contexts:
            if ctx.kind == rule.kind:
                engine.run_document(rule, ctx)
    engine.report_expired_waivers((), files={c.file for c in contexts})
    return engine.evaluation()


def sort_key(f: Finding) -> tuple[Any, ...]:
    """Findings in reading order: by file, line, then severity and rule."""
    return (f.file, f.line or 0, -f.severity.rank, f.rule, f.pointer, f.message)


def severity_of(rule: Rule, policy: Policy, audience: Audience | None, scope: Scope) -> Severity:
    """The severity of a finding of ``rule`` about ``audience`` surface in ``scope``."""
    severity = policy.rule_config(rule.code).severity_for(audience) or rule.default_severity(
        audience
    )
    if scope == Scope.EXISTING:
        # Long-lived APIs break many guidelines: strict on what the change adds or
        # touches, a warning at most on what was already there.
        severity = severity.lowered()
    return severity


def _unique(findings: Iterable[Finding]) -> Iterator[Finding]:
    seen: set[tuple[Any, ...]] = set()
    for f in findings:
        key = (f.rule, f.file, f.line, f.pointer, f.message, f.side)
        if key not in seen:
            seen.add(key)
            yield f


class _Engine:
    """The findings of one evaluation as they are decided, and what was kept quiet."""

    def __init__(self, policy: Policy, today: dt.date, *, columns: bool = True) -> None:
        self.policy = policy
        self.today = today
        self.columns = columns
        self.findings: list[Finding] = []
        self.waived: list[Finding] = []
        self.suppressed: list[Finding] = []
        self.expired_in_use: set[Waiver] = set()

    def evaluation(self) -> Evaluation:
        return Evaluation(
            findings=tuple(_unique(sorted(self.findings, key=sort_key))),
            waived=tuple(sorted(self.waived, key=sort_key)),
            suppressed=tuple(sorted(self.suppressed, key=sort_key)),
        )

    def options(self, rule: Rule) -> dict[str, Any]:
        """The rule's options, the policy's over its defaults."""
        options = {**rule.options, **self.policy.rule_config(rule.code).options}
        if self.policy.glossary and "glossary" in rule.options:
            # The glossary is policy-wide (the policy's ``glossary`` section), not one
            # rule's option.
            options["glossary"] = {**options.get("glossary", {}), **self.policy.glossary}
        return options

    # --- running rules, one function per kind (_RUNNERS) ------------------------------

    def run_load(self, rule: Rule, subjects: Sequence[Subject]) -> None:
        options = self.options(rule)
        for subject in subjects:
            ctx = LoadContext(subject.head, subject.base, subject.deleted, options)
            self.collect(rule, ctx, subject.head.file, subject)

    def run_spec(self, rule: Rule, subjects: Sequence[Subject]) -> None:
        options = self.options(rule)
        for subject in subjects:
            if subject.deleted or not subject.head.ok or subject.head_audience is None:
                continue
            profile = profile_of(subject, self.policy)
            if profile not in rule.profiles:
                continue
            base = subject.base
            ctx = SpecContext(
                spec=subject.head,
                audience=subject.head_audience,
                options=options,
                touched=subject.touched,
                base=base if base is not None and base.ok else None,
                today=self.today,
                profile=profile,
            )
            self.collect(rule, ctx, subject.head.file, subject)

    def run_diff(self, rule: Rule, subjects: Sequence[Subject]) -> None:
        options = self.options(rule)
        for subject in subjects:
            base, diff = subject.base, subject.diff
            if base is None or diff is None or not base.ok or not subject.head.ok:
                continue
            if subject.base_audience is None or subject.head_audience is None:
                continue
            ctx = DiffContext(
                base=base,
                head=subject.head,
                diff=diff,
                base_audience=subject.base_audience,
                head_audience=subject.head_audience,
                options=options,
                today=self.today,
            )
            self.collect(rule, ctx, subject.head.file, subject)

    def run_cross(self, rule: Rule, subjects: Sequence[Subject]) -> None:
        live = [s for s in subjects if not s.deleted and s.head.ok]
        profiles = {s.head.file: profile_of(s, self.policy) for s in live}
        live = [s for s in live if profiles[s.head.file] in rule.profiles]
        if not live:
            return
        ctx = CrossContext(
            specs=tuple(s.head for s in live),
            audiences={s.head.file: s.head_audience for s in live if s.head_audience is not None},
            options=self.options(rule),
            touched={s.head.file: s.touched for s in live},
            bases={
                s.head.file: s.base
                for s in live
                if s.base is not None and s.base.ok and s.touched is not None
            },
            profile=API_SIG if API_SIG in profiles.values() else GENERIC,
        )
        self.collect(rule, ctx, ", ".join(s.head.file for s in live), None, live)

    def collect(
        self,
        rule: Rule,
        ctx: LoadContext | SpecContext | DiffContext | CrossContext,
        where: str,
        subject: Subject | None,
        pool: Sequence[Subject] = (),
    ) -> None:
        """Decide every hit of ``rule`` on ``ctx``; a crash is contained and reported.

        The hits of a consistency rule are grouped by cause (:func:`_by_cause`) once
        each was decided on its own (a waiver or ``x-govbot-ignore`` at one copy drops
        that copy).
        """
        kept: list[tuple[str | None, Finding]] = []
        try:
            for hit in rule.run(ctx):
                owner = subject or _owner(hit, pool)
                if owner is None:
                    LOG.warning(
                        "rule %s reported a hit in %s, which is not in this check",
                        rule.code,
                        hit.file,
                    )
                    continue
                finding = self.from_hit(rule, hit, owner)
                if self.decide(finding, owner, keep=False):
                    kept.append((hit.cause, finding))
        except Exception as exc:  # one rule must not sink the others
            self.crashed(rule, exc, subject or (pool[0] if pool else None), where)
        finally:
            if rule.kind in GROUPED_KINDS:
                self.findings.extend(_by_cause(kept))
            else:
                self.findings.extend(f for _, f in kept)

    def run_document(self, rule: Rule, ctx: DocumentContext) -> None:
        ctx = dataclasses.replace(ctx, options=self.options(rule))  # type: ignore[type-var]
        try:
            for hit in rule.run(ctx):
                finding = Finding(
                    rule=rule.code,
                    name=rule.name,
                    severity=severity_of(rule, self.policy, None, hit.scope),
                    message=hit.message,
                    file=hit.file or ctx.file,
                    line=hit.line,
                    pointer=hit.pointer,
                    audience=None,
                    side=hit.side,
                    scope=hit.scope,
                ).with_fingerprint()
                self.decide(finding, None)
        except Exception as exc:  # one rule must not sink the others
            self.crashed(rule, exc, None, ctx.file)

    def from_hit(self, rule: Rule, hit: Hit, subject: Subject) -> Finding:
        spec = subject.base if hit.side == Side.BASE and subject.base is not None else subject.head
        file = hit.file or spec.file
        # Draft or alpha surface: reported, never held against the change.
        severity = (
            Severity.INFO
            if hit.advisory
            else severity_of(rule, self.policy, hit.audience, hit.scope)
        )
        line = hit.line if hit.line is not None else spec.line(file, hit.pointer)
        operation = hit.operation
        if operation is None and hit.audience is not None and spec.ok:
            op = operation_at(spec, file, hit.pointer)
            operation = operation_ref(op) if op is not None else None
        return Finding(
            rule=rule.code,
            name=rule.name,
            severity=severity,
            message=hit.message,
            file=file,
            line=line,
            pointer=hit.pointer,
            audience=hit.audience,
            side=hit.side,
            scope=hit.scope,
            note=hit.advisory,
            column=column_of(spec, file, hit.pointer)
            if hit.line is None and self.columns
            else None,
            operation=operation,
            fingerprint=fingerprint_of(rule.code, file, hit.pointer, hit.message),
        )

    def crashed(self, rule: Rule, exc: Exception, subject: Subject | None, where: str) -> None:
        LOG.error("rule %s crashed on %s: %s: %s", rule.code, where, type(exc).__name__, exc)
        LOG.debug("trace of the crash of rule %s", rule.code, exc_info=True)
        if not self.policy.rule_config(RULE_CRASHED.code).enabled:
            return
        file = subject.head.file if subject is not None else where
        finding = Finding(
            rule=RULE_CRASHED.code,
            name=RULE_CRASHED.name,
            severity=severity_of(RULE_CRASHED, self.policy, Audience.EXTERNAL, Scope.NEW),
            message=(
                f"rule {rule.code} ({rule.name}) crashed on {where}: {type(exc).__name__}: {exc}; "
                "its verdict is missing, the other rules ran"
            ),
            file=file,
            line=None,
            pointer="",
            audience=None,
        ).with_fingerprint()
        self.findings.append(finding)

    # --- suppression and waivers ---------------------------------------------------

    def decide(self, finding: Finding, subject: Subject | None, *, keep: bool = True) -> bool:
        """Suppress, waive or keep ``finding``; True when it is kept (``keep``: recorded)."""
        if subject is not None:
            spec = (
                subject.base
                if finding.side == Side.BASE and subject.base is not None
                else subject.head
            )
            if _ignored_in_spec(finding, spec, subject.head):
                self.suppressed.append(
                    dataclasses.replace(finding, note=f"{IGNORE_KEY} in the spec")
                )
                return False
        for waiver in self.policy.waivers:
            if not waiver.covers(finding.rule, finding.file, finding.pointer):
                continue
            if waiver.expired(self.today):
                self.expired_in_use.add(waiver)
                continue
            note = f"waived: {waiver.reason}"
            if waiver.expires is not None:
                note += f" (until {waiver.expires.isoformat()})"
            self.waived.append(dataclasses.replace(finding, note=note))
            return False
        if keep:
            self.findings.append(finding)
        return True

    def report_expired_waivers(
        self, subjects: Sequence[Subject], files: set[str] | None = None
    ) -> None:
        if not self.policy.rule_config(EXPIRED_WAIVER.code).enabled:
            return
        files = (files or set()) | {s.head.file for s in subjects}
        files |= {s.base.file for s in subjects if s.base is not None}
        for waiver in self.policy.waivers:
            if waiver.expires is None or not waiver.expired(self.today):
                continue
            relevant = waiver in self.expired_in_use or any(
                glob_match(waiver.path, f) for f in files
            )
            if not relevant:
                continue
            where = f" at {waiver.pointer}" if waiver.pointer else ""
            self.findings.append(
                Finding(
                    rule=EXPIRED_WAIVER.code,
                    name=EXPIRED_WAIVER.name,
                    severity=severity_of(EXPIRED_WAIVER, self.policy, Audience.EXTERNAL, Scope.NEW),
                    message=(
                        f"waiver of {waiver.rule} for {waiver.path}{where} expired on "
                        f"{waiver.expires.isoformat()} ({waiver.reason}); it no longer applies: "
                        "fix the findings, or renew or remove the waiver"
                    ),
                    file=waiver.source,
                    line=waiver.line,
                    pointer="",
                    audience=None,
                ).with_fingerprint()
            )


# How each kind of rule runs on a check's subjects (document kinds: evaluate_documents).
_RUNNERS: Mapping[Kind, Callable[[_Engine, Rule, Sequence[Subject]], None]] = {
    Kind.LOAD: _Engine.run_load,
    Kind.SPEC: _Engine.run_spec,
    Kind.DIFF: _Engine.run_diff,
    Kind.CROSS: _Engine.run_cross,
}


def column_of(spec: Spec, file: str, pointer: str) -> int | None:
    """The column of ``pointer`` in ``file`` (its nearest ancestor's), where the line map
    knows columns (JSON documents: a minified spec is one line)."""
    lookup = spec.lines.get(file)
    column = getattr(lookup, "column", None)
    if column is None:
        return None
    while True:
        found = column(pointer)
        if found is not None or not pointer:
            return found  # type: ignore[no-any-return]
        pointer = pointer.rsplit("/", 1)[0]


def _by_cause(kept: Sequence[tuple[str | None, Finding]]) -> list[Finding]:
    """One finding per (cause, side): the strictest place, the others as its locations.

    Linear: one pass to group, one sort per group of copies.
    """
    groups: dict[tuple[str, str], list[Finding]] = {}
    for cause, f in kept:
        groups.setdefault((cause or f.message, str(f.side)), []).append(f)
    out: list[Finding] = []
    for group in groups.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        group.sort(key=lambda f: (-_SCOPE_RANK[f.scope], -f.severity.rank, sort_key(f)))
        first, rest = group[0], group[1:]
        rest.sort(key=sort_key)
        locations = tuple(Location(f.file, f.line, f.pointer, f.column) for f in rest)
        out.append(dataclasses.replace(first, locations=locations))
    return out


def _owner(hit: Hit, pool: Sequence[Subject]) -> Subject | None:
    """The subject a cross-spec hit belongs to (by its file; the first spec by default)."""
    if hit.file is None:
        return pool[0] if pool else None
    for s in pool:
        if hit.file == s.head.file or hit.file in s.head.documents:
            return s
    return None


def _ignored_in_spec(finding: Finding, spec: Spec, head: Spec) -> bool:
    """Whether ``x-govbot-ignore`` on the finding's object, an ancestor or a root covers it."""
    if not _may_ignore(spec) and not _may_ignore(head):
        return False  # the key is written nowhere: nothing to look for, hit after hit
    code = finding.rule
    if _lists(head.data, code) or _lists(spec.data, code):
        return True
    doc = spec.documents.get(finding.file)
    if doc is None and finding.file == spec.file:
        doc = spec.data
    if doc is None:
        return False
    node: Any = doc
    if _lists(node, code):
        return True
    for token in split(finding.pointer):
        try:
            node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, TypeError, ValueError):
            return False
        if _lists(node, code):
            return True
    return False


def _may_ignore(spec: Spec) -> bool:
    """Whether ``x-govbot-ignore`` may be written in a document of ``spec`` (worked out
    once per spec: a search of every document)."""
    known = spec.__dict__.get(_MAY_IGNORE)
    if known is None:
        documents = spec.documents
        known = spec.file not in documents or any(mentions(spec, f, IGNORE_KEY) for f in documents)
        spec.__dict__[_MAY_IGNORE] = known
    return bool(known)


_MAY_IGNORE = "_govbot_may_ignore"


def _lists(node: Any, code: str) -> bool:
    if not isinstance(node, Mapping):
        return False
    value = node.get(IGNORE_KEY)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return False
    return any(isinstance(v, str) and v.strip().upper() == code for v in value)
