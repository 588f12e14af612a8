"""The numbers behind ``/metrics``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from govbot.db.models import (
    ApiSpec,
    Change,
    Escalation,
    Evaluation,
    JobLease,
    PollCursor,
    PostedReview,
    Project,
    QueueState,
    WorkItem,
)
from govbot.web.queries.common import (
    REVIEW_PURPOSE,
)


@dataclass
class MetricValues:
    reviews_posted: int = 0
    reviews_reserved: int = 0
    review_findings: dict[str, int] = field(default_factory=dict)
    api_findings: dict[str, int] = field(default_factory=dict)
    evaluations: dict[str, int] = field(default_factory=dict)
    poll_lag: float | None = None
    poll_last: dict[str, float] = field(default_factory=dict)
    escalations: dict[tuple[str, str], int] = field(default_factory=dict)
    work_items: dict[str, int] = field(default_factory=dict)
    work_item_errors: int = 0
    queue: dict[str, int] = field(default_factory=dict)
    apis: int = 0
    job_last_run: dict[str, float] = field(default_factory=dict)


def metric_values(s: Session, now: dt.datetime) -> MetricValues:
    """The numbers behind ``/metrics``: aggregates over indexed or small tables."""
    m = MetricValues()
    m.reviews_posted = (
        s.scalar(select(func.count(PostedReview.id)).where(PostedReview.posted_at.is_not(None)))
        or 0
    )
    m.reviews_reserved = (
        s.scalar(select(func.count(PostedReview.id)).where(PostedReview.posted_at.is_(None))) or 0
    )
    sums = s.execute(
        select(
            func.coalesce(func.sum(Evaluation.error_count), 0),
            func.coalesce(func.sum(Evaluation.warning_count), 0),
            func.coalesce(func.sum(Evaluation.info_count), 0),
        )
        .join(
            Change,
            and_(
                Change.number == Evaluation.change_number,
                Change.current_patch_set == Evaluation.patch_set_number,
            ),
        )
        .where(Change.status == "NEW", Evaluation.purpose == REVIEW_PURPOSE)
    ).one()
    m.review_findings = {"error": int(sums[0]), "warning": int(sums[1]), "info": int(sums[2])}
    api = s.execute(
        select(
            func.count(ApiSpec.id),
            func.coalesce(func.sum(ApiSpec.errors), 0),
            func.coalesce(func.sum(ApiSpec.warnings), 0),
            func.coalesce(func.sum(ApiSpec.infos), 0),
        ).where(ApiSpec.latest_snapshot_id.is_not(None))
    ).one()
    m.apis = int(api[0])
    m.api_findings = {"error": int(api[1]), "warning": int(api[2]), "info": int(api[3])}
    _operations(s, now, m)
    return m


def _operations(s: Session, now: dt.datetime, m: MetricValues) -> None:
    """Evaluations, polls, escalations, work items, the queue and the jobs, into ``m``."""
    m.evaluations = {
        str(status): n
        for status, n in s.execute(
            select(Evaluation.status, func.count()).group_by(Evaluation.status)
        )
    }
    for project, branch, updated in s.execute(
        select(Project.name, PollCursor.branch, PollCursor.updated_at).join(
            Project, Project.id == PollCursor.project_id
        )
    ):
        m.poll_last[f"{project}:{branch}"] = updated.timestamp()
    if m.poll_last:
        m.poll_lag = max(0.0, now.timestamp() - min(m.poll_last.values()))
    for stage, resolved, n in s.execute(
        select(Escalation.stage, Escalation.resolved_at.is_(None), func.count()).group_by(
            Escalation.stage, Escalation.resolved_at.is_(None)
        )
    ):
        key = (str(stage), "open" if resolved else "resolved")
        m.escalations[key] = m.escalations.get(key, 0) + n
    m.work_items = {
        str(state): n
        for state, n in s.execute(select(WorkItem.state, func.count()).group_by(WorkItem.state))
    }
    m.work_item_errors = (
        s.scalar(
            select(func.count(WorkItem.id)).where(
                WorkItem.last_error.is_not(None), WorkItem.state != "done"
            )
        )
        or 0
    )
    m.queue = {
        state: n
        for state, n in s.execute(select(QueueState.state, func.count()).group_by(QueueState.state))
    }
    for name, last in s.execute(select(JobLease.name, JobLease.last_run_at)):
        if last is not None:
            m.job_last_run[name] = last.timestamp()
