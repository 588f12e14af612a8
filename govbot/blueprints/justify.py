"""The use-case verdict of a design spec: does it say who needs the change, and why?

A spec is **justified** when the document, anywhere it explains itself, states a concrete
need of someone outside the code: who needs the change and why, or a concrete scenario
that fails today. It may be short. It is **unjustified** when no such need appears:
the use cases are missing, empty, ``None`` or left from the template, and the rest only
describes the implementation, a refactor, a rename, a driver or a guess.

Where a spec explains itself (:class:`~govbot.blueprints.substance.Zone`): its use-case
sections (``Use Cases``, ``User Stories``), its problem sections (``Problem
description``, ``Motivation``), the fields of a spec-lite (``:problem:``,
``:solution:``) and its introduction (the text under the title). Impact sections
("Other deployer impact", "REST API impact") say what the change does to people, not
why it is wanted, and are not read for the need.

What is never credited: comments, code, placeholders (``None``, ``N/A``, ``TBD``,
``<...>``), a section that declares ``None. <short reason>``, lines that only link,
sentences copied from the project's template (and paragraphs mostly made of its
wording), questions and instructions to the author. When every problem and use-case
section of a spec says ``None``, the author has declared that there is no use case,
and the introduction does not override that.

The verdict's strength says what was found (:class:`Strength`); its statements say
where (file, line, quoted sentence), or, for an unjustified spec, what was read and why
it does not count. An empty or placeholder ``Use Cases`` heading in a justified spec is
a fact of its own (:attr:`Verdict.use_cases`), never the verdict.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from govbot.blueprints.config import BlueprintConfig
from govbot.blueprints.document import Block, Document, Section, read_spec
from govbot.blueprints.substance import Reading, Statement, Zone, read_sentence
from govbot.blueprints.templates import TemplateText, find_templates, load_template, sentences
from govbot.blueprints.topics import quote, topics, word_count
from govbot.blueprints.verdict import (
    Judgement,
    RestApiImpact,
    SectionRead,
    SectionState,
    Strength,
    Verdict,
)
from govbot.errors import SpecError

# --- reading the sections ------------------------------------------------------------------

_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+", re.I)
_NONE_WORDS = (
    r"none|n\s*/\s*a|n\.a\.|na|nil|nothing|not applicable|not needed|no use cases?|tbd|tbc|"
    r"todo|xxx|fixme|-+|\u2014|\u2013"
)
_PLACEHOLDER_BLOCK = re.compile(
    rf"^(?:{_NONE_WORDS}|\.\.\.|\u2026|<[^<>]*>|\[[^\[\]]*\]|\(fill me in[^)]*\)|"
    r"fill me in.*|to be (?:written|determined|defined|done|added|completed).*)[\s.!:;,]*$",
    re.I,
)
_DECLARED_NONE = re.compile(rf"^(?:{_NONE_WORDS})(?:\s*[.,;:!()\-\u2013\u2014]|\s*$)", re.I)
_SEE_ELSEWHERE = re.compile(
    r"^(?:please\s+)?(?:see|refer to|as (?:described|explained|stated)|described|covered|"
    r"same as|explained)\b",
    re.I,
)
# "None. <reason>" declares no use case while the reason stays this short.
_NONE_REASON_MAX_WORDS = 40
MAX_SENTENCES = 1000  # sentences read per section
_PRODUCT_TITLE = re.compile(r"\b(?:drivers?|plugins?|plug-ins?)\b", re.I)
_LINK_ONLY = re.compile(r"\W*(?:see|refer to|link|rfe|bug|story)?\W*", re.I)
_USE_CASE_LABEL = re.compile(
    r"^(?:\w+\s+)?(?:use[- ]cases?|user\s+stor(?:y|ies))\s*[:\-\u2013]", re.I
)
_INLINE_PLACEHOLDER = re.compile(r"<[^<>\n]{1,80}>|\b(?:TODO|TBD|XXX|FIXME)\b:?", re.I)


def _zone_of(section: Section, config: BlueprintConfig) -> Zone | None:
    key = section.key.split()
    if section.field:
        names = {n.lower() for n in config.spec_lite_fields}
        if section.key not in names:
            return None
        if section.key.startswith("use case"):
            return Zone.USE_CASES
        # :problem: and :motivation: hold the reason; :solution: is context, like an intro.
        return Zone.PROBLEM if _title_holds(key, ("problem", "motivation")) else Zone.INTRO
    for zone, titles in (
        (Zone.USE_CASES, config.use_case_sections),
        (Zone.PROBLEM, config.fallback_sections),
        (Zone.INTRO, config.context_sections),
    ):
        if _title_holds(key, titles):
            return zone
    return None


def _title_holds(key: Sequence[str], titles: Sequence[str]) -> bool:
    for title in titles:
        wanted = title.lower().split()
        wanted = " ".join(" ".join(wanted).replace("-", " ").split()).split()
        n = len(wanted)
        if n and any(list(key[i : i + n]) == wanted for i in range(len(key) - n + 1)):
            return True
    return False


def _zones(doc: Document, config: BlueprintConfig) -> Iterator[tuple[Section, Zone, list[Block]]]:
    """Each section a need may be stated in, with its zone and its own blocks.

    A zone section's blocks include those of subsections that are not zones themselves;
    the text above every heading and under the first (the title) is the introduction.
    Other sections ("Proposed change", the impact sections) are not read for the need.
    """
    if doc.preamble:
        yield Section("", 0, 1, doc.preamble), Zone.INTRO, list(doc.preamble)
    title = doc.sections[0] if doc.sections else None

    def visit(section: Section) -> Iterator[tuple[Section, Zone, list[Block]]]:
        zone = _zone_of(section, config)
        if zone is not None:
            yield section, zone, list(_own_blocks(section, config))
        elif section is title:
            yield section, Zone.INTRO, list(section.blocks)
        for sub in section.subsections:
            if zone is None or _zone_of(sub, config) is not None:
                yield from visit(sub)

    for top in doc.sections:
        yield from visit(top)


def _own_blocks(section: Section, config: BlueprintConfig) -> Iterator[Block]:
    yield from section.blocks
    for sub in section.subsections:
        if _zone_of(sub, config) is None:
            yield from _own_blocks(sub, config)


@dataclass
class _Cleaned:
    """A section's prose blocks once links, placeholders and inline markers are gone."""

    kept: list[Block] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    links: bool = False


