"""What several lists share: counts by audience and severity, filters, time format."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ScalarSelect, Select, and_, bindparam, func, select
from sqlalchemy.orm import Session

from govbot.db.models import (
    ApiSnapshot,
    ApiSpec,
    CrossFinding,
    SnapshotFinding,
    Waiver,
)
from govbot.findings import Audience, Severity
from govbot.policy import API_REVIEW
from govbot.web.queries.paging import (
    BadQuery,
)

QUEUE_STATES = ("stale", "at-risk", "waiting", "skipped")
SUNSET_WINDOW_DAYS = 90
TREND_DAYS = 365
TREND_MAX_POINTS = 500
REVIEW_PURPOSE = API_REVIEW  # the purpose of the API reviews the pages count


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


def api_counts(spec: ApiSpec, waived: dict[str, int] | None = None) -> Counts:
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


# The statements the pages run on every request are built once (functools.cache), with
# their values as bound parameters: building a SELECT and its cache key costs more CPU
# than running it, and the CPU of the one web process is what limits the dashboard.


def findings_owner() -> Any:
    """The snapshot holding the ``snapshot_findings`` rows of the ``api_snapshots`` row
    of the enclosing SELECT: an earlier one with the same findings, or itself."""
    return func.coalesce(ApiSnapshot.findings_of, ApiSnapshot.id)


def _waived_join(q: Select[Any]) -> Select[Any]:
    return (
        q.join(ApiSpec, ApiSpec.id == Waiver.api_id)
        .join(ApiSnapshot, ApiSnapshot.id == ApiSpec.latest_snapshot_id)
        .join(
            SnapshotFinding,
            and_(
                SnapshotFinding.snapshot_id == findings_owner(),
                SnapshotFinding.fingerprint == Waiver.fingerprint,
            ),
        )
    )


@functools.cache
def _waived_counts_statement() -> Select[Any]:
    return (
        _waived_join(select(Waiver.api_id, SnapshotFinding.severity, func.count()))
        .where(Waiver.api_id.in_(bindparam("ids", expanding=True)))
        .group_by(Waiver.api_id, SnapshotFinding.severity)
    )


def waived_counts(s: Session, api_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Waived findings of each API's latest snapshot, by severity."""
    if not api_ids:
        return {}
    rows = s.execute(_waived_counts_statement(), {"ids": list(api_ids)})
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for api_id, severity, n in rows:
        out[api_id][str(severity)] = n
    return out


def waived_count(severity: Severity, *, one_api: bool) -> ScalarSelect[int]:
    """The number of waived findings of ``severity`` on the latest snapshot: of the
    ``api_specs`` row of the enclosing SELECT (``one_api``), or of every API; a scalar
    subquery, so that a page's counts come in its one statement."""
    q = select(func.count()).select_from(Waiver)
    if one_api:
        q = (
            q.join(ApiSnapshot, ApiSnapshot.id == ApiSpec.latest_snapshot_id)
            .join(
                SnapshotFinding,
                and_(
                    SnapshotFinding.snapshot_id == findings_owner(),
                    SnapshotFinding.fingerprint == Waiver.fingerprint,
                ),
            )
            .where(Waiver.api_id == ApiSpec.id)
        )
        q = q.correlate(ApiSpec)
    else:
        q = _waived_join(q)
    return q.where(SnapshotFinding.severity == severity).scalar_subquery()


WAIVED_SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)


@functools.cache
def api_row_columns() -> tuple[ScalarSelect[int], ...]:
    """An API row's figures beside its ApiSpec: its waived findings by severity and its
    cross-service findings, as scalar subqueries of the statement that reads the APIs
    (one statement per page instead of three; each an indexed look-up per API)."""
    return (
        *(waived_count(severity, one_api=True) for severity in WAIVED_SEVERITIES),
        # count(*), not count(id): the api_id index answers it without the table.
        select(func.count())
        .select_from(CrossFinding)
        .where(CrossFinding.api_id == ApiSpec.id)
        .correlate(ApiSpec)
        .scalar_subquery(),
    )


def api_row(spec: ApiSpec, *figures: int) -> ApiRow:
    """An :class:`ApiRow` from a row of ``select(ApiSpec, *api_row_columns())``."""
    *waived_by_severity, cross = figures
    waived = {
        str(severity): n
        for severity, n in zip(WAIVED_SEVERITIES, waived_by_severity, strict=True)
        if n
    }
    return ApiRow(spec, api_counts(spec, waived), cross or 0)


def iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def parse_audience(value: str) -> Audience:
    try:
        return Audience(value)
    except ValueError:
        raise BadQuery(
            f"audience must be one of {', '.join(a.value for a in Audience)}, not {value!r}"
        ) from None


def parse_severity(value: str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise BadQuery(
            f"severity must be one of {', '.join(s.value for s in Severity)}, not {value!r}"
        ) from None


__all__ = [
    "QUEUE_STATES",
    "REVIEW_PURPOSE",
    "SUNSET_WINDOW_DAYS",
    "TREND_DAYS",
    "TREND_MAX_POINTS",
    "WAIVED_SEVERITIES",
    "ApiRow",
    "Counts",
    "api_counts",
    "api_row",
    "api_row_columns",
    "iso",
    "parse_audience",
    "parse_severity",
    "waived_count",
    "waived_counts",
]
