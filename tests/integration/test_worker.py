"""The worker: queued changes reviewed on the sandbox once each, failures kept apart."""

from __future__ import annotations

import datetime as dt

from integration_support import (
    POLLED,
    SPEC_CHANGES,
    SPEC_REVIEWED,
    WIP_CHANGE,
    all_reviews,
    bot_reviews,
    review_posts,
    spec_edit,
    spec_reviews,
)
from sqlalchemy import select

from govbot.db import session_scope
from govbot.db.models import WorkItem, WorkState
from govbot.sandbox import lifecycle
from govbot.services.intake import poll_once, work_key
from govbot.services.review import ReviewStatus
from govbot.services.worker import WorkerResult, run_worker_once

WORKER = "test-worker"


def drain(engine, client, policy, settings, now, *, rounds: int = 10) -> list[WorkerResult]:
    """Run the worker until nothing is due at ``now``."""
    results = []
    for _ in range(rounds):
        result = run_worker_once(engine, client, policy, settings, now, WORKER)
        results.append(result)
        if not result.processed or result.gerrit_down:
            break
    return results


def statuses(results: list[WorkerResult]) -> dict[int, str]:
    return {i.change: i.status for r in results for i in r.items if i.change is not None}


def test_every_spec_change_is_reviewed_exactly_once(
    gerrit, client, db_engine, settings, policy, now
):
    """Poll + worker: one API review on each spec change, one spec review on each change the
    BPR rules flag (none on the others); polling and working again posts nothing."""
    poll_once(client, db_engine, settings, policy, now)
    results = drain(db_engine, client, policy, settings, now)
    outcomes = {i.change: i.outcome for r in results for i in r.items}
    assert set(outcomes) == POLLED
    assert {n for n, o in outcomes.items() if o is not None and o.posted} >= SPEC_CHANGES
    for number in SPEC_CHANGES:
        assert len(bot_reviews(gerrit, number)) == 1, number
    assert bot_reviews(gerrit, WIP_CHANGE) == []
    assert {n for n in POLLED if spec_reviews(gerrit, n)} == SPEC_REVIEWED
    for number in SPEC_REVIEWED:
        assert len(spec_reviews(gerrit, number)) == 1, number
    both = {i.change: [o.purpose for o in i.outcomes] for r in results for i in r.items}
    assert all(purposes == ["api-review", "spec-review"] for purposes in both.values()), both
    posted = review_posts(gerrit)
    assert posted == sum(all_reviews(gerrit, n) for n in POLLED)

    # The reviews themselves updated the changes; the next polls and runs post nothing.
    for minutes in (1, 2, 3):
        gerrit.clock.advance(minutes=1)
        later = now + dt.timedelta(minutes=minutes)
        poll_once(client, db_engine, settings, policy, later)
        drain(db_engine, client, policy, settings, later)
    assert review_posts(gerrit) == posted
    quiet = poll_once(client, db_engine, settings, policy, now + dt.timedelta(minutes=4))
    assert quiet.queued == ()


def test_a_new_patch_set_gets_its_own_review(gerrit, client, db_engine, settings, policy, now):
    """A new patch set is reviewed once more; the other changes are left alone."""
    poll_once(client, db_engine, settings, policy, now)
    drain(db_engine, client, policy, settings, now)
    gerrit.clock.advance(minutes=10)
    later = now + dt.timedelta(minutes=10)
    lifecycle.add_patchset(gerrit, 1, spec_edit(gerrit, 1, "ps2"))
    poll_once(client, db_engine, settings, policy, later)
    results = drain(db_engine, client, policy, settings, later)
    posted = [i.change for r in results for i in r.items if i.outcome and i.outcome.posted]
    assert posted == [1]
    assert len(bot_reviews(gerrit, 1)) == 2


def test_one_failing_change_does_not_stop_the_others(
    gerrit, client, db_engine, settings, policy, now
):
    """Gerrit refusing one change (a 400) fails that item alone; it is retried later."""
    gerrit.fail_next(None, 400, method="GET", path=r"^/a/changes/2$", message="bad request")
    poll_once(client, db_engine, settings, policy, now)
    results = drain(db_engine, client, policy, settings, now)
    done = statuses(results)
    assert done.pop(2) == "retry"
    assert set(done) == POLLED - {2}
    assert set(done.values()) == {"reviewed"}
    assert bot_reviews(gerrit, 2) == []
    with session_scope(db_engine) as session:
        item = session.scalars(
            select(WorkItem).where(WorkItem.key == work_key(2, "openstack/compute-api"))
        ).one()
    assert item.state is WorkState.QUEUED and "bad request" in (item.last_error or "")

    gerrit.clear_faults()
    later = item.not_before + dt.timedelta(seconds=1)
    results = drain(db_engine, client, policy, settings, later)
    assert statuses(results) == {2: "reviewed"}
    assert len(bot_reviews(gerrit, 2)) == 1


def test_an_outage_spends_no_attempts(gerrit, client, db_engine, settings, policy, now):
    """Gerrit down: the item goes back to the queue as new, with a delay, and the run stops."""
    poll_once(client, db_engine, settings, policy, now)
    with gerrit.outage():
        result = run_worker_once(db_engine, client, policy, settings, now, WORKER)
    assert result.gerrit_down and result.processed == 1
    [item] = result.items
    assert item.status == "retry"
    with session_scope(db_engine) as session:
        requeued = session.scalars(
            select(WorkItem).where(
                WorkItem.key.like(f"%~{item.change}"), WorkItem.state == WorkState.QUEUED
            )
        ).one()
    assert requeued.attempts == 0
    assert requeued.payload["outage_retries"] == 1
    assert requeued.not_before > now


def test_a_change_closed_before_its_turn_ends_quietly(
    gerrit, client, db_engine, settings, policy, now
):
    """A change abandoned after it was queued: no review, the item is done."""
    poll_once(client, db_engine, settings, policy, now)
    lifecycle.abandon(gerrit, 3, by="carol")
    results = drain(db_engine, client, policy, settings, now)
    [three] = [i for r in results for i in r.items if i.change == 3]
    assert three.outcome is not None and three.outcome.status is ReviewStatus.SKIPPED_CLOSED
    assert bot_reviews(gerrit, 3) == []
    with session_scope(db_engine) as session:
        states = set(session.scalars(select(WorkItem.state)).all())
    assert states == {WorkState.DONE}


def test_a_500_on_the_post_is_retried_without_a_duplicate(
    gerrit, client, db_engine, settings, policy, now
):
    """The review POST answered 500 (not applied): the retry posts it once, no more."""
    gerrit.fail_next(1, 500, method="POST", path=r"/review$")
    poll_once(client, db_engine, settings, policy, now)
    first = drain(db_engine, client, policy, settings, now)
    assert any(r.gerrit_down for r in first)
    for step in range(1, 6):
        later = now + dt.timedelta(minutes=step)
        drain(db_engine, client, policy, settings, later)
    for number in SPEC_CHANGES:
        assert len(bot_reviews(gerrit, number)) == 1, number
