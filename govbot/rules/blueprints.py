"""BPR rules: design specs without a use-case justification, API changes without a blueprint.

Two kinds of rule, both run by :func:`govbot.evaluate.evaluate_documents`:

* ``blueprint`` rules (BPR001-BPR005) read the :class:`~govbot.blueprints.Verdict` of one
  design spec, computed once by :func:`govbot.blueprints.justify`;
* ``change`` rules (BPR010-BPR013) read the status of one change (commit message, files,
  topic), computed once by :meth:`ChangeContext.build`: at most one of them fires, the
  first failing step of research escalation.md B9.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from govbot.blueprints import (
    ApiChange,
    BlueprintConfig,
    BlueprintRef,
    Document,
    ResolvedSpec,
    SpecChange,
    Verdict,
    classify_change,
    find_references,
    normalise_title,
)
from govbot.findings import Severity
from govbot.paths import COMMIT_MSG
from govbot.rules.registry import Hit, rule

ChangeStatus = Literal[
    "not-api",  # no external API change (or exempt): nothing to ask
    "no-blueprint",  # BPR010
    "unverified",  # references found, but no specs repository to look them up in
    "not-found",  # BPR011
    "unjustified",  # BPR012
    "no-rest-api-impact",  # BPR013
    "ok",
]
# Which status is better when a change references several blueprints.
_PROGRESS: tuple[ChangeStatus, ...] = (
    "no-blueprint",
    "not-found",
    "unjustified",
    "no-rest-api-impact",
    "unverified",
    "ok",
)


@dataclass(frozen=True)
class DesignContext:
    """One design spec and its verdict (rules of kind ``blueprint``)."""

    kind: ClassVar[str] = "blueprint"

    file: str
    document: Document
    verdict: Verdict
    config: BlueprintConfig = field(default_factory=BlueprintConfig)
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pointer(self) -> str:
        """Where in the spec: the judged section (stable across patch sets, unlike lines)."""
        if self.verdict.section:
            return "/sections/" + normalise_title(self.verdict.section).replace(" ", "-")
        return "/sections"


@dataclass(frozen=True)
class ChangeContext:
    """One change: its API signals, blueprint references and their specs (kind ``change``)."""

    kind: ClassVar[str] = "change"

    message: str
    api: ApiChange
    references: tuple[BlueprintRef, ...] = ()
    # name -> its spec files, judged; a name missing here was not looked up.
    resolved: Mapping[str, tuple[ResolvedSpec, ...]] = field(default_factory=dict)
    status: ChangeStatus = "not-api"
    # The reference (and its best spec) the status is about.
    subject: BlueprintRef | None = None
    spec: ResolvedSpec | None = None
    file: str = COMMIT_MSG
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        message: str,
        files: Sequence[str],
        *,
        topic: str | None = None,
        spec_changes: Sequence[SpecChange] = (),
        lookup: Callable[[str], Sequence[ResolvedSpec]] | None = None,
        config: BlueprintConfig | None = None,
    ) -> ChangeContext:
        """Detect the API change, find the references, resolve them and decide the status.

        ``lookup(name)`` gives the specs of a blueprint in the project's specs repository
        (merged or in review); without one, references cannot be verified and the change
        is only asked to have one.
        """
        config = config or BlueprintConfig()
        api = classify_change(files, message, spec_changes=spec_changes, config=config)
        refs = find_references(message, topic)
        if not api.needs_blueprint:
            return cls(message, api, refs, status="not-api")
        if not refs:
            return cls(message, api, refs, status="no-blueprint")
        if lookup is None:
            return cls(message, api, refs, status="unverified", subject=refs[0])
        resolved = {ref.name: tuple(lookup(ref.name)) for ref in refs}
        best: tuple[int, BlueprintRef, ResolvedSpec | None] | None = None
        for ref in refs:
            status, spec = _status_of(resolved[ref.name])
            rank = _PROGRESS.index(status)
            if best is None or rank > best[0]:
                best = (rank, ref, spec)
        assert best is not None
        rank, subject, spec = best
        return cls(
            message,
            api,
            refs,
            resolved,
            status=_PROGRESS[rank],
            subject=subject,
            spec=spec,
        )

    def evidence(self) -> str:
        """The API signals, in a few words."""
        shown = "; ".join(self.api.signals[:3])
        more = len(self.api.signals) - 3
        return shown + (f" (+{more} more)" if more > 0 else "")


def _status_of(specs: Sequence[ResolvedSpec]) -> tuple[ChangeStatus, ResolvedSpec | None]:
    if not specs:
        return "not-found", None
    justified = [s for s in specs if s.verdict.justified]
    if not justified:
        return "unjustified", specs[0]
    with_api = [s for s in justified if s.rest_api.declared]
    if not with_api:
        return "no-rest-api-impact", justified[0]
    return "ok", with_api[0]


# --- design-spec rules -----------------------------------------------------------------


@rule(
    "BPR001",
    "use-case-missing",
    kind="blueprint",
    severity=Severity.ERROR,
    internal=Severity.ERROR,  # audiences do not apply to specs and commit messages
)
def use_case_missing(ctx: DesignContext) -> Iterator[Hit]:
    """A design spec has no section that could hold its use case.

    What it checks:
        The spec (RST or Markdown) has no heading titled like the policy's
        ``blueprints.use_case_sections`` (``Use Cases``, ``User Stories``) nor, failing
        those, ``blueprints.fallback_sections`` (``Problem description``, ``Problem
        statement``, ``Motivation``). Titles are compared without case, numbering,
        punctuation or ``(Optional)``. Template files are never judged.

    Why it matters:
        A change to a user-facing API must say who needs it and why (design.md §4.4).
        Without the section there is no place where reviewers can find that answer,
        and the TC cannot weigh the change against the cost of supporting it forever.

    Example:
        A nova spec that deleted ``Problem description`` and ``Use Cases`` and starts
        with ``Proposed change``.

    Fix:
        Add the template's ``Use Cases`` section (under ``Problem description`` in
        nova's template) and describe, for each actor (end user, operator, deployer,
        developer), what they cannot do today and what they will be able to do.

    References:
        design.md §4.4; research escalation.md B8 (J1); nova-specs template.
    """
    v = ctx.verdict
    if v.strength == "missing-section" and v.problem is None:
        yield Hit(
            f"no use-case justification: {v.evidence}; add a Use Cases section saying who "
            "needs this change and why",
            pointer="/sections",
            line=v.line,
        )


@rule(
    "BPR002",
    "use-case-empty",
    kind="blueprint",
    severity=Severity.ERROR,
    internal=Severity.ERROR,  # audiences do not apply to specs and commit messages
)
def use_case_empty(ctx: DesignContext) -> Iterator[Hit]:
    """The use-case section is empty, a placeholder, or a fragment that names nobody.

    What it checks:
        After removing comments, code blocks, directives' boilerplate and link-only
        lines, the judged section is empty; or holds only a placeholder (``None``,
        ``N/A``, ``TBD``, ``TODO``, ``<...>``, ``[...]``, ``-``); or starts with
        ``None``/``N/A`` followed by a short reason ("None. Code cleanup.", "N/A,
        refactoring"), which declares that there is no use case; or has fewer than
        ``blueprints.min_words`` words and names no actor at all.

    Why it matters:
        The template allows ``None`` in most sections, but not here: a spec without a
        use case asks reviewers to approve a change nobody said they need. API changes
        live forever once merged.

    Example:
        ``Use Cases`` followed by ``None. This is a code tree cleanup.``, or by
        ``This is a cleanup effort on the instances table.``

    Fix:
        Name the actors and their need ("As an operator I cannot ... so that ...").
        A pure refactoring with no user-visible effect usually needs no spec; if the
        project still wants one, say who benefits (e.g. developers, and how).

    References:
        design.md §4.4; research escalation.md B8 (J2, strength "missing: empty").
    """
    v = ctx.verdict
    if v.strength == "missing-empty":
        yield Hit(
            f"no use-case justification: {v.evidence}; say who needs this change and why",
            pointer=ctx.pointer,
            line=v.line,
        )


@rule(
    "BPR003",
    "use-case-template-text",
    kind="blueprint",
    severity=Severity.ERROR,
    internal=Severity.ERROR,  # audiences do not apply to specs and commit messages
)
def use_case_template_text(ctx: DesignContext) -> Iterator[Hit]:
    """The use-case section only repeats the spec template's guidance.

    What it checks:
        Sentences that also appear in the project's template (``--template``, the
        policy's ``blueprints.template``, or a ``*-template.rst`` / ``template.rst``
        next to the spec) are removed; the section fails when nothing is left, or
        when what is left still shares ``blueprints.template_similarity_max`` of its
        word 3-grams with the template. Without a template this rule cannot fire:
        govbot does not guess boilerplate from the words alone.

    Why it matters:
        Template text such as "What use cases does this address? ... Ensure you are
        clear about the actors" mentions actors and needs, so it would pass a word
        check while saying nothing about this change.

    Example:
        ``Use Cases`` still reads "What use cases does this address? What impact on
        actors does this change have?".

    Fix:
        Replace the guidance with the spec's own use cases.

    References:
        design.md §4.4; research escalation.md B8 (J3) and B7 (leftover template markers).
    """
    v = ctx.verdict
    if v.strength == "missing-template":
        yield Hit(
            f"no use-case justification: {v.evidence}; replace it with this spec's use cases",
            pointer=ctx.pointer,
            line=v.line,
        )


@rule(
    "BPR004",
    "use-case-unclear",
    kind="blueprint",
    severity=Severity.WARNING,
    internal=Severity.WARNING,  # audiences do not apply to specs and commit messages
)
def use_case_unclear(ctx: DesignContext) -> Iterator[Hit]:
    """The use case is there, but names no actor or states no need.

    What it checks:
        The judged section has substance, but no actor (operator, deployer, admin, end
        user, developer, client tooling, "As a ...", "we need ...") or no need cue
        ("cannot", "need", "want", "so that", "currently", "problem", ...). The actor
        lexicon can be extended with ``blueprints.actors``. A section that only links
        to a bug, RFE or story (delegation) is reported here too: the link is not
        followed.

    Why it matters:
        Word lists are easy to miss and easy to game, so this is advice for the human
        reviewers, never a failure (research escalation.md B10).

    Example:
        ``Use Cases``: "Booting a guest with large RAM." has no actor; a long problem
        description about data formats never says who is affected.

    Fix:
        Say who needs the change and what they cannot do today.

    References:
        research escalation.md B8 (J5, strength "present, unclear").
    """
    v = ctx.verdict
    if v.strength == "unclear":
        yield Hit(f"use case unclear: {v.evidence}", pointer=ctx.pointer, line=v.line)


@rule(
    "BPR005",
    "spec-unparseable",
    kind="blueprint",
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
        house style §8 (problems in the input are findings, not exceptions).
    """
    v = ctx.verdict
    if v.problem is not None:
        yield Hit(f"the spec cannot be judged: {v.problem}", pointer="", line=v.line)


