"""The overview's figures: community totals, the health trend, sunsets near."""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, func, select, true, tuple_
from sqlalchemy.orm import Session

from govbot.db.models import (
    ApiDeprecation,
    ApiSnapshot,
    ApiSpec,
    BackfillCursor,
    CrossFinding,
    Escalation,
    IndexCursor,
    JobLease,
    QueueState,
)
from govbot.web.queries.common import (
    QUEUE_STATES,
    SUNSET_WINDOW_DAYS,
    TREND_DAYS,
    TREND_MAX_POINTS,
    WAIVED_SEVERITIES,
    Counts,
    iso,
    waived_count,
)
from govbot.web.queries.paging import (
    Page,
    UnknownMarker,
    make_page,
    marked,
)


@dataclass
class Summary:
    projects: int = 0
    apis: int = 0
    counts: Counts = field(default_factory=Counts)
    deprecated: int = 0
    inconsistencies: int = 0
    queue: dict[str, int] = field(default_factory=dict)
    queue_assessed_at: dt.datetime | None = None
    open_escalations: int = 0
    last_index: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "projects": self.projects,
            "apis": self.apis,
            "operation_counts": self.counts.operation_json(),
            "finding_counts": self.counts.finding_json(),
            "waived_findings": self.counts.waived,
            "deprecated_operations": self.deprecated,
            "inconsistencies": self.inconsistencies,
            "review_queue": {
                "stale": self.queue.get("stale", 0),
                "at_risk": self.queue.get("at-risk", 0),
                "waiting": self.queue.get("waiting", 0),
                "skipped": self.queue.get("skipped", 0),
                "escalated": self.open_escalations,
                "assessed_at": iso(self.queue_assessed_at),
            },
            "last_indexed_at": iso(self.last_index),
        }


@functools.cache
def _summary_statement() -> Select[Any]:
    apis = (
        select(
            func.count(func.distinct(ApiSpec.project)),
            func.count(ApiSpec.id),
            func.coalesce(func.sum(ApiSpec.ops_external), 0),
            func.coalesce(func.sum(ApiSpec.ops_external_admin), 0),
            func.coalesce(func.sum(ApiSpec.ops_internal), 0),
            func.coalesce(func.sum(ApiSpec.errors), 0),
            func.coalesce(func.sum(ApiSpec.warnings), 0),
            func.coalesce(func.sum(ApiSpec.infos), 0),
            func.coalesce(func.sum(ApiSpec.deprecated), 0),
            func.max(ApiSpec.indexed_at),
        )
        .where(ApiSpec.latest_snapshot_id.is_not(None))
        .subquery()
    )
    # One row of counts per queue state (aggregates without GROUP BY: always one row).
    queue = select(
        *(func.count().filter(QueueState.state == state) for state in QUEUE_STATES),
        func.max(QueueState.assessed_at),
    ).subquery()
    escalated = (
        select(func.count(func.distinct(Escalation.change_number)))
        .where(Escalation.resolved_at.is_(None))
        .scalar_subquery()
    )
    return select(
        *apis.c,
        *queue.c,
        select(func.count(CrossFinding.id)).scalar_subquery(),
        escalated,
        # The waived findings of every API's latest snapshot, by severity.
        *(waived_count(severity, one_api=False) for severity in WAIVED_SEVERITIES),
    ).select_from(apis.join(queue, true()))  # one row each: no cartesian blow-up


def summary(s: Session) -> Summary:
    """Community totals: one statement, aggregates over small or indexed tables."""
    row = s.execute(_summary_statement()).one()
    after_queue = 11 + len(QUEUE_STATES)  # the columns after the APIs' and the queue's
    states = row[10 : 10 + len(QUEUE_STATES)]
    inconsistencies, escalations, *waived = row[after_queue:]
    out = Summary(
        projects=row[0],
        apis=row[1],
        deprecated=int(row[8]),
        last_index=row[9],
        inconsistencies=inconsistencies or 0,
        queue={state: n for state, n in zip(QUEUE_STATES, states, strict=True) if n},
        queue_assessed_at=row[10 + len(QUEUE_STATES)],
        open_escalations=escalations or 0,
    )
    error, warning, info = (int(n or 0) for n in waived)
    out.counts = Counts(
        int(row[2]),
        int(row[3]),
        int(row[4]),
        max(0, int(row[5]) - error),
        max(0, int(row[6]) - warning),
        max(0, int(row[7]) - info),
        error + warning + info,
    )
    return out


