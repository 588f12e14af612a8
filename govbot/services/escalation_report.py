"""What an escalation pass did (or would do): one result per change, the ended episodes,
and the report ``govbot escalate [--dry-run]`` prints as text or JSON."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from govbot.db.models import EscalationStage
from govbot.services.staleness import Assessment


@dataclass(frozen=True)
class CandidateResult:
    """What the pass did (or would do) with one change."""

    assessment: Assessment
    action: str  # escalate | remind | handoff | waiting | digest-only | capped | unassigned
    #              | in-progress | none | skipped
    stage: EscalationStage | None = None
    assignee: str | None = None
    pick_reason: str | None = None
    detail: str = ""
    done: bool = False  # Gerrit was written (False in dry runs)

    def to_json(self) -> dict[str, Any]:
        a = self.assessment
        return {
            "change": a.number,
            "project": a.project,
            "subject": a.subject,
            "owner": a.owner,
            "state": str(a.state),
            "skip_reason": str(a.skip_reason) if a.skip_reason else None,
            "stale": a.stale,
            "at_risk": a.at_risk,
            "clock_start": a.clock_start.isoformat() if a.clock_start else None,
            "waited_days": round(a.waited_days, 3),
            "waited": a.waited_text() if a.clock_start else None,
            "due_at": a.due_at.isoformat() if a.due_at else None,
            "reason": a.reason,
            "action": self.action,
            "stage": str(self.stage) if self.stage else None,
            "assignee": self.assignee,
            "pick_reason": self.pick_reason,
            "detail": self.detail,
            "done": self.done,
            "decisions": [d.to_json() for d in a.decisions],
            "events": [e.to_json() for e in a.events],
        }


@dataclass(frozen=True)
class Resolution:
    change: int
    episode_start: dt.datetime
    resolution: str
    resolved_at: dt.datetime
    resolved_by: str | None
    assignee: str
    escalated_at: dt.datetime

    @property
    def time_to_review(self) -> dt.timedelta | None:
        if self.resolution != "reviewed":
            return None
        return max(self.resolved_at - self.escalated_at, dt.timedelta(0))

    def to_json(self) -> dict[str, Any]:
        ttr = self.time_to_review
        return {
            "change": self.change,
            "episode_start": self.episode_start.isoformat(),
            "resolution": self.resolution,
            "resolved_at": self.resolved_at.isoformat(),
            "resolved_by": self.resolved_by,
            "assignee": self.assignee,
            "time_to_review_seconds": int(ttr.total_seconds()) if ttr is not None else None,
        }


@dataclass(frozen=True)
class EscalationReport:
    now: dt.datetime
    dry_run: bool
    enabled: bool
    rule: str
    query: str
    candidates: tuple[CandidateResult, ...] = ()
    resolved: tuple[Resolution, ...] = ()
    errors: tuple[str, ...] = ()
    caps_hit: tuple[str, ...] = ()

    @property
    def actions(self) -> list[CandidateResult]:
        return [c for c in self.candidates if c.action in ("escalate", "remind", "handoff")]

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "enabled": self.enabled,
            "rule": self.rule,
            "query": self.query,
            "candidates": [c.to_json() for c in self.candidates],
            "resolved": [r.to_json() for r in self.resolved],
            "errors": list(self.errors),
            "caps_hit": list(self.caps_hit),
        }

    def text(self) -> str:
        """What a person reads after ``govbot escalate [--dry-run]``."""
        verb = "would" if self.dry_run else "did"
        lines = [
            f"govbot escalate{' --dry-run' if self.dry_run else ''} at {self.now:%Y-%m-%d %H:%M} UTC",
            f"rule: {self.rule}",
            f"{len(self.candidates)} candidate change(s) ({self.query})",
        ]
        if not self.enabled:
            lines.append("escalation is disabled by the policy (escalation.enabled: false)")
        for c in self.candidates:
            a = c.assessment
            head = f"#{a.number} {a.project}: {a.subject}"
            lines.append("")
            lines.append(head)
            status = f"skipped ({a.skip_reason}): {a.reason}" if a.skip_reason else a.reason
            lines.append(f"  status:      {status}")
            if a.clock_start is not None:
                lines.append(f"  clock start: {a.clock_start:%Y-%m-%d %H:%M} UTC")
                lines.append(f"  waited:      {a.waited_text()}")
            if c.action in ("escalate", "remind", "handoff"):
                done = "done" if c.done else f"{verb} {c.action}"
                lines.append(f"  action:      {c.action} -> {c.assignee} ({done})")
                lines.append(f"  why:         {c.pick_reason}")
            elif c.action not in ("none", "skipped"):
                lines.append(f"  action:      {c.action}" + (f": {c.detail}" if c.detail else ""))
        if self.resolved:
            lines.append("")
            lines.append("resolved:")
            for r in self.resolved:
                ttr = r.time_to_review
                extra = f" after {format_duration(ttr)}" if ttr is not None else ""
                by = f" by {r.resolved_by}" if r.resolved_by else ""
                lines.append(f"  #{r.change}: {r.resolution}{by}{extra} (assigned {r.assignee})")
        for cap in self.caps_hit:
            lines.append(f"cap: {cap}")
        for error in self.errors:
            lines.append(f"error: {error}")
        summary = Counter(c.action for c in self.candidates)
        lines.append("")
        lines.append(
            "summary: "
            + ", ".join(f"{n} {k}" for k, n in sorted(summary.items()))
            + (f", {len(self.resolved)} resolved" if self.resolved else "")
        )
        return "\n".join(lines) + "\n"


def format_duration(delta: dt.timedelta) -> str:
    """``5 hours`` / ``2.3 days``: a time to review, in wall-clock time."""
    hours = delta.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.0f} hour{'s' if round(hours) != 1 else ''}"
    return f"{hours / 24:.1f} days"


__all__ = ["CandidateResult", "EscalationReport", "Resolution", "format_duration"]
