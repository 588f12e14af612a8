"""The APIs and their lists: operations, findings, deprecations, history, changes."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from govbot.db.documents import contents
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
    Waiver,
)
from govbot.web.queries.common import (
    REVIEW_PURPOSE,
    ApiRow,
    Counts,
    api_row,
    api_row_columns,
    findings_owner,
    parse_audience,
    parse_severity,
    waived_counts,
)
from govbot.web.queries.paging import (
    Page,
    UnknownMarker,
    id_max,
    int_marker,
    make_page,
    marked,
)

# The statements of every page view are built once, values bound at execution: see
# govbot.web.queries.common.


def _param(column: Any, name: str) -> Any:
    return bindparam(name, type_=column.type)


def _constant(column: Any, value: Any) -> Any:
    """A constant of the code (a status, a purpose) written into the SQL, not bound.

    psycopg prepares a statement run often on one connection, and PostgreSQL soon plans
    a prepared statement once for any values (a generic plan): with the statuses bound,
    that plan could not tell how selective they are, and read every evaluation of the
    open changes query (4 ms of the server's CPU per API page instead of 0.2 ms).
    The literal is rendered when the statement is, the same text each time.
    """
    return bindparam(None, value, type_=column.type, literal_execute=True)


@functools.cache
def _api_page_statement(project: bool, audience: bool, after: bool) -> Select[Any]:
    order = (ApiSpec.project, ApiSpec.branch, ApiSpec.file, ApiSpec.id)
    q = select(ApiSpec, *api_row_columns()).where(ApiSpec.latest_snapshot_id.is_not(None))
    if project:
        q = q.where(ApiSpec.project == _param(ApiSpec.project, "project"))
    if audience:
        q = q.where(ApiSpec.audience == _param(ApiSpec.audience, "audience"))
    if after:
        q = q.where(tuple_(*order) > tuple_(*(_param(c, f"m_{c.key}") for c in order)))
    return q.order_by(*order).limit(bindparam("limit"))


def api_page(
    s: Session,
    *,
    limit: int,
    marker: str | None,
    project: str | None = None,
    audience: str | None = None,
) -> Page:
    """APIs ordered by project, branch and file."""
    values: dict[str, Any] = {"project": project, "limit": limit + 1}
    if audience:
        values["audience"] = parse_audience(audience)
    m = marked(s, ApiSpec, marker, ApiSpec.id)
    if m is not None:
        values.update(m_project=m.project, m_branch=m.branch, m_file=m.file, m_id=m.id)
    q = _api_page_statement(bool(project), bool(audience), m is not None)
    rows = s.execute(q, values).all()
    page = make_page(rows, limit, lambda r: r[0].id)
    return Page([api_row(*r) for r in page.items], page.limit, page.next_marker)


@functools.cache
def _api_statement() -> Select[Any]:
    return select(ApiSpec, *api_row_columns()).where(
        ApiSpec.id == _param(ApiSpec.id, "id"), ApiSpec.latest_snapshot_id.is_not(None)
    )


def api(s: Session, api_id: int) -> ApiRow | None:
    """The API with its counts (None when unknown or not indexed yet): one statement."""
    if not 0 < api_id <= id_max(ApiSpec.id):
        return None
    row = s.execute(_api_statement(), {"id": api_id}).first()
    return api_row(*row) if row is not None else None


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


@functools.cache
def _operations_statement(audience: bool, after: bool) -> Select[Any]:
    # The snapshot's rows, or the earlier snapshot's it shares them with.
    owner = (
        select(func.coalesce(ApiSnapshot.operations_of, ApiSnapshot.id))
        .where(ApiSnapshot.id == _param(ApiSnapshot.id, "snapshot"))
        .scalar_subquery()
    )
    q = select(ApiOperation).where(ApiOperation.snapshot_id == owner)
    if audience:
        q = q.where(ApiOperation.audience == _param(ApiOperation.audience, "audience"))
    if after:
        q = q.where(ApiOperation.id > _param(ApiOperation.id, "after"))
    return q.order_by(ApiOperation.id).limit(bindparam("limit"))


def operations_page(
    s: Session, spec: ApiSpec, *, limit: int, marker: str | None, audience: str | None = None
) -> Page:
    values: dict[str, Any] = {"snapshot": spec.latest_snapshot_id, "limit": limit + 1}
    if audience:
        values["audience"] = parse_audience(audience)
    after = int_marker(marker, ApiOperation.id)
    values["after"] = after
    q = _operations_statement(bool(audience), after is not None)
    rows = s.scalars(q, values).all()
    return make_page(rows, limit, lambda o: o.id)


@dataclass
class FindingRow:
    finding: SnapshotFinding
    waiver: Waiver | None = None


@functools.cache
def _findings_statement(
    severity: bool, rule: bool, waived: bool | None, after: bool
) -> Select[Any]:
    api_id = _param(Waiver.api_id, "api_id")
    # The snapshot's rows, or the earlier snapshot's it shares them with.
    owner = (
        select(findings_owner())
        .where(ApiSnapshot.id == _param(ApiSnapshot.id, "snapshot"))
        .scalar_subquery()
    )
    # Each finding with its waiver, if any ((api_id, fingerprint) is unique: one at most).
    q = (
        select(SnapshotFinding, Waiver)
        .outerjoin(
            Waiver, and_(Waiver.api_id == api_id, Waiver.fingerprint == SnapshotFinding.fingerprint)
        )
        .where(SnapshotFinding.snapshot_id == owner)
    )
    if severity:
        q = q.where(SnapshotFinding.severity == _param(SnapshotFinding.severity, "severity"))
    if rule:
        q = q.where(SnapshotFinding.rule == _param(SnapshotFinding.rule, "rule"))
    if waived is True:
        q = q.where(Waiver.id.is_not(None))
    elif waived is False:
        q = q.where(Waiver.id.is_(None))
    if after:
        q = q.where(SnapshotFinding.id > _param(SnapshotFinding.id, "after"))
    return q.order_by(SnapshotFinding.id).limit(bindparam("limit"))


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
    after = int_marker(marker, SnapshotFinding.id)
    values: dict[str, Any] = {
        "snapshot": spec.latest_snapshot_id,
        "api_id": spec.id,
        "rule": rule.upper() if rule else None,
        "after": after,
        "limit": limit + 1,
    }
    if severity:
        values["severity"] = parse_severity(severity)
    q = _findings_statement(bool(severity), bool(rule), waived, after is not None)
    rows = s.execute(q, values).all()
    page = make_page(rows, limit, lambda r: r[0].id)
    return Page([FindingRow(f, w) for f, w in page.items], page.limit, page.next_marker)


@functools.cache
def _waivers_statement() -> Select[Any]:
    return select(Waiver).where(
        Waiver.api_id == _param(Waiver.api_id, "api_id"),
        Waiver.fingerprint.in_(bindparam("fingerprints", expanding=True)),
    )


def _waivers(s: Session, api_id: int, fingerprints: Iterable[str]) -> dict[str, Waiver]:
    wanted = list(set(fingerprints))
    if not wanted:
        return {}
    rows = s.scalars(_waivers_statement(), {"api_id": api_id, "fingerprints": wanted}).all()
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
    # Rows are kept once per content: shown from the API's latest snapshot when that one
    # reads them (the finding is on the same line there), else from their own.
    if spec.latest_snapshot_id is not None and spec.latest_snapshot_id != snapshot.id:
        latest = s.get(ApiSnapshot, spec.latest_snapshot_id)
        if latest is not None and latest.findings_of == snapshot.id:
            snapshot = latest
    excerpt: list[tuple[int, str]] = []
    digest = (snapshot.documents or {}).get(finding.file)
    if digest and finding.line:
        content = contents(s, [digest]).get(digest)
        if content is not None:
            lines = content.decode("utf-8", "replace").splitlines()
            start = max(1, finding.line - context)
            end = min(len(lines), finding.line + context)
            excerpt = [(n, lines[n - 1]) for n in range(start, end + 1)]
    waiver = _waivers(s, spec.id, [finding.fingerprint]).get(finding.fingerprint)
    return FindingDetail(finding, snapshot, spec, waiver, excerpt)


@functools.cache
def _deprecations_statement(after: str | None) -> Select[Any]:
    """``after``: None (first page), "sunset" or "no-sunset" (the marker's kind)."""
    q = select(ApiDeprecation).where(
        ApiDeprecation.snapshot_id == _param(ApiDeprecation.snapshot_id, "snapshot")
    )
    # Sorted with no sunset last: (has no sunset, sunset, id).
    no_sunset = ApiDeprecation.sunset.is_(None)
    m_id = _param(ApiDeprecation.id, "id")
    if after == "no-sunset":
        q = q.where(no_sunset, ApiDeprecation.id > m_id)
    elif after == "sunset":
        m_sunset = _param(ApiDeprecation.sunset, "sunset")
        q = q.where(
            or_(
                no_sunset, tuple_(ApiDeprecation.sunset, ApiDeprecation.id) > tuple_(m_sunset, m_id)
            )
        )
    order = (no_sunset, ApiDeprecation.sunset, ApiDeprecation.id)
    return q.order_by(*order).limit(bindparam("limit"))


def deprecations(s: Session, spec: ApiSpec, *, limit: int, marker: str | None) -> Page:
    """The API's deprecated operations, soonest sunset first (no sunset last)."""
    values: dict[str, Any] = {"snapshot": spec.latest_snapshot_id, "limit": limit + 1}
    m = marked(s, ApiDeprecation, marker, ApiDeprecation.id)
    after = None
    if m is not None:
        if m.snapshot_id != spec.latest_snapshot_id:
            raise UnknownMarker(f"unknown marker {marker!r}: not a deprecation of this API")
        after = "no-sunset" if m.sunset is None else "sunset"
        values.update(sunset=m.sunset, id=m.id)
    rows = s.scalars(_deprecations_statement(after), values).all()
    return make_page(rows, limit, lambda d: d.id)


@functools.cache
def _snapshots_statement(since: bool, after: bool) -> Select[Any]:
    q = select(ApiSnapshot).where(ApiSnapshot.api_id == _param(ApiSnapshot.api_id, "api_id"))
    if since:
        q = q.where(ApiSnapshot.merged_at >= _param(ApiSnapshot.merged_at, "since"))
    if after:
        q = q.where(
            tuple_(ApiSnapshot.merged_at, ApiSnapshot.id)
            < tuple_(_param(ApiSnapshot.merged_at, "merged_at"), _param(ApiSnapshot.id, "id"))
        )
    order = (ApiSnapshot.merged_at.desc(), ApiSnapshot.id.desc())
    return q.order_by(*order).limit(bindparam("limit"))


def snapshots_page(
    s: Session,
    spec: ApiSpec,
    *,
    limit: int,
    marker: str | None,
    since: dt.datetime | None = None,
) -> Page:
    """The API's history, newest merge first."""
    values: dict[str, Any] = {"api_id": spec.id, "since": since, "limit": limit + 1}
    m = marked(s, ApiSnapshot, marker, ApiSnapshot.id)
    if m is not None:
        if m.api_id != spec.id:
            raise UnknownMarker(f"unknown marker {marker!r}: not a snapshot of this API")
        values.update(merged_at=m.merged_at, id=m.id)
    rows = s.scalars(_snapshots_statement(since is not None, m is not None), values).all()
    return make_page(rows, limit, lambda x: x.id)


# The columns the API page's history table and chart read: the page shows up to 200
# merges, and loading them as ORM entities (with each snapshot's documents, a JSON
# column) was a large part of the page's CPU.
_HISTORY_COLUMNS = (
    ApiSnapshot.id,
    ApiSnapshot.merged_at,
    ApiSnapshot.change_number,
    ApiSnapshot.commit,
    ApiSnapshot.version,
    ApiSnapshot.ops_external,
    ApiSnapshot.ops_external_admin,
    ApiSnapshot.ops_internal,
    ApiSnapshot.errors,
    ApiSnapshot.warnings,
    ApiSnapshot.infos,
    ApiSnapshot.deprecated,
)


@functools.cache
def _history_statement() -> Select[Any]:
    return (
        select(*_HISTORY_COLUMNS)
        .where(ApiSnapshot.api_id == _param(ApiSnapshot.api_id, "api_id"))
        .order_by(ApiSnapshot.merged_at.desc(), ApiSnapshot.id.desc())
        .limit(bindparam("limit"))
    )


def recent_history(s: Session, spec: ApiSpec, *, limit: int) -> list[Any]:
    """The API's newest merges as rows of the history columns, newest first (the order
    of :func:`snapshots_page`)."""
    return list(s.execute(_history_statement(), {"api_id": spec.id, "limit": limit}).all())


@functools.cache
def _inconsistencies_statement(one_api: bool, after: bool) -> Select[Any]:
    q = select(CrossFinding, ApiSpec.project, ApiSpec.file).join(
        ApiSpec, ApiSpec.id == CrossFinding.api_id
    )
    if one_api:
        q = q.where(CrossFinding.api_id == _param(CrossFinding.api_id, "api_id"))
    if after:
        q = q.where(CrossFinding.id > _param(CrossFinding.id, "after"))
    return q.order_by(CrossFinding.id).limit(bindparam("limit"))


def inconsistencies_page(
    s: Session, *, limit: int, marker: str | None, api_id: int | None = None
) -> Page:
    after = int_marker(marker, CrossFinding.id)
    values = {"api_id": api_id, "after": after, "limit": limit + 1}
    rows = s.execute(_inconsistencies_statement(api_id is not None, after is not None), values)
    rows = rows.all()
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
    values: dict[str, Any] = {
        "project": spec.project,
        "branch": spec.branch,
        "file": spec.file,
        "limit": limit + 1,
    }
    m = marked(s, Change, marker, Change.number)
    if m is not None:
        values.update(updated=m.updated, number=m.number)
    rows = s.execute(_open_changes_statement(m is not None), values).all()
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


@functools.cache
def _open_changes_statement(after: bool) -> Select[Any]:
    q = _open_changes_query()
    if after:
        q = q.where(
            tuple_(Change.updated, Change.number)
            < tuple_(_param(Change.updated, "updated"), _param(Change.number, "number"))
        )
    order = (Change.updated.desc(), Change.number.desc())
    return q.order_by(*order).limit(bindparam("limit"))


def _open_changes_query() -> Select[Any]:
    """The columns of :class:`OpenChange` for an API's open, reviewed changes (the API's
    project, branch and file are the parameters of the same names)."""
    e2 = aliased(Evaluation)
    latest = (
        select(func.max(e2.id))
        .where(
            e2.change_number == Change.number,
            e2.patch_set_number == Change.current_patch_set,
            e2.purpose == _constant(e2.purpose, REVIEW_PURPOSE),
        )
        .correlate(Change)
        .scalar_subquery()
    )
    on_file = (
        select(func.count(FindingRecord.id))
        .where(
            FindingRecord.evaluation_id == Evaluation.id,
            FindingRecord.file == _param(FindingRecord.file, "file"),
        )
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
            == select(Project.id)
            .where(Project.name == _param(Project.name, "project"))
            .scalar_subquery(),
            Change.status == _constant(Change.status, "NEW"),
            Change.branch == _param(Change.branch, "branch"),
            Evaluation.status != _constant(Evaluation.status, EvaluationStatus.SKIPPED),
        )
    )
    return q
