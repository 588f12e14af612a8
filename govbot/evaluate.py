"""The one decision point: which rules run, at what severity, and what is waived.

flake8's DecisionEngine in govbot's terms. Rule bodies only *find* things (they yield
:class:`~govbot.rules.registry.Hit`); everything that turns a hit into a verdict lives
here, in this order:

1. selection: a rule the policy turns off does not run;
2. severity: the policy's override for the hit's audience, else the rule's default for
   that audience; on *existing* surface (not added or changed by the change under
   review) one step milder, so at most a warning: strict on new or changed surface;
3. placement: file and line on the side the hit is about (the base spec for removals),
   and the link to the rule's documentation;
4. in-spec suppression: ``x-govbot-ignore: [CODE, ...]`` on any object of the spec
   silences those codes at that object and below (on the document root: everywhere);
5. waivers from the policy (rule, path glob, pointer prefix, reason, expiry); an
   expired waiver no longer applies and is itself reported (POL001);
6. containment: a rule that crashes is logged and reported (POL002); the others run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from govbot.findings import Audience, Finding, Severity
from govbot.openapi.model import Spec, split
from govbot.policy import Policy, Waiver, glob_match
from govbot.rules import policy_rules  # noqa: F401  (POL001/POL002 are raised here)
from govbot.rules.registry import CrossContext, DiffContext, Hit, Rule, SpecContext, all_rules

if TYPE_CHECKING:
    from govbot.openapi.audience import Classification
    from govbot.openapi.diff import SpecDiff

LOG = logging.getLogger(__name__)

DEFAULT_DOCS_BASE = "http://127.0.0.1:8080"
IGNORE_KEY = "x-govbot-ignore"
EXPIRED_WAIVER = "POL001"
RULE_CRASHED = "POL002"
# Rule kinds that judge documents other than OpenAPI specs (design specs, commit
# messages); they run through evaluate_documents, never on OpenAPI subjects.
DOCUMENT_KINDS = frozenset({"blueprint", "change"})


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
    docs_base: str = DEFAULT_DOCS_BASE,
    rules: Iterable[Rule] | None = None,
) -> Evaluation:
    """Run every enabled rule on ``subjects`` under ``policy`` and decide the findings."""
    engine = _Engine(policy, today, docs_base.rstrip("/"))
    candidates = list(all_rules() if rules is None else rules)
    for rule in candidates:
        if policy.rule_config(rule.code).enabled:
            engine.run(rule, subjects)
    if rules is None:
        # A loader problem whose code no rule claims is still reported, as the loader rated it.
        known = {r.code for r in candidates}
        for subject in subjects:
            engine.unclaimed_loader_findings(subject, known)
    engine.report_expired_waivers(subjects)
    ordered = sorted(engine.findings, key=sort_key)
    return Evaluation(
        findings=tuple(_unique(ordered)),
        waived=tuple(sorted(engine.waived, key=sort_key)),
        suppressed=tuple(sorted(engine.suppressed, key=sort_key)),
    )


def evaluate_documents(
    contexts: Sequence[Any],
    policy: Policy,
    today: dt.date,
    *,
    docs_base: str = DEFAULT_DOCS_BASE,
    rules: Iterable[Rule] | None = None,
) -> Evaluation:
    """Run the enabled document rules (kinds in DOCUMENT_KINDS) on ``contexts``.

    Each context is a frozen dataclass with ``kind``, ``file`` and ``options`` (see
    :mod:`govbot.rules.blueprints`); a rule runs on the contexts of its kind. Selection,
    severity, waivers and crash containment are decided as for specs; hits carry their
    own ``line``, and findings have no audience.
    """
    engine = _Engine(policy, today, docs_base.rstrip("/"))
    for rule in all_rules() if rules is None else rules:
        if rule.kind not in DOCUMENT_KINDS or not policy.rule_config(rule.code).enabled:
            continue
        for ctx in contexts:
            if ctx.kind == rule.kind:
                engine.run_document(rule, ctx)
    engine.report_expired_waivers((), files={c.file for c in contexts})
    ordered = sorted(engine.findings, key=sort_key)
    return Evaluation(
        findings=tuple(_unique(ordered)),
        waived=tuple(sorted(engine.waived, key=sort_key)),
        suppressed=tuple(sorted(engine.suppressed, key=sort_key)),
    )


def sort_key(f: Finding) -> tuple[Any, ...]:
    """Findings in reading order: by file, line, then severity and rule."""
    return (f.file, f.line or 0, -f.severity.rank, f.rule, f.pointer, f.message)


def severity_of(rule: Rule, policy: Policy, audience: Audience | None, scope: str) -> Severity:
    """The severity of a finding of ``rule`` about ``audience`` surface in ``scope``."""
    severity = policy.rule_config(rule.code).severity_for(audience) or rule.default_severity(
        audience
    )
    if scope == "existing":
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
    def __init__(self, policy: Policy, today: dt.date, docs_base: str) -> None:
        self.policy = policy
        self.today = today
        self.docs_base = docs_base
        self.findings: list[Finding] = []
        self.waived: list[Finding] = []
        self.suppressed: list[Finding] = []
        self.expired_in_use: set[Waiver] = set()

    # --- running rules -------------------------------------------------------------

    def run(self, rule: Rule, subjects: Sequence[Subject]) -> None:
        if rule.code in (EXPIRED_WAIVER, RULE_CRASHED):
            return  # raised by the engine itself, never run
        if rule.kind in DOCUMENT_KINDS:
            return  # not about OpenAPI specs: see evaluate_documents
        options = {**rule.options, **self.policy.rule_config(rule.code).options}
        if self.policy.glossary and "glossary" in rule.options:
            # The glossary is policy-wide (design.md §4.3), not one rule's option.
            options["glossary"] = {**options.get("glossary", {}), **self.policy.glossary}
        if rule.kind == "load":
            for subject in subjects:
                self._loader_findings(rule, subject)
        elif rule.kind == "spec":
            for subject in subjects:
                if subject.deleted or not subject.head.ok:
                    continue
                ctx = SpecContext(
                    spec=subject.head,
                    audience=subject.head_audience,  # type: ignore[arg-type]
                    options=options,
                    touched=subject.touched,
                    base=subject.base if subject.base is not None and subject.base.ok else None,
                    today=self.today,
                )
                self._collect(rule, ctx, subject.head, subject)
        elif rule.kind == "diff":
            for subject in subjects:
                if subject.base is None or subject.diff is None or not subject.base.ok:
                    continue
                if not subject.head.ok:
                    continue
                ctx_d = DiffContext(
                    base=subject.base,
                    head=subject.head,
                    diff=subject.diff,
                    base_audience=subject.base_audience,  # type: ignore[arg-type]
                    head_audience=subject.head_audience,  # type: ignore[arg-type]
                    options=options,
                    today=self.today,
                )
                self._collect(rule, ctx_d, subject.head, subject)
        elif rule.kind == "cross":
            live = [s for s in subjects if not s.deleted and s.head.ok]
            if not live:
                return
            ctx_c = CrossContext(
                specs=tuple(s.head for s in live),
                audiences={
                    s.head.file: s.head_audience for s in live if s.head_audience is not None
                },
                options=options,
                touched={s.head.file: s.touched for s in live},
            )
            self._collect(rule, ctx_c, None, None, live)
        else:  # pragma: no cover - the registry only accepts the four kinds
            LOG.warning("rule %s has unknown kind %r; skipped", rule.code, rule.kind)

    def _collect(
        self,
        rule: Rule,
        ctx: Any,
        spec: Spec | None,
        subject: Subject | None,
        pool: Sequence[Subject] = (),
    ) -> None:
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
                self._decide(self._from_hit(rule, hit, owner), owner)
        except Exception as exc:  # one rule must not sink the others
            where = spec.file if spec is not None else ", ".join(s.head.file for s in pool)
            LOG.error("rule %s crashed on %s: %s: %s", rule.code, where, type(exc).__name__, exc)
            LOG.debug("trace of the crash of rule %s", rule.code, exc_info=True)
            self._crashed(rule, exc, subject or (pool[0] if pool else None), where)

    def run_document(self, rule: Rule, ctx: Any) -> None:
        options = {**rule.options, **self.policy.rule_config(rule.code).options}
        ctx = dataclasses.replace(ctx, options=options)
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
                    help=self.help(rule.code),
                    side=hit.side,
                    scope=hit.scope,
                ).with_fingerprint()
                self._decide(finding, None)
        except Exception as exc:  # one rule must not sink the others
            LOG.error("rule %s crashed on %s: %s: %s", rule.code, ctx.file, type(exc).__name__, exc)
            LOG.debug("trace of the crash of rule %s", rule.code, exc_info=True)
            self._crashed(rule, exc, None, ctx.file)

    def _loader_findings(self, rule: Rule, subject: Subject) -> None:
        override = self.policy.rule_config(rule.code)
        for spec, side, f in _loader_side_findings(subject):
            if f.rule == rule.code:
                self._place_loader_finding(
                    f, spec, side, subject, override.severity_for(f.audience), rule.name
                )

    def unclaimed_loader_findings(self, subject: Subject, known: set[str]) -> None:
        for spec, side, f in _loader_side_findings(subject):
            if f.rule not in known:
                self._place_loader_finding(f, spec, side, subject, None, f.name)

    def _place_loader_finding(
        self,
        f: Finding,
        spec: Spec,
        side: str,
        subject: Subject,
        override: Severity | None,
        name: str,
    ) -> None:
        severity = override or f.severity
        if f.scope == "existing":
            severity = severity.lowered()
        decided = dataclasses.replace(
            f,
            name=f.name or name,
            severity=severity,
            line=f.line if f.line is not None else spec.line(f.file, f.pointer),
            side="base" if side == "base" else f.side,
            help=f.help or self.help(f.rule),
        ).with_fingerprint()
        self._decide(decided, subject)

    def _from_hit(self, rule: Rule, hit: Hit, subject: Subject) -> Finding:
        spec = subject.base if hit.side == "base" and subject.base is not None else subject.head
        file = hit.file or spec.file
        return Finding(
            rule=rule.code,
            name=rule.name,
            severity=severity_of(rule, self.policy, hit.audience, hit.scope),
            message=hit.message,
            file=file,
            line=spec.line(file, hit.pointer),
            pointer=hit.pointer,
            audience=hit.audience,
            help=self.help(rule.code),
            side=hit.side,
            scope=hit.scope,
        ).with_fingerprint()

    def _crashed(self, rule: Rule, exc: Exception, subject: Subject | None, where: str) -> None:
        crash_rule = _registered(RULE_CRASHED)
        if crash_rule is None or not self.policy.rule_config(RULE_CRASHED).enabled:
            return
        spec = subject.head if subject is not None else None
        file = spec.file if spec is not None else where
        finding = Finding(
            rule=RULE_CRASHED,
            name=crash_rule.name,
            severity=severity_of(crash_rule, self.policy, Audience.EXTERNAL, "new"),
            message=(
                f"rule {rule.code} ({rule.name}) crashed on {where}: {type(exc).__name__}: {exc}; "
                "its verdict is missing, the other rules ran"
            ),
            file=file,
            line=None,
            pointer="",
            audience=None,
            help=self.help(RULE_CRASHED),
        ).with_fingerprint()
        self.findings.append(finding)

    def help(self, code: str) -> str:
        return f"{self.docs_base}/rules/{code}"

    # --- suppression and waivers ---------------------------------------------------

    def _decide(self, finding: Finding, subject: Subject | None) -> None:
        if subject is not None:
            spec = (
                subject.base
                if finding.side == "base" and subject.base is not None
                else subject.head
            )
            if _ignored_in_spec(finding, spec, subject.head):
                self.suppressed.append(
                    dataclasses.replace(finding, note=f"{IGNORE_KEY} in the spec")
                )
                return
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
            return
        self.findings.append(finding)

    def report_expired_waivers(
        self, subjects: Sequence[Subject], files: set[str] | None = None
    ) -> None:
        rule = _registered(EXPIRED_WAIVER)
        if rule is None or not self.policy.rule_config(EXPIRED_WAIVER).enabled:
            return
        files = (files or set()) | {s.head.file for s in subjects}
        files |= {s.base.file for s in subjects if s.base is not None}
        for waiver in self.policy.waivers:
            if not waiver.expired(self.today):
                continue
            relevant = waiver in self.expired_in_use or any(
                glob_match(waiver.path, f) for f in files
            )
            if not relevant:
                continue
            assert waiver.expires is not None
            where = f" at {waiver.pointer}" if waiver.pointer else ""
            self.findings.append(
                Finding(
                    rule=EXPIRED_WAIVER,
                    name=rule.name,
                    severity=severity_of(rule, self.policy, Audience.EXTERNAL, "new"),
                    message=(
                        f"waiver of {waiver.rule} for {waiver.path}{where} expired on "
                        f"{waiver.expires.isoformat()} ({waiver.reason}); it no longer applies: "
                        "fix the findings, or renew or remove the waiver"
                    ),
                    file=waiver.source,
                    line=waiver.line,
                    pointer="",
                    audience=None,
                    help=self.help(EXPIRED_WAIVER),
                ).with_fingerprint()
            )


def _loader_side_findings(subject: Subject) -> Iterator[tuple[Spec, str, Finding]]:
    """The loader's findings of a subject: the head's, and the base's when it explains something.

    A head problem the base had already (same rule, place and message) is on existing
    surface: a change is not blamed for what it did not introduce.
    """
    if not subject.deleted:
        before: set[tuple[str, str, str]] = set()
        if subject.base is not None:
            before = {
                _loader_key(f, subject.base.file, subject.head.file) for f in subject.base.findings
            }
        for f in subject.head.findings:
            if before and _loader_key(f, "", "") in before:
                f = dataclasses.replace(f, scope="existing")
            yield subject.head, "head", f
    # A base that does not load explains why there is no compatibility verdict (unless
    # the spec is gone anyway).
    if subject.base is not None and not subject.base.ok and not subject.deleted:
        for f in subject.base.findings:
            yield subject.base, "base", f


def _loader_key(f: Finding, old_file: str, new_file: str) -> tuple[str, str, str]:
    """What identifies a loader problem across two versions of a spec (file names aside)."""
    message = f.message.replace(old_file, new_file) if old_file else f.message
    file = new_file if old_file and f.file == old_file else f.file
    return (f.rule, f"{file}#{f.pointer}", message)


def _registered(code: str) -> Rule | None:
    from govbot.rules.registry import _REGISTRY

    return _REGISTRY.get(code)


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


def _lists(node: Any, code: str) -> bool:
    if not isinstance(node, Mapping):
        return False
    value = node.get(IGNORE_KEY)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return False
    return any(isinstance(v, str) and v.strip().upper() == code for v in value)
