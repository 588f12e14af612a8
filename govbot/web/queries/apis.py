"""The APIs and their lists: operations, findings, deprecations, history, changes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from govbot.db.models import (
    ApiDeprecation,
    ApiOperation,
    ApiSnapshot,
    ApiSpec,
    Change,
    CrossFinding,
    Evaluation,
    EvaluationStatus,
    FindingRecord,
    Project,
    QueueState,
    SnapshotFinding,
    SpecDocument,
    Waiver,
)
from govbot.web.queries.common import (
    REVIEW_PURPOSE,
    ApiRow,
    Counts,
    api_rows,
    parse_audience,
    parse_severity,
    waived_counts,
)
from govbot.web.queries.paging import (
    Page,
    UnknownMarker,
    id_max,
    int_marker,
    lookup,
    make_page,
    marked,
)


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
        q = q.where(ApiSpec.audience == parse_audience(audience))
    m = marked(s, ApiSpec, marker, ApiSpec.id)
    if m is not None:
        q = q.where(tuple_(*order) > tuple_(m.project, m.branch, m.file, m.id))
    specs = s.scalars(q.order_by(*order).limit(limit + 1)).all()
    page = make_page(specs, limit, lambda a: a.id)
    return Page(api_rows(s, page.items), page.limit, page.next_marker)


def api(s: Session, api_id: int) -> ApiRow | None:
    spec = lookup(s, ApiSpec, api_id)
    if spec is None or spec.latest_snapshot_id is None:
        return None
    return api_rows(s, [spec])[0]


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


def operations_page(
    s: Session, spec: ApiSpec, *, limit: int, marker: str | None, audience: str | None = None
) -> Page:
    q = select(ApiOperation).where(ApiOperation.snapshot_id == spec.latest_snapshot_id)
    if audience:
        q = q.where(ApiOperation.audience == parse_audience(audience))
    after = int_marker(marker, ApiOperation.id)
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
        q = q.where(SnapshotFinding.severity == parse_severity(severity))
    if rule:
        q = q.where(SnapshotFinding.rule == rule.upper())
    waived_fps = select(Waiver.fingerprint).where(Waiver.api_id == spec.id)
    if waived is True:
        q = q.where(SnapshotFinding.fingerprint.in_(waived_fps))
    elif waived is False:
        q = q.where(SnapshotFinding.fingerprint.not_in(waived_fps))
    after = int_marker(marker, SnapshotFinding.id)
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
    if not 0 < finding_id <= id_max(SnapshotFinding.id):
        return None
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
    m = marked(s, ApiDeprecation, marker, ApiDeprecation.id)
    if m is not None:
        if m.snapshot_id != spec.latest_snapshot_id:
            raise UnknownMarker(f"unknown marker {marker!r}: not a deprecation of this API")
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
    m = marked(s, ApiSnapshot, marker, ApiSnapshot.id)
    if m is not None:
        if m.api_id != spec.id:
            raise UnknownMarker(f"unknown marker {marker!r}: not a snapshot of this API")
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
    after = int_marker(marker, CrossFinding.id)
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
    q = _open_changes_query(spec)
    m = marked(s, Change, marker, Change.number)
    if m is not None:
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


def _open_changes_query(spec: ApiSpec) -> Select[Any]:
    """The columns of :class:`OpenChange` for the API's open, reviewed changes."""
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
        .select_from(Change)
        .join(Evaluation, Evaluation.id == latest)
        .outerjoin(QueueState, QueueState.change_number == Change.number)
        .where(
            # The project's id as one value (names are unique), not a join: the planner
            # then reads ix_changes_project_id_status_updated in order, newest first.
            Change.project_id
            == select(Project.id).where(Project.name == spec.project).scalar_subquery(),
            Change.status == "NEW",
            Change.branch == spec.branch,
            Evaluation.status != EvaluationStatus.SKIPPED,
        )
    )
    return q
