"""The one harness behind the rule fixtures in ``tests/rules/<CODE>/<scenario>/``.

A scenario of an OpenAPI rule holds either ``base.*`` (one spec, checked on its own:
all surface is new), ``base.*`` + ``revision.*`` (the revision is checked; the diff says
which operations are new or changed, the rest is existing surface), or ``specs/*.yaml``
(several specs, for a cross-spec rule). A scenario of an OpenStack project holds the
directories ``base/`` (and ``revision/``): each a project with an api-ref tree under
``api-ref/source`` and, as the scenario needs, policy defaults, a microversion ledger
and release notes; its findings also name their ``file`` and ``line``. ``options.yaml`` (optional) overrides the rule's
default options and ``policy.yaml`` is merged after the default policy, as a policy
would. A scenario of a document rule (BPR) holds a design spec (``spec.rst`` or
``spec.md``, optionally ``template.rst``) or a change (``commit-message.txt``, optionally
``files.txt``, ``topic.txt``, ``specs-repo/``, ``blueprints.yaml``).

``expected.yaml`` lists the findings, ``[]`` for none: ``{rule, pointer[, side, severity,
file, scope, line, message_contains]}``. Every scenario runs through the whole
pipeline as ``govbot check`` or the spec review runs it (:func:`through_pipeline`,
:func:`document_findings`); a CON, DEP or BPR scenario also runs its rule alone,
straight from the catalogue (:func:`rule_alone`, :func:`document_rule_alone`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from govbot.apiref.tree import find_api_ref_trees, read_api_ref
from govbot.audience import classify
from govbot.blueprints import (
    BlueprintConfig,
    ResolvedSpec,
    assess_change,
    judge_file,
    resolve_specs,
)
from govbot.diff import diff_specs
from govbot.findings import Audience, Finding, Scope, Severity
from govbot.openapi.load import load_spec
from govbot.policy import Policy, load_policy
from govbot.rules.blueprints import ChangeContext, DesignContext
from govbot.rules.catalog import all_rules, get_rule
from govbot.rules.registry import (
    API_SIG,
    GENERIC,
    CrossContext,
    DiffContext,
    Hit,
    Kind,
    LoadContext,
    Rule,
    SpecContext,
)
from govbot.services.check import check_files
from govbot.services.spec_review import check_specs, review_change_blueprints
from govbot.surface import Spec, operations

FIXTURES = Path(__file__).parent
POLICIES = FIXTURES.parents[1] / "policies"
# The fixtures use sunset dates in 2000 (past) and 2099 (future), so any "today" in
# between gives the same findings; a fixed date keeps the tests deterministic.
TODAY = dt.date(2026, 1, 15)
_INTERNAL = {"company-internal", "business-unit-internal", "component-internal", "internal"}


class Audiences:
    """A stand-in for ``audience.Classification``: op-level ``x-internal``/``x-audience`` only.

    A rule alone is judged on its own logic, not on the classifier's; the pipeline run
    uses the real classification.
    """

    def __init__(self, spec: Spec) -> None:
        self._by_key: dict[str, Audience] = {}
        for op in operations(spec):
            marker = op.value.get("x-audience")
            if op.value.get("x-internal") is True or marker in _INTERNAL:
                self._by_key[op.key] = Audience.INTERNAL
            elif marker == "external-admin":
                self._by_key[op.key] = Audience.EXTERNAL_ADMIN

    def of(self, op_key: str | None) -> Audience:
        return self._by_key.get(op_key or "", Audience.EXTERNAL)


# --- scenarios -----------------------------------------------------------------------------


def scenarios(*families: str) -> list[Path]:
    """Every scenario of the rules of ``families`` (all of them without any)."""
    found = sorted(
        p.parent for p in FIXTURES.glob("[A-Z][A-Z][A-Z][0-9][0-9][0-9]/*/expected.yaml")
    )
    return [s for s in found if not families or s.parent.name[:3] in families]


def is_openapi(scenario: Path) -> bool:
    """An OpenAPI scenario (spec files), not a design spec or a change."""
    return (scenario / "specs").is_dir() or any(scenario.glob("base.*")) or is_project(scenario)


def is_project(scenario: Path) -> bool:
    """A scenario of OpenStack projects (``base/``, ``revision/``): api-ref, policies, ledger."""
    return (scenario / "base").is_dir()


def expected(scenario: Path) -> list[dict[str, Any]]:
    return yaml.safe_load((scenario / "expected.yaml").read_text()) or []


def rule_of(scenario: Path) -> Rule:
    rule = get_rule(scenario.parent.name)
    assert rule is not None, f"{scenario}: no rule {scenario.parent.name}"
    return rule


def family(prefix: str) -> list[Rule]:
    return [r for r in all_rules() if r.family == prefix]


def _one(scenario: Path, stem: str) -> Path | None:
    found = sorted(scenario.glob(f"{stem}.*"))
    return found[0] if found else None


# --- a rule alone ----------------------------------------------------------------------------


def _options(scenario: Path, rule: Rule) -> dict[str, Any]:
    extra = scenario / "options.yaml"
    overrides = yaml.safe_load(extra.read_text()) if extra.exists() else None
    return {**rule.options, **(overrides or {})}


def _profile(scenario: Path) -> str:
    """The profile a scenario's policy.yaml picks (``profiles: {default: ...}``), else api-sig."""
    extra = scenario / "policy.yaml"
    section = yaml.safe_load(extra.read_text()) if extra.exists() else None
    picked = ((section or {}).get("profiles") or {}).get("default")
    return str(picked) if picked else API_SIG


