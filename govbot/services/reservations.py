"""Review reservations: at most one process posts a given review, even when Gerrit is slow.

A reservation is the :class:`~govbot.db.models.PostedReview` row inserted before the
POST (``posted_at`` NULL until Gerrit accepted it). Its lease runs from ``reserved_at``
for ``lease``; another process takes it over only once the lease ran out (one UPDATE,
so one process wins), and then looks on Gerrit for the review before posting.

Three things keep a reservation honest when Gerrit is slow or answers nothing:

* **Heartbeat.** The holder remembers the ``reserved_at`` it wrote (its token, in a
  :class:`Held`) and renews the lease while the review runs (``renew``: an UPDATE that
  matches only its own token), so a review that takes longer than the lease is not taken
  over (the worker renews from a heartbeat thread).
* **Fence.** Right before the POST the holder renews once more; if its token no longer
  matches, another process took the review over, and this one stops
  (:class:`ReviewInProgress`).
* **Uncertain POST.** A POST that may have been applied (a timeout, a dropped
  connection or a 5xx after the body was sent:
  :attr:`~govbot.gerrit.errors.GerritUnavailable.maybe_applied`) keeps its reservation
  until ``failed_at + reconcile``, several client timeouts later (:func:`keep_uncertain`).
  Gerrit may still apply it meanwhile (the probe saw it 40 s after a 10 s timeout); the
  attempt after that delay takes the reservation over and finds the review by its tag
  and marker on the change, so it is recorded, not posted twice. Any other failure gives
  the reservation up at once (:func:`release`): Gerrit applied nothing.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from govbot.db.models import Evaluation, PostedReview
from govbot.db.session import insert_ignore, session_scope
from govbot.errors import GovbotError

# A reservation older than this whose review was never recorded belongs to a process
# that died: another may take it over (after looking on Gerrit first). The same as the
# work queue's lease, so a retried work item finds the reservation free.
RESERVATION_LEASE = dt.timedelta(minutes=5)
# After a POST whose outcome is unknown, look on Gerrit again only after this many
# client timeouts (GOVBOT_GERRIT_REVIEW_RECONCILE overrides it).
RECONCILE_TIMEOUTS = 4
KEY_COLUMNS = ("change_number", "patch_set_number", "policy_digest", "purpose")


class ReviewInProgress(GovbotError):
    """Another process reserved this review (or an uncertain POST of it awaits
    reconciliation): try again later, not before ``until`` if it is known."""

    def __init__(self, message: str, *, until: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.until = until


@dataclass(frozen=True)
class ReviewKey:
    """The identity of a review: at most one is posted per key."""

    change: int
    patch_set: int
    digest: str
    purpose: str

    def where(self, model: type[PostedReview] | type[Evaluation]) -> Any:
        return (
            (model.change_number == self.change)
            & (model.patch_set_number == self.patch_set)
            & (model.policy_digest == self.digest)
            & (model.purpose == self.purpose)
        )


class Held:
    """The reservations this process holds, with their tokens: shared by the review and
    the heartbeat that renews them (hence the lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[ReviewKey, dt.datetime] = {}
        # Held across a read of a token and the UPDATE that checks it: the heartbeat and
        # the review must not both compare-and-set the same token.
        self.guard = threading.RLock()

    def add(self, key: ReviewKey, token: dt.datetime) -> None:
        with self._lock:
            self._tokens[key] = token

    def drop(self, key: ReviewKey) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def items(self) -> Iterator[tuple[ReviewKey, dt.datetime]]:
        with self._lock:
            return iter(list(self._tokens.items()))

    def renew_all(self, db: Engine | Session, now: dt.datetime) -> list[ReviewKey]:
        """Renew every held reservation at ``now``; the keys that were lost."""
        lost = []
        for key, _token in self.items():
            if not renew(db, key, self, now):
                lost.append(key)
        return lost


def _session(db: Engine | Session) -> Any:
    if isinstance(db, Session):
        return _Borrowed(db)
    return session_scope(db)


class _Borrowed:
    """The caller's session as a unit of work: committed on success."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.session.commit()
        else:
            self.session.rollback()


def reserve(
    db: Engine | Session,
    key: ReviewKey,
    tag: str,
    now: dt.datetime,
    held: Held,
    *,
    lease: dt.timedelta = RESERVATION_LEASE,
) -> bool:
    """Reserve the review for this process; True when an earlier reservation was taken over.

    Raises :class:`ReviewInProgress` while another reservation's lease runs.
    """
    with _session(db) as session:
        values = {
            "change_number": key.change,
            "patch_set_number": key.patch_set,
            "policy_digest": key.digest,
            "purpose": key.purpose,
            "tag": tag,
            "reserved_at": now,
        }
        if insert_ignore(session, PostedReview, values, conflict=list(KEY_COLUMNS)):
            held.add(key, now)
            return False
        taken = session.execute(
            update(PostedReview)
            .where(
                key.where(PostedReview),
                PostedReview.posted_at.is_(None),
                PostedReview.reserved_at <= now - lease,
            )
            .values(reserved_at=now)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            held.add(key, now)
            return True
        since = session.scalar(select(PostedReview.reserved_at).where(key.where(PostedReview)))
    until = None if since is None else _aware(since) + lease
    raise ReviewInProgress(
        f"change {key.change} patch set {key.patch_set}: another govbot process is posting "
        "this review, or an uncertain post of it awaits reconciliation; try again later",
        until=until,
    )


def renew(db: Engine | Session, key: ReviewKey, held: Held, now: dt.datetime) -> bool:
    """Extend this process's reservation of ``key`` to ``now + lease``; False (and
    forgotten) if it is no longer ours: taken over, recorded, or released."""
    with held.guard:
        return _renew(db, key, held, now)


def _renew(db: Engine | Session, key: ReviewKey, held: Held, now: dt.datetime) -> bool:
    token = dict(held.items()).get(key)
    if token is None:
        return False
    with _session(db) as session:
        renewed = session.execute(
            update(PostedReview)
            .where(
                key.where(PostedReview),
                PostedReview.posted_at.is_(None),
                PostedReview.reserved_at == token,
            )
            .values(reserved_at=now)
        )
        ok = renewed.rowcount == 1  # type: ignore[attr-defined]
    if ok:
        held.add(key, now)
    else:
        held.drop(key)
    return ok


def fence(db: Engine | Session, key: ReviewKey, held: Held, now: dt.datetime) -> None:
    """Confirm, right before the POST, that the reservation is still this process's."""
    if not renew(db, key, held, now):
        raise ReviewInProgress(
            f"change {key.change} patch set {key.patch_set}: the reservation was taken over "
            "by another govbot process while this one was reviewing; it posts the review"
        )


