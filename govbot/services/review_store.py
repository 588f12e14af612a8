"""Where a review's records go: one object owns every database write of a review.

:class:`ReviewStore` is what :func:`govbot.services.review.run_review` reads its records
from and writes them to: the change and patch set, the evaluation and its findings (or
why the patch set was skipped), the reservation (:mod:`govbot.services.reservations`)
and the posted review. :class:`DatabaseStore` keeps them in the database;
:class:`DryRunStore` (``govbot review --dry-run``) writes nothing: it reads the
dashboard waivers and the findings posted before from a database if it has one, and
consults no records, so a dry run plans as if nothing had been posted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from govbot.db.models import (
    ApiSpec,
    Change,
    Evaluation,
    EvaluationStatus,
    FindingRecord,
    PatchSet,
    PostedReview,
    Project,
    Waiver,
)
from govbot.db.session import insert_ignore, session_scope
from govbot.findings import Finding, Severity
from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.reviews import ChangeMessageInfo
from govbot.gerrit.revisions import RevisionInfo
from govbot.policy import ReviewConfig
from govbot.services import reservations
from govbot.services.reservations import KEY_COLUMNS, RESERVATION_LEASE, Held, ReviewKey
from govbot.services.review_plan import Recorded

LOG = logging.getLogger(__name__)


class ReviewStore(Protocol):
    """The records of reviews: what a review reads of them, and every write it makes."""

    def record_change(self, info: ChangeInfo, target: RevisionInfo, now: dt.datetime) -> None:
        """Remember the project, the change as Gerrit shows it now, and the patch set."""

    def recorded(self, key: ReviewKey) -> Recorded | None:
        """What is recorded for ``key``; None: records are not consulted."""

    def record_found(
        self,
        key: ReviewKey,
        found: ChangeMessageInfo,
        tag: str,
        now: dt.datetime,
        *,
        evaluation_id: int | None = None,
    ) -> None:
        """Record a review found on Gerrit but not in the records as posted."""

    def record_skipped(self, key: ReviewKey, reason: str, now: dt.datetime) -> None:
        """Remember that the patch set has nothing for this pass, and why."""

    def record_evaluation(
        self,
        key: ReviewKey,
        findings: Sequence[Finding],
        now: dt.datetime,
        *,
        detail: str | None = None,
    ) -> int | None:
        """Store the evaluation and its findings; its id (None: not stored)."""

    def waived(
        self, project: str, branch: str, findings: tuple[Finding, ...]
    ) -> tuple[Finding, ...]:
        """``findings`` without those an admin waived on the dashboard."""

    def carried(self, key: ReviewKey, config: ReviewConfig) -> frozenset[str]:
        """Fingerprints of the findings posted inline by earlier reviews of the change."""

    def reserve(
        self, key: ReviewKey, tag: str, now: dt.datetime, held: Held, *, lease: dt.timedelta
    ) -> bool:
        """Reserve the review (:func:`~govbot.services.reservations.reserve`)."""

    def fence(self, key: ReviewKey, held: Held, now: dt.datetime) -> None:
        """Check the reservation is still ours right before the POST."""

    def keep_uncertain(
        self, key: ReviewKey, held: Held, until: dt.datetime, *, lease: dt.timedelta
    ) -> None:
        """Keep the reservation of a POST with an unknown outcome until ``until``."""

    def release(self, key: ReviewKey, held: Held) -> None:
        """Give the reservation up: nothing was posted."""

    def record_posted(
        self,
        key: ReviewKey,
        evaluation_id: int | None,
        review: Mapping[str, Any],
        now: dt.datetime,
    ) -> None:
        """Record the review as posted, with its evaluation and vote."""


def review_store(db: Engine | Session | None, *, dry_run: bool) -> ReviewStore:
    """The store of one review: the database's, or for a dry run one writing nothing."""
    if dry_run:
        return DryRunStore(db)
    if db is None:
        raise ValueError("run_review needs a database unless dry_run")
    return DatabaseStore(db)


