"""The use-case verdict: a need of someone outside the code, anywhere the spec explains itself."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from govbot.blueprints import (
    BlueprintConfig,
    Judgement,
    Reading,
    SectionState,
    Strength,
    Zone,
    judge_file,
    justify,
    parse_spec,
    rest_api_impact,
    template_from_text,
)
from govbot.errors import PolicyError, SpecError

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
TEMPLATE_UC = (
    "What use cases does this address? What impact on actors does this change have?\n"
    "Ensure you are clear about the actors in each use case: Developer, End User,\n"
    "Deployer etc."
)
REFACTOR = (
    "The scheduler reads aggregates from the compute database through three layers of "
    "helpers. This spec moves the aggregate lookups from the filters into one object "
    "method, and the filters call that method instead."
)
NEED = "Operators cannot drain a host today, so they must migrate every server by hand."


def spec(
    use_cases: str | None,
    problem: str = "Something is broken.",
    rest_api: str = "None",
    intro: str = "",
) -> str:
    """A small nova-style spec with the given Use Cases body (None: no such section)."""
    parts = [
        f"=======\nA spec\n=======\n\n{intro}\n",
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


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


# --- where the need is stated ------------------------------------------------------------------


def test_a_use_case_with_an_actor_and_a_need_is_strong_and_quoted() -> None:
    """The sentence that carries the need is the evidence: section, line, text."""
    text = spec("As an operator, I want to drain a host so that I can patch it.")
    v = judge(text)
    assert (v.verdict, v.strength, v.section) == (Judgement.JUSTIFIED, Strength.STRONG, "Use Cases")
    assert v.line == line_of(text, "As an operator")
    (need,) = v.need
    assert need.text == "As an operator, I want to drain a host so that I can patch it."
    assert need.reading is Reading.NEED and "an operator" in need.actors
    assert v.evidence.startswith(f'"Use Cases" line {v.line}: who: an operator;')


def test_the_problem_description_carries_the_need_when_use_cases_are_empty() -> None:
    """The issue's typical miss: an empty Use Cases heading, the need plainly stated above."""
    problem = (
        "After an outage, volumes are left stuck in 'detaching'. Operators can only clear "
        "them today by restarting the volume service."
    )
    text = spec("", problem=problem)
    v = judge(text)
    assert (v.verdict, v.strength, v.section) == (
        Judgement.JUSTIFIED,
        Strength.GOOD,
        "Problem description",
    )
    assert v.need[0].text.startswith("After an outage") or v.need[0].text.startswith("Operators")
    # the empty heading is a fact of its own (BPR006), never the verdict
    assert v.empty_use_cases is not None
    assert (v.empty_use_cases.state, v.empty_use_cases.line) == (
        SectionState.EMPTY,
        line_of(text, "Use Cases"),
    )


def test_a_none_use_case_is_rescued_by_a_need_elsewhere() -> None:
    """Use Cases: None is a warning when the problem description states the need."""
    v = judge(spec("None", problem=NEED))
    assert (v.verdict, v.strength) == (Judgement.JUSTIFIED, Strength.GOOD)
    assert v.empty_use_cases is not None and v.empty_use_cases.state is SectionState.PLACEHOLDER


def test_the_introduction_counts_too() -> None:
    """Juno-era specs state the need under the title."""
    v = judge(spec(None, problem=REFACTOR, intro=NEED))
    assert (v.verdict, v.strength, v.section) == (Judgement.JUSTIFIED, Strength.GOOD, "A spec")


def test_a_short_use_case_needs_no_length() -> None:
    """Length is not substance either way: one line naming who and why is enough."""
    v = judge(spec("End users should hit the native image API, not the proxy."))
    assert (v.verdict, v.strength) == (Judgement.JUSTIFIED, Strength.STRONG)


@pytest.mark.parametrize(
    "sentence",
    [
        "As an HPC researcher, I need jobs to keep their GPUs across reboots.",
        "Tenants need visibility into the QoS of a share type.",
        "Automation that authenticates with an application credential stops working when it expires.",
        "Cloud admins have to restart the scheduler to pick up a new filter.",
        "Applications lose their connections whenever the load balancer fails over.",
        "Users would like to protect the data within shares.",
        "The administrator can view the capacity of each back end.",
    ],
)
def test_the_language_of_needs(sentence: str) -> None:
    """Who (any role outside the code) and a need or a pain, in ordinary words."""
    v = judge(spec(sentence, problem=REFACTOR))
    assert v.verdict is Judgement.JUSTIFIED, v.evidence


