"""The dashboard's reads: one function per list or figure, shared by the pages and the JSON API.

Every list is keyset-paginated (``limit`` and ``marker``: the id of the last item of the
previous page) over an index, and every page is a fixed, small number of queries: counts
come from columns copied onto ``api_specs`` by the index job, related rows are fetched
for a whole page at once (no query per row).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from govbot.db.models import (
    ApiDeprecation,
    ApiOperation,
    ApiSnapshot,
    ApiSpec,
    BlueprintVerdict,
    Change,
    CrossFinding,
    DigestRecord,
    Escalation,
    EscalationAck,
    Evaluation,
    EvaluationStatus,
    FindingRecord,
    JobLease,
    PatchSet,
    Project,
    QueueState,
    SnapshotFinding,
    SpecDocument,
    TCMember,
    Waiver,
)
from govbot.findings import Audience, Severity
from govbot.web.dashboard.templating import BadQuery, Page, int_marker, make_page

QUEUE_STATES = ("stale", "at-risk", "waiting", "skipped")
SUNSET_WINDOW_DAYS = 90
TREND_DAYS = 365
TREND_MAX_POINTS = 500
REVIEW_PURPOSE = "api-review"


@dataclass
class Counts:
    """Operations by audience and findings by severity (waived findings taken out)."""

    external: int = 0
    external_admin: int = 0
    internal: int = 0
    error: int = 0
    warning: int = 0
    info: int = 0
    waived: int = 0

    @property
    def operations(self) -> int:
        return self.external + self.external_admin + self.internal

    def operation_json(self) -> dict[str, int]:
        return {
            "external": self.external,
            "external_admin": self.external_admin,
            "internal": self.internal,
        }

    def finding_json(self) -> dict[str, int]:
        return {"error": self.error, "warning": self.warning, "info": self.info}


@dataclass
class ApiRow:
    """An API with its counts as shown (waivers applied) and its cross-service count."""

    spec: ApiSpec
    counts: Counts
    inconsistencies: int = 0


# --- APIs ------------------------------------------------------------------------------------


def _counts(spec: ApiSpec, waived: dict[str, int] | None = None) -> Counts:
    waived = waived or {}
    return Counts(
        external=spec.ops_external,
        external_admin=spec.ops_external_admin,
        internal=spec.ops_internal,
        error=max(0, spec.errors - waived.get("error", 0)),
        warning=max(0, spec.warnings - waived.get("warning", 0)),
        info=max(0, spec.infos - waived.get("info", 0)),
        waived=sum(waived.values()),
    )


def waived_counts(s: Session, api_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Waived findings of each API's latest snapshot, by severity."""
    if not api_ids:
        return {}
    rows = s.execute(
        select(Waiver.api_id, SnapshotFinding.severity, func.count())
        .join(ApiSpec, ApiSpec.id == Waiver.api_id)
        .join(
            SnapshotFinding,
            and_(
                SnapshotFinding.snapshot_id == ApiSpec.latest_snapshot_id,
                SnapshotFinding.fingerprint == Waiver.fingerprint,
            ),
        )
        .where(Waiver.api_id.in_(api_ids))
        .group_by(Waiver.api_id, SnapshotFinding.severity)
    )
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for api_id, severity, n in rows:
        out[api_id][str(severity)] = n
    return out


def _rows(s: Session, specs: Sequence[ApiSpec]) -> list[ApiRow]:
    ids = [a.id for a in specs]
    waived = waived_counts(s, ids)
    cross: dict[int, int] = {}
    if ids:
        cross = dict(
            s.execute(
                select(CrossFinding.api_id, func.count())
                .where(CrossFinding.api_id.in_(ids))
                .group_by(CrossFinding.api_id)
            ).all()
        )
    return [ApiRow(a, _counts(a, waived.get(a.id)), cross.get(a.id, 0)) for a in specs]


