"""Outputs: text grouped by file, JSON in the design's shape, SARIF 2.1.0 valid against its schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import jsonschema
import pytest

from govbot import render
from govbot.findings import Audience, Finding, OperationRef, Report, Severity, Summary
from govbot.rules.catalog import all_rules, get_rule

SARIF_SCHEMA = Path(__file__).parents[1] / "data" / "sarif" / "sarif-schema-2.1.0.json"
DOCS = "https://govbot.example.org"
FINDING_KEYS = {
    "rule",
    "name",
    "severity",
    "audience",
    "file",
    "line",
    "pointer",
    "message",
    "help",
    "operation",
}


def finding(
    rule="POL002", severity=Severity.ERROR, file="api-specs/compute.yaml", line=12, **kw
) -> Finding:
    values = {
        "name": "rule-crashed",
        "message": f"{rule} says something at line {line}",
        "pointer": "/paths/~1servers/get",
        "audience": Audience.EXTERNAL,
        **kw,
    }
    return Finding(
        rule,
        values.pop("name"),
        severity,
        values.pop("message"),
        file,
        line,
        values.pop("pointer"),
        **values,
    ).with_fingerprint()


@pytest.fixture
def report() -> Report:
    findings = (
        finding(file="api-specs/compute.yaml", line=12),
        finding(
            rule="POL001",
            severity=Severity.WARNING,
            file="api-specs/compute.yaml",
            line=40,
            name="expired-waiver",
        ),
        finding(
            file="old/compute.yaml",
            line=7,
            side="base",
            message="DELETE /servers/{id} removed",
            scope="changed",
            operation=OperationRef("DELETE", "/servers/{id}"),
        ),
        finding(
            rule="POL001",
            severity=Severity.INFO,
            file="api-specs/volume.yaml",
            line=None,
            pointer="",
            audience=None,
            name="expired-waiver",
        ),
    )
    waived = (
        finding(file="api-specs/volume.yaml", line=3, note="waived: legacy (until 2030-01-01)"),
    )
    suppressed = (
        finding(file="api-specs/volume.yaml", line=5, note="x-govbot-ignore in the spec"),
    )
    return Report(
        findings=findings,
        classifications={},
        summary=Summary.of(findings, waived, suppressed, specs=2),
        waived=waived,
        suppressed=suppressed,
        policy_source="policies",
        policy_digest="ab" * 32,
    )


def test_text_groups_by_file_with_base_findings_under_the_base_file(report):
    """Text output: one block per file (base-side findings under the base file), counts last."""
    text = render.render_text(report, color=False, docs_base=DOCS)
    lines = text.splitlines()
    headers = [line for line in lines if line and not line.startswith(" ")]
    assert headers[:3] == [
        "api-specs/compute.yaml",
        "old/compute.yaml (base)",
        "api-specs/volume.yaml",
    ]
    block = text.split("old/compute.yaml (base)\n", 1)[1].split("\n\n", 1)[0]
    assert "DELETE /servers/{id} removed" in block
    assert re.search(
        r"^\s+12  error\s+POL002 POL002 says something at line 12 \[external\]$", text, re.M
    )
    assert re.search(r"^\s+-  info\s+POL001 ", text, re.M)  # no line: "-"
    assert (
        "2 errors, 1 warning, 1 info in 2 specs (1 waived by the policy, 1 suppressed by x-govbot-ignore)"
        in text
    )
    assert f"{DOCS}/rules/CODE" in text
    assert "\x1b[" not in text


def test_text_colour_only_when_asked(report):
    """Colour codes appear only with color=True."""
    coloured = render.render_text(report, color=True)
    assert "\x1b[" in coloured
    assert click.unstyle(coloured) == render.render_text(report, color=False)


def test_text_without_findings(report):
    """No findings: just the counts line."""
    empty = Report(findings=(), classifications={}, summary=Summary.of((), specs=1))
    assert render.render_text(empty) == "0 errors, 0 warnings, 0 info in 1 spec\n"


def test_json_shape(report):
    """JSON: {"findings": [...], "summary": {...}}, each finding with the design's keys."""
    data = json.loads(render.render_json(report, DOCS))
    assert set(data) == {"findings", "summary"}
    for f in data["findings"]:
        assert set(f) >= FINDING_KEYS
        assert f["severity"] in ("error", "warning", "info")
        assert f["audience"] in ("external", "external-admin", "internal", None)
        assert f["help"] == f"{DOCS}/rules/{f['rule']}"  # from the setting, at render time
        assert list(f)[7:10] == ["message", "help", "side"]  # the JSON contract's order
    removed = next(f for f in data["findings"] if f["side"] == "base")
    assert removed["file"] == "old/compute.yaml" and removed["line"] == 7
    # A finding about one operation names it; one about none says null.
    assert removed["operation"] == {"method": "DELETE", "path": "/servers/{id}"}
    assert [f["operation"] for f in data["findings"] if f["side"] != "base"] == [None] * 3
    summary = data["summary"]
    assert (summary["errors"], summary["warnings"], summary["info"], summary["total"]) == (
        2,
        1,
        1,
        4,
    )
    assert (summary["waived"], summary["suppressed"], summary["specs"]) == (1, 1, 2)
    assert summary["by_rule"] == {"POL001": 2, "POL002": 2}
    assert summary["policy"] == {"source": "policies", "digest": "ab" * 32}


