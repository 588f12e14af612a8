"""The work queue's rules, one process, with a clock the tests move."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govbot.db.models import WorkItem, WorkState
from govbot.db.queue import backoff, claim, complete, enqueue, extend_lease, fail, purge

MINUTE = dt.timedelta(minutes=1)


def items(session: Session) -> list[WorkItem]:
    return list(
        session.scalars(
            select(WorkItem).order_by(WorkItem.id).execution_options(populate_existing=True)
        )
    )


def test_a_burst_of_events_for_one_change_queues_one_item(
    db_session: Session, now: dt.datetime
) -> None:
    """Enqueueing the same key again while it is queued adds nothing and keeps the payload."""
    results = [
        enqueue(db_session, "recheck-change", "change:1234", {"event": n}, now=now)
        for n in range(100)
    ]
    assert results == [True] + [False] * 99
    (item,) = items(db_session)
    assert (item.kind, item.key, item.payload, item.state) == (
        "recheck-change",
        "change:1234",
        {"event": 0},
        WorkState.QUEUED,
    )
    assert item.not_before == now
    assert item.created_at.tzinfo is dt.UTC


def test_the_same_key_of_another_kind_is_separate_work(
    db_session: Session, now: dt.datetime
) -> None:
    assert enqueue(db_session, "recheck-change", "change:1", now=now)
    assert enqueue(db_session, "escalate", "change:1", now=now)
    assert len(items(db_session)) == 2


def test_an_event_makes_a_delayed_item_due_sooner_never_later(
    db_session: Session, now: dt.datetime
) -> None:
    enqueue(db_session, "recheck-change", "change:1", not_before=now + 10 * MINUTE, now=now)
    enqueue(db_session, "recheck-change", "change:1", not_before=now + 20 * MINUTE, now=now)
    assert items(db_session)[0].not_before == now + 10 * MINUTE
    enqueue(db_session, "recheck-change", "change:1", now=now)
    assert items(db_session)[0].not_before == now


def test_claim_takes_due_items_oldest_first_up_to_the_limit(
    db_session: Session, now: dt.datetime
) -> None:
    enqueue(db_session, "k", "later", not_before=now + MINUTE, now=now)
    enqueue(db_session, "k", "second", not_before=now - MINUTE, now=now)
    enqueue(db_session, "k", "first", not_before=now - 2 * MINUTE, now=now)
    enqueue(db_session, "k", "third", now=now)
    claimed = claim(db_session, "w1", now, lease=5 * MINUTE, limit=10)
    assert [item.key for item in claimed] == ["first", "second", "third"]
    for item in claimed:
        assert item.state is WorkState.CLAIMED
        assert (item.claimed_by, item.claimed_at, item.lease_until) == ("w1", now, now + 5 * MINUTE)
        assert item.attempts == 1
    assert claim(db_session, "w2", now) == []
    assert [item.key for item in claim(db_session, "w2", now + MINUTE)] == ["later"]


def test_claim_can_be_limited_to_some_kinds(db_session: Session, now: dt.datetime) -> None:
    enqueue(db_session, "recheck-change", "change:1", now=now)
    enqueue(db_session, "escalate", "change:1", now=now)
    (item,) = claim(db_session, "w", now, limit=5, kinds=["escalate"])
    assert item.kind == "escalate"


def test_an_event_during_work_queues_one_more_item_run_after_the_first(
    db_session: Session, now: dt.datetime
) -> None:
    """A claimed item does not absorb new events (the worker may have read the change
    before them), but the new item waits until the first one is finished."""
    enqueue(db_session, "recheck-change", "change:1", now=now)
    (first,) = claim(db_session, "w1", now)
    assert enqueue(db_session, "recheck-change", "change:1", {"new": "patch set"}, now=now)
    assert not enqueue(db_session, "recheck-change", "change:1", now=now)
    assert claim(db_session, "w2", now) == []  # one worker per key at a time
    assert complete(db_session, first, now)
    (second,) = claim(db_session, "w2", now)
    assert second.payload == {"new": "patch set"}
    assert second.id != first.id


def test_complete_marks_done_only_for_the_current_claim(
    db_session: Session, now: dt.datetime
) -> None:
    enqueue(db_session, "k", "a", now=now)
    (item,) = claim(db_session, "w1", now)
    assert complete(db_session, item, now)
    assert items(db_session)[0].state is WorkState.DONE
    assert not complete(db_session, item, now)  # twice is refused


def test_an_expired_lease_is_claimed_again_and_the_old_holder_is_fenced_off(
    db_session: Session, now: dt.datetime
) -> None:
    """A crashed or hung worker's item is retried after its lease ends; if the old
    worker wakes up, its complete() and fail() no longer count."""
    enqueue(db_session, "k", "a", now=now)
    (stale,) = claim(db_session, "w1", now, lease=MINUTE)
    assert claim(db_session, "w2", now + MINUTE) == []  # not yet: lease_until is inclusive
    (fresh,) = claim(db_session, "w2", now + MINUTE + dt.timedelta(seconds=1), lease=MINUTE)
    assert fresh.id == stale.id
    assert (fresh.claimed_by, fresh.attempts) == ("w2", 2)
    assert not complete(db_session, stale, now + 2 * MINUTE)
    assert fail(db_session, stale, now + 2 * MINUTE, "late") is None
    assert not extend_lease(db_session, stale, now + MINUTE, MINUTE)
    assert complete(db_session, fresh, now + 2 * MINUTE)


def test_a_lease_can_be_extended_while_it_runs(db_session: Session, now: dt.datetime) -> None:
    enqueue(db_session, "k", "a", now=now)
    (item,) = claim(db_session, "w1", now, lease=MINUTE)
    assert extend_lease(db_session, item, now + dt.timedelta(seconds=50), 10 * MINUTE)
    assert claim(db_session, "w2", now + 5 * MINUTE) == []
    assert not extend_lease(db_session, item, now + 20 * MINUTE, MINUTE)  # too late


def test_fail_retries_with_backoff_then_gives_up(db_session: Session, now: dt.datetime) -> None:
    enqueue(db_session, "k", "a", now=now, max_attempts=3)
    clock = now
    for attempt in (1, 2):
        (item,) = claim(db_session, "w", clock)
        assert item.attempts == attempt
        assert fail(db_session, item, clock, f"Gerrit said 503 ({attempt})") is WorkState.QUEUED
        retry_at = items(db_session)[0].not_before
        assert retry_at == clock + backoff(attempt)
        assert claim(db_session, "w", retry_at - dt.timedelta(seconds=1)) == []
        clock = retry_at
    (item,) = claim(db_session, "w", clock)
    assert fail(db_session, item, clock, "Gerrit said 503 (3)") is WorkState.FAILED
    (dead,) = items(db_session)
    assert (dead.state, dead.attempts, dead.last_error) == (
        WorkState.FAILED,
        3,
        "Gerrit said 503 (3)",
    )
    assert claim(db_session, "w", clock + dt.timedelta(days=1)) == []


def test_fail_with_an_explicit_delay(db_session: Session, now: dt.datetime) -> None:
    enqueue(db_session, "k", "a", now=now)
    (item,) = claim(db_session, "w", now)
    fail(db_session, item, now, "rate limited", retry_in=dt.timedelta(seconds=5))
    assert items(db_session)[0].not_before == now + dt.timedelta(seconds=5)


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(30) == dt.timedelta(hours=1)


def test_a_failure_superseded_by_a_newer_queued_item_is_not_retried(
    db_session: Session, now: dt.datetime
) -> None:
    """The queued item does the same work; retrying the failed one too would double it."""
    enqueue(db_session, "k", "a", now=now)
    (item,) = claim(db_session, "w", now)
    enqueue(db_session, "k", "a", now=now)
    assert fail(db_session, item, now, "boom") is WorkState.FAILED
    assert [i.state for i in items(db_session)] == [WorkState.FAILED, WorkState.QUEUED]


def test_an_item_whose_worker_dies_on_every_attempt_ends_failed(
    db_session: Session, now: dt.datetime
) -> None:
    enqueue(db_session, "k", "poison", now=now, max_attempts=2)
    claim(db_session, "w1", now, lease=MINUTE)
    claim(db_session, "w2", now + 2 * MINUTE, lease=MINUTE)
    assert claim(db_session, "w3", now + 4 * MINUTE) == []
    (item,) = items(db_session)
    assert item.state is WorkState.FAILED
    assert item.attempts == 2
    assert "lease expired" in (item.last_error or "")


def test_purge_deletes_old_finished_items_only(db_session: Session, now: dt.datetime) -> None:
    for key in "abc":
        enqueue(db_session, "k", key, now=now)
    done, failed = claim(db_session, "w", now, limit=2)
    complete(db_session, done, now)
    fail(db_session, failed, now, "x", retry_in=MINUTE)  # back to queued: kept
    assert purge(db_session, now + dt.timedelta(seconds=1)) == 1
    assert {item.key for item in items(db_session)} == {"b", "c"}


def test_at_most_one_item_per_key_is_queued_or_claimed_in_the_database(
    db_session: Session, now: dt.datetime
) -> None:
    """The partial unique indexes hold even for code that bypasses enqueue()."""
    for state in (WorkState.QUEUED, WorkState.CLAIMED):
        with db_session.begin_nested():
            for _ in range(2):
                db_session.add(
                    WorkItem(
                        kind="k",
                        key=f"dup-{state}",
                        state=state,
                        not_before=now,
                        claimed_by="w",
                        lease_until=now,
                    )
                )
            with pytest.raises(IntegrityError):
                db_session.flush()
            db_session.rollback()
    # Finished items do not count: any number of done ones may share a key.
    for _ in range(3):
        db_session.add(WorkItem(kind="k", key="old", state=WorkState.DONE, not_before=now))
    db_session.flush()
    assert db_session.scalar(select(func.count()).select_from(WorkItem)) == 3


def test_claim_uses_skip_locked_on_postgresql(
    db_engine: Engine, db_session: Session, now: dt.datetime
) -> None:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(db_engine, "before_cursor_execute", record)
    try:
        claim(db_session, "w", now)
    finally:
        event.remove(db_engine, "before_cursor_execute", record)
    claims = [s for s in statements if "claimed_by" in s and s.lstrip().startswith("UPDATE")]
    assert claims
    skip_locked = all("FOR UPDATE SKIP LOCKED" in s for s in claims)
    assert skip_locked is (db_engine.dialect.name == "postgresql")