class DatabaseStore:
    """The records in the database (an engine, or the caller's session)."""

    def __init__(self, db: Engine | Session) -> None:
        self.db = db

    def record_change(self, info: ChangeInfo, target: RevisionInfo, now: dt.datetime) -> None:
        with _unit(self.db) as session:
            _record_change(session, info, target, now)

    def recorded(self, key: ReviewKey) -> Recorded:
        with _unit(self.db) as session:
            row = session.scalar(select(PostedReview).where(key.where(PostedReview)))
            memo = session.execute(
                select(Evaluation.status, Evaluation.detail).where(key.where(Evaluation))
            ).first()
        return Recorded(
            reserved=row is not None,
            posted_at=row.posted_at if row is not None else None,
            verdict=memo.status if memo is not None else None,
            detail=(memo.detail or "") if memo is not None else "",
        )

    def record_found(
        self,
        key: ReviewKey,
        found: ChangeMessageInfo,
        tag: str,
        now: dt.datetime,
        *,
        evaluation_id: int | None = None,
    ) -> None:
        # Posted, but not recorded: a crash (or a lost answer) between POST and record,
        # or a database that was lost. Record it now; never post it again.
        with _unit(self.db) as session:
            _record_found(session, key, found, tag, found.date or now, evaluation_id)
        LOG.info(
            "change=%s ps=%s: found the review on Gerrit (message %s); recorded",
            key.change,
            key.patch_set,
            found.id,
        )

    def record_skipped(self, key: ReviewKey, reason: str, now: dt.datetime) -> None:
        with _unit(self.db) as session:
            _record_skipped(session, key, reason, now)

    def record_evaluation(
        self,
        key: ReviewKey,
        findings: Sequence[Finding],
        now: dt.datetime,
        *,
        detail: str | None = None,
    ) -> int:
        with _unit(self.db) as session:
            return _record_evaluation(session, key, findings, now, detail=detail)

    def waived(
        self, project: str, branch: str, findings: tuple[Finding, ...]
    ) -> tuple[Finding, ...]:
        return _without_dashboard_waivers(self.db, project, branch, findings)

    def carried(self, key: ReviewKey, config: ReviewConfig) -> frozenset[str]:
        return _carried(self.db, key, config)

    def reserve(
        self,
        key: ReviewKey,
        tag: str,
        now: dt.datetime,
        held: Held,
        *,
        lease: dt.timedelta = RESERVATION_LEASE,
    ) -> bool:
        return reservations.reserve(self.db, key, tag, now, held, lease=lease)

    def fence(self, key: ReviewKey, held: Held, now: dt.datetime) -> None:
        reservations.fence(self.db, key, held, now)

    def keep_uncertain(
        self,
        key: ReviewKey,
        held: Held,
        until: dt.datetime,
        *,
        lease: dt.timedelta = RESERVATION_LEASE,
    ) -> None:
        reservations.keep_uncertain(self.db, key, held, until, lease=lease)

    def release(self, key: ReviewKey, held: Held) -> None:
        reservations.release(self.db, key, held)

    def record_posted(
        self,
        key: ReviewKey,
        evaluation_id: int | None,
        review: Mapping[str, Any],
        now: dt.datetime,
    ) -> None:
        with _unit(self.db) as session:
            _record_posted(session, key, evaluation_id, review, now)


