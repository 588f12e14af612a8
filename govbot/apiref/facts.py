"""What the api-ref reader knows about one API: typed facts, every one with its file and line.

:func:`govbot.apiref.reader.read_tree` builds an :class:`ApiRef`; :mod:`govbot.apiref.spec`
turns it into the surface model the rules read. The facts also serve rules that need
more than the surface model carries (the ``parameters.yaml`` line of a parameter and the
line of its use, the evidence behind a deprecation mark).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from govbot.apiref.surface import Problem


@dataclass(frozen=True, slots=True)
class Where:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class ParamUse:
    """One parameter of one operation: its use in a ``rest_parameters`` list and its entry."""

    name: str  # as the operation uses it ("user_id")
    key: str  # its entry in the parameters file ("keypair_user")
    location: str  # header | path | query | body
    direction: str  # request | response
    required: bool
    type: str  # as written ("" when absent)
    json_type: str | None  # the JSON type it maps to, None when it maps to none unambiguously
    description: str
    min_version: str
    max_version: str
    format: str
    use: Where  # the line of "- name: key"
    definition: Where  # the entry in the parameters file
    field_lines: tuple[tuple[str, int], ...] = ()  # ("type", 929): each field's line there


@dataclass(frozen=True, slots=True)
class StatusCode:
    code: str
    kind: str  # success | error
    description: str
    where: Where


@dataclass(frozen=True, slots=True)
class Mark:
    """Evidence of a lifecycle or audience mark, where it was found."""

    kind: str  # deprecated | obsolete | experimental | internal
    evidence: str
    where: Where


@dataclass(frozen=True, slots=True)
class ApiOperation:
    method: str  # upper case
    path: str  # the template without its query part
    query: str  # the query part written in the rest_method URL, if any ("user_id={user_id}")
    action: str  # body key of an action (POST .../action), else ""
    title: str
    page: str  # title of the section holding the operation's section
    page_text: str
    where: Where  # the rest_method line
    min_version: str
    max_version: str
    marks: tuple[Mark, ...]
    statuses: tuple[StatusCode, ...]
    parameters: tuple[ParamUse, ...]
    description: str
    sections: tuple[Where, ...] = ()  # further sections documenting the same operation

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.method, self.path, self.action)

    @property
    def label(self) -> str:
        base = f"{self.method} {self.path}"
        return f"{base} ({self.action})" if self.action else base

    def marked(self, kind: str) -> tuple[Mark, ...]:
        return tuple(m for m in self.marks if m.kind == kind)

    @property
    def deprecated(self) -> bool:
        return any(m.kind == "deprecated" for m in self.marks)

    @property
    def obsolete(self) -> bool:
        return any(m.kind == "obsolete" for m in self.marks)

    @property
    def experimental(self) -> bool:
        return any(m.kind == "experimental" for m in self.marks)

    @property
    def internal(self) -> bool:
        return any(m.kind == "internal" for m in self.marks)


@dataclass(frozen=True, slots=True)
class Skip:
    """Something the reader did not understand and left out (it never guesses)."""

    reason: str
    where: Where


@dataclass(frozen=True)
class ApiRef:
    """One api-ref tree read as one API."""

    directory: str
    title: str
    operations: tuple[ApiOperation, ...]  # the surface (obsolete operations are not in it)
    obsolete: tuple[ApiOperation, ...]  # documented as removed: part of the API's history only
    documents: tuple[str, ...]  # every file read
    page_texts: Mapping[str, str]  # page title -> its introduction (for tag descriptions)
    problems: tuple[Problem, ...] = ()
    skipped: tuple[Skip, ...] = ()

    def skipped_counts(self) -> dict[str, int]:
        return dict(Counter(s.reason for s in self.skipped))

    @property
    def parameter_count(self) -> int:
        return sum(len(op.parameters) for op in self.operations)


__all__ = ["ApiOperation", "ApiRef", "Mark", "ParamUse", "Skip", "StatusCode", "Where"]
