"""A slow Gerrit: a review applied after the client's timeout, a review that outlasts its
lease while a second worker runs, and a queued change of a project nobody watches.

Real HTTP to the sandbox (its fault injection holds the review POST until the test lets
Gerrit apply it), the real worker, SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

import pytest
from integration_support import BOT, TAG, bot_reviews
from sqlalchemy import select

from govbot.db import session_scope
from govbot.db.models import PostedReview, WorkItem, WorkState, utcnow
from govbot.db.queue import enqueue
from govbot.gerrit.client import GerritClient
from govbot.sandbox.faults import Fault, parse_fault
from govbot.sandbox.seed import BLOCK_STORAGE, COMPUTE
from govbot.services.intake import REVIEW_KIND, work_key
from govbot.services.review import ReviewInProgress
from govbot.services.worker import review_all, run_worker_once

CHANGE = 1  # an open change of openstack/compute-api changing its spec (API review only)
REVIEW_POST = "/revisions/[^/]+/review$"


def hold_the_next_review() -> Fault:
    return parse_fault({"kind": "hold", "method": "POST", "path": REVIEW_POST})


def queue(engine, number: int, when: dt.datetime, project: str | None = COMPUTE) -> None:
    with session_scope(engine) as session:
        enqueue(session, REVIEW_KIND, work_key(number, project), now=when)


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def item_states(engine) -> list[str]:
    with session_scope(engine) as session:
        return [str(s) for s in session.scalars(select(WorkItem.state).order_by(WorkItem.id))]


def test_a_review_applied_after_the_client_timed_out_is_posted_once(
    gerrit, db_engine, settings, policy, now
):
    """The probe's duplicate: Gerrit applies the POST long after a timeout. Scaled down:
    a 1 s client timeout; the reservation is kept 40 s (of govbot's clock, here moved
    by the test); the worker's retry comes after 16 s and finds it kept; Gerrit applies
    the review (the held POST is let go); the attempt after the delay finds it and
    records it: one review."""
    settings = dataclasses.replace(settings, gerrit_timeout=1, gerrit_review_reconcile=40)
    gerrit.add_faults([hold_the_next_review()])
    queue(db_engine, CHANGE, now)
    with GerritClient(gerrit.url, *BOT, timeout=1, retries=3, backoff=0.01) as client:

        def run(when: dt.datetime):
            return run_worker_once(db_engine, client, policy, settings, when, "w", limit=1)

        first = run(now)
        assert [i.status for i in first.items] == ["retry"]
        assert gerrit.faults.held == 1 and bot_reviews(gerrit, CHANGE) == []
        second = run(now + dt.timedelta(seconds=16))  # the outage retry (15 s) is due
        assert [i.status for i in second.items] == ["retry"]
        assert "awaits reconciliation" in second.items[0].detail
        gerrit.faults.release()  # Gerrit applies the first POST now
        wait_until(lambda: len(bot_reviews(gerrit, CHANGE)) == 1)
        assert run(now + dt.timedelta(seconds=30)).processed == 0  # not due before 41 s
        third = run(now + dt.timedelta(seconds=60))
        assert [i.status for i in third.items] == ["reviewed"]
        assert "api-review: already-posted" in third.items[0].detail
    assert len(bot_reviews(gerrit, CHANGE)) == 1
    with session_scope(db_engine) as session:
        (row,) = session.scalars(select(PostedReview).where(PostedReview.tag == TAG))
        assert row.posted_at is not None and row.gerrit_message_id is not None
    assert set(item_states(db_engine)) == {str(WorkState.DONE)}


def test_a_review_longer_than_its_lease_is_not_taken_over_by_a_second_worker(
    gerrit, db_engine, settings, policy
):
    """Worker A's review POST hangs for three leases. Meanwhile worker B finds A's
    claim renewed (nothing to claim), and a review of the change outside the queue (as
    `govbot review` runs it) finds A's reservation renewed: one review."""
    lease = dt.timedelta(seconds=1.5)
    gerrit.add_faults([hold_the_next_review()])
    queue(db_engine, CHANGE, utcnow())
    results: dict[str, object] = {}

    def worker(name: str) -> None:
        with GerritClient(gerrit.url, *BOT, timeout=60, retries=1, backoff=0.01) as client:
            results[name] = run_worker_once(
                db_engine, client, policy, settings, utcnow, name, lease=lease
            )

    a = threading.Thread(target=worker, args=("A",))
    a.start()
    try:
        wait_until(lambda: gerrit.faults.held == 1)
        time.sleep(3 * lease.total_seconds())  # A's review outlasts its lease threefold
        worker("B")
        with (
            GerritClient(gerrit.url, *BOT, timeout=60) as client,
            pytest.raises(ReviewInProgress, match="another govbot process"),
        ):
            review_all(
                f"{COMPUTE}~{CHANGE}",
                client=client,
                engine=db_engine,
                policy=policy,
                now=utcnow(),
                docs_base=settings.docs_base,
                lease=lease,
            )
    finally:
        gerrit.faults.release()
        a.join(timeout=120)
    assert not a.is_alive()
    assert results["B"].processed == 0  # type: ignore[attr-defined]
    a_items = results["A"].items  # type: ignore[attr-defined]
    assert [i.status for i in a_items] == ["reviewed"]
    assert "api-review: posted" in a_items[0].detail
    assert len(bot_reviews(gerrit, CHANGE)) == 1


def test_a_queued_change_of_an_unwatched_project_is_dropped_before_any_work(
    gerrit, client, db_engine, settings, policy, now, caplog
):
    """Webhook change numbers are not trusted: the project is checked before review."""
    settings = dataclasses.replace(settings, gerrit_projects=(COMPUTE,))
    other = next(c.number for c in gerrit.changes.values() if c.project == BLOCK_STORAGE)
    queue(db_engine, other, now, project=BLOCK_STORAGE)
    gerrit.clear_requests()
    with caplog.at_level(logging.WARNING, logger="govbot.services.worker"):
        result = run_worker_once(db_engine, client, policy, settings, now, "w")
    assert [i.status for i in result.items] == ["unwatched"]
    assert gerrit.count_requests() == 0  # not even read
    assert f"change={other}: project {BLOCK_STORAGE}" in caplog.text
    assert "not watched" in caplog.text
    # A bare number (the older key) is read once, then dropped by the project it has.
    queue(db_engine, other, now, project=None)
    result = run_worker_once(db_engine, client, policy, settings, now, "w")
    assert [i.status for i in result.items] == ["unwatched"]
    assert gerrit.count_requests("POST") == 0 and gerrit.count_requests("GET") == 1
    assert set(item_states(db_engine)) == {str(WorkState.DONE)}