class DryRunStore:
    """A store that writes nothing (``--dry-run``): it reads the dashboard waivers and
    the findings posted before from ``db`` when there is one, and no other record."""

    def __init__(self, db: Engine | Session | None = None) -> None:
        self.db = db

    def record_change(self, info: ChangeInfo, target: RevisionInfo, now: dt.datetime) -> None:
        return None

    def recorded(self, key: ReviewKey) -> None:
        return None

    def record_found(
        self,
        key: ReviewKey,
        found: ChangeMessageInfo,
        tag: str,
        now: dt.datetime,
        *,
        evaluation_id: int | None = None,
    ) -> None:
        return None

    def record_skipped(self, key: ReviewKey, reason: str, now: dt.datetime) -> None:
        return None

    def record_evaluation(
        self,
        key: ReviewKey,
        findings: Sequence[Finding],
        now: dt.datetime,
        *,
        detail: str | None = None,
    ) -> None:
        return None

    def waived(
        self, project: str, branch: str, findings: tuple[Finding, ...]
    ) -> tuple[Finding, ...]:
        if self.db is None:
            return findings
        return _without_dashboard_waivers(self.db, project, branch, findings)

    def carried(self, key: ReviewKey, config: ReviewConfig) -> frozenset[str]:
        return frozenset() if self.db is None else _carried(self.db, key, config)

    def reserve(
        self,
        key: ReviewKey,
        tag: str,
        now: dt.datetime,
        held: Held,
        *,
        lease: dt.timedelta = RESERVATION_LEASE,
    ) -> bool:
        return False  # nothing is reserved, so nothing was taken over

    def fence(self, key: ReviewKey, held: Held, now: dt.datetime) -> None:
        return None

    def keep_uncertain(
        self,
        key: ReviewKey,
        held: Held,
        until: dt.datetime,
        *,
        lease: dt.timedelta = RESERVATION_LEASE,
    ) -> None:
        return None

    def release(self, key: ReviewKey, held: Held) -> None:
        return None

    def record_posted(
        self,
        key: ReviewKey,
        evaluation_id: int | None,
        review: Mapping[str, Any],
        now: dt.datetime,
    ) -> None:
        return None


# --- reads and writes -----------------------------------------------------------------------------


def _carried(db: Engine | Session, key: ReviewKey, config: ReviewConfig) -> frozenset[str]:
    """Fingerprints of findings of every posted review of this change and purpose, at or
    above the inline threshold (the Gerrit side: ``review._carried``)."""
    # The findings that were eligible for an inline comment when they were posted
    # (by today's thresholds: the database does not keep which ones were).
    severities = [s for s in Severity if s.rank >= config.min_severity_inline.rank]
    query = (
        select(FindingRecord.fingerprint)
        .join(Evaluation, FindingRecord.evaluation_id == Evaluation.id)
        .join(PostedReview, PostedReview.evaluation_id == Evaluation.id)
        .where(
            Evaluation.change_number == key.change,
            Evaluation.purpose == key.purpose,
            PostedReview.posted_at.is_not(None),
            FindingRecord.severity.in_(severities),
        )
    )
    if not config.inline_existing:
        query = query.where(FindingRecord.scope != "existing")
    with _unit(db, commit=False) as session:
        return frozenset(session.scalars(query))


def _without_dashboard_waivers(
    db: Engine | Session, project: str, branch: str, findings: tuple[Finding, ...]
) -> tuple[Finding, ...]:
    """Drop findings an admin waived on the dashboard for this API (by fingerprint).

    A dashboard waiver is the TC's decision about one finding of one API; the bot honours
    it on every later change of that project and branch, as it honours a policy waiver.
    """
    with _unit(db, commit=False) as session:
        rows = session.execute(
            select(Waiver.fingerprint, ApiSpec.file)
            .join(ApiSpec, Waiver.api_id == ApiSpec.id)
            .where(ApiSpec.project == project, ApiSpec.branch == branch)
        ).all()
    if not rows:
        return findings
    waived = {(file, fingerprint) for fingerprint, file in rows}
    kept = tuple(
        f
        for f in findings
        if (f.file, f.fingerprint or f.with_fingerprint().fingerprint) not in waived
    )
    if len(kept) != len(findings):
        LOG.info(
            "%s/%s: %d findings waived on the dashboard", project, branch, len(findings) - len(kept)
        )
    return kept


@contextlib.contextmanager
def _unit(db: Engine | Session, *, commit: bool = True) -> Iterator[Session]:
    """One unit of work on an engine (its own session) or on the caller's session."""
    if isinstance(db, Session):
        try:
            yield db
            if commit:
                db.commit()
        except BaseException:
            db.rollback()
            raise
        return
    with session_scope(db) as session:
        yield session


