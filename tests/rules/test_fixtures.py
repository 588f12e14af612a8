"""Every rule against its fixtures in ``tests/rules/<CODE>/<scenario>/`` (see harness.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.rules import harness

OPENAPI = [s for s in harness.scenarios() if harness.is_openapi(s)]
# The loader decides the OAS problems (limits from the policy included): pipeline only.
ALONE = [s for s in OPENAPI if s.parent.name[:3] in ("CON", "DEP", "ARF", "MVR", "AUD")]
DOCUMENTS = [s for s in harness.scenarios("BPR") if not harness.is_openapi(s)]


def _id(scenario: Path) -> str:
    return f"{scenario.parent.name}/{scenario.name}"


def _matches(got: list[dict[str, Any]], want: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of ``got`` that ``want`` describes (by every key it names)."""
    defaults = {"side": "head", "scope": "new"}
    named = ("severity", "file", "scope", "line")
    fields = ("rule", "pointer", "side", *(k for k in named if k in want))
    return [
        g for g in got if harness.key_of(g, fields, {}) == harness.key_of(want, fields, defaults)
    ]


@pytest.mark.parametrize("scenario", ALONE, ids=_id)
def test_the_rule_alone_finds_what_its_fixture_expects(scenario: Path) -> None:
    """The scenario's rule, run alone, finds exactly the findings of expected.yaml."""
    code = scenario.parent.name
    got = harness.rule_alone(scenario)
    want = [e for e in harness.expected(scenario) if e["rule"] == code]
    messages = [g["message"] for g in got]
    assert len(got) == len(want), messages
    for entry in want:
        found = _matches(got, entry)
        assert found, f"missing {entry}; got {messages}"
        if "message_contains" in entry:
            assert any(entry["message_contains"] in g["message"] for g in found), messages
    if (scenario / "revision.yaml").exists() and code.startswith("DEP"):
        for hit in got:
            # Removals point into the base spec, everything else into the revision.
            want_file = "base.yaml" if hit["side"] == "base" else "revision.yaml"
            assert Path(hit["file"]).name == want_file, hit


@pytest.mark.parametrize("scenario", OPENAPI, ids=_id)
def test_the_pipeline_finds_what_the_fixture_expects(scenario: Path, tmp_path: Path) -> None:
    """Loaded, classified, diffed and evaluated as `govbot check` does, under the default
    policy: the scenario's rule gives the expected (rule, pointer, side), or stays quiet."""
    code = scenario.parent.name
    findings = harness.through_pipeline(scenario, tmp_path)
    # One finding per cause: the other places of a finding count as found.
    got = {
        (f.rule, pointer, str(f.side))
        for f in findings
        if f.rule == code
        for pointer in (f.pointer, *(loc.pointer for loc in f.locations))
    }
    want = [e for e in harness.expected(scenario) if e["rule"] == code]
    if not want:
        assert not got, f"{code} should stay quiet here, got {sorted(got)}"
    for e in want:
        key = (e["rule"], e.get("pointer", ""), e.get("side", "head"))
        assert key in got, f"missing {key}; got {sorted(got)}"
        if harness.is_project(scenario) and "line" in e:
            # An api-ref finding lands on the line of the .inc, parameters.yaml,
            # policy or ledger file it is about.
            places = {(f.file, f.line) for f in findings if f.rule == code}
            assert (e["file"], e["line"]) in places, f"missing {e}; got {sorted(places)}"


@pytest.mark.parametrize("scenario", DOCUMENTS, ids=_id)
def test_a_document_scenario_gives_what_its_fixture_expects(scenario: Path) -> None:
    """Each BPR scenario gives exactly the findings its expected.yaml lists."""
    got = [f for f in harness.document_findings(scenario) if f.rule.startswith("BPR")]
    want = harness.expected(scenario)
    assert len(got) == len(want), [f"{f.rule}:{f.line} {f.message}" for f in got]
    pairs = zip(
        sorted(want, key=lambda e: e["rule"]), sorted(got, key=lambda f: f.rule), strict=True
    )
    for e, f in pairs:
        assert f.rule == e["rule"], f.message
        if "line" in e:
            assert f.line == e["line"], f"{f.rule}: line {f.line}, expected {e['line']}"
        if "severity" in e:
            assert f.severity.value == e["severity"], f.rule
        assert f.message


