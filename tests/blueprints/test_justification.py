"""The use-case check: which section, emptiness, template text, length and cues, and the command."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest

from govbot.blueprints import (
    BlueprintConfig,
    blueprint_command,
    check_specs,
    judge_file,
    justify,
    parse_spec,
    rest_api_impact,
    review_specs,
    template_from_text,
)
from govbot.errors import PolicyError, SpecError
from govbot.evaluate import evaluate_documents
from govbot.findings import Severity
from govbot.policy import Policy, RuleConfig, Waiver
from govbot.rules.blueprints import DesignContext

DATA = Path(__file__).parents[1] / "data" / "specs"

TEMPLATE = textwrap.dedent(
    """\
    ====================
    Title of your spec
    ====================

    Problem description
    ===================

    A detailed description of the problem. What problem is this blueprint
    addressing?

    Use Cases
    ---------

    What use cases does this address? What impact on actors does this change have?
    Ensure you are clear about the actors in each use case: Developer, End User,
    Deployer etc.

    Proposed change
    ===============

    How do you propose to solve this problem?

    REST API impact
    ---------------

    Each API method which is either added or changed should have the following:
    the method, the URL, the parameters and the responses.
    """
)


def spec(
    use_cases: str | None, problem: str = "Something is broken.", rest_api: str = "None"
) -> str:
    """A small nova-style spec with the given Use Cases body (None: no such section)."""
    parts = [
        "=======\nA spec\n=======\n",
        f"Problem description\n===================\n\n{problem}\n",
    ]
    if use_cases is not None:
        parts.append(f"Use Cases\n---------\n\n{textwrap.dedent(use_cases)}\n")
    parts.append("Proposed change\n===============\n\nDo it.\n")
    parts.append(f"REST API impact\n---------------\n\n{rest_api}\n")
    return "\n".join(parts)


def judge(
    text: str,
    config: BlueprintConfig | None = None,
    template: str | None = None,
    name: str = "spec.rst",
):
    tpl = template_from_text("template.rst", template) if template is not None else None
    return justify(parse_spec(name, text), config or BlueprintConfig(), tpl)


# --- J1: which section ---------------------------------------------------------------------


def test_a_dedicated_use_case_with_actor_and_need_is_strong() -> None:
    """A Use Cases section naming an actor and a need is the strongest evidence."""
    v = judge(spec("As an operator, I want to drain a host so that I can patch it."))
    assert (v.verdict, v.strength, v.section, v.line) == ("justified", "strong", "Use Cases", 10)
    assert "an operator" in v.actors and "want" in v.needs


def test_without_a_use_case_section_the_problem_description_counts() -> None:
    """Juno-era specs (no Use Cases in the template) are judged on the Problem description."""
    problem = "Operators cannot drain a host today, so they must migrate every server by hand."
    v = judge(spec(None, problem=problem))
    assert (v.verdict, v.strength, v.section) == ("justified", "good", "Problem description")


def test_an_empty_use_case_section_is_not_rescued_by_the_problem_description() -> None:
    """Use Cases: None is an explicit "no use case", whatever the problem description says."""
    problem = "Operators cannot drain a host today, so they must migrate every server by hand."
    v = judge(spec("None", problem=problem))
    assert (v.verdict, v.strength, v.section) == ("unjustified", "missing-empty", "Use Cases")


def test_no_section_at_all_is_reported_where_the_section_should_be() -> None:
    """Without any candidate heading, the line is the Problem description's (else the title's)."""
    text = "=======\nA spec\n=======\n\nSummary\n=======\n\nIt does things.\n"
    v = judge(text)
    assert (v.verdict, v.strength, v.line) == ("unjustified", "missing-section", 5)
    assert 'no section titled "Use Cases"' in v.evidence


def test_user_stories_and_motivation_count_in_markdown() -> None:
    """KEP-style Markdown: User Stories is dedicated, Motivation is the fallback."""
    text = "# KEP\n\n## Motivation\n\nStuff.\n\n### User Stories\n\nAs a cluster admin, I need quotas.\n"
    v = judge(text, name="README.md")
    assert (v.strength, v.section, v.line) == ("strong", "User Stories", 7)


def test_the_policy_chooses_the_sections() -> None:
    """use_case_sections / fallback_sections are policy options per project."""
    config = BlueprintConfig.from_section(
        {"use_case_sections": ["Who needs this"], "fallback_sections": []}
    )
    text = "Title\n=====\n\nWho needs this\n--------------\n\nEnd users need faster boots.\n"
    assert judge(text, config).strength == "strong"
    assert judge(spec("Users need it."), config).strength == "missing-section"


# --- J2: emptiness ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "",
        "None",
        "None.",
        "none",
        "N/A",
        "n/a (refactor)",
        "N/A, this is a refactoring effort.",
        "None. This is a code tree cleanup.",
        "Not applicable.",
        "TBD",
        "TODO",
        "-",
        "<describe the use case here>",
        "[Explain who needs this]",
        "(fill me in with the use cases)",
        ".. only a comment\n   on two lines",
        "::\n\n    only code",
    ],
)
def test_placeholders_and_declared_none_are_empty(body: str) -> None:
    """Comments, code, placeholders and "None, because refactoring" leave no use case."""
    v = judge(spec(body))
    assert (v.verdict, v.strength) == ("unjustified", "missing-empty"), v.evidence


def test_none_starting_a_real_paragraph_is_not_a_placeholder() -> None:
    """'None of ...' opens a sentence; only None followed by punctuation declares nothing."""
    v = judge(spec("None of the current APIs let operators see the fault, so they need a new one."))
    assert v.verdict == "justified"


def test_use_cases_that_point_to_the_problem_description_are_judged_there() -> None:
    """Use Cases that say "see the problem description" are judged on that section."""
    problem = "Operators cannot drain a host today, so they must migrate every server by hand."
    v = judge(spec("See the problem description above.", problem=problem))
    assert (v.verdict, v.strength, v.section) == ("justified", "good", "Problem description")
    assert v.evidence.startswith('"Use Cases" refers to it; "Problem description": ')
    v = judge(spec("See above.", problem="It is broken."))
    assert (v.strength, v.section) == ("missing-empty", "Use Cases")
    assert v.evidence == '"Use Cases" only refers to another section: "See above."'


def test_a_short_fragment_that_names_nobody_is_empty() -> None:
    """Below min_words without any actor: nobody is said to need the change."""
    v = judge(spec("This is a cleanup effort on the instances table."))
    assert (v.strength, v.words) == ("missing-empty", 9)
    assert "names no actor" in v.evidence


def test_a_short_story_with_an_actor_is_enough() -> None:
    """Length alone never fails: a one-line user story is a use case."""
    v = judge(spec("End users should hit the native image API, not the proxy."))
    assert (v.verdict, v.strength) == ("justified", "strong")


def test_a_long_section_without_an_actor_is_unclear_but_justified() -> None:
    """Word cues are advice: long text without an actor is a warning (unclear), not a fail."""
    body = " ".join(["The conductor sends unversioned dictionaries between services."] * 6)
    v = judge(spec(body))
    assert (v.verdict, v.strength) == ("justified", "unclear")
    assert "no actor" in v.evidence


def test_min_words_is_a_policy_option() -> None:
    """With min_words 5 a nine-word fragment is no longer "empty", only unclear."""
    config = BlueprintConfig.from_section({"min_words": 5})
    assert (
        judge(spec("This is a cleanup effort on the instances table."), config).strength
        == "unclear"
    )


def test_min_words_zero_keeps_only_the_structural_failures() -> None:
    """min_words 0: a fragment is only unclear, but None and placeholders still fail."""
    config = BlueprintConfig.from_section({"min_words": 0})
    assert judge(spec("Booting a guest with large RAM."), config).strength == "unclear"
    assert judge(spec("None. This is a code cleanup."), config).strength == "missing-empty"
    assert judge(spec("TBD"), config).strength == "missing-empty"


def test_extra_actors_come_from_the_policy() -> None:
    """A project can add its own actors (disk arrays, a cluster admin...)."""
    body = "Disk arrays of brand X lose writes."
    assert judge(spec(body)).strength == "missing-empty"
    config = BlueprintConfig.from_section({"actors": ["disk arrays"]})
    assert judge(spec(body), config).verdict == "justified"


def test_a_link_only_section_is_delegation_and_stays_unclear() -> None:
    """A section that only links to a bug or RFE is not verified: unclear, never a fail."""
    v = judge(spec("https://bugs.launchpad.net/nova/+bug/1234567"))
    assert (v.verdict, v.strength) == ("justified", "unclear")
    assert "only links to https://bugs.launchpad.net/nova/+bug/1234567" in v.evidence


# --- J3: template text -----------------------------------------------------------------------

TEMPLATE_UC = (
    "What use cases does this address? What impact on actors does this change have?\n"
    "Ensure you are clear about the actors in each use case: Developer, End User,\n"
    "Deployer etc."
)


def test_text_copied_from_the_template_never_counts() -> None:
    """The template's guidance names actors, yet it is no use case."""
    v = judge(spec(TEMPLATE_UC), template=TEMPLATE)
    assert (v.verdict, v.strength) == ("unjustified", "missing-template")