def _record_change(
    session: Session, info: ChangeInfo, target: RevisionInfo, now: dt.datetime
) -> None:
    """Upsert the project, the change (as Gerrit shows it now) and the patch set."""
    insert_ignore(session, Project, {"name": info.project, "created_at": now}, conflict=["name"])
    project_id = session.scalar(select(Project.id).where(Project.name == info.project))
    current = info.current
    owner = info.owner
    values = {
        "project_id": project_id,
        "branch": info.branch,
        "change_id": info.change_id,
        "subject": info.subject,
        "owner_account_id": owner.account_id if owner else None,
        "owner_name": (owner.name or owner.username) if owner else None,
        "status": info.status,
        "wip": info.work_in_progress,
        "private": info.is_private,
        "current_patch_set": current.number if current else info.current_revision_number,
        "created": info.created or now,
        "updated": info.updated or now,
        "synced_at": now,
    }
    if not insert_ignore(session, Change, {"number": info.number, **values}, conflict=["number"]):
        session.execute(update(Change).where(Change.number == info.number).values(**values))
    parent = target.commit.parents[0].commit if target.commit and target.commit.parents else None
    insert_ignore(
        session,
        PatchSet,
        {
            "change_number": info.number,
            "number": target.number,
            "revision": target.sha,
            "parent_revision": parent,
            "kind": target.kind,
            "uploaded": target.created or now,
        },
        conflict=["change_number", "number"],
    )


def _record_skipped(session: Session, key: ReviewKey, reason: str, now: dt.datetime) -> None:
    insert_ignore(
        session,
        Evaluation,
        {
            "change_number": key.change,
            "patch_set_number": key.patch_set,
            "policy_digest": key.digest,
            "purpose": key.purpose,
            "status": EvaluationStatus.SKIPPED,
            "detail": reason,
            "started_at": now,
            "finished_at": now,
        },
        conflict=KEY_COLUMNS,
    )


def _record_evaluation(
    session: Session,
    key: ReviewKey,
    findings: Sequence[Finding],
    now: dt.datetime,
    *,
    detail: str | None = None,
) -> int:
    """Store the evaluation and its findings (replacing those of an earlier attempt)."""
    evaluation = session.scalar(select(Evaluation).where(key.where(Evaluation)))
    if evaluation is None:
        evaluation = Evaluation(
            change_number=key.change,
            patch_set_number=key.patch_set,
            policy_digest=key.digest,
            purpose=key.purpose,
        )
        session.add(evaluation)
    else:
        session.execute(delete(FindingRecord).where(FindingRecord.evaluation_id == evaluation.id))
    evaluation.status = EvaluationStatus.SUCCEEDED
    evaluation.detail = detail
    evaluation.started_at = now
    evaluation.finished_at = now
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    evaluation.error_count = counts[Severity.ERROR]
    evaluation.warning_count = counts[Severity.WARNING]
    evaluation.info_count = counts[Severity.INFO]
    session.flush()
    session.add_all(
        FindingRecord(
            evaluation_id=evaluation.id,
            rule=f.rule,
            name=f.name,
            severity=f.severity,
            audience=f.audience,
            file=f.file,
            line=f.line,
            pointer=f.pointer,
            message=f.message,
            fingerprint=f.fingerprint,
            side=f.side,
            scope=f.scope,
        )
        for f in findings
    )
    return evaluation.id


def _record_posted(
    session: Session,
    key: ReviewKey,
    evaluation_id: int | None,
    review: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    labels = review.get("labels") or {}
    label, value = next(iter(labels.items())) if labels else (None, None)
    session.execute(
        update(PostedReview)
        .where(key.where(PostedReview))
        .values(posted_at=now, evaluation_id=evaluation_id, vote_label=label, vote_value=value)
    )


def _record_found(
    session: Session,
    key: ReviewKey,
    found: ChangeMessageInfo,
    tag: str,
    posted_at: dt.datetime,
    evaluation_id: int | None,
) -> None:
    """Record the review found on Gerrit as posted (its reservation row made if none)."""
    insert_ignore(
        session,
        PostedReview,
        {
            "change_number": key.change,
            "patch_set_number": key.patch_set,
            "policy_digest": key.digest,
            "purpose": key.purpose,
            "tag": tag,
            "reserved_at": posted_at,
        },
        conflict=KEY_COLUMNS,
    )
    session.execute(
        update(PostedReview)
        .where(key.where(PostedReview), PostedReview.posted_at.is_(None))
        .values(
            posted_at=posted_at,
            gerrit_message_id=found.id,
            **({"evaluation_id": evaluation_id} if evaluation_id is not None else {}),
        )
    )