def keep_uncertain(
    db: Engine | Session,
    key: ReviewKey,
    held: Held,
    until: dt.datetime,
    *,
    lease: dt.timedelta = RESERVATION_LEASE,
) -> None:
    """Keep the reservation of a POST with an unknown outcome until ``until``: its lease
    then ends, and the attempt that takes it over looks on Gerrit first."""
    with held.guard:
        _keep_uncertain(db, key, held, until - lease)


def _keep_uncertain(db: Engine | Session, key: ReviewKey, held: Held, since: dt.datetime) -> None:
    token = dict(held.items()).get(key)
    held.drop(key)
    if token is None:
        return  # taken over meanwhile: the new holder settles it
    with _session(db) as session:
        session.execute(
            update(PostedReview)
            .where(
                key.where(PostedReview),
                PostedReview.posted_at.is_(None),
                PostedReview.reserved_at == token,
            )
            .values(reserved_at=since)
        )


def release(db: Engine | Session | None, key: ReviewKey, held: Held) -> None:
    """Give up an unposted reservation, so the next attempt need not wait for its lease.

    Only for failures after which Gerrit applied nothing (a refusal, a closed change, an
    error before the POST): the next attempt still looks on Gerrit first.
    """
    with held.guard:
        _release(db, key, held)


def _release(db: Engine | Session | None, key: ReviewKey, held: Held) -> None:
    token = dict(held.items()).get(key)
    held.drop(key)
    if db is None or token is None:
        return  # not ours (any more): another process holds it now
    with _session(db) as session:
        session.execute(
            delete(PostedReview).where(
                key.where(PostedReview),
                PostedReview.posted_at.is_(None),
                PostedReview.reserved_at == token,
            )
        )


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every time govbot writes is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


__all__ = [
    "KEY_COLUMNS",
    "RECONCILE_TIMEOUTS",
    "RESERVATION_LEASE",
    "Held",
    "ReviewInProgress",
    "ReviewKey",
    "fence",
    "keep_uncertain",
    "release",
    "renew",
    "reserve",
]
