"""Prometheus ``/metrics``: counted from the database at scrape time.

Every process of a deployment answers the same numbers (they live in the shared
database), so a scrape of any one of them is the deployment's view. The queries are a
few aggregates over indexed or small tables.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from govbot.web.dashboard import dashboard, queries

bp = Blueprint("metrics", __name__)


class DatabaseCollector(Collector):
    """Reads :func:`queries.metric_values` on each collect."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        with Session(self.engine) as s:
            m = queries.metric_values(s, dashboard().current_time())
        yield CounterMetricFamily(
            "govbot_reviews_posted", "Reviews govbot posted on Gerrit.", value=m.reviews_posted
        )
        yield GaugeMetricFamily(
            "govbot_reviews_in_flight",
            "Reviews reserved but not (yet) recorded as posted.",
            value=m.reviews_reserved,
        )
        open_findings = GaugeMetricFamily(
            "govbot_open_change_findings",
            "Findings on the current patch set of open changes, by severity.",
            labels=["severity"],
        )
        for severity, n in sorted(m.review_findings.items()):
            open_findings.add_metric([severity], n)
        yield open_findings
        api_findings = GaugeMetricFamily(
            "govbot_api_findings",
            "Findings on the latest merged version of every API, by severity.",
            labels=["severity"],
        )
        for severity, n in sorted(m.api_findings.items()):
            api_findings.add_metric([severity], n)
        yield api_findings
        yield GaugeMetricFamily("govbot_apis", "APIs indexed.", value=m.apis)
        evaluations = GaugeMetricFamily(
            "govbot_evaluations", "Evaluations recorded, by status.", labels=["status"]
        )
        for status, n in sorted(m.evaluations.items()):
            evaluations.add_metric([status], n)
        yield evaluations
        if m.poll_lag is not None:
            yield GaugeMetricFamily(
                "govbot_poll_lag_seconds",
                "Seconds since the least recently polled project/branch was polled.",
                value=m.poll_lag,
            )
        last = GaugeMetricFamily(
            "govbot_poll_last_timestamp_seconds",
            "When each watched project/branch was last polled.",
            labels=["watch"],
        )
        for watch, when in sorted(m.poll_last.items()):
            last.add_metric([watch], when)
        yield last
        escalations = GaugeMetricFamily(
            "govbot_escalations",
            "Escalation steps, by stage and whether the episode is still open.",
            labels=["stage", "state"],
        )
        for (stage, state), n in sorted(m.escalations.items()):
            escalations.add_metric([stage, state], n)
        yield escalations
        work = GaugeMetricFamily("govbot_work_items", "Work items by state.", labels=["state"])
        for state, n in sorted(m.work_items.items()):
            work.add_metric([state], n)
        yield work
        yield GaugeMetricFamily(
            "govbot_gerrit_errors",
            "Unfinished work items whose last attempt failed (Gerrit unreachable, "
            "refusing, or timing out).",
            value=m.work_item_errors,
        )
        queue = GaugeMetricFamily(
            "govbot_review_queue", "Open changes in the review queue, by state.", labels=["state"]
        )
        for state in queries.QUEUE_STATES:
            queue.add_metric([state], m.queue.get(state, 0))
        yield queue
        jobs = GaugeMetricFamily(
            "govbot_job_last_run_timestamp_seconds",
            "When each scheduled job last finished (any process).",
            labels=["job"],
        )
        for job, when in sorted(m.job_last_run.items()):
            jobs.add_metric([job], when)
        yield jobs


@bp.get("/metrics")
def metrics() -> Response:
    state = dashboard()
    if state.registry is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(DatabaseCollector(state.engine))
        # In-process collectors (the stream-events listener's) that `govbot serve` adds.
        for collector in current_app.extensions.get("govbot.collectors", ()):
            registry.register(collector)
        state.registry = registry
    response = Response(generate_latest(state.registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-cache"
    return response