def _project_spec(project: Path) -> Spec:
    trees = find_api_ref_trees(project / "api-ref")
    assert len(trees) == 1, f"{project}: one api-ref tree expected, found {trees}"
    return read_api_ref(trees[0])


def _project_context(scenario: Path, rule: Rule) -> tuple[Any, Spec, Spec | None]:
    """A project scenario's context, its head spec and its base spec (when it has one)."""
    options = _options(scenario, rule)
    config = load_policy(POLICIES / "default.yaml").audience
    base = _project_spec(scenario / "base")
    head = _project_spec(scenario / "revision") if (scenario / "revision").is_dir() else None
    if rule.kind is Kind.LOAD:
        return LoadContext(head or base, base if head else None), head or base, base
    if head is None:
        assert rule.kind is Kind.SPEC, f"{scenario}: a diff rule needs a revision"
        return SpecContext(base, classify(base, config), options), base, None
    diff = diff_specs(base, head)
    if rule.kind is Kind.DIFF:
        ctx = DiffContext(
            base, head, diff, classify(base, config), classify(head, config), options, TODAY
        )
        return ctx, head, base
    touched = diff.touched
    return SpecContext(head, classify(head, config), options, touched, base, TODAY), head, base


def _context(scenario: Path, rule: Rule) -> tuple[Any, str]:
    """The context to run ``rule`` in, and the file its hits default to."""
    if is_project(scenario):
        ctx, head, _ = _project_context(scenario, rule)
        return ctx, head.file
    options = _options(scenario, rule)
    if rule.kind is Kind.CROSS:
        folder = scenario / "specs"
        specs = tuple(load_spec(p, root=folder) for p in sorted(folder.glob("*.yaml")))
        assert specs, f"{scenario}: a cross rule needs specs/*.yaml"
        audiences: Any = {s.file: Audiences(s) for s in specs}
        return CrossContext(specs, audiences, options), specs[0].file
    base_path, revision = _one(scenario, "base"), _one(scenario, "revision")
    assert base_path is not None, f"{scenario}: no base spec"
    base = load_spec(base_path, root=scenario)
    if rule.kind is Kind.LOAD:
        head = load_spec(revision, root=scenario) if revision else base
        return LoadContext(head, base if revision else None), head.file
    if revision is None:
        assert rule.kind is Kind.SPEC, f"{scenario}: a diff rule needs a revision"
        ctx_b = SpecContext(
            base, Audiences(base), options, None, None, TODAY, profile=_profile(scenario)
        )  # type: ignore[arg-type]
        return ctx_b, base.file
    head = load_spec(revision, root=scenario)
    diff = diff_specs(base, head)
    if rule.kind is Kind.DIFF:
        audiences_b, audiences_h = Audiences(base), Audiences(head)
        ctx = DiffContext(base, head, diff, audiences_b, audiences_h, options, TODAY)  # type: ignore[arg-type]
        return ctx, head.file
    ctx_s = SpecContext(
        head, Audiences(head), options, diff.touched, base, TODAY, profile=_profile(scenario)
    )  # type: ignore[arg-type]
    return ctx_s, head.file


def _verdict(rule: Rule, hit: Hit, default_file: str, line: int | None = None) -> dict[str, Any]:
    """A hit as the evaluator would rate it without policy overrides."""
    severity = rule.default_severity(hit.audience)
    if hit.scope == Scope.EXISTING:
        severity = severity.lowered()
    if hit.advisory:
        severity = Severity.INFO
    return {
        "rule": rule.code,
        "pointer": hit.pointer,
        "file": hit.file or default_file,
        "side": str(hit.side),
        "severity": str(severity),
        "scope": str(hit.scope),
        "message": hit.message,
        "line": hit.line if hit.line is not None else line,
    }


def rule_alone(scenario: Path, rule: Rule | None = None) -> list[dict[str, Any]]:
    """The findings of ``rule`` (default: the scenario's own) run alone on the scenario."""
    rule = rule or rule_of(scenario)
    if is_project(scenario):
        ctx, head, base = _project_context(scenario, rule)
        out = []
        for hit in rule.run(ctx):
            spec = base if hit.side == "base" and base is not None else head
            file = hit.file or spec.file
            out.append(_verdict(rule, hit, spec.file, spec.line(file, hit.pointer)))
        return out
    ctx, default_file = _context(scenario, rule)
    return [_verdict(rule, hit, default_file) for hit in rule.run(ctx)]


# --- the pipeline ----------------------------------------------------------------------------