def test_template_text_plus_a_real_use_case_is_fine() -> None:
    """Left-over guidance is removed sentence by sentence; the author's own text remains."""
    body = TEMPLATE_UC + "\n\nAs a deployer, I need to pin the CPU model so that migrations work."
    v = judge(spec(body), template=TEMPLATE)
    assert (v.verdict, v.strength) == ("justified", "strong")
    assert v.words == 14


def test_lightly_edited_template_text_is_still_template_text() -> None:
    """Changing a word per sentence does not escape the 3-gram similarity."""
    edited = (
        "What use cases does this address? What impact on actors does this change bring?\n"
        "Ensure you are clear about the actors in each use case: Developer, End User, Operator."
    )
    v = judge(spec(edited), template=TEMPLATE)
    assert v.strength == "missing-template"
    assert "the template's wording" in v.evidence


def test_without_a_template_boilerplate_is_not_guessed() -> None:
    """Documented choice: no template given or found, no template check (nothing is guessed)."""
    assert judge(spec(TEMPLATE_UC)).verdict == "justified"


def test_the_template_next_to_the_spec_is_found_and_recognised(tmp_path: Path) -> None:
    """specs/*-template.rst is the template of specs/<release>/approved/*.rst, and not a spec."""
    (tmp_path / "specs" / "2026.2" / "approved").mkdir(parents=True)
    (tmp_path / "specs" / "2026.2-template.rst").write_text(TEMPLATE)
    target = tmp_path / "specs" / "2026.2" / "approved" / "thing.rst"
    target.write_text(spec(TEMPLATE_UC))
    _, v = judge_file(target)
    assert v.strength == "missing-template"
    assert v.templates == (str(tmp_path / "specs" / "2026.2-template.rst"),)
    _, t = judge_file(tmp_path / "specs" / "2026.2-template.rst")
    assert (t.verdict, t.strength) == ("template", None)