@dataclass(frozen=True)
class TrendPoint:
    at: dt.datetime
    error: int
    warning: int
    info: int
    external: int
    external_admin: int
    internal: int

    def to_json(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "finding_counts": {"error": self.error, "warning": self.warning, "info": self.info},
            "operation_counts": {
                "external": self.external,
                "external_admin": self.external_admin,
                "internal": self.internal,
            },
        }


_TREND_COLUMNS = (
    ApiSnapshot.api_id,
    ApiSnapshot.merged_at,
    ApiSnapshot.errors,
    ApiSnapshot.warnings,
    ApiSnapshot.infos,
    ApiSnapshot.ops_external,
    ApiSnapshot.ops_external_admin,
    ApiSnapshot.ops_internal,
)


def trend(
    s: Session, now: dt.datetime, *, api_id: int | None = None, days: int = TREND_DAYS
) -> list[TrendPoint]:
    """Health over time: after each merged snapshot, the totals over every API (or one).

    Starts from each API's state at the window's start (its last earlier snapshot), so
    an API that did not change in the window still counts.
    """
    since = now - dt.timedelta(days=days)
    scope = [ApiSnapshot.api_id == api_id] if api_id is not None else []
    ranked = (
        select(
            *_TREND_COLUMNS,
            func.row_number()
            .over(
                partition_by=ApiSnapshot.api_id,
                order_by=(ApiSnapshot.merged_at.desc(), ApiSnapshot.id.desc()),
            )
            .label("rank"),
        )
        .where(ApiSnapshot.merged_at < since, *scope)
        .subquery()
    )
    baseline = s.execute(
        select(*[c for c in ranked.c if c.name != "rank"]).where(ranked.c.rank == 1)
    ).all()
    rows = s.execute(
        select(*_TREND_COLUMNS)
        .where(ApiSnapshot.merged_at >= since, *scope)
        .order_by(ApiSnapshot.merged_at, ApiSnapshot.id)
    ).all()
    current: dict[int, tuple[int, ...]] = {r[0]: tuple(r[2:]) for r in baseline}
    # Running totals: each snapshot replaces its API's previous counts.
    totals = [sum(v[i] for v in current.values()) for i in range(6)]
    points: list[TrendPoint] = []
    if current:
        points.append(TrendPoint(since, *totals))
    for r in rows:
        new = tuple(r[2:])
        old = current.get(r[0], (0, 0, 0, 0, 0, 0))
        current[r[0]] = new
        totals = [t + n - o for t, n, o in zip(totals, new, old, strict=True)]
        point = TrendPoint(r[1], *totals)
        if points and points[-1].at == point.at:
            points[-1] = point
        else:
            points.append(point)
    if len(points) > TREND_MAX_POINTS:
        step = len(points) / TREND_MAX_POINTS
        keep = {int(i * step) for i in range(TREND_MAX_POINTS)} | {len(points) - 1}
        points = [p for i, p in enumerate(points) if i in keep]
    return points


@functools.cache
def _version_statement() -> Select[Any]:
    return select(func.max(ApiSnapshot.id), func.count(ApiSnapshot.id))


class TrendCache:
    """The trend, recomputed only when a snapshot was added or removed.

    Keyed by the newest snapshot id and the number of snapshots (one index-only query),
    so it is never stale; the window starts on the hour so that it can be reused.
    """

    SIZE = 64

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[Any, ...], list[TrendPoint]] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, s: Session, now: dt.datetime, *, api_id: int | None = None, days: int = TREND_DAYS
    ) -> list[TrendPoint]:
        hour = now.replace(minute=0, second=0, microsecond=0)
        version = tuple(s.execute(_version_statement()).one())
        key = (api_id, days, hour, version)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        points = trend(s, hour, api_id=api_id, days=days)
        with self._lock:
            self._items[key] = points
            while len(self._items) > self.SIZE:
                self._items.popitem(last=False)
        return points


@dataclass
class DeprecationRow:
    deprecation: ApiDeprecation
    api_id: int
    project: str
    file: str
    title: str

    def overdue(self, today: dt.date) -> bool:
        sunset = self.deprecation.sunset
        return sunset is not None and sunset < today


