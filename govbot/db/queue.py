"""The work queue in the database: shared by every govbot process, lost by none.

Intake (poll, webhook) only enqueues; workers claim, do the work, and complete or fail.

* **Collapse.** ``enqueue`` adds nothing when the same (kind, key) is already queued, so
  a burst of events for one change yields one item. An item that is *claimed* (being
  worked on) does not absorb a new event: the worker may have read the change before
  the event happened, so one more item is queued and runs after the claimed one ends.
* **One worker per key.** A queued item is not claimable while another item with its
  (kind, key) is claimed; two partial unique indexes back this up in the database.
* **Leases.** A claim lasts until ``lease_until``. An item whose lease ran out (its
  worker crashed or hung) is claimed again by the next worker, up to ``max_attempts``
  claims in all. ``complete`` and ``fail`` only act for the claim they were given
  (worker id and attempt), so a worker that lost its lease cannot finish someone
  else's claim.
* **Claiming** is one statement: ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING``.
  On PostgreSQL the inner SELECT takes ``FOR UPDATE SKIP LOCKED``, so concurrent workers
  pass over each other's rows instead of waiting or taking the same ones; SQLite runs
  one writer at a time, so the statement is atomic there as it stands.

Callers commit right after ``claim`` (use :func:`govbot.db.session_scope` per step):
the claim must be visible to other workers while the work runs, outside any
transaction. Every function takes ``now``, so tests move the clock instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from sqlalchemy import and_, case, delete, exists, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from govbot.db.models import QUEUED_ONLY, WorkItem, WorkState, utcnow
from govbot.db.session import insert_ignore

DEFAULT_LEASE = dt.timedelta(minutes=5)
DEFAULT_MAX_ATTEMPTS = 5
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=1)

QUEUED = WorkState.QUEUED
CLAIMED = WorkState.CLAIMED
DONE = WorkState.DONE
FAILED = WorkState.FAILED

_T = TypeVar("_T")


def new_worker_id() -> str:
    """A name for this process that no other process shares: host, pid and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def backoff(attempts: int) -> dt.timedelta:
    """Delay before retry number ``attempts``: 30 s, 1 min, 2 min ... at most an hour."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def enqueue(
    session: Session,
    kind: str,
    key: str,
    payload: Mapping[str, Any] | None = None,
    not_before: dt.datetime | None = None,
    *,
    now: dt.datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> bool:
    """Queue work (kind, key) unless it is already queued; True if a new item was added.

    Safe to call from any number of processes at once: exactly one item results. When
    the item was already queued its payload is kept, and a ``not_before`` earlier than
    the queued one's brings it forward (an event makes a delayed retry due now).
    """
    now = now or utcnow()
    due = not_before or now
    inserted = insert_ignore(
        session,
        WorkItem,
        {
            "kind": kind,
            "key": key,
            "payload": dict(payload or {}),
            "state": QUEUED,
            "attempts": 0,
            "max_attempts": max_attempts,
            "not_before": due,
            "created_at": now,
            "updated_at": now,
        },
        conflict=("kind", "key"),
        where=text(QUEUED_ONLY),
    )
    if not inserted:
        session.execute(
            update(WorkItem)
            .where(
                WorkItem.kind == kind,
                WorkItem.key == key,
                WorkItem.state == QUEUED,
                WorkItem.not_before > due,
            )
            .values(not_before=due, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return inserted


def claim(
    session: Session,
    worker_id: str,
    now: dt.datetime,
    lease: dt.timedelta = DEFAULT_LEASE,
    limit: int = 1,
    *,
    kinds: Collection[str] | None = None,
) -> list[WorkItem]:
    """Claim up to ``limit`` due items for ``worker_id`` until ``now + lease``.

    Due means queued with ``not_before <= now`` and no claimed item of the same
    (kind, key), or claimed with an expired lease. Items whose lease expired on their
    last allowed attempt are marked failed instead. Oldest due first. The items come
    back detached from the session: a record of this claim, to pass to ``complete``,
    ``fail`` or ``extend_lease``.
    """
    if lease <= dt.timedelta(0) or limit < 1:
        raise ValueError("claim needs a positive lease and limit")
    _fail_exhausted_leases(session, now, kinds)
    return _with_conflict_retry(
        session, lambda: _claim_once(session, worker_id, now, lease, limit, kinds)
    )


def _claim_once(
    session: Session,
    worker_id: str,
    now: dt.datetime,
    lease: dt.timedelta,
    limit: int,
    kinds: Collection[str] | None,
) -> list[WorkItem]:
    # Aliases: the candidate query must not correlate with the UPDATE's own table.
    cand, sibling = aliased(WorkItem), aliased(WorkItem)
    key_busy = exists().where(
        sibling.kind == cand.kind, sibling.key == cand.key, sibling.state == CLAIMED
    )
    candidates = (
        select(cand.id)
        .where(
            or_(
                and_(cand.state == QUEUED, cand.not_before <= now, ~key_busy),
                and_(
                    cand.state == CLAIMED,
                    cand.lease_until < now,
                    cand.attempts < cand.max_attempts,
                ),
            )
        )
        .order_by(cand.not_before, cand.id)
        .limit(limit)
    )
    if kinds is not None:
        candidates = candidates.where(cand.kind.in_(list(kinds)))
    candidates = _skip_locked(session, candidates)
    stmt = (
        update(WorkItem)
        .where(WorkItem.id.in_(candidates.scalar_subquery()))
        .values(
            state=CLAIMED,
            attempts=WorkItem.attempts + 1,
            claimed_by=worker_id,
            claimed_at=now,
            lease_until=now + lease,
            updated_at=now,
        )
        .returning(WorkItem)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    items = sorted(session.scalars(stmt), key=lambda item: (item.not_before, item.id))
    for item in items:
        # Detached, the item keeps the values of *this* claim (its fencing token) even
        # if the session later loads the row again.
        session.expunge(item)
    return items


def _fail_exhausted_leases(
    session: Session, now: dt.datetime, kinds: Collection[str] | None
) -> None:
    """Give up on items whose worker vanished on their last allowed attempt."""
    cand = aliased(WorkItem)
    exhausted = select(cand.id).where(
        cand.state == CLAIMED, cand.lease_until < now, cand.attempts >= cand.max_attempts
    )
    if kinds is not None:
        exhausted = exhausted.where(cand.kind.in_(list(kinds)))
    session.execute(
        update(WorkItem)
        .where(WorkItem.id.in_(_skip_locked(session, exhausted).scalar_subquery()))
        .values(
            state=FAILED,
            lease_until=None,
            updated_at=now,
            last_error="lease expired on the last attempt (worker gone?)",
        )
        .execution_options(synchronize_session=False)
    )


def complete(session: Session, item: WorkItem, now: dt.datetime) -> bool:
    """Mark a claimed item done; False if this claim was lost (lease expired, reclaimed)."""
    result = session.execute(
        update(WorkItem)
        .where(*_same_claim(item))
        .values(state=DONE, lease_until=None, updated_at=now)
        .returning(WorkItem.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def fail(
    session: Session,
    item: WorkItem,
    now: dt.datetime,
    error: str,
    retry_in: dt.timedelta | None = None,
) -> WorkState | None:
    """Record a failed attempt: queue a retry after ``retry_in`` (default :func:`backoff`).

    The item fails for good once it has had ``max_attempts`` claims, or when a newer item
    with its (kind, key) is already queued (that one will do the same work). Returns the
    item's new state, or None if this claim was lost.
    """
    retry_at = now + (retry_in if retry_in is not None else backoff(item.attempts))
    sibling = aliased(WorkItem)
    superseded = exists().where(
        sibling.kind == WorkItem.kind, sibling.key == WorkItem.key, sibling.state == QUEUED
    )
    new_state = case(
        (WorkItem.attempts >= WorkItem.max_attempts, FAILED),
        (superseded, FAILED),
        else_=QUEUED,
    )

    def attempt() -> WorkState | None:
        row = session.execute(
            update(WorkItem)
            .where(*_same_claim(item))
            .values(
                state=new_state,
                not_before=retry_at,
                lease_until=None,
                last_error=error[:10_000],
                updated_at=now,
            )
            .returning(WorkItem.state)
            .execution_options(synchronize_session=False)
        ).first()
        return None if row is None else WorkState(row[0])

    return _with_conflict_retry(session, attempt)


def extend_lease(session: Session, item: WorkItem, now: dt.datetime, lease: dt.timedelta) -> bool:
    """Keep a long job's claim alive until ``now + lease``.

    False if the claim was lost or its lease already ran out (another worker may be
    about to take it): the job should then stop without completing.
    """
    result = session.execute(
        update(WorkItem)
        .where(*_same_claim(item), WorkItem.lease_until >= now)
        .values(lease_until=now + lease, updated_at=now)
        .returning(WorkItem.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def purge(session: Session, before: dt.datetime) -> int:
    """Delete finished (done or failed) items last touched before ``before``."""
    result = session.execute(
        delete(WorkItem)
        .where(WorkItem.state.in_([DONE, FAILED]), WorkItem.updated_at < before)
        .returning(WorkItem.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())


def _same_claim(item: WorkItem) -> tuple[Any, ...]:
    """The row, still claimed by the same worker in the same attempt (a fencing token)."""
    return (
        WorkItem.id == item.id,
        WorkItem.state == CLAIMED,
        WorkItem.claimed_by == item.claimed_by,
        WorkItem.attempts == item.attempts,
    )


def _skip_locked(session: Session, query: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def _with_conflict_retry(session: Session, operation: Callable[[], _T], tries: int = 3) -> _T:
    """Run one write, retrying if a concurrent transaction won a unique index race.

    Only PostgreSQL can race here (SQLite has one writer at a time); the SAVEPOINT keeps
    the surrounding transaction usable after the unique violation.
    """
    if session.get_bind().dialect.name != "postgresql":
        return operation()
    for attempt in range(tries):
        try:
            with session.begin_nested():
                return operation()
        except IntegrityError:
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")