def test_an_explicit_template_wins_and_is_itself_a_template(tmp_path: Path) -> None:
    """--template FILE is used instead of discovery, and judging that file says "template"."""
    mine = tmp_path / "project-spec-skeleton.rst"
    mine.write_text(TEMPLATE)
    target = tmp_path / "thing.rst"
    target.write_text(spec(TEMPLATE_UC))
    _, v = judge_file(target, template=mine)
    assert v.strength == "missing-template"
    _, t = judge_file(mine, template=mine)
    assert t.verdict == "template"
    with pytest.raises(SpecError, match="no such template file"):
        judge_file(target, template=tmp_path / "missing.rst")


def test_the_policy_names_the_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """blueprints.template (relative to the working directory for the CLI) is used too."""
    monkeypatch.chdir(tmp_path)
    Path("skeleton.rst").write_text(TEMPLATE)
    Path("thing.rst").write_text(spec(TEMPLATE_UC))
    config = BlueprintConfig.from_section({"template": "skeleton.rst"})
    _, v = judge_file("thing.rst", config)
    assert v.strength == "missing-template"


# --- REST API impact -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "declared"),
    [
        ("None", False),
        ("N/A", False),
        ("None. The API does not change.", False),
        ("A new microversion adds ``name`` to ``GET /flavors``.", True),
        (
            "Each API method which is either added or changed should have the following:\n"
            "the method, the URL, the parameters and the responses.",
            False,
        ),
    ],
)
def test_rest_api_impact_is_declared_when_not_none(body: str, declared: bool) -> None:
    """A REST API impact section that is None, N/A or template text declares nothing."""
    doc = parse_spec("spec.rst", spec("Users need it.", rest_api=body))
    impact = rest_api_impact(doc, BlueprintConfig(), template_from_text("t.rst", TEMPLATE))
    assert impact.declared is declared
    assert impact.line == 20


def test_no_rest_api_impact_section_declares_nothing() -> None:
    """A spec without the section declares no REST API impact."""
    doc = parse_spec("spec.rst", "Title\n=====\n\nUse Cases\n---------\n\nUsers.\n")
    assert rest_api_impact(doc).declared is False


# --- other projects' templates ---------------------------------------------------------------