def test_a_failure_that_names_nobody_is_justified_but_unclear() -> None:
    """A concrete scenario that fails today counts; a warning asks whom it hurts."""
    v = judge(
        spec(None, problem="Two concurrent delete requests both proceed and one of them fails.")
    )
    assert (v.verdict, v.strength) == (Judgement.JUSTIFIED, Strength.UNCLEAR)
    assert v.need[0].reading is Reading.SCENARIO


def test_a_use_case_label_inside_a_paragraph_is_a_use_case() -> None:
    """ "Use Case: ..." in the problem description is read as a use case."""
    problem = (
        "There is no way to sort servers.\n\nUse Case: A UI that displays a table of "
        "servers. The items in this table need to be sorted by status."
    )
    v = judge(spec(None, problem=problem))
    assert v.verdict is Judgement.JUSTIFIED and v.need[0].zone is Zone.USE_CASES


def test_use_cases_that_point_to_the_problem_description() -> None:
    """ "See above" is no use case by itself; the problem description is read anyway."""
    v = judge(spec("See the problem description above.", problem=NEED))
    assert (v.verdict, v.section) == (Judgement.JUSTIFIED, "Problem description")
    v = judge(spec("See above.", problem="The code is old."))
    assert (v.verdict, v.strength) == (Judgement.UNJUSTIFIED, Strength.MISSING_EMPTY)
    assert '"Use Cases" only refers to another section: "See above."' in v.evidence


def test_user_stories_and_motivation_count_in_markdown() -> None:
    """KEP-style Markdown: User Stories is a use-case section, Motivation a problem one."""
    text = "# KEP\n\n## Motivation\n\nStuff.\n\n### User Stories\n\nAs a cluster admin, I need quotas.\n"
    v = judge(text, name="README.md")
    assert (v.strength, v.section, v.line) == (Strength.STRONG, "User Stories", 9)


def test_a_spec_lite_is_read_by_its_fields() -> None:
    """A spec-lite has fields, not sections: :problem: and :solution: are read."""
    text = textwrap.dedent(
        """\
        Spec Lite: Limit shares per server
        ----------------------------------

        :problem: An administrator is not able to limit how many shares a share
                  server holds, which makes it hard to manage.

        :solution: Add a configuration option.
        """
    )
    v = judge(text)
    assert (v.verdict, v.strength, v.section, v.line) == (
        Judgement.JUSTIFIED,
        Strength.GOOD,
        "problem",
        4,
    )


def test_the_policy_chooses_the_sections() -> None:
    """use_case_sections / fallback_sections are policy options per project."""
    config = BlueprintConfig.from_section(
        {"use_case_sections": ["Who needs this"], "fallback_sections": []}
    )
    text = "Title\n=====\n\nWho needs this\n--------------\n\nEnd users need faster boots.\n"
    assert judge(text, config).strength is Strength.STRONG
    text = "Title\n=====\n\nStory\n-----\n\nEnd users need faster boots.\n"
    assert judge(text, config).strength is Strength.MISSING_SECTION


def test_extra_actors_come_from_the_policy() -> None:
    """A community can add the roles it has (research groups, lab managers ...)."""
    body = "Lab managers cannot see which nodes are idle."
    assert judge(spec(body, problem=REFACTOR)).verdict is Judgement.UNJUSTIFIED
    config = BlueprintConfig.from_section({"actors": ["lab managers"]})
    assert judge(spec(body, problem=REFACTOR), config).verdict is Judgement.JUSTIFIED


# --- what never counts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "",
        "None",
        "None.",
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
    v = judge(spec(body, problem=REFACTOR))
    assert (v.verdict, v.strength) == (Judgement.UNJUSTIFIED, Strength.MISSING_EMPTY), v.evidence


def test_none_starting_a_real_paragraph_is_not_a_placeholder() -> None:
    """'None of ...' opens a sentence; only None followed by punctuation declares nothing."""
    v = judge(spec("None of the current APIs let operators see the fault, so they need a new one."))
    assert v.verdict is Judgement.JUSTIFIED


def test_length_is_not_substance() -> None:
    """A long problem description about code layers, no use case: unjustified (BPR007)."""
    v = judge(spec(None, problem="\n\n".join([REFACTOR] * 8)))
    assert (v.verdict, v.strength) == (Judgement.UNJUSTIFIED, Strength.MISSING_NEED)
    assert v.words > 200
    assert '"Problem description": no need of anyone outside the code [plain]' in v.evidence
    assert all(st.reading is not Reading.NEED for st in v.looked_at)


