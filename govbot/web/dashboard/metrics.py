"""Prometheus ``/metrics``: counted from the database at scrape time.

Every process of a deployment answers the same numbers (they live in the shared
database), so a scrape of any one of them is the deployment's view. The queries are a
few aggregates over indexed or small tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from govbot.web import queries
from govbot.web.context import context

bp = Blueprint("metrics", __name__)


class DatabaseCollector(Collector):
    """Reads :func:`queries.metric_values` on each collect."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        with Session(self.engine) as s:
            m = queries.metric_values(s, context().current_time())
            backfill = queries.backfill_progress(s)
        yield CounterMetricFamily(
            "govbot_reviews_posted", "Reviews govbot posted on Gerrit.", value=m.reviews_posted
        )
        yield GaugeMetricFamily(
            "govbot_reviews_in_flight",
            "Reviews reserved but not (yet) recorded as posted.",
            value=m.reviews_reserved,
        )
        yield _by(
            "govbot_open_change_findings",
            "Findings on the current patch set of open changes, by severity.",
            "severity",
            m.review_findings,
        )
        yield _by(
            "govbot_api_findings",
            "Findings on the latest merged version of every API, by severity.",
            "severity",
            m.api_findings,
        )
        yield GaugeMetricFamily("govbot_apis", "APIs indexed.", value=m.apis)
        yield _by("govbot_evaluations", "Evaluations recorded, by status.", "status", m.evaluations)
        yield from self._polls(m)
        yield from self._backfill(backfill)
        escalations = GaugeMetricFamily(
            "govbot_escalations",
            "Escalation steps, by stage and whether the episode is still open.",
            labels=["stage", "state"],
        )
        for (stage, state), n in sorted(m.escalations.items()):
            escalations.add_metric([stage, state], n)
        yield escalations
        yield _by("govbot_work_items", "Work items by state.", "state", m.work_items)
        yield GaugeMetricFamily(
            "govbot_gerrit_errors",
            "Unfinished work items whose last attempt failed (Gerrit unreachable, "
            "refusing, or timing out).",
            value=m.work_item_errors,
        )
        queue = {state: m.queue.get(state, 0) for state in queries.QUEUE_STATES}
        yield _by(
            "govbot_review_queue",
            "Open changes in the review queue, by state.",
            "state",
            queue,
            as_given=True,
        )
        yield _by(
            "govbot_job_last_run_timestamp_seconds",
            "When each scheduled job last finished (any process).",
            "job",
            m.job_last_run,
        )

    @staticmethod
    def _backfill(rows: list[queries.BackfillProgress]) -> Iterator[Metric]:
        """The background backfill's plan and progress per watched branch."""
        labels = ["project", "branch"]
        planned = GaugeMetricFamily(
            "govbot_backfill_planned_commits",
            "Commits of history the backfill plans to index, per watched branch.",
            labels=labels,
        )
        done = GaugeMetricFamily(
            "govbot_backfill_done_commits",
            "Commits of history the backfill has indexed, per watched branch.",
            labels=labels,
        )
        finished = GaugeMetricFamily(
            "govbot_backfill_finished",
            "1 when the backfill of a watched branch is complete.",
            labels=labels,
        )
        for row in rows:
            planned.add_metric([row.project, row.branch], row.planned)
            done.add_metric([row.project, row.branch], row.done)
            finished.add_metric([row.project, row.branch], 1 if row.finished else 0)
        yield from (planned, done, finished)

    @staticmethod
    def _polls(m: queries.MetricValues) -> Iterator[Metric]:
        if m.poll_lag is not None:
            yield GaugeMetricFamily(
                "govbot_poll_lag_seconds",
                "Seconds since the least recently polled project/branch was polled.",
                value=m.poll_lag,
            )
        yield _by(
            "govbot_poll_last_timestamp_seconds",
            "When each watched project/branch was last polled.",
            "watch",
            m.poll_last,
        )


def _by(
    name: str, text: str, label: str, values: Mapping[str, float], *, as_given: bool = False
) -> GaugeMetricFamily:
    """A gauge with one sample per ``label`` value, sorted unless ``as_given``."""
    family = GaugeMetricFamily(name, text, labels=[label])
    for key, n in values.items() if as_given else sorted(values.items()):
        family.add_metric([key], n)
    return family


@bp.get("/metrics")
def metrics() -> Response:
    state = context()
    if state.registry is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(DatabaseCollector(state.engine))
        for collector in state.collectors:  # the stream-events listener's, in serve
            registry.register(collector)
        state.registry = registry
    response = Response(generate_latest(state.registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-cache"
    return response