@pytest.mark.parametrize("project", ["cinder-style", "keystone-style"])
def test_other_projects_specs_get_the_expected_verdicts(project: str) -> None:
    """Specs written in cinder's and keystone's layouts, with their own templates, are judged right."""
    root = DATA / project
    with (root / "expected.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 4
    for row in rows:
        _, v = judge_file(root / row["path"], display=row["path"])
        assert (v.verdict, v.strength or "") == (row["verdict"], row["strength"]), (
            row["path"],
            v.evidence,
        )
        if v.verdict != "template":
            assert [Path(t).resolve() for t in v.templates] == [root / "specs" / "template.rst"]


# --- configuration ---------------------------------------------------------------------------


def test_config_defaults_and_from_raw() -> None:
    """Without a blueprints: section every default applies; from_raw reads the merged policy document."""
    assert BlueprintConfig.from_raw({}) == BlueprintConfig()
    assert BlueprintConfig.from_raw({"version": 1, "blueprints": {"min_words": 10}}).min_words == 10


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"min_word": 3}, "blueprints: unknown key 'min_word'"),
        ({"min_words": "many"}, "blueprints.min_words: must be a whole number >= 0"),
        (
            {"use_case_sections": "Use Cases"},
            "blueprints.use_case_sections: must be a list of strings",
        ),
        (
            {"template_similarity_max": 2},
            "blueprints.template_similarity_max: must be a number in (0, 1]",
        ),
        ({"template": 3}, "blueprints.template: must be a path or null"),
    ],
)
def test_config_errors_name_the_key(section: dict, message: str) -> None:
    """A bad blueprints: section is a PolicyError naming the key."""
    with pytest.raises(PolicyError) as err:
        BlueprintConfig.from_section(section)
    assert str(err.value) == message


# --- the command -----------------------------------------------------------------------------


def _write(tmp_path: Path) -> tuple[Path, Path, Path]:
    good = tmp_path / "good.rst"
    good.write_text(spec("As an operator, I want to drain a host so that I can patch it."))
    bad = tmp_path / "bad.rst"
    bad.write_text(spec("None"))
    template = tmp_path / "my-template.rst"
    template.write_text(TEMPLATE)
    return good, bad, template


def test_command_json_prints_one_object_per_file(tmp_path: Path, default_policy: Policy) -> None:
    """--format json: a list with one verdict object per file; exit 1 when one is unjustified."""
    good, bad, template = _write(tmp_path)
    out: list[str] = []
    code = blueprint_command([good, bad, template], None, "json", default_policy, out=out.append)
    assert code == 1
    objects = json.loads("".join(out))
    assert [o["verdict"] for o in objects] == ["justified", "unjustified", "template"]
    first, second, third = objects
    assert set(first) >= {"file", "verdict", "strength", "section", "line", "evidence", "findings"}
    assert (first["strength"], first["findings"]) == ("strong", [])
    assert (second["strength"], second["line"]) == ("missing-empty", 10)
    (finding,) = second["findings"]
    assert (finding["rule"], finding["severity"], finding["line"]) == ("BPR002", "error", 10)
    assert third["strength"] is None and third["findings"] == []


def test_command_text_and_exit_codes(tmp_path: Path, default_policy: Policy) -> None:
    """Text: a verdict line per file and its findings; exit 0 when every file is justified."""
    good, bad, template = _write(tmp_path)
    out: list[str] = []
    assert blueprint_command([good], str(template), "text", default_policy, out=out.append) == 0
    assert out[0].splitlines() == [
        f'{good}:10: justified (strong): "Use Cases": 15 words; actors: an operator, operator; '
        'need: "want", "so that"',
        "1 spec: 1 justified, 0 unjustified",
    ]
    out.clear()
    assert blueprint_command([bad], None, "text", default_policy, out=out.append) == 1
    lines = out[0].splitlines()
    assert (
        lines[0]
        == f'{bad}:10: unjustified (missing-empty): "Use Cases" only has a placeholder: "None"'
    )
    assert lines[1].startswith(
        f"  {bad}:10: error BPR002 use-case-empty: no use-case justification"
    )


def test_command_honours_waivers(tmp_path: Path, default_policy: Policy) -> None:
    """A TC waiver of BPR002 for the file keeps the verdict but lets the command pass."""
    _, bad, _ = _write(tmp_path)
    waiver = Waiver(rule="BPR002", path=str(bad), reason="legacy spec")
    policy = dataclasses.replace(default_policy, waivers=(waiver,))
    out: list[str] = []
    assert blueprint_command([bad], None, "json", policy, out=out.append) == 0
    assert json.loads(out[0])[0]["verdict"] == "unjustified"


