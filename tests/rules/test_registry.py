"""The rule catalogue audits itself: codes, names, docs, fixtures, and the default policy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from govbot.apiref import problems as apiref_problems
from govbot.findings import Audience, Severity
from govbot.openapi import problems
from govbot.rules.blueprints import DOCUMENT_CONTEXTS
from govbot.rules.catalog import CATALOG, all_rules
from govbot.rules.registry import CODE_RE, CONTEXTS, NAME_RE, Catalog, Kind, make_rule, rule
from tests.rules import harness

FIXTURES = Path(__file__).parent
SECTIONS = ("What it checks", "Why it matters", "Example", "Fix")

# Rules that cannot have a spec fixture, each with the reason (as oasdiff's waivers do).
NO_FIXTURE = {
    "POL002": "raised by the evaluator when a rule itself crashes; no spec makes a shipped "
    "rule crash, so tests/test_evaluate.py covers it with a deliberately broken rule",
}


def test_the_catalogue_is_big_enough() -> None:
    """Issue 2 asks for at least 30 deprecation, compatibility and consistency rules."""
    codes = [r.code for r in all_rules()]
    assert len([c for c in codes if c.startswith(("DEP", "CON"))]) >= 30
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_every_rule_is_documented(rule) -> None:
    """Code and name are well formed; the docstring has a summary and the house sections."""
    assert CODE_RE.match(rule.code) and NAME_RE.match(rule.name)
    assert rule.summary and rule.summary.endswith(".")
    for section in SECTIONS:
        assert section in rule.doc, f"{rule.code} docstring lacks '{section}'"
    for audience in Audience:
        assert isinstance(rule.default_severity(audience), Severity)
    # an internal interface is never judged more harshly than an external one
    assert (
        rule.default_severity(Audience.INTERNAL).rank
        <= rule.default_severity(Audience.EXTERNAL).rank
    )


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_every_rule_has_a_fixture(rule) -> None:
    """Each rule has tests/rules/<CODE>/<scenario>/ with an expected.yaml (or a written waiver)."""
    if rule.code in NO_FIXTURE:
        return
    scenarios = [d for d in (FIXTURES / rule.code).glob("*") if (d / "expected.yaml").exists()]
    assert scenarios, f"no fixture under tests/rules/{rule.code}/"


def test_waived_rules_exist() -> None:
    codes = {r.code for r in all_rules()}
    assert set(NO_FIXTURE) <= codes


def test_engine_rules_have_no_check_and_the_others_one() -> None:
    """Only the rules the evaluator raises itself (POL) lack a check."""
    assert {r.code for r in all_rules() if r.engine} == {"POL001", "POL002"}


def test_every_kind_reads_one_context_class() -> None:
    """Each Kind is bound to the one context class its rules read, which declares it."""
    contexts = {**CONTEXTS, **DOCUMENT_CONTEXTS}
    assert set(contexts) == set(Kind) and len(CONTEXTS) + len(DOCUMENT_CONTEXTS) == len(Kind)
    for kind, context in contexts.items():
        assert context.kind is kind, context
    assert {r.kind for r in harness.family("BPR")} == set(DOCUMENT_CONTEXTS)


def test_every_loader_problem_has_its_load_rule() -> None:
    """Every problem code a reader reports is the code of a load rule of the same name."""
    for code, name in {**problems.PROBLEMS, **apiref_problems.PROBLEMS}.items():
        found = CATALOG.get(code)
        assert found is not None and found.kind is Kind.LOAD and found.name == name, code


def test_a_code_defined_twice_is_refused() -> None:
    """Two different rules with one code cannot be in one catalogue."""

    @rule("TST001", "one", kind=Kind.SPEC, severity=Severity.INFO)
    def one(ctx):
        """One."""
        return iter(())

    other = make_rule("TST001", "two", kind=Kind.SPEC, severity=Severity.INFO, doc="Two.")
    with pytest.raises(ValueError, match="TST001 defined twice"):
        Catalog((one, other))
    assert Catalog((one, one)).get("tst001") is one


@pytest.mark.parametrize(
    ("code", "name", "doc"),
    [("AB1", "ok-name", "Doc."), ("ABC001", "Bad_Name", "Doc."), ("ABC001", "ok-name", "")],
)
def test_malformed_rules_are_refused(code: str, name: str, doc: str) -> None:
    """A code like ABC123, a kebab-case name and a docstring are required."""
    with pytest.raises(ValueError):
        make_rule(code, name, kind=Kind.SPEC, severity=Severity.INFO, doc=doc)


# --- per family ----------------------------------------------------------------------------


def test_every_con_rule_has_a_guideline_and_a_positive_fixture() -> None:
    """Every CON rule names its guideline and has a fixture in which it finds something."""
    rules = harness.family("CON")
    assert len(rules) >= 20
    positive = {s.parent.name for s in harness.scenarios("CON") if harness.expected(s)}
    for r in rules:
        assert r.code in positive, f"{r.code} has no positive fixture under tests/rules/{r.code}/"
        assert "References:" in r.doc, r.code
        assert r.guideline, f"{r.code} names no guideline"
        assert r.kind in (Kind.SPEC, Kind.CROSS), r.code
        assert 1 <= int(r.code[3:]) <= 99, r.code


def test_con_severities_follow_the_guideline_wording() -> None:
    """MUST-level guidelines default to errors, SHOULD-level ones to warnings."""
    must = {"RC-01", "RC-02", "RC-03", "RC-06", "RC-07", "RC-15", "RC-16", "ERR-01", "ERR-02"}
    must |= {"MV-01", "VD-01"}
    for r in harness.family("CON"):
        if r.guideline in must:
            assert r.default_severity(Audience.EXTERNAL) is Severity.ERROR, r.code
        elif r.guideline[:3] in ("NAM", "URI", "REP", "MET", "PAG", "SRT", "CNT", "TIM", "HDR"):
            assert r.default_severity(Audience.EXTERNAL) is Severity.WARNING, r.code
        assert (
            r.default_severity(Audience.INTERNAL).rank < r.default_severity(Audience.EXTERNAL).rank
        )


def test_there_are_enough_dep_rules_and_they_cite_references() -> None:
    """The compatibility family is complete enough and every rule says where it comes from."""
    rules = harness.family("DEP")
    assert len(rules) >= 15
    assert all("References:" in r.doc for r in rules)


def test_every_bpr_rule_has_a_scenario_that_fires() -> None:
    """Each BPR code is expected by at least one of its own scenarios (not only quiet ones)."""
    for r in harness.family("BPR"):
        fired = [
            d
            for d in (FIXTURES / r.code).glob("*/expected.yaml")
            if any(e["rule"] == r.code for e in yaml.safe_load(d.read_text()) or [])
        ]
        assert fired, f"no scenario under tests/rules/{r.code}/ expects {r.code}"
