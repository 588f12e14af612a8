"""What the digest reads from and writes to the database: one store object.

:class:`DigestStore` reads the last archived digest, the escalation rows and the
findings on open changes, and owns the digest's only writes: archiving a digest and
marking it sent. ``govbot digest`` without ``--send`` (a preview) never calls them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, and_, desc, select, update

from govbot.db.models import Change, DigestRecord, Escalation, Evaluation, FindingRecord, Project
from govbot.db.session import session_scope
from govbot.services.digest_sections import Digest


class DigestStore:
    """The ``digests`` table, and what the digest reads of escalations and findings."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def previous(self, before: dt.datetime) -> DigestRecord | None:
        """The last digest archived before ``before``."""
        with session_scope(self.engine) as session:
            return session.scalars(
                select(DigestRecord)
                .where(DigestRecord.period_end < before)
                .order_by(desc(DigestRecord.period_end), desc(DigestRecord.id))
                .limit(1)
            ).first()

    def escalations(self) -> list[Escalation]:
        """Every escalation row, oldest first."""
        with session_scope(self.engine) as session:
            return list(session.scalars(select(Escalation).order_by(Escalation.id)))

    def open_findings(self) -> list[dict[str, Any]]:
        """Findings on the current patch set of open changes, by change and rule."""
        query = (
            select(FindingRecord, Evaluation.change_number, Change.subject, Project.name)
            .join(Evaluation, FindingRecord.evaluation_id == Evaluation.id)
            .join(
                Change,
                and_(
                    Change.number == Evaluation.change_number,
                    Change.current_patch_set == Evaluation.patch_set_number,
                ),
            )
            .join(Project, Project.id == Change.project_id)
            .where(Change.status == "NEW")
            .order_by(Evaluation.change_number, FindingRecord.rule, FindingRecord.id)
        )
        with session_scope(self.engine) as session:
            return [
                {
                    "change": number,
                    "project": project,
                    "subject": subject,
                    "rule": finding.rule,
                    "name": finding.name,
                    "severity": str(finding.severity),
                    "file": finding.file,
                    "line": finding.line,
                    "message": finding.message,
                    "pointer": finding.pointer,
                }
                for finding, number, subject, project in session.execute(query)
            ]

    def archive(
        self,
        digest: Digest,
        *,
        sent_at: dt.datetime | None = None,
        recipients: Sequence[str] = (),
    ) -> int:
        """Keep ``digest`` in the ``digests`` table; its id."""
        with session_scope(self.engine) as session:
            record = DigestRecord(
                period_start=digest.period_start,
                period_end=digest.period_end,
                created_at=digest.period_end,
                sent_at=sent_at,
                recipients=", ".join(recipients) or None,
                text=digest.text,
                html=digest.html,
                data=digest.to_json(),
            )
            session.add(record)
            session.flush()
            return record.id

    def mark_sent(self, digest_id: int, sent_at: dt.datetime, recipients: Sequence[str]) -> None:
        with session_scope(self.engine) as session:
            session.execute(
                update(DigestRecord)
                .where(DigestRecord.id == digest_id)
                .values(sent_at=sent_at, recipients=", ".join(recipients))
            )


__all__ = ["DigestStore"]