def test_command_walks_directories(tmp_path: Path, default_policy: Policy) -> None:
    """A directory argument judges every .rst/.md spec under it, templates recognised."""
    _write(tmp_path)
    out: list[str] = []
    assert blueprint_command([tmp_path], None, "json", default_policy, out=out.append) == 1
    assert [Path(o["file"]).name for o in json.loads(out[0])] == [
        "bad.rst",
        "good.rst",
        "my-template.rst",
    ]


def test_command_refuses_what_it_cannot_read(tmp_path: Path, default_policy: Policy) -> None:
    """A missing spec or template is a SpecError (exit 2 in the CLI), naming the file."""
    with pytest.raises(SpecError, match=r"missing\.rst: no such file"):
        blueprint_command([tmp_path / "missing.rst"], None, "text", default_policy)
    with pytest.raises(SpecError, match=r"nope\.rst: no such template file"):
        blueprint_command([], tmp_path / "nope.rst", "text", default_policy)


# --- specs given by content (the Gerrit review path) -----------------------------------------


def test_review_specs_finds_the_template_in_the_repository(default_policy: Policy) -> None:
    """Content from a patch set is judged with the template read from the same revision."""
    repo = {
        "specs/2026.2-template.rst": TEMPLATE.encode(),
        "specs/2026.2/approved/thing.rst": spec(TEMPLATE_UC).encode(),
    }
    changed = {"specs/2026.2/approved/thing.rst": repo["specs/2026.2/approved/thing.rst"]}
    (report,) = review_specs(changed, default_policy, paths=list(repo), read=repo.__getitem__)
    assert report.verdict.strength == "missing-template"
    assert [(f.rule, f.line, f.file) for f in report.findings] == [
        ("BPR003", 10, "specs/2026.2/approved/thing.rst")
    ]
    (template,) = review_specs({"specs/2026.2-template.rst": TEMPLATE.encode()}, default_policy)
    assert (template.verdict.verdict, template.findings) == ("template", ())


def test_a_finding_keeps_its_fingerprint_when_lines_move(default_policy: Policy) -> None:
    """Identity is rule + file + section + message, so a later patch set is not re-commented."""
    first = spec("None").encode()
    moved = spec("None", problem="Something is broken.\n\nA second paragraph.").encode()
    (a,) = review_specs({"s.rst": first}, default_policy)[0].findings
    (b,) = review_specs({"s.rst": moved}, default_policy)[0].findings
    assert a.line != b.line and a.fingerprint == b.fingerprint
    fixed = spec("As an operator, I need to drain hosts so that I can patch them.").encode()
    assert review_specs({"s.rst": fixed}, default_policy)[0].findings == ()


# --- the policy decides, as for every rule ---------------------------------------------------


def test_policy_severity_and_selection_apply(default_policy: Policy, tmp_path: Path) -> None:
    """BPR rules go through evaluate: the policy can turn them off or change their severity."""
    _, bad, _ = _write(tmp_path)
    demoted = dataclasses.replace(
        default_policy,
        rules={**default_policy.rules, "BPR002": RuleConfig(severity=Severity.WARNING)},
    )
    out: list[str] = []
    assert blueprint_command([bad], None, "json", demoted, out=out.append) == 0
    assert json.loads(out[0])[0]["findings"][0]["severity"] == "warning"
    off = dataclasses.replace(
        default_policy, rules={**default_policy.rules, "BPR002": RuleConfig(enabled=False)}
    )
    (report,) = check_specs([bad], off)
    assert (report.verdict.verdict, report.findings) == ("unjustified", ())


def test_a_crashing_document_rule_is_contained(default_policy: Policy, tmp_path: Path) -> None:
    """A document rule that raises is reported as POL002; the other rules still run."""
    from govbot.rules.catalog import get_rule
    from govbot.rules.registry import Rule

    _, bad, _ = _write(tmp_path)

    def broken(ctx):
        raise RuntimeError("boom")

    crashing = dataclasses.replace(get_rule("BPR004"), check=broken)
    doc, verdict = judge_file(bad)
    ctx = DesignContext(file=verdict.file, document=doc, verdict=verdict)
    rules: list[Rule] = [crashing, get_rule("BPR002")]
    evaluation = evaluate_documents([ctx], default_policy, dt.date(2026, 1, 1), rules=rules)
    assert sorted(f.rule for f in evaluation) == ["BPR002", "POL002"]