@pytest.mark.parametrize("scenario", DOCUMENTS, ids=_id)
def test_a_document_rule_alone_finds_what_its_fixture_expects(scenario: Path) -> None:
    """The scenario's BPR rule, run alone on the context it reads, hits where the fixture's
    entries of that rule say, and nowhere else."""
    code = scenario.parent.name
    hits = harness.document_rule_alone(scenario)
    want = [e for e in harness.expected(scenario) if e["rule"] == code]
    assert len(hits) == len(want), [h.message for h in hits]
    by_line = sorted(hits, key=lambda h: h.line or 0)
    for e, hit in zip(sorted(want, key=lambda e: e.get("line", 0)), by_line, strict=True):
        if "line" in e:
            assert hit.line == e["line"], f"{code}: line {hit.line}, expected {e['line']}"


@pytest.mark.parametrize("scenario", [s for s in ALONE if s.name.startswith("idiomatic-")], ids=_id)
def test_idiomatic_specs_are_clean(scenario: Path) -> None:
    """A spec that follows the guidelines draws no finding from any single-spec CON rule."""
    findings = []
    for rule in harness.family("CON"):
        if rule.kind == "spec":
            got = harness.rule_alone(scenario, rule)
            findings.extend(f"{h['rule']} {h['pointer']}: {h['message']}" for h in got)
    assert findings == []


def test_scope_is_the_elements_not_its_operations() -> None:
    """A field of an old schema that a new operation reuses stays existing: only what the
    change added is new (issue 17: scope by element, not by operation)."""
    got = harness.rule_alone(harness.FIXTURES / "CON001" / "scope-by-element")
    scopes = {h["pointer"].rsplit("/", 1)[-1]: h["scope"] for h in got}
    assert scopes == {"hostId": "existing", "createdBy": "existing", "volumeType": "new"}


def test_inlined_copies_are_one_finding(tmp_path: Path) -> None:
    """One defect inlined three times is one finding, its two other places listed."""
    findings = harness.through_pipeline(harness.FIXTURES / "CON031" / "inlined-copies", tmp_path)
    (finding,) = [f for f in findings if f.rule == "CON031"]
    assert len(finding.locations) == 2
    assert all(loc.line for loc in finding.locations)


def test_a_path_key_fragment_is_the_same_collection(tmp_path: Path) -> None:
    """`/a/{id}` and `/a/{id}#x` name one collection: one finding, the other key listed."""
    scenario = harness.FIXTURES / "CON007" / "path-key-fragment"
    findings = harness.through_pipeline(scenario, tmp_path)
    (finding,) = [f for f in findings if f.rule == "CON007"]
    assert [loc.pointer for loc in finding.locations] == [
        "/paths/~1access-preview~1{preview_id}#analyzer"
    ]


def test_a_shared_request_body_is_one_finding(tmp_path: Path) -> None:
    """One bare-array request body shared by two operations is one finding, not two."""
    scenario = harness.FIXTURES / "CON010" / "shared-array-body"
    findings = harness.through_pipeline(scenario, tmp_path)
    (finding,) = [f for f in findings if f.rule == "CON010"]
    assert finding.pointer == "/components/requestBodies/OptimiseRequest"
    assert len(finding.locations) == 1


def test_one_collection_under_two_parameter_names_is_one_finding(tmp_path: Path) -> None:
    """`/recipe/{recipe_id}` and `/recipe/{id}/reviews` name one singular collection."""
    scenario = harness.FIXTURES / "CON007" / "two-parameter-names"
    findings = harness.through_pipeline(scenario, tmp_path)
    (finding,) = [f for f in findings if f.rule == "CON007"]
    assert len(finding.locations) == 1
