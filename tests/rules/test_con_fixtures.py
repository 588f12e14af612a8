"""The CON rules against their fixtures in ``tests/rules/CON*/<scenario>/``.

A scenario holds either ``base.yaml`` (one spec, checked on its own: all surface is new),
``base.yaml`` + ``revision.yaml`` (the revision is checked; the diff says which operations
are new or changed, the rest is existing surface), or ``specs/*.yaml`` (several specs for
a cross-spec rule). ``options.yaml`` (optional) overrides the rule's default options, as a
policy would. ``expected.yaml`` lists ``{rule, pointer, severity[, file, scope,
message_contains]}`` (``[]`` for none); ``severity`` is the one the evaluator gives without
policy overrides: the rule's default for the audience, one step milder on existing surface.

The rule of the directory runs alone, straight from the registry. Scenarios named
``idiomatic-*`` also run every other single-spec CON rule and expect nothing at all: they
prove the rules stay quiet on a spec that follows the guidelines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

import govbot.rules.consistency  # registers CON001-CON079
import govbot.rules.cross  # noqa: F401  (registers CON080-CON099)
from govbot.findings import Audience, Severity
from govbot.openapi.diff import diff_specs
from govbot.openapi.load import load_spec
from govbot.openapi.model import Spec, operations
from govbot.rules import registry
from govbot.rules.registry import CrossContext, Hit, SpecContext

FIXTURES = Path(__file__).parent
TODAY = dt.date(2026, 1, 15)
SECTIONS = ("What it checks:", "Why it matters:", "Example:", "Fix:", "References:")
_INTERNAL = {"company-internal", "business-unit-internal", "component-internal", "internal"}


class Audiences:
    """A stand-in for ``audience.Classification``: op-level ``x-internal``/``x-audience`` only."""

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


def con_rules(kind: str | None = None) -> list[registry.Rule]:
    return [
        r
        for code, r in sorted(registry._REGISTRY.items())
        if code.startswith("CON") and (kind is None or r.kind == kind)
    ]


def scenarios() -> list[Path]:
    return sorted(p.parent for p in FIXTURES.glob("CON*/*/expected.yaml"))


def _options(case: Path, rule: registry.Rule) -> dict[str, Any]:
    extra = case / "options.yaml"
    overrides = yaml.safe_load(extra.read_text()) if extra.exists() else None
    return {**rule.options, **(overrides or {})}


def _context(case: Path, rule: registry.Rule) -> tuple[Any, str]:
    """The context to run ``rule`` in, and the file findings default to."""
    options = _options(case, rule)
    if rule.kind == "cross":
        folder = case / "specs"
        specs = tuple(load_spec(p, root=folder) for p in sorted(folder.glob("*.yaml")))
        assert specs, f"{case}: a cross rule needs specs/*.yaml"
        audiences = {s.file: Audiences(s) for s in specs}
        return CrossContext(specs, audiences, options), specs[0].file
    base = load_spec(case / "base.yaml", root=case)
    revision = case / "revision.yaml"
    if revision.exists():
        head = load_spec(revision, root=case)
        touched = frozenset(diff_specs(base, head).touched)
        return SpecContext(head, Audiences(head), options, touched, base, TODAY), head.file
    return SpecContext(base, Audiences(base), options, None, None, TODAY), base.file


def _verdict(rule: registry.Rule, hit: Hit, default_file: str) -> dict[str, Any]:
    severity = rule.default_severity(hit.audience)
    if hit.scope == "existing":
        severity = severity.lowered()
    return {
        "rule": rule.code,
        "pointer": hit.pointer,
        "file": hit.file or default_file,
        "severity": str(severity),
        "scope": hit.scope,
        "message": hit.message,
    }


def run_scenario(case: Path, rule: registry.Rule) -> tuple[list[dict[str, Any]], str]:
    ctx, default_file = _context(case, rule)
    return [_verdict(rule, hit, default_file) for hit in rule.run(ctx)], default_file


@pytest.mark.parametrize("case", scenarios(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(case: Path) -> None:
    """Each CON rule finds exactly the findings its fixture expects."""
    rule = registry._REGISTRY[case.parent.name]
    expected = yaml.safe_load((case / "expected.yaml").read_text()) or []
    got, default_file = run_scenario(case, rule)

    def key(item: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
        return (
            item["rule"],
            item["pointer"],
            item.get("file", default_file),
            item["severity"],
            item.get("scope", "new"),
        )

    assert sorted(map(key, got)) == sorted(map(key, expected)), [h["message"] for h in got]
    for want in expected:
        if "message_contains" in want:
            messages = [h["message"] for h in got if key(h) == key(want)]
            assert any(want["message_contains"] in m for m in messages), messages


@pytest.mark.parametrize(
    "case",
    [c for c in scenarios() if c.name.startswith("idiomatic-")],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_idiomatic_specs_are_clean(case: Path) -> None:
    """A spec that follows the guidelines draws no finding from any single-spec CON rule."""
    findings = []
    for rule in con_rules("spec"):
        got, _ = run_scenario(case, rule)
        findings.extend(f"{h['rule']} {h['pointer']}: {h['message']}" for h in got)
    assert findings == []


def test_every_con_rule_has_docs_and_a_positive_fixture() -> None:
    """Every CON rule documents itself and has a fixture in which it finds something."""
    rules = con_rules()
    assert len(rules) >= 20
    positive = {
        c.parent.name for c in scenarios() if yaml.safe_load((c / "expected.yaml").read_text())
    }
    for r in rules:
        assert r.code in positive, f"{r.code} has no positive fixture under tests/rules/{r.code}/"
        for section in SECTIONS:
            assert section in r.doc, f"{r.code} docstring lacks {section!r}"
        assert r.summary.endswith("."), r.code
        assert r.guideline, f"{r.code} names no guideline"
        assert r.kind in ("spec", "cross"), r.code
        assert 1 <= int(r.code[3:]) <= 99, r.code


def test_severities_follow_the_guideline_wording() -> None:
    """MUST-level guidelines default to errors, SHOULD-level ones to warnings."""
    must = {"RC-01", "RC-02", "RC-03", "RC-06", "RC-07", "RC-15", "RC-16", "ERR-01", "ERR-02"}
    must |= {"MV-01", "VD-01"}
    for r in con_rules():
        if r.guideline in must:
            assert r.default_severity(Audience.EXTERNAL) is Severity.ERROR, r.code
        elif r.guideline[:3] in ("NAM", "URI", "REP", "MET", "PAG", "SRT", "CNT", "TIM", "HDR"):
            assert r.default_severity(Audience.EXTERNAL) is Severity.WARNING, r.code
        assert (
            r.default_severity(Audience.INTERNAL).rank < r.default_severity(Audience.EXTERNAL).rank
        )


def test_shared_schemas_take_the_strictest_scope_of_their_users() -> None:
    """A schema field used by an added and an unchanged operation is reported once, as changed."""
    case = FIXTURES / "CON001" / "scope-follows-users"
    rule = registry._REGISTRY["CON001"]
    got, _ = run_scenario(case, rule)
    shared = [h for h in got if "/components/schemas/Shared/" in h["pointer"]]
    assert [h["scope"] for h in shared] == ["changed"]