def _clean(blocks: Sequence[Block], config: BlueprintConfig) -> _Cleaned:
    extra = [re.compile(p, re.I) for p in config.placeholders]
    out = _Cleaned()
    for block in blocks:
        if not block.kind.prose:
            continue
        text = " ".join(block.text.split())
        bare = _URL.sub(" ", text)
        if not word_count(bare) or _LINK_ONLY.fullmatch(bare):
            out.links = out.links or bool(_URL.search(text))
            continue
        if _PLACEHOLDER_BLOCK.match(text) or any(p.fullmatch(text) for p in extra):
            out.placeholders.append(text)
            continue
        cleaned = " ".join(_INLINE_PLACEHOLDER.sub(" ", text).split())
        if word_count(cleaned):
            out.kept.append(Block(block.kind, cleaned, block.line))
        else:
            out.placeholders.append(text)
    return out


def read_section(
    doc: Document,
    section: Section,
    zone: Zone,
    blocks: Sequence[Block],
    config: BlueprintConfig,
    template: TemplateText | None,
) -> SectionRead:
    """The state of one section and what each of its sentences says."""
    cleaned = _clean(blocks, config)
    kept, title, line = cleaned.kept, section.title, section.line
    if kept and _DECLARED_NONE.match(kept[0].text):
        rest = _DECLARED_NONE.sub("", kept[0].text, count=1)
        if word_count(" ".join([rest, *(b.text for b in kept[1:])])) < _NONE_REASON_MAX_WORDS:
            removed = quote(kept[0].text, 80)
            return SectionRead(title, line, zone, SectionState.PLACEHOLDER, removed=removed)
    if len(kept) == 1 and _SEE_ELSEWHERE.match(kept[0].text) and word_count(kept[0].text) <= 12:
        return SectionRead(title, line, zone, SectionState.REFERS, removed=quote(kept[0].text, 80))
    statements, dropped = _statements(doc, title, zone, kept, config, template)
    guidance = [st for st in statements if st.reading is Reading.GUIDANCE]
    if statements and len(guidance) == len(statements):
        # Only questions and instructions to the author: template text, found or not.
        state, dropped = SectionState.TEMPLATE, guidance[0].text
    elif statements:
        state = SectionState.FILLED
    elif dropped:
        state = SectionState.TEMPLATE
    elif cleaned.placeholders:
        state = SectionState.PLACEHOLDER
    elif cleaned.links:
        state = SectionState.LINKS
    else:
        state = SectionState.EMPTY
    removed = quote(dropped or (cleaned.placeholders[0] if cleaned.placeholders else ""), 80)
    return SectionRead(title, line, zone, state, tuple(statements), removed)


