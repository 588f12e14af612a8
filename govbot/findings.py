"""The values every stage passes along: problems, severities, audiences, findings, reports.

A reader (:mod:`govbot.openapi`) reports what is wrong with its input as a
:class:`Problem`, a fact without a severity; rules turn facts into hits and
:mod:`govbot.evaluate` turns hits into :class:`Finding` verdicts; a :class:`Report` is
what one check hands to :mod:`govbot.render`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar


class Side(StrEnum):
    """Which version of a spec a finding is about: the base (before) or the head."""

    BASE = "base"
    HEAD = "head"


class Scope(StrEnum):
    """How a finding relates to the change under review.

    ``new`` surface was added (or a spec was checked without a base), ``changed``
    surface was touched, ``existing`` surface was left as it was.
    """

    NEW = "new"
    CHANGED = "changed"
    EXISTING = "existing"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def lowered(self) -> Severity:
        """One step milder (error -> warning -> info)."""
        return Severity.WARNING if self is Severity.ERROR else Severity.INFO


_RANK = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}


class Audience(StrEnum):
    EXTERNAL = "external"
    EXTERNAL_ADMIN = "external-admin"
    INTERNAL = "internal"

    @property
    def is_external(self) -> bool:
        return self is not Audience.INTERNAL


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with a reader's input (a syntax error, a broken ``$ref``).

    A fact, not a verdict: it has a code (``OAS011``) that a load rule of the same code
    reports under the policy, and no severity of its own. ``line`` is set when the
    reader knows it better than the pointer does (a syntax error has no pointer).
    """

    code: str
    message: str
    file: str
    pointer: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """Another place of the same cause: a ``$ref`` copy or an inlined duplicate."""

    file: str
    line: int | None
    pointer: str
    column: int | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "pointer": self.pointer,
        }


@dataclass(frozen=True, slots=True)
class OperationRef:
    """The operation a finding is about: its method, its path as written, and for a
    server-style action (OpenStack's ``POST .../action``) the action's body key."""

    method: str
    path: str
    action: str = ""

    def to_json(self) -> dict[str, str]:
        out = {"method": self.method.upper(), "path": self.path}
        if self.action:
            out["action"] = self.action
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    """One verdict, as posted on Gerrit and printed by ``govbot check``.

    ``locations`` are the other places of the same cause (one finding per cause, not
    one per inlined copy); ``column`` is the character offset on ``line`` (1-based),
    known for JSON documents, where a minified file has everything on line 1.
    """

    rule: str
    name: str
    severity: Severity
    message: str
    file: str
    line: int | None
    pointer: str
    audience: Audience | None = None
    side: Side = Side.HEAD
    scope: Scope = Scope.NEW
    # Why a finding was demoted or kept quiet ("waived: reason"), shown in verbose output.
    note: str = ""
    fingerprint: str = field(default="", compare=False)
    column: int | None = None
    locations: tuple[Location, ...] = ()
    operation: OperationRef | None = None  # None: about no single operation

    def with_fingerprint(self) -> Finding:
        """Stable identity across runs and patch sets: rule, file, pointer and message, not line."""
        return dataclasses.replace(self, fingerprint=self.identity())

    def identity(self) -> str:
        """The fingerprint, computed when the finding does not carry one yet."""
        if self.fingerprint:
            return self.fingerprint
        return fingerprint_of(self.rule, self.file, self.pointer, self.message)

    def to_json(self, *, help: str | None = None) -> dict[str, object]:
        """The finding as JSON; ``help`` (the rule's documentation URL) is the renderer's."""
        out: dict[str, object] = {
            "rule": self.rule,
            "name": self.name,
            "severity": str(self.severity),
            "audience": str(self.audience) if self.audience else None,
            "file": self.file,
            "line": self.line,
            "pointer": self.pointer,
            "message": self.message,
        }
        if help is not None:
            out["help"] = help
        out["side"] = str(self.side)
        out["scope"] = str(self.scope)
        # The operation the finding is about ({"method", "path"[, "action"]}), or null.
        out["operation"] = self.operation.to_json() if self.operation is not None else None
        out["fingerprint"] = self.identity()
        out["column"] = self.column  # on ``line``; JSON specs only (a minified one is one line)
        if self.note:
            out["note"] = self.note
        if self.locations:
            out["locations"] = [loc.to_json() for loc in self.locations]
        return out


def fingerprint_of(rule: str, file: str, pointer: str, message: str) -> str:
    """A finding's fingerprint (:meth:`Finding.with_fingerprint`) from what it is made of."""
    return hashlib.sha256("\0".join((rule, file, pointer, message)).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Summary:
    """Counts of a report, as in the JSON ``summary`` and the last line of the text."""

    by_severity: Mapping[str, int]
    by_rule: Mapping[str, int]
    waived: int = 0
    suppressed: int = 0
    specs: int = 0

    @classmethod
    def of(
        cls,
        findings: Sequence[Finding],
        waived: Sequence[Finding] = (),
        suppressed: Sequence[Finding] = (),
        specs: int = 0,
    ) -> Summary:
        """The counts of ``findings`` (and of those waived or suppressed)."""
        counts = Counter(f.severity.value for f in findings)
        return cls(
            by_severity={s.value: counts.get(s.value, 0) for s in Severity},
            by_rule=dict(Counter(f.rule for f in findings)),
            waived=len(waived),
            suppressed=len(suppressed),
            specs=specs,
        )

    @property
    def errors(self) -> int:
        return self.by_severity.get(Severity.ERROR.value, 0)

    @property
    def warnings(self) -> int:
        return self.by_severity.get(Severity.WARNING.value, 0)

    @property
    def info(self) -> int:
        return self.by_severity.get(Severity.INFO.value, 0)

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "errors": self.errors,
            "warnings": self.warnings,
            "info": self.info,
            "by_rule": dict(sorted(self.by_rule.items())),
            "waived": self.waived,
            "suppressed": self.suppressed,
            "specs": self.specs,
        }


# The audience classification of a spec (govbot.audience.Classification); a type
# parameter, so that these values need nothing from the stages above them.
C = TypeVar("C")


@dataclass(frozen=True)
class Report(Generic[C]):
    """The verdict of one check: findings in reading order, audiences, and counts."""

    findings: tuple[Finding, ...]
    classifications: Mapping[str, C]
    summary: Summary
    waived: tuple[Finding, ...] = ()
    suppressed: tuple[Finding, ...] = ()
    policy_source: str = ""
    policy_digest: str = ""
    files: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 when no finding is an error, 1 otherwise (2 is the CLI's: it could not run)."""
        return 1 if any(f.severity is Severity.ERROR for f in self.findings) else 0
