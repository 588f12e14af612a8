"""BPR rules: design specs without a use-case justification, API changes without a blueprint.

Two kinds of rule, both run by :func:`govbot.evaluate.evaluate_documents`:

* ``blueprint`` rules (BPR001-BPR007) read the facts of one design spec: its
  :class:`~govbot.blueprints.Verdict` (a :class:`~govbot.blueprints.Strength`, the
  sentences that carry the need or what was read instead, the state of its Use Cases
  section), computed once by :func:`govbot.blueprints.justify`;
* ``change`` rules (BPR010-BPR013) read the :class:`~govbot.blueprints.ChangeAssessment`
  of one change (commit message, files, topic), computed once by
  :func:`govbot.blueprints.assess_change`: at most one of them fires, the first failing
  step.

A rule body only turns a fact into a hit; it decides nothing the facts do not say.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from govbot.blueprints import (
    BlueprintConfig,
    ChangeAssessment,
    ChangeStatus,
    Document,
    Strength,
    Verdict,
    normalise_title,
)
from govbot.findings import Severity
from govbot.paths import COMMIT_MSG
from govbot.rules.registry import Hit, Kind, rule


@dataclass(frozen=True)
class DesignContext:
    """One design spec and its verdict (rules of kind ``blueprint``)."""

    kind: ClassVar[Kind] = Kind.BLUEPRINT

    file: str
    document: Document
    verdict: Verdict
    config: BlueprintConfig = field(default_factory=BlueprintConfig)
    options: Mapping[str, Any] = field(default_factory=dict)

    def pointer(self, section: str | None = None) -> str:
        """Where in the spec: a section by its title (stable across patch sets, unlike lines)."""
        title = section if section is not None else self.verdict.section
        if title:
            return "/sections/" + normalise_title(title).replace(" ", "-")
        return "/sections"


@dataclass(frozen=True)
class ChangeContext:
    """One change and where it stands with its blueprint (rules of kind ``change``)."""

    kind: ClassVar[Kind] = Kind.CHANGE

    assessment: ChangeAssessment
    file: str = COMMIT_MSG
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> ChangeStatus:
        return self.assessment.status


# The context each document kind reads, as the registry's CONTEXTS for the others.
DOCUMENT_CONTEXTS: Mapping[Kind, type] = {
    Kind.BLUEPRINT: DesignContext,
    Kind.CHANGE: ChangeContext,
}


def _unjustified(ctx: DesignContext, strength: Strength, fix: str) -> Iterator[Hit]:
    v = ctx.verdict
    if v.strength is strength and v.problem is None:
        yield Hit(
            f"no use-case justification: {v.evidence}; {fix}", pointer=ctx.pointer(), line=v.line
        )


# --- design-spec rules -----------------------------------------------------------------


@rule(
    "BPR001",
    "use-case-missing",
    kind=Kind.BLUEPRINT,
    severity=Severity.ERROR,
    internal=Severity.ERROR,  # audiences do not apply to specs and commit messages
)
def use_case_missing(ctx: DesignContext) -> Iterator[Hit]:
    """A design spec has no place that says why the change is needed, and no need anywhere.

    What it checks:
        The spec has no section titled like ``blueprints.use_case_sections`` (``Use
        Cases``, ``User Stories``) or ``blueprints.fallback_sections`` (``Problem
        description``, ``Motivation``), no spec-lite field like ``:problem:``, and its
        introduction states no need either. Titles are compared without case,
        numbering, punctuation or ``(Optional)``. Template files are never judged.

    Why it matters:
        A change to what users get must say who needs it and why. Without that,
        reviewers cannot weigh the change against the cost of supporting it forever.

    Example:
        A spec that starts with ``Proposed change`` and never says who asked for it.

    Fix:
        Add the template's ``Use Cases`` (or ``Problem description``) section and say
        who (users, operators, deployers, an application ...) needs the change and
        what fails for them today.

    References:
        README, "Blueprints: use cases".
    """
    yield from _unjustified(
        ctx,
        Strength.MISSING_SECTION,
        "add a Use Cases section saying who needs this change and why",
    )


@rule(
    "BPR002",
    "use-case-empty",
    kind=Kind.BLUEPRINT,
    severity=Severity.ERROR,
    internal=Severity.ERROR,  # audiences do not apply to specs and commit messages
)
def use_case_empty(ctx: DesignContext) -> Iterator[Hit]:
    """The use cases are empty or a placeholder, and nothing else in the spec states a need.

    What it checks:
        The ``Use Cases`` section is empty once comments, code and link-only lines are
        gone; or it holds only a placeholder (``None``, ``N/A``, ``TBD``, ``TODO``,
        ``<...>``, ``[...]``, ``-``); or it declares ``None`` with a short reason
        ("None. Code cleanup.", "N/A, refactoring"); and neither the problem
        description nor the introduction states a need of someone outside the code.
        When every problem and use-case section says ``None``, the author has declared
        there is no use case, and the introduction is not read against that.

    Why it matters:
        A spec without a use case asks reviewers to approve a change nobody said they
        need. API changes live forever once merged.

    Example:
        ``Use Cases`` followed by ``None. This is a code tree cleanup.``

    Fix:
        Name who needs the change and their need ("As an operator I cannot ... so
        that ..."). A pure refactoring with no effect on users usually needs no spec.

    References:
        README, "Blueprints: use cases".
    """
    yield from _unjustified(ctx, Strength.MISSING_EMPTY, "say who needs this change and why")


@rule(
    "BPR003",
    "use-case-template-text",
    kind=Kind.BLUEPRINT,
    severity=Severity.ERROR,
    internal=Severity.ERROR,  # audiences do not apply to specs and commit messages
)
def use_case_template_text(ctx: DesignContext) -> Iterator[Hit]:
    """The use cases only repeat the spec template's guidance.

    What it checks:
        Sentences that also appear in the project's template (``--template``, the
        policy's ``blueprints.template``, or a ``*-template.rst`` / ``template.rst``
        next to the spec), and paragraphs sharing ``blueprints.template_similarity_max``
        of their word 3-grams with it, are removed, whatever the template's shape
        (sections or spec-lite fields); nothing of the author's is left in the use
        cases, and nothing elsewhere states a need. Questions and instructions to the
        author ("Describe ...", "Ensure you ...") are never a need, with or without a
        template.

    Why it matters:
        Template text such as "Ensure you are clear about the actors: Developer, End
        User, Deployer" names actors, yet says nothing about this change.

    Example:
        ``Use Cases`` still reads "What use cases does this address? What impact on
        actors does this change have?".

    Fix:
        Replace the guidance with the spec's own use cases.

    References:
        README, "Blueprints: use cases".
    """
    yield from _unjustified(
        ctx, Strength.MISSING_TEMPLATE, "replace the template's text with this spec's use cases"
    )


@rule(
    "BPR004",
    "use-case-unclear",
    kind=Kind.BLUEPRINT,
    severity=Severity.WARNING,
    internal=Severity.WARNING,  # audiences do not apply to specs and commit messages
)
def use_case_unclear(ctx: DesignContext) -> Iterator[Hit]:
    """The spec describes a scenario that fails today, but names nobody who is hurt.

    What it checks:
        The only evidence of a need is a failure ("two API calls race and one fails",
        "the reported capacity is not correct") with no user, operator, deployer or
        application named. The spec counts as justified; reviewers are told whom to
        ask about.

    Why it matters:
        Word cues are easy to miss and easy to game, so this is advice for the human
        reviewers, never a failure.

    Example:
        ``Problem description``: "Concurrent requests can both proceed and one of them
        fails." and no word on who sends them.

    Fix:
        Say who is hurt by the failure and what they cannot do today.

    References:
        README, "Blueprints: use cases".
    """
    v = ctx.verdict
    if v.strength is Strength.UNCLEAR:
        yield Hit(f"use case unclear: {v.evidence}", pointer=ctx.pointer(), line=v.line)


@rule(
    "BPR005",
    "spec-unparseable",
    kind=Kind.BLUEPRINT,
    severity=Severity.ERROR,
    internal=Severity.ERROR,  # audiences do not apply to specs and commit messages
)
def spec_unparseable(ctx: DesignContext) -> Iterator[Hit]:
    """A design spec cannot be read as RST or Markdown, so it cannot be judged.

    What it checks:
        The file is binary (a NUL byte), not UTF-8, larger than
        ``blueprints.max_bytes``, or the parser (docutils, markdown-it-py) failed on it.
        RST errors that docutils recovers from (unknown directives, bad markup) are
        not failures: the rest of the spec is still judged.

    Why it matters:
        An unreadable spec has no verdict; failing closed keeps it from passing as
        justified.

    Example:
        A spec saved as UTF-16, or a PDF renamed to ``.rst``.

    Fix:
        Save the spec as UTF-8 text.

    References:
        README, "Blueprints: use cases".
    """
    v = ctx.verdict
    if v.problem is not None:
        yield Hit(f"the spec cannot be judged: {v.problem}", pointer="", line=v.line)


@rule(
    "BPR006",
    "use-case-section-empty",
    kind=Kind.BLUEPRINT,
    severity=Severity.WARNING,
    internal=Severity.WARNING,  # audiences do not apply to specs and commit messages
)
def use_case_section_empty(ctx: DesignContext) -> Iterator[Hit]:
    """A justified spec leaves its Use Cases heading empty, a placeholder or template text.

    What it checks:
        The spec states a need elsewhere (its problem description, its introduction,
        a spec-lite field), so it is justified; but the ``Use Cases`` section its
        template asks for is empty, says ``None``/``N/A``/``TBD``, or only repeats the
        template. The warning is at that heading.

    Why it matters:
        Readers and tools look for the use cases where the template puts them; a
        need buried in the problem description is easy to miss.

    Example:
        ``Use Cases`` is empty, while ``Problem description`` says "operators can only
        clear the stuck volumes by restarting the service".

    Fix:
        Fill in the Use Cases section: who needs the change and what they will do.

    References:
        README, "Blueprints: use cases".
    """
    uc = ctx.verdict.empty_use_cases
    if uc is not None:
        what = f'"{uc.removed}"' if uc.removed else "nothing"
        yield Hit(
            f'"{uc.title}" holds {what} ({uc.state.value}) while the spec states its need '
            f"elsewhere ({ctx.verdict.evidence}); fill in the section the template asks for",
            pointer=ctx.pointer(uc.title),
            line=uc.line,
        )


@rule(
    "BPR007",
    "use-case-no-need",
    kind=Kind.BLUEPRINT,
    severity=Severity.ERROR,
    internal=Severity.ERROR,  # audiences do not apply to specs and commit messages
)
def use_case_no_need(ctx: DesignContext) -> Iterator[Hit]:
    """The spec explains itself, but states no need of anyone outside the code.

    What it checks:
        The use cases, problem description, spec-lite fields and introduction were
        read sentence by sentence; none names someone outside the code (users,
        operators, administrators, deployers, tenants, an application, client tooling,
        another service's users) with what they need or what fails for them, and none
        describes a failure today. What was read instead: the implementation, a
        refactor, a rename, a vendor driver's existence, needs of the project's own
        developers or drivers, or a guess ("may be useful", "users could ...").
        Length is not a need: a long problem description about code layers is still
        no use case.

    Why it matters:
        A change that nobody outside the code needs still costs reviews, upgrades and
        support; if it is worth doing, the spec can say for whom.

    Example:
        ``Problem description``: "The validation logic is duplicated between the v1
        and v2 API layers." and ``Use Cases``: "Developers want one place to validate
        input."

    Fix:
        Say who outside the code needs this (and what fails for them today), or, for
        an internal refactor, ask the project whether it needs a spec at all.

    References:
        README, "Blueprints: use cases".
    """
    yield from _unjustified(
        ctx, Strength.MISSING_NEED, "say who outside the code needs this change and why"
    )


# --- change rules ------------------------------------------------------------------------


@rule(
    "BPR010",
    "api-change-without-blueprint",
    kind=Kind.CHANGE,
    severity=Severity.ERROR,
    internal=Severity.ERROR,  # audiences do not apply to specs and commit messages
)
def api_change_without_blueprint(ctx: ChangeContext) -> Iterator[Hit]:
    """A change to an external API references no blueprint.

    What it checks:
        The change touches an **external** API: an OpenAPI diff with external surface,
        a file under ``blueprints.api_paths`` (not a test, not under
        ``blueprints.internal_api_paths``), or an ``APIImpact`` flag in the commit
        message; and neither the commit message nor the topic references a blueprint
        (``Implements: blueprint NAME``, ``Partial-Implements:``,
        ``Partially-Implements:``, ``Blueprint: NAME``, a Launchpad ``+spec`` URL, the
        topic ``bp/NAME``). Internal-only API changes and reverts are not asked.

    Why it matters:
        API changes need a design discussion: a user-facing API change must point at
        the spec that justified it.

    Example:
        A change adding a field to ``GET /servers/{id}`` whose message ends with
        ``Change-Id:`` and nothing else.

    Fix:
        Add ``Implements: blueprint <name>`` (or ``Partial-Implements:``) to the commit
        message, naming the approved spec's blueprint.

    References:
        README, "Running govbot on your Gerrit", the spec review.
    """
    if ctx.status is ChangeStatus.NO_BLUEPRINT:
        yield Hit(
            f"external API change without a blueprint ({ctx.assessment.signals()}); add "
            "'Implements: blueprint <name>' naming the approved spec",
            pointer="/commit-message",
            line=None,
        )


@rule(
    "BPR011",
    "blueprint-not-found",
    kind=Kind.CHANGE,
    severity=Severity.WARNING,
    internal=Severity.WARNING,  # audiences do not apply to specs and commit messages
)
def blueprint_not_found(ctx: ChangeContext) -> Iterator[Hit]:
    """The blueprint the change references has no spec in the project's specs repository.

    What it checks:
        For an external API change, no referenced name has a spec file
        ``specs/<release>/{approved,implemented}/<name>.rst|.md`` (merged, or in an
        open review) in the specs repository (``blueprints.specs_repo``).

    Why it matters:
        A misspelt name, or a specless blueprint, leaves the API change without a
        reviewed justification. Lookups can miss (another tracker, a renamed spec),
        so this is a warning.

    Example:
        ``Implements: blueprint flavor-serach-by-name`` (typo).

    Fix:
        Use the spec's file name as the blueprint name, or propose the spec first.

    References:
        README, "Running govbot on your Gerrit", the spec review.
    """
    a = ctx.assessment
    if ctx.status is ChangeStatus.NOT_FOUND and a.subject is not None:
        names = ", ".join(a.resolved) or a.subject.name
        yield Hit(
            f"blueprint {names} has no spec under specs/<release>/approved or implemented "
            "in the specs repository; check the name or propose the spec",
            pointer=f"/blueprint/{a.subject.name}",
            line=a.subject.line,
        )


@rule(
    "BPR012",
    "blueprint-unjustified",
    kind=Kind.CHANGE,
    severity=Severity.ERROR,
    internal=Severity.ERROR,  # audiences do not apply to specs and commit messages
)
def blueprint_unjustified(ctx: ChangeContext) -> Iterator[Hit]:
    """The referenced blueprint's spec has no use-case justification.

    What it checks:
        The spec of the referenced blueprint fails the use-case check (BPR001-BPR003,
        BPR005, BPR007): no need of anyone outside the code anywhere in it.

    Why it matters:
        A reference to a spec that never says who needs the change does not justify
        an external API change.

    Example:
        ``Implements: blueprint remove-nova-cert`` whose spec says ``Use Cases: None``
        and only describes the code.

    Fix:
        Update the spec's Use Cases (a follow-up to the specs repository), then
        recheck this change.

    References:
        README, "Running govbot on your Gerrit", the spec review.
    """
    a = ctx.assessment
    if ctx.status is ChangeStatus.UNJUSTIFIED and a.spec is not None and a.subject is not None:
        v = a.spec.verdict
        state = "" if a.spec.merged else " (in review)"
        strength = v.strength.value if v.strength is not None else "unjudged"
        yield Hit(
            f"blueprint {a.subject.name}: its spec {a.spec.path}{state} has no use-case "
            f"justification ({strength}: {v.evidence}); fix the spec's Use Cases",
            pointer=f"/blueprint/{a.subject.name}",
            line=a.subject.line,
        )


@rule(
    "BPR013",
    "blueprint-no-rest-api-impact",
    kind=Kind.CHANGE,
    severity=Severity.WARNING,
    internal=Severity.WARNING,  # audiences do not apply to specs and commit messages
)
def blueprint_no_rest_api_impact(ctx: ChangeContext) -> Iterator[Hit]:
    """The referenced spec is justified but declares no REST API impact.

    What it checks:
        The change touches an external API, but the spec's ``REST API impact`` section
        (``blueprints.rest_api_sections``) is missing, empty, ``None``/``N/A``, or
        only template text.

    Why it matters:
        The spec was reviewed without the API change in view; spec templates ask for
        the details of API changes up front.

    Example:
        ``Implements: blueprint unpin-az`` on a change that adds a microversion, while
        the spec says ``REST API impact: None``.

    Fix:
        Amend the spec's REST API impact section, or reference the blueprint whose spec
        describes this API change.

    References:
        README, "Running govbot on your Gerrit", the spec review.
    """
    a = ctx.assessment
    if (
        ctx.status is ChangeStatus.NO_REST_API_IMPACT
        and a.spec is not None
        and a.subject is not None
    ):
        impact = a.spec.rest_api
        said = impact.evidence or "no REST API impact section"
        yield Hit(
            f"blueprint {a.subject.name}: its spec {a.spec.path} declares no REST API "
            f"impact ({said}) but this change touches an external API ({a.signals()})",
            pointer=f"/blueprint/{a.subject.name}",
            line=a.subject.line,
        )