def _statements(
    doc: Document,
    title: str,
    zone: Zone,
    kept: Sequence[Block],
    config: BlueprintConfig,
    template: TemplateText | None,
) -> tuple[list[Statement], str]:
    """Each sentence of ``kept`` read, and the first text dropped as the template's."""
    statements: list[Statement] = []
    dropped = ""
    # A spec that adds a driver or plugin says so in its title.
    product = bool(doc.title and _PRODUCT_TITLE.search(doc.title))
    for block in kept:
        if template is not None and template.share(block.text) >= config.template_similarity_max:
            dropped = dropped or block.text
            continue
        carried: tuple[str, ...] = ()
        # A paragraph labelled "Use case: ..." is a use case wherever it stands.
        here = Zone.USE_CASES if _USE_CASE_LABEL.match(block.text) else zone
        for sentence in sentences(block.text):
            if len(statements) >= MAX_SENTENCES:
                break  # no section of a design spec says this much; the rest is not read
            if template is not None and template.has_sentence(sentence):
                dropped = dropped or sentence
                continue
            reading, actors, inside, cues = read_sentence(
                sentence, here, extra_actors=config.actors, carried=carried, product=product
            )
            carried = actors or carried
            statements.append(
                Statement(
                    text=sentence,
                    section=title,
                    line=doc.locate(sentence, block.line),
                    zone=here,
                    reading=reading,
                    actors=actors,
                    inside=inside,
                    cues=cues,
                    topics=topics(sentence),
                )
            )
    return statements, dropped


# --- the verdict ---------------------------------------------------------------------------


def justify(
    doc: Document,
    config: BlueprintConfig | None = None,
    template: TemplateText | None = None,
    *,
    is_template: bool = False,
) -> Verdict:
    """The use-case verdict of ``doc`` (see the module docstring)."""
    config = config or BlueprintConfig()
    templates = template.files if template is not None else ()
    if is_template or not doc.ok:
        return _unjudged(doc, templates, is_template)
    reads = [
        r
        for s, z, b in _zones(doc, config)
        if (r := read_section(doc, s, z, b, config, template)).zone is not Zone.INTRO
        or r.state is not SectionState.EMPTY
    ]
    declared_none = _declares_none(reads)
    credited = [
        st for r in reads if not (declared_none and r.zone is Zone.INTRO) for st in r.statements
    ]
    base = Verdict(
        doc.file,
        Judgement.UNJUSTIFIED,
        None,
        sections=tuple(reads),
        use_cases=next((r for r in reads if r.zone is Zone.USE_CASES and r.title), None),
        words=sum(word_count(st.text) for st in credited),
        templates=templates,
        rest_api=rest_api_impact(doc, config, template),
    )
    need = sorted(
        (st for st in credited if st.reading is Reading.NEED),
        key=lambda st: list(Zone).index(st.zone),
    )
    shown = (need or [st for st in credited if st.reading.counts])[:3]
    if shown:
        first = shown[0]
        strength = Strength.UNCLEAR if not need else Strength.GOOD
        if need and first.zone is Zone.USE_CASES:
            strength = Strength.STRONG
        return dataclasses.replace(
            base,
            verdict=Judgement.JUSTIFIED,
            strength=strength,
            section=first.section or None,
            line=first.line,
            evidence=_justified_evidence(first, strength),
            need=tuple(shown),
        )
    strength, where = _why_unjustified(reads, declared_none)
    located = where is not None and bool(where.title)
    return dataclasses.replace(
        base,
        strength=strength,
        section=where.title if where is not None and located else None,
        line=where.line if where is not None and located else _where_it_should_be(doc, config),
        evidence=_unjustified_evidence(reads, strength, declared_none, config),
        looked_at=tuple(_sample([st for r in reads for st in r.statements])),
    )


