"""The worker: take "review change N" items off the queue and run the reviews on each.

Each change gets both passes of the review path, on one read of the change: the API
review (:data:`~govbot.services.review.API_REVIEW`, the OpenAPI specs) and the spec
review (:data:`~govbot.services.spec_review.SPEC_REVIEW`, design specs and blueprint
references). Each is idempotent on its own, so a retried item redoes only what is missing.

One item at a time is claimed, reviewed and then completed or failed, so a worker that
stops (Ctrl-C, a crash) leaves at most one claimed item behind, which the queue hands to
another worker when its lease runs out. Reviews are idempotent per (change, patch set,
policy), so running one again is always safe.

This is an edge (house style §8): every failure of one change is caught here, logged
with the change number, and recorded on its item; the other changes carry on.

* Gerrit refused the change for good (409: closed; 404: gone or invisible): the item
  is done, nothing to retry.
* Gerrit is unreachable or failing (5xx, timeouts): the item is put back with a growing
  delay, and this run stops claiming, because every other change would fail the same
  way. An outage does not use up the item's attempts: however long Gerrit is down, the
  change is reviewed once it is back.
* Another process is posting the same review right now, or an earlier POST of it may
  still land on Gerrit: looked at again when that reservation ends (at most a minute).
* A change of a project (or branch) that is not watched (GOVBOT_GERRIT_PROJECTS): the
  item is dropped with a log line before anything is reviewed; webhook change numbers
  are not trusted to belong to a watched project.

While a change is reviewed, a heartbeat thread renews the item's claim and the review
reservations the worker holds every third of the lease, so a review that takes longer
than the lease is never taken over by a second worker.
* The bot's credentials were refused: retried with back-off (an operator has to fix
  them), and this run stops.
* Anything else (a bug, bad data): retried with back-off up to the item's attempts,
  then left failed with its error for the dashboard.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from govbot.db.leases import heartbeat
from govbot.db.models import WorkItem, utcnow
from govbot.db.queue import DEFAULT_LEASE, claim, complete, enqueue, extend_lease, fail
from govbot.db.session import session_scope
from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.client import GerritClient
from govbot.gerrit.errors import ChangeClosed, GerritAuthError, GerritNotFound, GerritUnavailable
from govbot.gerrit.mirror import GitMirror, mirror_from_settings
from govbot.policy import Policy
from govbot.services.intake import REVIEW_KIND, change_number, change_ref
from govbot.services.review import (
    API_REVIEW,
    Held,
    PatchSetReads,
    ReviewInProgress,
    ReviewOutcome,
    ReviewPass,
    read_change,
    run_review,
)
from govbot.services.spec_review import SPEC_REVIEW
from govbot.settings import Settings

LOG = logging.getLogger(__name__)

OUTAGE_RETRY_BASE = dt.timedelta(seconds=15)
OUTAGE_RETRY_CAP = dt.timedelta(minutes=10)
DEFAULT_LIMIT = 20
# Another process reserved the review: its lease (5 min) ends it at worst.
BUSY_RETRY = dt.timedelta(minutes=1)
# Looked at again this long after a known reservation ends (clocks of processes differ).
BUSY_MARGIN = dt.timedelta(seconds=1)

Clock = Callable[[], dt.datetime]
# The reviews every change gets, in this order.
PASSES: tuple[ReviewPass, ...] = (API_REVIEW, SPEC_REVIEW)


@dataclass(frozen=True)
class ItemResult:
    """What happened to one claimed item."""

    change: int | None
    status: str  # reviewed | closed | gone | retry | failed | lost | unwatched
    detail: str = ""
    outcome: ReviewOutcome | None = None  # the API review's
    outcomes: tuple[ReviewOutcome, ...] = ()  # every pass's, in PASSES order


@dataclass(frozen=True)
class WorkerResult:
    """What one :func:`run_worker_once` did."""

    items: tuple[ItemResult, ...] = field(default_factory=tuple)
    gerrit_down: bool = False  # stopped early: Gerrit unavailable or credentials refused

    @property
    def processed(self) -> int:
        return len(self.items)

    def by_status(self, status: str) -> tuple[ItemResult, ...]:
        return tuple(i for i in self.items if i.status == status)


def outage_delay(retries: int) -> dt.timedelta:
    """Wait before re-checking after the ``retries``-th outage: 15 s, 30 s ... at most 10 min."""
    return min(OUTAGE_RETRY_BASE * 2 ** max(retries - 1, 0), OUTAGE_RETRY_CAP)


def run_worker_once(
    engine: Engine,
    client: GerritClient,
    policy: Policy,
    settings: Settings,
    now: dt.datetime | Clock,
    worker_id: str,
    limit: int = DEFAULT_LIMIT,
    *,
    lease: dt.timedelta = DEFAULT_LEASE,
    dry_run: bool = False,
    mirror: GitMirror | None = None,
) -> WorkerResult:
    """Claim and review up to ``limit`` due items, one at a time.

    ``now`` is a fixed time (tests move it) or a clock called at each step (the service).
    ``mirror``: the git mirror (default: the one the settings configure, if any).
    """
    if mirror is None:
        mirror = mirror_from_settings(settings)
    clock: Clock = now if callable(now) else (lambda: now)  # type: ignore[assignment,return-value]
    results: list[ItemResult] = []
    for _ in range(limit):
        with session_scope(engine) as session:
            claimed = claim(session, worker_id, clock(), lease, 1, kinds=(REVIEW_KIND,))
        if not claimed:
            break
        result, stop = _work_on(
            claimed[0],
            engine,
            client,
            policy,
            settings,
            clock,
            dry_run=dry_run,
            mirror=mirror,
            lease=lease,
        )
        results.append(result)
        if stop:
            return WorkerResult(tuple(results), gerrit_down=True)
    return WorkerResult(tuple(results))


def _work_on(
    item: WorkItem,
    engine: Engine,
    client: GerritClient,
    policy: Policy,
    settings: Settings,
    clock: Clock,
    *,
    dry_run: bool,
    mirror: GitMirror | None = None,
    lease: dt.timedelta = DEFAULT_LEASE,
) -> tuple[ItemResult, bool]:
    """Review one claimed item (every pass); (its result, whether to stop this run)."""
    try:
        number = change_number(item.key)
        ref = change_ref(item.key)  # project~number: a bare number can be ambiguous
    except ValueError as exc:
        _fail(engine, item, clock(), str(exc))
        return ItemResult(None, "failed", str(exc)), False
    project = ref.rpartition("~")[0] if isinstance(ref, str) else None
    if project is not None and not _watched(settings, project, None):
        return _unwatched(engine, item, clock, number, project), False
    try:
        outcomes = _review_item(
            item,
            ref,
            engine,
            client,
            policy,
            settings,
            clock,
            dry_run=dry_run,
            mirror=mirror,
            lease=lease,
        )
        if not outcomes:
            return _unwatched(engine, item, clock, number, project or "?"), False
        outcome = outcomes[0]
    except Exception as exc:  # the edge: one change's failure never stops the others
        return _failed(engine, item, clock, number, exc)
    if not _complete(engine, item, clock()):
        LOG.warning("change=%s: reviewed, but the claim expired meanwhile", number)
        return ItemResult(number, "lost", "claim expired", outcome), False
    LOG.debug(
        "change=%s %s%s",
        number,
        getattr(outcome, "status", "reviewed"),
        f": {outcome.reason}" if getattr(outcome, "reason", None) else "",
    )
    detail = ", ".join(f"{o.purpose}: {o.status}" for o in outcomes)
    return ItemResult(number, "reviewed", detail, outcome, tuple(outcomes)), False


def _review_item(
    item: WorkItem,
    ref: int | str,
    engine: Engine,
    client: GerritClient,
    policy: Policy,
    settings: Settings,
    clock: Clock,
    *,
    dry_run: bool,
    mirror: GitMirror | None,
    lease: dt.timedelta,
) -> list[ReviewOutcome]:
    """Every pass on the item's change, the claim and the reservations renewed meanwhile."""
    number = change_number(item.key)
    held = Held()

    def renew() -> None:
        now = clock()
        with session_scope(engine) as session:
            if not extend_lease(session, item, now, lease):
                LOG.warning("change=%s: the claim ran out while reviewing", number)
        lost = held.renew_all(engine, now)
        if lost:
            LOG.warning("change=%s: review reservation(s) lost: %s", number, lost)

    reconcile = settings.gerrit_review_reconcile
    with heartbeat(renew, lease / 3, name=f"change-{number}"):
        return review_all(
            ref,
            client=client,
            engine=engine,
            policy=policy,
            now=clock(),
            dry_run=dry_run,
            docs_base=settings.docs_base,
            mirror=mirror,
            held=held,
            lease=lease,
            reconcile_after=dt.timedelta(seconds=reconcile) if reconcile else None,
            watched=lambda info: _watched(settings, info.project, info.branch),
        )


