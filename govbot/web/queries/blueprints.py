"""Design specs and their use-case verdicts; open changes flagged by the BPR rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, tuple_
from sqlalchemy.orm import Session

from govbot.db.models import (
    BlueprintVerdict,
    Change,
    Evaluation,
    FindingRecord,
    Project,
)
from govbot.web.queries.paging import (
    BadQuery,
    Page,
    make_page,
    marked,
)


def blueprint_page(
    s: Session, *, limit: int, marker: str | None, verdict: str | None = None
) -> Page:
    order = (BlueprintVerdict.project, BlueprintVerdict.file, BlueprintVerdict.id)
    q = select(BlueprintVerdict)
    if verdict:
        q = q.where(_verdict_filter(verdict))
    m = marked(s, BlueprintVerdict, marker, BlueprintVerdict.id)
    if m is not None:
        q = q.where(tuple_(*order) > tuple_(m.project, m.file, m.id))
    rows = s.scalars(q.order_by(*order).limit(limit + 1)).all()
    return make_page(rows, limit, lambda b: b.id)


JUSTIFICATIONS = ("strong", "good", "unclear", "missing", "template")


def justification(b: BlueprintVerdict) -> str:
    """The dashboard's one-word verdict: strong, good, unclear, missing (any missing-*)."""
    if b.verdict == "template":
        return "template"
    strength = b.strength or "missing"
    return "missing" if strength.startswith("missing") else strength


def _verdict_filter(verdict: str) -> Any:
    if verdict not in JUSTIFICATIONS:
        raise BadQuery(f"verdict must be one of {', '.join(JUSTIFICATIONS)}, not {verdict!r}")
    if verdict == "template":
        return BlueprintVerdict.verdict == "template"
    if verdict == "missing":
        return and_(
            BlueprintVerdict.verdict != "template", BlueprintVerdict.strength.like("missing%")
        )
    return BlueprintVerdict.strength == verdict


@dataclass
class ChangeFlag:
    number: int
    subject: str
    project: str
    rule: str
    name: str
    severity: str
    message: str


def blueprint_flags(s: Session, *, limit: int = 100) -> list[ChangeFlag]:
    """BPR findings on the current patch set of open changes (missing or unjustified
    blueprints, specs without use cases)."""
    rows = s.execute(
        select(
            Change.number,
            Change.subject,
            Project.name,
            FindingRecord.rule,
            FindingRecord.name,
            FindingRecord.severity,
            FindingRecord.message,
        )
        .join(Project, Project.id == Change.project_id)
        .join(
            Evaluation,
            and_(
                Evaluation.change_number == Change.number,
                Evaluation.patch_set_number == Change.current_patch_set,
            ),
        )
        .join(FindingRecord, FindingRecord.evaluation_id == Evaluation.id)
        .where(Change.status == "NEW", FindingRecord.rule.like("BPR%"))
        .order_by(Change.number.desc(), FindingRecord.id)
        .limit(limit)
    ).all()
    seen: set[tuple[int, str, str]] = set()
    out = []
    for number, subject, project, rule, name, severity, message in rows:
        if (number, rule, message) in seen:
            continue
        seen.add((number, rule, message))
        out.append(ChangeFlag(number, subject, project, rule, name, str(severity), message))
    return out