def _unjudged(doc: Document, templates: tuple[str, ...], is_template: bool) -> Verdict:
    """A template (never judged), or a spec that could not be parsed."""
    if is_template:
        return Verdict(
            doc.file,
            Judgement.TEMPLATE,
            None,
            evidence="a spec template (by its file name or --template): not judged",
            templates=templates,
        )
    return Verdict(
        doc.file,
        Judgement.UNJUSTIFIED,
        Strength.MISSING_SECTION,
        line=doc.problem_line,
        evidence=f"cannot be parsed: {doc.problem}",
        problem=doc.problem,
        templates=templates,
    )


def _declares_none(reads: Sequence[SectionRead]) -> bool:
    """Every problem and use-case section (one of each at least) says None or the like."""
    own = [r for r in reads if r.zone in (Zone.USE_CASES, Zone.PROBLEM) and r.title]
    zones = {r.zone for r in own}
    return zones == {Zone.USE_CASES, Zone.PROBLEM} and all(
        r.state is SectionState.PLACEHOLDER for r in own
    )


def _why_unjustified(
    reads: Sequence[SectionRead], declared_none: bool
) -> tuple[Strength, SectionRead | None]:
    """Why no need was found, told by the section meant to hold it (use cases, else problem)."""
    uc = next((r for r in reads if r.zone is Zone.USE_CASES and r.title), None)
    problem = next((r for r in reads if r.zone is Zone.PROBLEM and r.title), None)
    primary = uc or problem
    if declared_none:
        return Strength.MISSING_EMPTY, primary
    if primary is None:
        # No use-case nor problem section: the fix is to add one, whatever the
        # introduction says (it was read, and its sentences are in the evidence).
        return Strength.MISSING_SECTION, None
    if primary.state is SectionState.FILLED:
        return Strength.MISSING_NEED, primary
    if primary.state is SectionState.TEMPLATE:
        return Strength.MISSING_TEMPLATE, primary
    return Strength.MISSING_EMPTY, primary


def _justified_evidence(first: Statement, strength: Strength) -> str:
    where = f'"{first.section}"' if first.section else "the introduction"
    if strength is Strength.UNCLEAR:
        return (
            f"{where} line {first.line}: a scenario that fails today, but nobody outside the "
            f'code is named: "{quote(first.text)}"'
        )
    who = ", ".join(first.actors[:3])
    return f'{where} line {first.line}: who: {who}; "{quote(first.text)}"'