def _failed(
    engine: Engine, item: WorkItem, clock: Clock, number: int, exc: Exception
) -> tuple[ItemResult, bool]:
    """What a review that raised leaves of the item: done, retried later, or failed;
    and whether to stop this run (Gerrit down, or the bot's credentials refused)."""
    if isinstance(exc, ChangeClosed):
        LOG.info("change=%s closed while reviewing; nothing to do (%s)", number, exc)
        _complete(engine, item, clock())
        return ItemResult(number, "closed", str(exc)), False
    if isinstance(exc, GerritNotFound):
        LOG.info("change=%s not found or not visible; nothing to do (%s)", number, exc)
        _complete(engine, item, clock())
        return ItemResult(number, "gone", str(exc)), False
    if isinstance(exc, GerritUnavailable):
        retries = int(item.payload.get("outage_retries", 0)) + 1
        delay = outage_delay(retries)
        LOG.warning(
            "change=%s: Gerrit unavailable, re-check in %ds: %s",
            number,
            delay.total_seconds(),
            exc,
        )
        _requeue(engine, item, clock(), delay, retries, str(exc), counter="outage_retries")
        return ItemResult(number, "retry", str(exc)), True
    if isinstance(exc, ReviewInProgress):
        # Another process is posting this very review: look again once its
        # reservation has either been recorded or run out.
        retries = int(item.payload.get("busy_retries", 0)) + 1
        LOG.info("change=%s: %s; re-check later", number, exc)
        now = clock()
        wait = BUSY_RETRY if exc.until is None else exc.until - now + BUSY_MARGIN
        wait = min(max(wait, BUSY_MARGIN), BUSY_RETRY)
        _requeue(engine, item, now, wait, retries, str(exc), counter="busy_retries")
        return ItemResult(number, "retry", str(exc)), False
    if isinstance(exc, GerritAuthError):
        LOG.error("change=%s: %s", number, exc)
        state = _fail(engine, item, clock(), str(exc))
        return ItemResult(number, "retry" if state == "queued" else "failed", str(exc)), True
    LOG.exception("change=%s: review failed (attempt %d)", number, item.attempts)
    state = _fail(engine, item, clock(), f"{type(exc).__name__}: {exc}")
    status = "retry" if state == "queued" else "failed"
    return ItemResult(number, status, f"{type(exc).__name__}: {exc}"), False