def through_pipeline(scenario: Path, tmp_path: Path) -> list[Finding]:
    """The scenario as ``govbot check`` sees it, under the default policy (plus its own)."""
    code = scenario.parent.name
    policy_dir = tmp_path / "policy"
    policy_dir.mkdir()
    shutil.copy(POLICIES / "default.yaml", policy_dir / "00-default.yaml")
    entry: dict[str, Any] = {"enabled": True}
    if (scenario / "options.yaml").exists():
        entry["options"] = yaml.safe_load((scenario / "options.yaml").read_text()) or {}
    if code[:3] in ("DEP", "CON", "MVR", "AUD"):
        # The scenario's rule runs under a profile it belongs to (api-sig first, the
        # guidelines the fixtures were written for); a scenario's policy.yaml may pick another.
        profiles = get_rule(code).profiles  # type: ignore[union-attr]
        profile = API_SIG if API_SIG in profiles else GENERIC
        section = {"rules": {code: entry}, "profiles": {"default": profile}}
        (policy_dir / "50-rule.yaml").write_text(yaml.safe_dump(section))
    if (scenario / "policy.yaml").exists():
        shutil.copy(scenario / "policy.yaml", policy_dir / "90-scenario.yaml")
    policy = load_policy(policy_dir)
    if is_project(scenario):
        head = scenario / "revision"
        heads, bases = (
            ([head], [scenario / "base"]) if head.is_dir() else ([scenario / "base"], None)
        )
        return list(check_files(heads, base_files=bases, policy=policy, today=TODAY).findings)
    if (scenario / "specs").is_dir():
        report = check_files([scenario / "specs"], policy=policy, today=TODAY, root=scenario)
        return list(report.findings)
    base, revision = _one(scenario, "base"), _one(scenario, "revision")
    assert base is not None, f"{scenario}: no base spec"
    heads, bases = ([revision], [base]) if revision is not None else ([base], None)
    report = check_files(heads, base_files=bases, policy=policy, today=TODAY, root=scenario)
    return list(report.findings)


# --- design specs and changes ----------------------------------------------------------------


def _document_policy(scenario: Path) -> Policy:
    policy = load_policy(POLICIES / "default.yaml")
    extra = scenario / "blueprints.yaml"
    if extra.exists():
        section = yaml.safe_load(extra.read_text())
        policy = dataclasses.replace(policy, blueprints=BlueprintConfig.from_section(section))
    return policy


def _spec_file(scenario: Path) -> Path | None:
    return next((scenario / n for n in ("spec.rst", "spec.md") if (scenario / n).exists()), None)


@dataclasses.dataclass(frozen=True)
class _Change:
    """A change scenario: its message, files, topic and the specs repository to look in."""

    message: str
    files: list[str]
    topic: str | None
    lookup: Callable[[str], list[ResolvedSpec]] | None


def _change(scenario: Path, config: BlueprintConfig) -> _Change:
    files_txt, topic_txt = scenario / "files.txt", scenario / "topic.txt"
    repo = scenario / "specs-repo"
    lookup = None
    if repo.is_dir():
        paths = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file())

        def lookup(name: str) -> list[ResolvedSpec]:
            return resolve_specs(name, paths, lambda p: (repo / p).read_bytes(), config)

    return _Change(
        (scenario / "commit-message.txt").read_text(encoding="utf-8"),
        files_txt.read_text().split() if files_txt.exists() else [],
        topic_txt.read_text().strip() if topic_txt.exists() else None,
        lookup,
    )


def document_findings(scenario: Path) -> list[Finding]:
    """The BPR findings of a design-spec or change scenario, under the default policy, as
    the spec review service decides them (every BPR rule through the evaluator)."""
    policy = _document_policy(scenario)
    spec = _spec_file(scenario)
    if spec is not None:
        (report,) = check_specs([spec], policy, today=TODAY)
        return list(report.findings)
    c = _change(scenario, policy.blueprints)
    evaluation = review_change_blueprints(
        c.message, c.files, policy, topic=c.topic, lookup=c.lookup, today=TODAY
    )
    return list(evaluation.findings)


def document_rule_alone(scenario: Path) -> list[Hit]:
    """The hits of the scenario's own BPR rule, run alone straight from the catalogue."""
    rule = rule_of(scenario)
    config = _document_policy(scenario).blueprints
    options = _options(scenario, rule)
    spec = _spec_file(scenario)
    ctx: DesignContext | ChangeContext
    if spec is not None:
        doc, verdict = judge_file(spec, config)
        ctx = DesignContext(verdict.file, doc, verdict, config, options)
    else:
        c = _change(scenario, config)
        assessment = assess_change(
            c.message, c.files, topic=c.topic, lookup=c.lookup, config=config
        )
        ctx = ChangeContext(assessment, options=options)
    assert ctx.kind is rule.kind, f"{scenario}: a {rule.kind} rule cannot read a {ctx.kind}"
    return list(rule.run(ctx))


# --- comparing -------------------------------------------------------------------------------


def key_of(item: Mapping[str, Any], fields: tuple[str, ...], defaults: Mapping[str, Any]) -> tuple:
    return tuple(str(item.get(f, defaults.get(f, ""))) for f in fields)