def _unjustified_evidence(
    reads: Sequence[SectionRead], strength: Strength, declared_none: bool, config: BlueprintConfig
) -> str:
    parts: list[str] = []
    for r in sorted(reads, key=lambda r: list(Zone).index(r.zone)):
        where = f'"{r.title}"' if r.title else "the introduction"
        if r.state is SectionState.FILLED:
            kinds = sorted({st.reading.value for st in r.statements})
            subjects = sorted({t for st in r.statements for t in st.topics})
            about = f" ({', '.join(subjects)})" if subjects else ""
            credit = (
                " (not read: the spec says None everywhere else)"
                if declared_none and r.zone is Zone.INTRO
                else ""
            )
            parts.append(
                f"{where}: no need of anyone outside the code [{', '.join(kinds)}]{about}{credit}"
            )
        elif r.state is SectionState.TEMPLATE:
            parts.append(f'{where} only has the template\'s text: "{r.removed}"')
        elif r.state is SectionState.PLACEHOLDER:
            parts.append(f'{where} only has a placeholder: "{r.removed}"')
        elif r.state is SectionState.REFERS:
            parts.append(f'{where} only refers to another section: "{r.removed}"')
        elif r.state is SectionState.LINKS:
            parts.append(f"{where} only links elsewhere (not followed)")
        elif r.title and r.zone is not Zone.INTRO:
            parts.append(f"{where} is empty")
    if strength is Strength.MISSING_SECTION or not parts:
        wanted = ", ".join(f'"{t}"' for t in (*config.use_case_sections, *config.fallback_sections))
        parts.insert(0, f"no section titled {wanted}")
    return "; ".join(parts)


def _sample(statements: Sequence[Statement], limit: int = 8) -> list[Statement]:
    """What was read, for the evidence: the closest calls first (a need-like word), then the rest."""
    order = [
        Reading.SPECULATIVE,
        Reading.INSIDE,
        Reading.CAPABILITY,
        Reading.NO_NEED,
        Reading.PLAIN,
        Reading.GUIDANCE,
    ]
    ranked = sorted(
        statements, key=lambda st: order.index(st.reading) if st.reading in order else 0
    )
    return ranked[:limit]


def _where_it_should_be(doc: Document, config: BlueprintConfig) -> int:
    """The line to comment on when no section holds a use case: near the introduction."""
    found = doc.find([*config.fallback_sections, "Summary", "Introduction", "Abstract"])
    if found:
        return found[0].line
    return doc.sections[0].line if doc.sections else 1


def rest_api_impact(
    doc: Document, config: BlueprintConfig | None = None, template: TemplateText | None = None
) -> RestApiImpact:
    """Whether ``doc`` declares a REST API impact: the section is there and not None/N/A."""
    config = config or BlueprintConfig()
    found = doc.find(config.rest_api_sections) if doc.ok else []
    if not found:
        return RestApiImpact(False, evidence="no REST API impact section")
    section = found[0]
    read = read_section(doc, section, Zone.PROBLEM, list(section.all_blocks()), config, template)
    if read.state is SectionState.FILLED:
        words = sum(word_count(st.text) for st in read.statements)
        return RestApiImpact(True, section.title, section.line, f"{words} words")
    said = f'says "{read.removed}"' if read.removed else "says nothing"
    if read.state is SectionState.TEMPLATE:
        said = "says only the template's text"
    return RestApiImpact(False, section.title, section.line, said)


def judge_file(
    path: str | Path,
    config: BlueprintConfig | None = None,
    *,
    template: str | Path | None = None,
    display: str | None = None,
) -> tuple[Document, Verdict]:
    """Read, parse and judge one spec file; the template is ``template``, the policy's, or found."""
    config = config or BlueprintConfig()
    name = display or str(path)
    explicit = Path(template) if template is not None else None
    if explicit is None and config.template:
        explicit = Path(config.template)
    if explicit is not None and not explicit.is_file():
        raise SpecError(f"{explicit}: no such template file")
    is_template = config.is_template(str(path)) or (
        explicit is not None and Path(path).resolve() == explicit.resolve()
    )
    doc = read_spec(path, display=name, max_bytes=config.max_bytes)
    tpl_paths = [explicit] if explicit is not None else find_templates(path, config)
    tpl = load_template(tpl_paths, config) if not is_template else None
    return doc, justify(doc, config, tpl, is_template=is_template)