def test_sarif_is_valid_sarif_2_1_0(report):
    """The SARIF log validates against the official SARIF 2.1.0 JSON schema."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    log = json.loads(render.render_sarif(report, all_rules(), docs_base=DOCS))
    jsonschema.Draft4Validator(schema).validate(log)
    assert log["version"] == "2.1.0"


def test_sarif_rules_results_and_locations(report):
    """Rules carry helpUri and the docstring; results carry level, file and line (base file for removals)."""
    log = render.sarif_log(report, all_rules(), docs_base=DOCS)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_id = {r["id"]: r for r in rules}
    pol002 = by_id["POL002"]
    assert pol002["helpUri"] == f"{DOCS}/rules/POL002"
    assert pol002["fullDescription"]["text"] == get_rule("POL002").doc
    assert pol002["defaultConfiguration"]["level"] == "error"
    results = run["results"]
    assert len(results) == 6  # 4 findings + 1 waived + 1 suppressed
    levels = [r["level"] for r in results[:4]]
    assert levels == ["error", "warning", "error", "note"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    removal = results[2]["locations"][0]
    assert removal["physicalLocation"]["artifactLocation"]["uri"] == "old/compute.yaml"
    assert removal["physicalLocation"]["region"] == {"startLine": 7}
    assert removal["logicalLocations"] == [
        {"fullyQualifiedName": "/paths/~1servers/get", "kind": "member"}
    ]
    assert "region" not in results[3]["locations"][0]["physicalLocation"]  # no line known
    assert results[4]["suppressions"][0]["kind"] == "external"
    assert results[5]["suppressions"][0]["kind"] == "inSource"
    assert all("suppressions" not in r for r in results[:4])


def test_sarif_unknown_rule_gets_a_descriptor(report):
    """A finding of a code outside the catalogue still gets a rule descriptor."""
    odd = Report(findings=(finding(rule="ZZZ001"),), classifications={}, summary=Summary.of(()))
    log = render.sarif_log(odd, [], docs_base=DOCS)
    (descriptor,) = log["runs"][0]["tool"]["driver"]["rules"]
    assert descriptor["id"] == "ZZZ001"
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)


def test_rules_catalogue_renders_every_rule():
    """`govbot rules` lists every rule; markdown has one section per rule."""
    rules = all_rules()
    text = render.render_rules_text(rules)
    markdown = render.render_rules_markdown(rules, docs_base=DOCS)
    for r in rules:
        assert r.code in text and r.name in text
        assert f"## {r.code} {r.name}" in markdown
    one = render.render_rule_text(get_rule("POL001"), docs_base=DOCS)
    assert one.startswith("POL001 expired-waiver\n")
    assert f"docs: {DOCS}/rules/POL001" in one


def test_doc_sections_become_markdown_headings():
    """The fixed docstring sections (What it checks, Why it matters, ...) become headings."""
    md = render.rule_markdown(get_rule("POL001"), docs_base=DOCS)
    for title in ("What it checks", "Why it matters", "Example", "Fix", "References"):
        assert f"#### {title}" in md
    assert "\n    " not in md  # section bodies are dedented, not code blocks


def test_json_text_is_what_the_standard_library_writes(report):
    """The JSON and SARIF texts are byte for byte ``json.dumps(..., indent=2,
    ensure_ascii=False)``: non-ASCII as it is, control characters escaped, empty
    containers on one line."""
    from govbot.render.report import json_text, report_json, sarif_log

    odd = {
        "text": 'naïve “quotes” \\ "q" \n\t\x01\u2028 ☃ 𝄞 </script>',
        "empty": [[], {}, ""],
        "numbers": [0, -1, 2**53],
        "flags": [True, False, None],
        "nested": {"a": [{"b": {}}], "c": [1, [2, [3]]]},
    }
    for value in (
        odd,
        report_json(report, DOCS),
        sarif_log(report, all_rules(), docs_base=DOCS),
    ):
        assert json_text(value) == json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    assert render.render_json(report, DOCS) == json_text(report_json(report, DOCS))