@pytest.mark.parametrize(
    ("body", "reading"),
    [
        ("As a developer, I don't want to worry about two APIs.", Reading.INSIDE),
        ("The drivers need a common place to register their options.", Reading.INSIDE),
        ("We do not want to maintain two approaches to building drivers.", Reading.INSIDE),
        ("Users could add key-value pairs to describe their access rules.", Reading.SPECULATIVE),
        ("It may be useful for some operators to have this weigher.", Reading.SPECULATIVE),
        ("Client tooling will also benefit from the new SDK.", Reading.SPECULATIVE),
        ("The access rule resource lacks a metadata property.", Reading.CAPABILITY),
        ("This adds a driver for the Acme FlashArray 9000 product.", Reading.PLAIN),
    ],
)
def test_inside_needs_speculation_and_products_do_not_count(body: str, reading: Reading) -> None:
    """Needs of the project's developers or drivers, guesses, products: no use case."""
    v = judge(spec(body, problem="The code is as it is."))
    assert v.verdict is Judgement.UNJUSTIFIED, v.evidence
    assert reading in {st.reading for st in v.looked_at}, [
        (st.text, st.reading) for st in v.looked_at
    ]


def test_a_driver_spec_says_why_it_does_not_count() -> None:
    """The evidence of an unjustified spec says what was read and why it fails."""
    v = judge(spec("", problem="This is a new volume driver that enables the Acme array."))
    assert (v.verdict, v.strength) == (Judgement.UNJUSTIFIED, Strength.MISSING_EMPTY)
    assert '"Use Cases" is empty' in v.evidence
    (looked,) = [st for st in v.looked_at if st.section == "Problem description"]
    assert looked.topics == ("driver",) and looked.line == 10


def test_none_everywhere_is_a_declaration_the_introduction_cannot_override() -> None:
    """Problem description: None and Use Cases: None: the author says there is none."""
    text = spec(
        "None", problem="None", intro="As an operator I would like to scope quotas by flavor."
    )
    v = judge(text)
    assert (v.verdict, v.strength) == (Judgement.UNJUSTIFIED, Strength.MISSING_EMPTY)
    assert "not read" in v.evidence


# --- template text ------------------------------------------------------------------------------


def test_text_copied_from_the_template_never_counts() -> None:
    """The template's guidance names actors, yet it is no use case."""
    v = judge(spec(TEMPLATE_UC, problem=REFACTOR), template=TEMPLATE)
    assert (v.verdict, v.strength) == (Judgement.UNJUSTIFIED, Strength.MISSING_TEMPLATE)


def test_template_guidance_never_counts_even_without_the_template() -> None:
    """Questions and instructions to the author are template text whatever the template."""
    v = judge(spec(TEMPLATE_UC, problem=REFACTOR))
    assert (v.verdict, v.strength) == (Judgement.UNJUSTIFIED, Strength.MISSING_TEMPLATE)


def test_template_text_plus_a_real_use_case_is_fine() -> None:
    """Left-over guidance is removed sentence by sentence; the author's own text remains."""
    body = TEMPLATE_UC + "\n\nAs a deployer, I need to pin the CPU model so that migrations work."
    v = judge(spec(body), template=TEMPLATE)
    assert (v.verdict, v.strength) == (Judgement.JUSTIFIED, Strength.STRONG)
    assert v.need[0].text.startswith("As a deployer")


def test_lightly_edited_template_text_is_still_template_text() -> None:
    """Changing a word per sentence does not escape the 3-gram similarity."""
    edited = (
        "Which use cases does this address. What impact on actors does this change bring.\n"
        "Be clear about the actors in each use case: Developer, End User, Operator."
    )
    v = judge(spec(edited, problem=REFACTOR), template=TEMPLATE)
    assert v.strength is Strength.MISSING_TEMPLATE


def test_spec_lite_template_text_never_counts() -> None:
    """Whatever the template's shape: a spec-lite's fields copied from its template."""
    lite_template = ":problem: Describe the problem that users face today, and who they are.\n"
    text = "Spec Lite: X\n------------\n\n" + lite_template
    v = judge(text, template=lite_template)
    assert (v.verdict, v.strength) == (Judgement.UNJUSTIFIED, Strength.MISSING_TEMPLATE)