def review_all(
    change: int | str,
    *,
    client: GerritClient,
    engine: Engine | None,
    policy: Policy,
    now: dt.datetime,
    dry_run: bool = False,
    docs_base: str,
    mirror: GitMirror | None = None,
    revision: int | str | None = None,
    passes: tuple[ReviewPass, ...] = PASSES,
    held: Held | None = None,
    lease: dt.timedelta = DEFAULT_LEASE,
    reconcile_after: dt.timedelta | None = None,
    watched: Callable[[ChangeInfo], bool] | None = None,
) -> list[ReviewOutcome]:
    """Every pass on ``change``, on one read of it: the outcomes in ``passes`` order.

    ``watched``: whether the change (as read) is one govbot watches; if not, nothing is
    reviewed and the list is empty.
    """
    info = read_change(client, change, revision)
    if watched is not None and not watched(info):
        return []
    reads = PatchSetReads()  # the passes share one read and one parse of the specs
    return [
        run_review(
            change,
            review_pass,
            client=client,
            engine_or_session=engine,
            policy=policy,
            now=now,
            dry_run=dry_run,
            docs_base=docs_base,
            revision=revision,
            mirror=mirror,
            info=info,
            reads=reads,
            held=held,
            lease=lease,
            reconcile_after=reconcile_after,
        )
        for review_pass in passes
    ]


def _watched(settings: Settings, project: str, branch: str | None) -> bool:
    """Whether ``project`` (on ``branch``; None: any) is in GOVBOT_GERRIT_PROJECTS.

    Without a list (a one-off run; ``govbot serve`` refuses to start without one) every
    project is watched.
    """
    if not settings.gerrit_projects:
        return True
    branch = branch.removeprefix("refs/heads/") if branch else None
    for name, only in settings.watched:
        if name == project and (only is None or branch is None or only == branch):
            return True
    return False


def _unwatched(
    engine: Engine, item: WorkItem, clock: Clock, number: int, project: str
) -> ItemResult:
    LOG.warning(
        "change=%s: project %s (or its branch) is not watched (GOVBOT_GERRIT_PROJECTS); "
        "dropped unreviewed",
        number,
        project,
    )
    _complete(engine, item, clock())
    return ItemResult(number, "unwatched", f"project {project} is not watched")


def _complete(engine: Engine, item: WorkItem, now: dt.datetime) -> bool:
    with session_scope(engine) as session:
        return complete(session, item, now)


def _fail(engine: Engine, item: WorkItem, now: dt.datetime, error: str) -> str | None:
    """Record a failed attempt; the item's new state (queued: it will be retried)."""
    with session_scope(engine) as session:
        state = fail(session, item, now, error)
    return None if state is None else str(state)


def _requeue(
    engine: Engine,
    item: WorkItem,
    now: dt.datetime,
    delay: dt.timedelta,
    retries: int,
    error: str,
    *,
    counter: str,
) -> None:
    """Hand the work to a fresh item due after ``delay``: waiting spends no attempts."""
    payload: dict[str, Any] = {**item.payload, counter: retries, "last_error": error[:500]}
    with session_scope(engine) as session:
        if complete(session, item, now):
            enqueue(session, item.kind, item.key, payload, not_before=now + delay, now=now)


def default_clock() -> dt.datetime:
    return utcnow()


__all__ = [
    "PASSES",
    "ItemResult",
    "WorkerResult",
    "default_clock",
    "outage_delay",
    "review_all",
    "run_worker_once",
]