# --- change rules ------------------------------------------------------------------------


@rule(
    "BPR010",
    "api-change-without-blueprint",
    kind="change",
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
        "API changes always require a design discussion" (nova contributor guide): a
        user-facing API change must point at the spec that justified it.

    Example:
        A change adding a field to ``GET /servers/{id}`` whose message ends with
        ``Change-Id:`` and nothing else.

    Fix:
        Add ``Implements: blueprint <name>`` (or ``Partial-Implements:``) to the commit
        message, naming the approved spec's blueprint.

    References:
        design.md §4.4; research escalation.md B9 (api-change-no-blueprint).
    """
    if ctx.status == "no-blueprint":
        yield Hit(
            f"external API change without a blueprint ({ctx.evidence()}); add "
            "'Implements: blueprint <name>' naming the approved spec",
            pointer="/commit-message",
            line=None,
        )


@rule(
    "BPR011",
    "blueprint-not-found",
    kind="change",
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
        research escalation.md B9 (blueprint-not-found, blueprint-no-spec) and B10.
    """
    if ctx.status == "not-found" and ctx.subject is not None:
        names = ", ".join(ctx.resolved) or ctx.subject.name
        yield Hit(
            f"blueprint {names} has no spec under specs/<release>/approved or implemented "
            "in the specs repository; check the name or propose the spec",
            pointer=f"/blueprint/{ctx.subject.name}",
            line=ctx.subject.line,
        )


@rule(
    "BPR012",
    "blueprint-unjustified",
    kind="change",
    severity=Severity.ERROR,
    internal=Severity.ERROR,  # audiences do not apply to specs and commit messages
)
def blueprint_unjustified(ctx: ChangeContext) -> Iterator[Hit]:
    """The referenced blueprint's spec has no use-case justification.

    What it checks:
        The spec of the referenced blueprint fails the use-case check (BPR001-BPR003,
        BPR005): no Use Cases section, an empty or ``None`` one, or only template text.

    Why it matters:
        A reference to a spec that never says who needs the change does not justify
        an external API change.

    Example:
        ``Implements: blueprint remove-nova-cert`` whose spec says ``Use Cases: None``.

    Fix:
        Update the spec's Use Cases (a follow-up to the specs repository), then
        recheck this change.

    References:
        research escalation.md B9 (spec-lacks-use-case).
    """
    if ctx.status == "unjustified" and ctx.spec is not None and ctx.subject is not None:
        v = ctx.spec.verdict
        state = "" if ctx.spec.merged else " (in review)"
        yield Hit(
            f"blueprint {ctx.subject.name}: its spec {ctx.spec.path}{state} has no use-case "
            f"justification ({v.strength}: {v.evidence}); fix the spec's Use Cases",
            pointer=f"/blueprint/{ctx.subject.name}",
            line=ctx.subject.line,
        )


@rule(
    "BPR013",
    "blueprint-no-rest-api-impact",
    kind="change",
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
        The spec was reviewed without the API change in view; "we do want lots of
        details about API changes upfront" (nova-specs template).

    Example:
        ``Implements: blueprint unpin-az`` on a change that adds a microversion, while
        the spec says ``REST API impact: None``.

    Fix:
        Amend the spec's REST API impact section, or reference the blueprint whose spec
        describes this API change.

    References:
        research escalation.md B9 (spec-no-api-section).
    """
    if ctx.status == "no-rest-api-impact" and ctx.spec is not None and ctx.subject is not None:
        impact = ctx.spec.rest_api
        said = impact.evidence or "no REST API impact section"
        yield Hit(
            f"blueprint {ctx.subject.name}: its spec {ctx.spec.path} declares no REST API "
            f"impact ({said}) but this change touches an external API ({ctx.evidence()})",
            pointer=f"/blueprint/{ctx.subject.name}",
            line=ctx.subject.line,
        )
