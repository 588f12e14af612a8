"""The facts a verdict gives: its strength, the sections read, the sentences that count.

These values are what the BPR rules read (:mod:`govbot.rules.blueprints`) and what
``govbot blueprint --format json`` prints; :mod:`.justify` computes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from govbot.blueprints.substance import Reading, Statement, Zone


class Judgement(StrEnum):
    JUSTIFIED = "justified"
    UNJUSTIFIED = "unjustified"
    TEMPLATE = "template"  # a template file: not judged


class Strength(StrEnum):
    """How the verdict was reached, strongest evidence first."""

    STRONG = "strong"  # a use-case section states a need
    GOOD = "good"  # the problem description, a spec-lite field or the introduction does
    UNCLEAR = "unclear"  # only a failing scenario that names nobody outside the code
    MISSING_TEMPLATE = "missing-template"  # only the template's text
    MISSING_EMPTY = "missing-empty"  # use cases empty or None, nothing else states a need
    MISSING_NEED = "missing-need"  # text, but no need of anyone outside the code
    MISSING_SECTION = "missing-section"  # nowhere a need could be stated

    @property
    def justified(self) -> bool:
        return self in (Strength.STRONG, Strength.GOOD, Strength.UNCLEAR)


class SectionState(StrEnum):
    """What a section holds once the noise is gone."""

    FILLED = "filled"
    EMPTY = "empty"
    PLACEHOLDER = "placeholder"  # None, N/A, TBD, <...>, "None. Code cleanup."
    TEMPLATE = "template"  # only the template's text
    LINKS = "links"  # only links (a bug, a story)
    REFERS = "refers"  # "See the problem description above."
    ABSENT = "absent"


@dataclass(frozen=True, slots=True)
class SectionRead:
    """One section (or field) read for the need: its state and its sentences."""

    title: str
    line: int
    zone: Zone
    state: SectionState
    statements: tuple[Statement, ...] = ()
    removed: str = ""  # the placeholder or template text that was dropped, quoted

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.title,
            "line": self.line,
            "zone": self.zone.value,
            "state": self.state.value,
            "removed": self.removed or None,
            "sentences": len(self.statements),
        }


@dataclass(frozen=True)
class RestApiImpact:
    """Whether a spec declares a REST API impact (a non-empty ``REST API impact`` section)."""

    declared: bool
    section: str | None = None
    line: int | None = None
    evidence: str = ""


@dataclass(frozen=True)
class Verdict:
    """The use-case verdict of one spec."""

    file: str
    verdict: Judgement
    strength: Strength | None
    section: str | None = None  # where the need is (or where it should be)
    line: int | None = None
    evidence: str = ""  # one line a reviewer can read
    need: tuple[Statement, ...] = ()  # the sentences that carry the need
    looked_at: tuple[Statement, ...] = ()  # unjustified: what was read and why it does not count
    sections: tuple[SectionRead, ...] = ()
    use_cases: SectionRead | None = None  # the spec's first use-case section, if any
    words: int = 0  # words read for the need (template text and placeholders excluded)
    problem: str | None = None  # the spec could not be parsed
    templates: tuple[str, ...] = ()  # template files compared against
    rest_api: RestApiImpact = field(default_factory=lambda: RestApiImpact(False))

    @property
    def justified(self) -> bool:
        return self.verdict is Judgement.JUSTIFIED

    @property
    def actors(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for s in self.need for a in s.actors))

    @property
    def cues(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for s in self.need for c in s.cues))

    @property
    def empty_use_cases(self) -> SectionRead | None:
        """A use-case heading left empty, placeholder or template in a justified spec."""
        uc = self.use_cases
        hollow = (SectionState.EMPTY, SectionState.PLACEHOLDER, SectionState.TEMPLATE)
        if self.justified and uc is not None and uc.state in hollow:
            return uc
        return None

    def to_json(self) -> dict[str, Any]:
        """The verdict as ``govbot blueprint --format json`` prints it (findings aside)."""
        return {
            "file": self.file,
            "verdict": self.verdict.value,
            "strength": self.strength.value if self.strength is not None else None,
            "section": self.section,
            "line": self.line,
            "evidence": self.evidence,
            "need": [_statement_json(self.file, s) for s in self.need],
            "looked_at": [_statement_json(self.file, s) for s in self.looked_at],
            "sections": [s.to_json() for s in self.sections],
            "use_cases": self.use_cases.to_json() if self.use_cases is not None else None,
            "words": self.words,
            "actors": list(self.actors),
            "cues": list(self.cues),
            "templates": list(self.templates),
            "rest_api_impact": self.rest_api.declared,
        }


def _statement_json(file: str, s: Statement) -> dict[str, Any]:
    return {
        "file": file,
        "line": s.line,
        "section": s.section,
        "text": s.text,
        "reading": s.reading.value,
        "why": _WHY[s.reading],
        "actors": list(s.actors),
        "inside": list(s.inside),
        "cues": list(s.cues),
        "topics": list(s.topics),
    }


_WHY: dict[Reading, str] = {
    Reading.NEED: "names someone outside the code and what they need",
    Reading.SCENARIO: "a concrete scenario that fails today (nobody is named)",
    Reading.INSIDE: "a need of the project's own code, developers or drivers",
    Reading.SPECULATIVE: "speculative: a guess that it may be useful, not a need",
    Reading.CAPABILITY: "a missing capability, but nobody is said to need it",
    Reading.NO_NEED: "names someone, but states no need of theirs",
    Reading.PLAIN: "describes the change or the code, not a need",
    Reading.GUIDANCE: "a question or instruction to the author (template guidance)",
}
