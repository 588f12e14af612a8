"""Job leases: a scheduled job runs once across every govbot process sharing the database.

Each process runs the same APScheduler schedule; before running a job it takes the job's
lease (a row of ``job_leases``). Taking it is one atomic statement on SQLite and
PostgreSQL (``INSERT ... ON CONFLICT DO NOTHING``, then ``UPDATE ... WHERE lease_until <
now``), so of two processes that fire together exactly one runs. With ``slot`` (the
scheduled time the run is for) a slot runs once even when the second process only fires
after the first has finished. A process that dies holding the lease loses it at
``lease_until``.

A job that runs longer than its lease keeps it: :func:`run_leased` renews it from a
:func:`heartbeat` thread every third of the lease, so no second process starts it
meanwhile; a process that dies stops renewing, and its lease runs out as before.

Misfires: :func:`missed_slot` tells, at start-up, whether a slot passed while no process
was up, so the caller runs it once (coalesced: one run however many slots were missed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Engine, or_, select, update

from govbot.db.models import JobLease
from govbot.db.session import insert_ignore, session_scope

LOG = logging.getLogger(__name__)
T = TypeVar("T")


def acquire_lease(
    engine: Engine,
    name: str,
    owner: str,
    now: dt.datetime,
    ttl: dt.timedelta,
    *,
    slot: dt.datetime | None = None,
) -> bool:
    """Take the lease of job ``name`` for ``owner`` until ``now + ttl``; True if taken.

    Free when nobody holds it or the holder's lease ran out. Re-taking one's own lease
    extends it. With ``slot``, a lease whose recorded slot is already ``slot`` or later is
    not taken: that slot ran (or is running) elsewhere.
    """
    until = now + ttl
    with session_scope(engine) as session:
        if insert_ignore(
            session,
            JobLease,
            {"name": name, "owner": owner, "lease_until": until, "slot": slot},
            conflict=["name"],
        ):
            return True
        stmt = (
            update(JobLease)
            .where(JobLease.name == name)
            .where(or_(JobLease.lease_until <= now, JobLease.owner == owner))
            .values(owner=owner, lease_until=until)
        )
        if slot is not None:
            stmt = stmt.where(or_(JobLease.slot.is_(None), JobLease.slot < slot)).values(slot=slot)
        taken = session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]
    return taken


def release_lease(engine: Engine, name: str, owner: str, now: dt.datetime) -> None:
    """Give the lease back and record the run as finished at ``now``."""
    with session_scope(engine) as session:
        session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.owner == owner)
            .values(lease_until=now, last_run_at=now)
        )


def last_run(engine: Engine, name: str) -> dt.datetime | None:
    """When job ``name`` last finished (any process), or None."""
    with session_scope(engine) as session:
        return session.scalar(select(JobLease.last_run_at).where(JobLease.name == name))


def run_leased(
    engine: Engine,
    name: str,
    owner: str,
    func: Callable[[], T],
    *,
    now: Callable[[], dt.datetime],
    ttl: dt.timedelta = dt.timedelta(minutes=30),
    slot: dt.datetime | None = None,
) -> tuple[bool, T | None]:
    """Run ``func`` if this process gets the lease: (ran, result). The lease is released
    afterwards, also when ``func`` raises (the exception propagates)."""
    if not acquire_lease(engine, name, owner, now(), ttl, slot=slot):
        LOG.info("job=%s skipped: another process holds the lease or ran slot %s", name, slot)
        return False, None

    def renew() -> None:
        # Re-taking one's own lease extends it; False: another process has it now.
        if not acquire_lease(engine, name, owner, now(), ttl):
            LOG.warning("job=%s: lost its lease while running", name)

    try:
        with heartbeat(renew, ttl / 3, name=f"lease-{name}"):
            return True, func()
    finally:
        release_lease(engine, name, owner, now())


@contextlib.contextmanager
def heartbeat(renew: Callable[[], object], every: dt.timedelta, *, name: str) -> Iterator[None]:
    """Call ``renew`` every ``every`` from a daemon thread while the block runs.

    A failing renewal is logged and tried again at the next beat (the database may be
    back by then); it never stops the work in the block.
    """
    stop = threading.Event()
    seconds = max(every.total_seconds(), 0.01)

    def beat() -> None:
        while not stop.wait(seconds):
            try:
                renew()
            except Exception:  # the edge of the thread: log, keep beating
                LOG.exception("heartbeat %s: renewing failed", name)

    thread = threading.Thread(target=beat, name=f"heartbeat-{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=seconds + 5)  # a renewal stuck on the database is left behind


def missed_slot(
    engine: Engine, name: str, trigger: Any, now: dt.datetime, *, limit: int = 100_000
) -> dt.datetime | None:
    """The latest slot of ``trigger`` after the job's last run and not after ``now``.

    ``trigger`` is an APScheduler 3 trigger (``get_next_fire_time(previous, now)``). None
    when the job never ran (nothing to catch up) or no slot was missed. Run the job once
    for the returned slot: missed slots coalesce into that one run.
    """
    previous = last_run(engine, name)
    if previous is None:
        return None
    missed = None
    cursor = previous + dt.timedelta(seconds=1)
    for _ in range(limit):
        fire = trigger.get_next_fire_time(None, cursor)
        if fire is None or fire > now:
            break
        missed = fire
        cursor = fire + dt.timedelta(seconds=1)
    return missed


def latest_slot(
    trigger: Any, now: dt.datetime, *, lookback: dt.timedelta = dt.timedelta(days=31)
) -> dt.datetime | None:
    """The latest fire time of ``trigger`` not after ``now`` (within ``lookback``): the
    ``slot`` a scheduled run is for, the same in every process that fires it."""
    slot = None
    cursor = now - lookback
    for _ in range(100_000):
        fire = trigger.get_next_fire_time(None, cursor)
        if fire is None or fire > now:
            break
        slot = fire
        cursor = fire + dt.timedelta(seconds=1)
    return slot


__all__ = [
    "acquire_lease",
    "heartbeat",
    "last_run",
    "latest_slot",
    "missed_slot",
    "release_lease",
    "run_leased",
]
