"""The values every stage passes along: severities, audiences and findings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Side = Literal["base", "head"]
# How a finding relates to the change under review: "new" surface (added, or a spec
# checked without a base), "changed" surface, or "existing" surface left untouched.
Scope = Literal["new", "changed", "existing"]


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
class Finding:
    """One verdict, as posted on Gerrit and printed by ``govbot check``."""

    rule: str
    name: str
    severity: Severity
    message: str
    file: str
    line: int | None
    pointer: str
    audience: Audience | None = None
    help: str = ""
    side: Side = "head"
    scope: Scope = "new"
    # Why a finding was demoted or kept quiet ("waived: reason"), shown in verbose output.
    note: str = ""
    fingerprint: str = field(default="", compare=False)

    def with_fingerprint(self) -> Finding:
        """Stable identity across runs and patch sets: rule, file, pointer and message, not line."""
        digest = hashlib.sha256(
            "\0".join((self.rule, self.file, self.pointer, self.message)).encode()
        ).hexdigest()[:16]
        return _replace(self, fingerprint=digest)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "rule": self.rule,
            "name": self.name,
            "severity": str(self.severity),
            "audience": str(self.audience) if self.audience else None,
            "file": self.file,
            "line": self.line,
            "pointer": self.pointer,
            "message": self.message,
            "help": self.help,
            "side": self.side,
            "scope": self.scope,
            "fingerprint": self.fingerprint or self.with_fingerprint().fingerprint,
        }
        if self.note:
            out["note"] = self.note
        return out


def _replace(finding: Finding, **changes: object) -> Finding:
    from dataclasses import replace

    return replace(finding, **changes)  # type: ignore[arg-type]