@functools.cache
def _deprecations_near_statement(after: bool) -> Select[Any]:
    q = (
        select(ApiDeprecation, ApiSpec.id, ApiSpec.project, ApiSpec.file, ApiSpec.title)
        .join(ApiSpec, ApiSpec.latest_snapshot_id == ApiDeprecation.snapshot_id)
        .where(
            ApiDeprecation.sunset.is_not(None),
            ApiDeprecation.sunset <= bindparam("horizon", type_=ApiDeprecation.sunset.type),
        )
    )
    if after:
        q = q.where(
            tuple_(ApiDeprecation.sunset, ApiDeprecation.id)
            > tuple_(
                bindparam("sunset", type_=ApiDeprecation.sunset.type),
                bindparam("id", type_=ApiDeprecation.id.type),
            )
        )
    return q.order_by(ApiDeprecation.sunset, ApiDeprecation.id).limit(bindparam("limit"))


def deprecations_near(
    s: Session,
    today: dt.date,
    *,
    within_days: int = SUNSET_WINDOW_DAYS,
    limit: int = 50,
    marker: str | None = None,
) -> Page:
    """Deprecated operations (latest versions) whose sunset is past or within the window."""
    horizon = today + dt.timedelta(days=within_days)
    values: dict[str, Any] = {"horizon": horizon, "limit": limit + 1}
    m = marked(s, ApiDeprecation, marker, ApiDeprecation.id)
    if m is not None:
        if m.sunset is None:
            raise UnknownMarker(f"unknown marker {marker!r}: a deprecation without a sunset")
        values.update(sunset=m.sunset, id=m.id)
    rows = s.execute(_deprecations_near_statement(m is not None), values).all()
    items = [DeprecationRow(d, i, p, f, t) for d, i, p, f, t in rows]
    return make_page(items, limit, lambda r: r.deprecation.id)


INDEX_JOB = "index"  # the lease name of the index job (govbot.jobs)


BACKFILL_JOB = "backfill"  # govbot.services.backfill.JOB_NAME (web sits below services)


@dataclass(frozen=True)
class BackfillProgress:
    """How far the background backfill has indexed one watched branch's history."""

    project: str
    branch: str
    planned: int
    done: int
    updated_at: dt.datetime
    finished: bool
    error: str | None  # the last failure, one line


@dataclass(frozen=True)
class IndexStatus:
    """What the index job has done: what an empty dashboard is waiting for."""

    last_run_at: dt.datetime | None  # the job's last finished pass, in any process
    running: bool  # a process holds the job's lease now
    cursors: list[tuple[str, str, dt.datetime]]  # (project, branch, when last read)
    snapshots: int  # merged states recorded so far (by the job or a backfill)
    backfill: list[BackfillProgress] = field(default_factory=list)  # per watched branch
    backfill_running: bool = False  # a process holds the backfill job's lease now


def index_status(s: Session, now: dt.datetime) -> IndexStatus:
    lease = s.get(JobLease, INDEX_JOB)
    cursors = s.execute(
        select(IndexCursor.project, IndexCursor.branch, IndexCursor.updated_at)
        .order_by(IndexCursor.project, IndexCursor.branch)
        .limit(50)
    ).all()
    return IndexStatus(
        last_run_at=lease.last_run_at if lease is not None else None,
        running=lease is not None and lease.lease_until > now,
        cursors=[(p, b, at) for p, b, at in cursors],
        snapshots=s.scalar(select(func.count(ApiSnapshot.id))) or 0,
        backfill=backfill_progress(s),
        backfill_running=_leased(s, BACKFILL_JOB, now),
    )


def _leased(s: Session, job: str, now: dt.datetime) -> bool:
    lease = s.get(JobLease, job)
    return lease is not None and lease.lease_until > now


@functools.cache
def _backfill_statement() -> Select[Any]:
    return (
        select(BackfillCursor)
        .order_by(BackfillCursor.project, BackfillCursor.branch)
        .limit(bindparam("limit"))
    )


def backfill_progress(s: Session, limit: int = 100) -> list[BackfillProgress]:
    """The backfill's cursors, one per watched branch it has planned."""
    rows = s.scalars(_backfill_statement(), {"limit": limit}).all()
    return [
        BackfillProgress(
            r.project, r.branch, r.planned, r.done, r.updated_at, r.finished_at is not None, r.error
        )
        for r in rows
    ]