def api_page(
    s: Session,
    *,
    limit: int,
    marker: str | None,
    project: str | None = None,
    audience: str | None = None,
) -> Page:
    """APIs ordered by project, branch and file."""
    order = (ApiSpec.project, ApiSpec.branch, ApiSpec.file, ApiSpec.id)
    q = select(ApiSpec).where(ApiSpec.latest_snapshot_id.is_not(None))
    if project:
        q = q.where(ApiSpec.project == project)
    if audience:
        q = q.where(ApiSpec.audience == _audience(audience))
    after = int_marker(marker)
    if after is not None:
        m = s.get(ApiSpec, after)
        if m is None:
            raise BadQuery(f"unknown marker {marker!r}")
        q = q.where(tuple_(*order) > tuple_(m.project, m.branch, m.file, m.id))
    specs = s.scalars(q.order_by(*order).limit(limit + 1)).all()
    page = make_page(specs, limit, lambda a: a.id)
    return Page(_rows(s, page.items), page.limit, page.next_marker)


def api(s: Session, api_id: int) -> ApiRow | None:
    spec = s.get(ApiSpec, api_id)
    if spec is None or spec.latest_snapshot_id is None:
        return None
    return _rows(s, [spec])[0]


@dataclass
class ProjectRow:
    name: str
    apis: int
    counts: Counts


def project_page(s: Session, *, limit: int, marker: str | None) -> Page:
    """Projects with APIs, by name, with their APIs' counts added up."""
    q = (
        select(
            ApiSpec.project,
            func.count(ApiSpec.id),
            func.sum(ApiSpec.ops_external),
            func.sum(ApiSpec.ops_external_admin),
            func.sum(ApiSpec.ops_internal),
            func.sum(ApiSpec.errors),
            func.sum(ApiSpec.warnings),
            func.sum(ApiSpec.infos),
        )
        .where(ApiSpec.latest_snapshot_id.is_not(None))
        .group_by(ApiSpec.project)
        .order_by(ApiSpec.project)
    )
    if marker:
        q = q.where(ApiSpec.project > marker)
    rows = s.execute(q.limit(limit + 1)).all()
    projects = [
        ProjectRow(
            name,
            n,
            Counts(int(e or 0), int(a or 0), int(i or 0), int(er or 0), int(w or 0), int(inf or 0)),
        )
        for name, n, e, a, i, er, w, inf in rows
    ]
    if projects:
        waived = waived_counts(
            s,
            s.scalars(
                select(ApiSpec.id).where(ApiSpec.project.in_([p.name for p in projects[:limit]]))
            ).all(),
        )
        by_project: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        if waived:
            for api_id, project in s.execute(
                select(ApiSpec.id, ApiSpec.project).where(ApiSpec.id.in_(list(waived)))
            ):
                for sev, n in waived[api_id].items():
                    by_project[project][sev] += n
        for p in projects:
            w = by_project.get(p.name, {})
            p.counts.error -= w.get("error", 0)
            p.counts.warning -= w.get("warning", 0)
            p.counts.info -= w.get("info", 0)
            p.counts.waived = sum(w.values())
    return make_page(projects, limit, lambda p: p.name)


# --- the overview's figures ------------------------------------------------------------------


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
                "assessed_at": _iso(self.queue_assessed_at),
            },
            "last_indexed_at": _iso(self.last_index),
        }


