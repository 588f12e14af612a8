"""``govbot blueprint`` as a user runs it, and the service it calls (check_specs, review_specs)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from govbot.blueprints import Judgement, Strength, judge_file
from govbot.cli import cli
from govbot.errors import SpecError
from govbot.evaluate import evaluate_documents
from govbot.findings import Severity
from govbot.policy import Policy, RuleConfig, Waiver
from govbot.rules.blueprints import DesignContext
from govbot.rules.catalog import get_rule
from govbot.rules.registry import Rule
from govbot.services.spec_review import check_specs, review_specs

GOOD = textwrap.dedent(
    """\
    =======
    A spec
    =======

    Problem description
    ===================

    The code is old.

    Use Cases
    ---------

    As an operator, I want to drain a host so that I can patch it.
    """
)
BAD = GOOD.replace("As an operator, I want to drain a host so that I can patch it.", "None")
HOLLOW = GOOD.replace(
    "The code is old.", "Operators must migrate every server by hand today."
).replace("As an operator, I want to drain a host so that I can patch it.", "TBD")
TEMPLATE = "=====\nTitle\n=====\n\nUse Cases\n---------\n\nWhat use cases does this address?\n"


def _write(tmp_path: Path) -> tuple[Path, Path, Path]:
    good, bad, template = tmp_path / "good.rst", tmp_path / "bad.rst", tmp_path / "my-template.rst"
    good.write_text(GOOD)
    bad.write_text(BAD)
    template.write_text(TEMPLATE)
    return good, bad, template


def run(*args: str | Path, policy: Path | None = None):
    extra = ["--policy", str(policy)] if policy is not None else []
    return CliRunner().invoke(cli, ["blueprint", *extra, *map(str, args)], catch_exceptions=False)


def test_json_prints_one_object_per_file_with_its_evidence(tmp_path: Path) -> None:
    """--format json: a list with one verdict per file; exit 1 when one is unjustified."""
    good, bad, template = _write(tmp_path)
    result = run("--format", "json", good, bad, template)
    assert result.exit_code == 1
    first, second, third = json.loads(result.stdout)
    assert [o["verdict"] for o in (first, second, third)] == [
        "justified",
        "unjustified",
        "template",
    ]
    assert set(first) >= {
        "file",
        "verdict",
        "strength",
        "section",
        "line",
        "evidence",
        "need",
        "looked_at",
        "findings",
    }
    assert (first["strength"], first["findings"], first["line"]) == ("strong", [], 13)
    assert first["need"][0]["text"].startswith("As an operator") and first["need"][0][
        "file"
    ] == str(good)
    assert (second["strength"], second["line"]) == ("missing-empty", 10)
    (finding,) = second["findings"]
    assert (finding["rule"], finding["severity"], finding["line"]) == ("BPR002", "error", 10)
    assert finding["help"].endswith("/rules/BPR002")  # the deployment's rule page
    assert second["looked_at"][0]["why"] == "describes the change or the code, not a need"
    assert third["strength"] is None and third["findings"] == []


def test_text_and_exit_codes(tmp_path: Path) -> None:
    """Text: a verdict line per file with the quoted need, its findings; exit 0 when all pass."""
    good, bad, template = _write(tmp_path)
    result = run("--template", template, good)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f'{good}:13: justified (strong): "Use Cases" line 13: who: an operator; '
        '"As an operator, I want to drain a host so that I can patch it."',
        "1 spec: 1 justified, 0 unjustified",
    ]
    result = run(bad)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{bad}:10: unjustified (missing-empty): ")
    assert '"Use Cases" only has a placeholder: "None"' in lines[0]
    assert lines[1].startswith(
        f"  {bad}:10: error BPR002 use-case-empty: no use-case justification"
    )


def test_a_hollow_use_cases_heading_is_a_warning_and_passes(tmp_path: Path) -> None:
    """Justified by the problem description: exit 0, BPR006 at the Use Cases heading."""
    hollow = tmp_path / "hollow.rst"
    hollow.write_text(HOLLOW)
    result = run("--format", "json", hollow)
    assert result.exit_code == 0
    (obj,) = json.loads(result.stdout)
    assert (obj["verdict"], obj["strength"], obj["section"]) == (
        "justified",
        "good",
        "Problem description",
    )
    assert [(f["rule"], f["severity"], f["line"]) for f in obj["findings"]] == [
        ("BPR006", "warning", 10)
    ]


def test_waivers_let_the_command_pass(tmp_path: Path, default_policy: Policy) -> None:
    """A TC waiver of BPR002 for the file keeps the verdict but lets the spec pass."""
    _, bad, _ = _write(tmp_path)
    waiver = Waiver(rule="BPR002", path=str(bad), reason="legacy spec")
    policy = dataclasses.replace(default_policy, waivers=(waiver,))
    (report,) = check_specs([bad], policy)
    assert report.verdict.verdict is Judgement.UNJUSTIFIED and not report.fails


def test_directories_are_walked(tmp_path: Path) -> None:
    """A directory argument judges every .rst/.md spec under it, templates recognised."""
    _write(tmp_path)
    result = run("--format", "json", tmp_path)
    assert result.exit_code == 1
    assert [Path(o["file"]).name for o in json.loads(result.stdout)] == [
        "bad.rst",
        "good.rst",
        "my-template.rst",
    ]


def test_what_cannot_be_read_is_a_spec_error(tmp_path: Path, default_policy: Policy) -> None:
    """A missing spec or template is a SpecError (exit 2 in the CLI), naming the file."""
    with pytest.raises(SpecError, match=r"missing\.rst: no such file"):
        check_specs([tmp_path / "missing.rst"], default_policy)
    with pytest.raises(SpecError, match=r"nope\.rst: no such template file"):
        check_specs([], default_policy, template=tmp_path / "nope.rst")


def test_review_specs_finds_the_template_in_the_repository(default_policy: Policy) -> None:
    """Content from a patch set is judged with the template read from the same revision."""
    copied = "=====\nThing\n=====\n\nUse Cases\n---------\n\nWhat use cases does this address?\n"
    repo = {
        "specs/2026.2-template.rst": TEMPLATE.encode(),
        "specs/2026.2/approved/thing.rst": copied.encode(),
    }
    changed = {"specs/2026.2/approved/thing.rst": repo["specs/2026.2/approved/thing.rst"]}
    (report,) = review_specs(changed, default_policy, paths=list(repo), read=repo.__getitem__)
    assert report.verdict.strength is Strength.MISSING_TEMPLATE
    assert report.verdict.templates == ("specs/2026.2-template.rst",)
    assert [(f.rule, f.line, f.file) for f in report.findings] == [
        ("BPR003", 5, "specs/2026.2/approved/thing.rst")
    ]
    (template,) = review_specs({"specs/2026.2-template.rst": TEMPLATE.encode()}, default_policy)
    assert (template.verdict.verdict, template.findings) == (Judgement.TEMPLATE, ())


def test_a_finding_keeps_its_fingerprint_when_lines_move(default_policy: Policy) -> None:
    """Identity is rule + file + section + message, so a later patch set is not re-commented."""
    moved = BAD.replace("The code is old.", "The code is old.\n\nA second paragraph.")
    (a,) = review_specs({"s.rst": BAD.encode()}, default_policy)[0].findings
    (b,) = review_specs({"s.rst": moved.encode()}, default_policy)[0].findings
    assert a.line != b.line and a.fingerprint == b.fingerprint
    assert review_specs({"s.rst": GOOD.encode()}, default_policy)[0].findings == ()


def test_policy_severity_and_selection_apply(default_policy: Policy, tmp_path: Path) -> None:
    """BPR rules go through evaluate: the policy can turn them off or change their severity."""
    _, bad, _ = _write(tmp_path)
    demoted = dataclasses.replace(
        default_policy,
        rules={**default_policy.rules, "BPR002": RuleConfig(severity=Severity.WARNING)},
    )
    (report,) = check_specs([bad], demoted)
    assert report.findings[0].severity is Severity.WARNING and not report.fails
    off = dataclasses.replace(
        default_policy, rules={**default_policy.rules, "BPR002": RuleConfig(enabled=False)}
    )
    (report,) = check_specs([bad], off)
    assert (report.verdict.verdict, report.findings) == (Judgement.UNJUSTIFIED, ())


def test_a_crashing_document_rule_is_contained(default_policy: Policy, tmp_path: Path) -> None:
    """A document rule that raises is reported as POL002; the other rules still run."""
    _, bad, _ = _write(tmp_path)

    def broken(ctx: DesignContext) -> None:
        raise RuntimeError("boom")

    base, empty = get_rule("BPR004"), get_rule("BPR002")
    assert base is not None and empty is not None
    doc, verdict = judge_file(bad)
    ctx = DesignContext(file=verdict.file, document=doc, verdict=verdict)
    rules: list[Rule] = [dataclasses.replace(base, check=broken), empty]
    evaluation = evaluate_documents([ctx], default_policy, dt.date(2026, 1, 1), rules=rules)
    assert sorted(f.rule for f in evaluation) == ["BPR002", "POL002"]
