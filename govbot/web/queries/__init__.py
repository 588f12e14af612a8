"""The web app's reads: one function per list or figure, shared by the pages and the JSON API.

Every list is keyset-paginated (``limit`` and ``marker``: the id of the last item of the
previous page) over an index, and every page is a fixed, small number of queries: counts
come from columns copied onto ``api_specs`` by the index job, related rows are fetched
for a whole page at once (no query per row); the statements a page view runs are
built once and run with bound values (building one costs more CPU than running it).
One module per concern: the APIs and their lists (:mod:`.apis`), the overview's figures
(:mod:`.health`), the review queue (:mod:`.queue`), blueprints (:mod:`.blueprints`),
``/metrics`` (:mod:`.metrics`); what they share is in :mod:`.common` and :mod:`.paging`.
"""

from __future__ import annotations

from govbot.web.queries.apis import (
    FindingDetail,
    FindingRow,
    OpenChange,
    ProjectRow,
    api,
    api_page,
    deprecations,
    finding_detail,
    findings_page,
    inconsistencies_page,
    open_changes,
    operations_page,
    project_page,
    recent_history,
    snapshots_page,
)
from govbot.web.queries.blueprints import (
    JUSTIFICATIONS,
    ChangeFlag,
    blueprint_flags,
    blueprint_page,
    justification,
)
from govbot.web.queries.common import (
    QUEUE_STATES,
    SUNSET_WINDOW_DAYS,
    TREND_DAYS,
    ApiRow,
    Counts,
    waived_counts,
)
from govbot.web.queries.health import (
    BackfillProgress,
    DeprecationRow,
    IndexStatus,
    Summary,
    TrendCache,
    TrendPoint,
    backfill_progress,
    deprecations_near,
    index_status,
    summary,
    trend,
)
from govbot.web.queries.metrics import MetricValues, metric_values
from govbot.web.queries.paging import BadQuery, Page, UnknownMarker, lookup
from govbot.web.queries.queue import (
    EscalationRow,
    digests_page,
    escalation,
    escalations_page,
    queue_page,
    tc_members,
)

__all__ = [
    "JUSTIFICATIONS",
    "QUEUE_STATES",
    "SUNSET_WINDOW_DAYS",
    "TREND_DAYS",
    "ApiRow",
    "BackfillProgress",
    "BadQuery",
    "ChangeFlag",
    "Counts",
    "DeprecationRow",
    "EscalationRow",
    "FindingDetail",
    "FindingRow",
    "IndexStatus",
    "MetricValues",
    "OpenChange",
    "Page",
    "ProjectRow",
    "Summary",
    "TrendCache",
    "TrendPoint",
    "UnknownMarker",
    "api",
    "api_page",
    "backfill_progress",
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
    "index_status",
    "justification",
    "lookup",
    "metric_values",
    "open_changes",
    "operations_page",
    "project_page",
    "queue_page",
    "recent_history",
    "snapshots_page",
    "summary",
    "tc_members",
    "trend",
    "waived_counts",
]