def summary(s: Session) -> Summary:
    """Community totals: a handful of aggregate queries over small or indexed tables."""
    row = s.execute(
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
        ).where(ApiSpec.latest_snapshot_id.is_not(None))
    ).one()
    out = Summary(projects=row[0], apis=row[1], deprecated=int(row[8]), last_index=row[9])
    waived: dict[str, int] = defaultdict(int)
    for by_sev in waived_counts(s, s.scalars(select(Waiver.api_id).distinct()).all()).values():
        for sev, n in by_sev.items():
            waived[sev] += n
    out.counts = Counts(
        int(row[2]),
        int(row[3]),
        int(row[4]),
        max(0, int(row[5]) - waived["error"]),
        max(0, int(row[6]) - waived["warning"]),
        max(0, int(row[7]) - waived["info"]),
        sum(waived.values()),
    )
    out.inconsistencies = s.scalar(select(func.count(CrossFinding.id))) or 0
    out.queue = {
        state: n
        for state, n in s.execute(select(QueueState.state, func.count()).group_by(QueueState.state))
    }
    out.queue_assessed_at = s.scalar(select(func.max(QueueState.assessed_at)))
    out.open_escalations = (
        s.scalar(
            select(func.count()).select_from(
                select(Escalation.change_number)
                .where(Escalation.resolved_at.is_(None))
                .distinct()
                .subquery()
            )
        )
        or 0
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
            "at": _iso(self.at),
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
        version = tuple(
            s.execute(select(func.max(ApiSnapshot.id), func.count(ApiSnapshot.id))).one()
        )
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
    q = (
        select(ApiDeprecation, ApiSpec.id, ApiSpec.project, ApiSpec.file, ApiSpec.title)
        .join(ApiSpec, ApiSpec.latest_snapshot_id == ApiDeprecation.snapshot_id)
        .where(ApiDeprecation.sunset.is_not(None), ApiDeprecation.sunset <= horizon)
    )
    after = int_marker(marker)
    if after is not None:
        m = s.get(ApiDeprecation, after)
        if m is None or m.sunset is None:
            raise BadQuery(f"unknown marker {marker!r}")
        q = q.where(tuple_(ApiDeprecation.sunset, ApiDeprecation.id) > tuple_(m.sunset, m.id))
    rows = s.execute(q.order_by(ApiDeprecation.sunset, ApiDeprecation.id).limit(limit + 1)).all()
    items = [DeprecationRow(d, i, p, f, t) for d, i, p, f, t in rows]
    return make_page(items, limit, lambda r: r.deprecation.id)


# --- one API ---------------------------------------------------------------------------------


def operations_page(
    s: Session, spec: ApiSpec, *, limit: int, marker: str | None, audience: str | None = None
) -> Page:
    q = select(ApiOperation).where(ApiOperation.snapshot_id == spec.latest_snapshot_id)
    if audience:
        q = q.where(ApiOperation.audience == _audience(audience))
    after = int_marker(marker)
    if after is not None:
        q = q.where(ApiOperation.id > after)
    rows = s.scalars(q.order_by(ApiOperation.id).limit(limit + 1)).all()
    return make_page(rows, limit, lambda o: o.id)


@dataclass
class FindingRow:
    finding: SnapshotFinding
    waiver: Waiver | None = None


def findings_page(
    s: Session,
    spec: ApiSpec,
    *,
    limit: int,
    marker: str | None,
    severity: str | None = None,
    rule: str | None = None,
    waived: bool | None = None,
) -> Page:
    """Findings of the API's latest snapshot in reading order, each with its waiver."""
    q = select(SnapshotFinding).where(SnapshotFinding.snapshot_id == spec.latest_snapshot_id)
    if severity:
        q = q.where(SnapshotFinding.severity == _severity(severity))
    if rule:
        q = q.where(SnapshotFinding.rule == rule.upper())
    waived_fps = select(Waiver.fingerprint).where(Waiver.api_id == spec.id)
    if waived is True:
        q = q.where(SnapshotFinding.fingerprint.in_(waived_fps))
    elif waived is False:
        q = q.where(SnapshotFinding.fingerprint.not_in(waived_fps))
    after = int_marker(marker)
    if after is not None:
        q = q.where(SnapshotFinding.id > after)
    rows = s.scalars(q.order_by(SnapshotFinding.id).limit(limit + 1)).all()
    page = make_page(rows, limit, lambda f: f.id)
    waivers = _waivers(s, spec.id, [f.fingerprint for f in page.items])
    return Page(
        [FindingRow(f, waivers.get(f.fingerprint)) for f in page.items],
        page.limit,
        page.next_marker,
    )


def _waivers(s: Session, api_id: int, fingerprints: Iterable[str]) -> dict[str, Waiver]:
    wanted = list(set(fingerprints))
    if not wanted:
        return {}
    rows = s.scalars(
        select(Waiver).where(Waiver.api_id == api_id, Waiver.fingerprint.in_(wanted))
    ).all()
    return {w.fingerprint: w for w in rows}


@dataclass
class FindingDetail:
    finding: SnapshotFinding
    snapshot: ApiSnapshot
    api: ApiSpec
    waiver: Waiver | None
    excerpt: list[tuple[int, str]]  # (line number, text) around the finding's line


def finding_detail(s: Session, finding_id: int, *, context: int = 6) -> FindingDetail | None:
    row = s.execute(
        select(SnapshotFinding, ApiSnapshot, ApiSpec)
        .join(ApiSnapshot, ApiSnapshot.id == SnapshotFinding.snapshot_id)
        .join(ApiSpec, ApiSpec.id == ApiSnapshot.api_id)
        .where(SnapshotFinding.id == finding_id)
    ).first()
    if row is None:
        return None
    finding, snapshot, spec = row
    excerpt: list[tuple[int, str]] = []
    digest = (snapshot.documents or {}).get(finding.file)
    if digest and finding.line:
        content = s.scalar(select(SpecDocument.content).where(SpecDocument.digest == digest))
        if content is not None:
            lines = content.decode("utf-8", "replace").splitlines()
            start = max(1, finding.line - context)
            end = min(len(lines), finding.line + context)
            excerpt = [(n, lines[n - 1]) for n in range(start, end + 1)]
    waiver = _waivers(s, spec.id, [finding.fingerprint]).get(finding.fingerprint)
    return FindingDetail(finding, snapshot, spec, waiver, excerpt)


def deprecations(s: Session, spec: ApiSpec, *, limit: int, marker: str | None) -> Page:
    """The API's deprecated operations, soonest sunset first (no sunset last)."""
    q = select(ApiDeprecation).where(ApiDeprecation.snapshot_id == spec.latest_snapshot_id)
    # Sorted with no sunset last: (has no sunset, sunset, id).
    no_sunset = ApiDeprecation.sunset.is_(None)
    after = int_marker(marker)
    if after is not None:
        m = s.get(ApiDeprecation, after)
        if m is None or m.snapshot_id != spec.latest_snapshot_id:
            raise BadQuery(f"unknown marker {marker!r}")
        if m.sunset is None:
            q = q.where(no_sunset, ApiDeprecation.id > m.id)
        else:
            q = q.where(
                or_(
                    no_sunset,
                    tuple_(ApiDeprecation.sunset, ApiDeprecation.id) > tuple_(m.sunset, m.id),
                )
            )
    rows = s.scalars(
        q.order_by(no_sunset, ApiDeprecation.sunset, ApiDeprecation.id).limit(limit + 1)
    ).all()
    return make_page(rows, limit, lambda d: d.id)


def snapshots_page(
    s: Session,
    spec: ApiSpec,
    *,
    limit: int,
    marker: str | None,
    since: dt.datetime | None = None,
) -> Page:
    """The API's history, newest merge first."""
    q = select(ApiSnapshot).where(ApiSnapshot.api_id == spec.id)
    if since is not None:
        q = q.where(ApiSnapshot.merged_at >= since)
    after = int_marker(marker)
    if after is not None:
        m = s.get(ApiSnapshot, after)
        if m is None or m.api_id != spec.id:
            raise BadQuery(f"unknown marker {marker!r}")
        q = q.where(tuple_(ApiSnapshot.merged_at, ApiSnapshot.id) < tuple_(m.merged_at, m.id))
    rows = s.scalars(
        q.order_by(ApiSnapshot.merged_at.desc(), ApiSnapshot.id.desc()).limit(limit + 1)
    ).all()
    return make_page(rows, limit, lambda x: x.id)


def inconsistencies_page(
    s: Session, *, limit: int, marker: str | None, api_id: int | None = None
) -> Page:
    q = select(CrossFinding, ApiSpec.project, ApiSpec.file).join(
        ApiSpec, ApiSpec.id == CrossFinding.api_id
    )
    if api_id is not None:
        q = q.where(CrossFinding.api_id == api_id)
    after = int_marker(marker)
    if after is not None:
        q = q.where(CrossFinding.id > after)
    rows = s.execute(q.order_by(CrossFinding.id).limit(limit + 1)).all()
    return make_page(rows, limit, lambda r: r[0].id)


@dataclass
class OpenChange:
    number: int
    subject: str
    owner: str | None
    updated: dt.datetime
    patch_set: int | None
    status: str | None  # the evaluation's status, None when govbot has not reviewed it
    error: int
    warning: int
    info: int
    on_this_spec: int  # findings of the evaluation on this API's file
    queue_state: str | None

    @property
    def verdict(self) -> str:
        if self.status is None:
            return "not reviewed"
        if self.status != str(EvaluationStatus.SUCCEEDED):
            return self.status
        if self.error:
            return "errors"
        if self.warning:
            return "warnings"
        return "clean"


def open_changes(s: Session, spec: ApiSpec, *, limit: int, marker: str | None) -> Page:
    """Open changes of the API's project and branch that govbot reviewed, with the verdict
    on their current patch set (counts over the change, and on this spec file)."""
    e2 = aliased(Evaluation)
    latest = (
        select(func.max(e2.id))
        .where(
            e2.change_number == Change.number,
            e2.patch_set_number == Change.current_patch_set,
            e2.purpose == REVIEW_PURPOSE,
        )
        .correlate(Change)
        .scalar_subquery()
    )
    on_file = (
        select(func.count(FindingRecord.id))
        .where(FindingRecord.evaluation_id == Evaluation.id, FindingRecord.file == spec.file)
        .scalar_subquery()
    )
    q = (
        select(
            Change.number,
            Change.subject,
            Change.owner_name,
            Change.updated,
            Change.current_patch_set,
            Evaluation.status,
            Evaluation.error_count,
            Evaluation.warning_count,
            Evaluation.info_count,
            on_file,
            QueueState.state,
        )
        .join(Project, Project.id == Change.project_id)
        .join(Evaluation, Evaluation.id == latest)
        .outerjoin(QueueState, QueueState.change_number == Change.number)
        .where(
            Project.name == spec.project,
            Change.status == "NEW",
            Change.branch == spec.branch,
            Evaluation.status != EvaluationStatus.SKIPPED,
        )
    )
    after = int_marker(marker)
    if after is not None:
        m = s.get(Change, after)
        if m is None:
            raise BadQuery(f"unknown marker {marker!r}")
        q = q.where(tuple_(Change.updated, Change.number) < tuple_(m.updated, m.number))
    rows = s.execute(q.order_by(Change.updated.desc(), Change.number.desc()).limit(limit + 1)).all()
    items = [
        OpenChange(
            number=r[0],
            subject=r[1],
            owner=r[2],
            updated=r[3],
            patch_set=r[4],
            status=str(r[5]) if r[5] is not None else None,
            error=r[6] or 0,
            warning=r[7] or 0,
            info=r[8] or 0,
            on_this_spec=r[9] or 0,
            queue_state=r[10],
        )
        for r in rows
    ]
    return make_page(items, limit, lambda c: c.number)


# --- the review queue ------------------------------------------------------------------------


def queue_page(
    s: Session,
    *,
    limit: int,
    marker: str | None,
    states: Sequence[str] = ("stale", "at-risk"),
    project: str | None = None,
) -> Page:
    """Changes of the review queue in ``states``, longest waiting first."""
    for state in states:
        if state not in QUEUE_STATES:
            raise BadQuery(f"state must be one of {', '.join(QUEUE_STATES)}, not {state!r}")
    q = select(QueueState).where(QueueState.state.in_(list(states)))
    if project:
        q = q.where(QueueState.project == project)
    after = int_marker(marker)
    if after is not None:
        m = s.get(QueueState, after)
        if m is None:
            raise BadQuery(f"unknown marker {marker!r}")
        q = q.where(
            or_(
                QueueState.waited_days < m.waited_days,
                and_(
                    QueueState.waited_days == m.waited_days,
                    QueueState.change_number > m.change_number,
                ),
            )
        )
    rows = s.scalars(
        q.order_by(QueueState.waited_days.desc(), QueueState.change_number).limit(limit + 1)
    ).all()
    return make_page(rows, limit, lambda r: r.change_number)


@dataclass
class EscalationRow:
    step: Escalation  # the episode's latest step
    first: dt.datetime  # when the episode was escalated first
    steps: list[Escalation]
    ack: EscalationAck | None

    @property
    def state(self) -> str:
        if self.step.resolved_at is not None:
            return "resolved"
        return {"escalate": "open", "remind": "reminded", "handoff": "handed_off"}[
            str(self.step.stage)
        ]


def escalations_page(
    s: Session, *, limit: int, marker: str | None, state: str | None = "open"
) -> Page:
    """Escalation episodes (their latest step), newest first; ``state`` open or resolved."""
    later = aliased(Escalation)
    newer_step = (
        select(literal(1))
        .where(
            later.change_number == Escalation.change_number,
            later.episode_start == Escalation.episode_start,
            later.id > Escalation.id,
        )
        .exists()
    )
    q = select(Escalation).where(~newer_step)
    if state == "open":
        q = q.where(Escalation.resolved_at.is_(None))
    elif state == "resolved":
        q = q.where(Escalation.resolved_at.is_not(None))
    elif state not in (None, "", "all"):
        raise BadQuery(f"state must be open, resolved or all, not {state!r}")
    after = int_marker(marker)
    if after is not None:
        q = q.where(Escalation.id < after)
    latest = s.scalars(q.order_by(Escalation.id.desc()).limit(limit + 1)).all()
    page = make_page(latest, limit, lambda e: e.id)
    items = page.items
    episodes: dict[tuple[int, dt.datetime], list[Escalation]] = defaultdict(list)
    acks: dict[int, EscalationAck] = {}
    if items:
        keys = [(e.change_number, e.episode_start) for e in items]
        for step in s.scalars(
            select(Escalation)
            .where(tuple_(Escalation.change_number, Escalation.episode_start).in_(keys))
            .order_by(Escalation.id)
        ):
            episodes[(step.change_number, step.episode_start)].append(step)
        ids = [st.id for steps in episodes.values() for st in steps]
        acks = {
            a.escalation_id: a
            for a in s.scalars(select(EscalationAck).where(EscalationAck.escalation_id.in_(ids)))
        }
    rows = []
    for e in items:
        steps = episodes.get((e.change_number, e.episode_start), [e])
        ack = next((acks[st.id] for st in reversed(steps) if st.id in acks), None)
        first = steps[0].acted_at or steps[0].created_at
        rows.append(EscalationRow(e, first, steps, ack))
    return Page(rows, page.limit, page.next_marker)


def escalation(s: Session, escalation_id: int) -> EscalationRow | None:
    step = s.get(Escalation, escalation_id)
    if step is None:
        return None
    steps = list(
        s.scalars(
            select(Escalation)
            .where(
                Escalation.change_number == step.change_number,
                Escalation.episode_start == step.episode_start,
            )
            .order_by(Escalation.id)
        )
    )
    acks = {
        a.escalation_id: a
        for a in s.scalars(
            select(EscalationAck).where(EscalationAck.escalation_id.in_([x.id for x in steps]))
        )
    }
    ack = next((acks[x.id] for x in reversed(steps) if x.id in acks), None)
    return EscalationRow(steps[-1], steps[0].acted_at or steps[0].created_at, steps, ack)


def tc_members(s: Session) -> list[tuple[str, int, TCMember | None]]:
    """TC members govbot knows (escalated to, or with a record): (name, open escalations, record)."""
    open_load = dict(
        s.execute(
            select(Escalation.assignee, func.count(func.distinct(Escalation.change_number)))
            .where(Escalation.resolved_at.is_(None))
            .group_by(Escalation.assignee)
        ).all()
    )
    records = {m.username: m for m in s.scalars(select(TCMember))}
    names = set(open_load) | set(records)
    names |= set(s.scalars(select(Escalation.assignee).distinct().limit(200)))
    return [(n, open_load.get(n, 0), records.get(n)) for n in sorted(names)]


def digests_page(s: Session, *, limit: int, marker: str | None) -> Page:
    q = select(
        DigestRecord.id,
        DigestRecord.period_start,
        DigestRecord.period_end,
        DigestRecord.created_at,
        DigestRecord.sent_at,
        DigestRecord.recipients,
        DigestRecord.data,
    )
    after = int_marker(marker)
    if after is not None:
        q = q.where(DigestRecord.id < after)
    rows = s.execute(q.order_by(DigestRecord.id.desc()).limit(limit + 1)).all()
    return make_page(rows, limit, lambda r: r[0])


# --- blueprints ------------------------------------------------------------------------------


def blueprint_page(
    s: Session, *, limit: int, marker: str | None, verdict: str | None = None
) -> Page:
    order = (BlueprintVerdict.project, BlueprintVerdict.file, BlueprintVerdict.id)
    q = select(BlueprintVerdict)
    if verdict:
        q = q.where(_verdict_filter(verdict))
    after = int_marker(marker)
    if after is not None:
        m = s.get(BlueprintVerdict, after)
        if m is None:
            raise BadQuery(f"unknown marker {marker!r}")
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


# --- metrics ---------------------------------------------------------------------------------


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
    from govbot.db.models import PollCursor, PostedReview, WorkItem

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
    return m


# --- helpers ---------------------------------------------------------------------------------


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def _audience(value: str) -> Audience:
    try:
        return Audience(value)
    except ValueError:
        raise BadQuery(
            f"audience must be one of {', '.join(a.value for a in Audience)}, not {value!r}"
        ) from None


def _severity(value: str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise BadQuery(
            f"severity must be one of {', '.join(s.value for s in Severity)}, not {value!r}"
        ) from None


def patch_set_uploaded(s: Session, number: int, patch_set: int | None) -> dt.datetime | None:
    if patch_set is None:
        return None
    return s.scalar(
        select(PatchSet.uploaded).where(
            PatchSet.change_number == number, PatchSet.number == patch_set
        )
    )


__all__ = [
    "QUEUE_STATES",
    "ApiRow",
    "Counts",
    "DeprecationRow",
    "EscalationRow",
    "FindingDetail",
    "FindingRow",
    "MetricValues",
    "OpenChange",
    "ProjectRow",
    "Summary",
    "TrendCache",
    "TrendPoint",
    "api",
    "api_page",
    "blueprint_flags",
    "blueprint_page",
    "deprecations",
    "deprecations_near",
    "digests_page",
    "escalation",
    "escalations_page",
    "finding_detail",
    "findings_page",
    "inconsistencies_page",
    "justification",
    "metric_values",
    "open_changes",
    "operations_page",
    "project_page",
    "queue_page",
    "snapshots_page",
    "summary",
    "tc_members",
    "trend",
    "waived_counts",
]