def test_the_template_next_to_the_spec_is_found_and_recognised(tmp_path: Path) -> None:
    """specs/*-template.rst is the template of specs/<release>/approved/*.rst, and not a spec."""
    (tmp_path / "specs" / "2026.2" / "approved").mkdir(parents=True)
    (tmp_path / "specs" / "2026.2-template.rst").write_text(TEMPLATE)
    target = tmp_path / "specs" / "2026.2" / "approved" / "thing.rst"
    target.write_text(spec(TEMPLATE_UC, problem=REFACTOR))
    _, v = judge_file(target)
    assert v.strength is Strength.MISSING_TEMPLATE
    assert v.templates == (str(tmp_path / "specs" / "2026.2-template.rst"),)
    _, t = judge_file(tmp_path / "specs" / "2026.2-template.rst")
    assert (t.verdict, t.strength) == (Judgement.TEMPLATE, None)


def test_an_explicit_template_wins_and_is_itself_a_template(tmp_path: Path) -> None:
    """--template FILE is used instead of discovery, and judging that file says "template"."""
    mine = tmp_path / "project-spec-skeleton.rst"
    mine.write_text(TEMPLATE)
    target = tmp_path / "thing.rst"
    target.write_text(spec("As a user I want it.\n\n" + TEMPLATE_UC, problem=REFACTOR))
    _, v = judge_file(target, template=mine)
    assert v.templates == (str(mine),) and v.verdict is Judgement.JUSTIFIED
    _, t = judge_file(mine, template=mine)
    assert t.verdict is Judgement.TEMPLATE
    with pytest.raises(SpecError, match="no such template file"):
        judge_file(target, template=tmp_path / "missing.rst")


def test_the_policy_names_the_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """blueprints.template (relative to the working directory for the CLI) is used too."""
    monkeypatch.chdir(tmp_path)
    Path("skeleton.rst").write_text(TEMPLATE)
    Path("thing.rst").write_text(
        spec("Ensure the actors are clear: Developer, End User, Deployer etc.", problem=REFACTOR)
    )
    config = BlueprintConfig.from_section({"template": "skeleton.rst"})
    _, v = judge_file("thing.rst", config)
    assert v.templates == ("skeleton.rst",)
    assert v.verdict is Judgement.UNJUSTIFIED


# --- REST API impact -----------------------------------------------------------------------------


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
    text = spec("Users need it.", rest_api=body)
    impact = rest_api_impact(
        parse_spec("spec.rst", text), BlueprintConfig(), template_from_text("t.rst", TEMPLATE)
    )
    assert impact.declared is declared
    assert impact.line == line_of(text, "REST API impact")


def test_no_rest_api_impact_section_declares_nothing() -> None:
    doc = parse_spec("spec.rst", "Title\n=====\n\nUse Cases\n---------\n\nUsers.\n")
    assert rest_api_impact(doc).declared is False


# --- the JSON verdict ----------------------------------------------------------------------------


def test_the_json_verdict_carries_checkable_evidence() -> None:
    """need: file, line, quoted text; looked_at: what was read and why it does not count."""
    text = spec("Operators want the fault reason in the API.")
    good = judge(text, name="good.rst").to_json()
    assert (good["verdict"], good["strength"]) == ("justified", "strong")
    (need,) = good["need"]
    assert need == {
        "file": "good.rst",
        "line": line_of(text, "Operators want"),
        "section": "Use Cases",
        "text": "Operators want the fault reason in the API.",
        "reading": "need",
        "why": "names someone outside the code and what they need",
        "actors": ["operators"],
        "inside": [],
        "cues": ["want"],
        "topics": [],
    }
    assert good["use_cases"]["state"] == "filled"
    bad = judge(spec("We want to rename the module.", problem=REFACTOR), name="bad.rst").to_json()
    assert bad["verdict"] == "unjustified" and bad["need"] == []
    whys = {(item["section"], item["reading"]) for item in bad["looked_at"]}
    assert ("Use Cases", "inside") in whys
    assert all(item["file"] == "bad.rst" and item["line"] for item in bad["looked_at"])


# --- configuration ---------------------------------------------------------------------------


def test_config_defaults_and_from_raw() -> None:
    """Without a blueprints: section every default applies; from_raw reads the merged document."""
    assert BlueprintConfig.from_raw({}) == BlueprintConfig()
    raw = {"version": 1, "blueprints": {"actors": ["lab managers"], "min_words": 10}}
    config = BlueprintConfig.from_raw(raw)
    assert config.actors == ("lab managers",)  # min_words: accepted from old policies, unused
    assert config == BlueprintConfig(actors=("lab managers",))


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"min_word": 3}, "blueprints: unknown key 'min_word'"),
        ({"max_bytes": "many"}, "blueprints.max_bytes: must be a whole number >= 0"),
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
