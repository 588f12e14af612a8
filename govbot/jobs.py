"""The scheduler's wiring (APScheduler 3.x): which service runs when. No work happens here.

* ``poll``: :func:`govbot.services.intake.poll_once` every ``poll_interval`` (60 s), and
  once at start-up, so a restart catches up at once.
* ``work``: :func:`govbot.services.worker.run_worker_once` every ``worker_interval``
  (5 s), and at once when the webhook queued something (:meth:`Jobs.wake`); it drains
  the queue before it returns.
* ``stream``: with ``GOVBOT_GERRIT_SSH_HOST`` set, a
  :class:`govbot.services.stream.StreamListener` keeps ``gerrit stream-events`` open; an
  event it queues wakes the worker once the settle delay has passed, and every reconnect
  runs the poll at once (what the stream missed while down is reconciled).
* ``purge``: finished queue items older than a week are deleted, daily.
* ``escalate``: :func:`govbot.services.escalation.escalation_job` every
  ``escalate_interval`` (an hour), and once at start-up. Its fire times are aligned on
  the epoch, so every process fires for the same slot, and the ``escalate`` lease lets
  one of them run it.
  After each pass the review queue it assessed is recorded
  (:func:`govbot.services.index.record_queue`) for the dashboard's queue page.
* ``index``: :func:`govbot.services.index.index_job` every ``index_interval`` (ten
  minutes), and once at start-up: the changes merged since the last run (and, with a git
  mirror, the branch heads) are indexed for the dashboard's API health history.
  Epoch-aligned slots and the ``index`` lease: one process per slot.
* ``backfill``: :func:`govbot.services.backfill.backfill_job`, with a git mirror and
  ``backfill_depth`` above 0: started by the first index pass (so the heads are the
  dashboard's baseline first), then every ``index_interval`` until each watched
  branch's recent history is indexed (resumable; the ``backfill`` lease).
* ``digest``: :func:`govbot.services.digest.digest_job` on ``digest_schedule`` (a
  crontab line, UTC; Mondays 08:00), once per slot across processes (the ``digest``
  lease records the slot). A slot missed while no govbot was running runs once at
  start-up (:func:`govbot.db.leases.missed_slot`: several missed slots coalesce).

Every job has ``max_instances=1`` (a slow poll is never overlapped by the next one),
``coalesce=True`` (runs missed while the process was busy or asleep collapse into one)
and a misfire grace time. Each callback catches and logs its own failure, so one bad
run never stops the schedule (house style §8).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from govbot.db.leases import latest_slot, missed_slot
from govbot.db.models import utcnow
from govbot.db.queue import new_worker_id, purge
from govbot.db.session import session_scope
from govbot.gerrit.client import GerritClient
from govbot.gerrit.mirror import mirror_from_settings
from govbot.policy import Policy
from govbot.services.backfill import backfill_job
from govbot.services.digest import digest_job
from govbot.services.escalation import escalation_job
from govbot.services.index import index_job, record_queue
from govbot.services.intake import poll_once
from govbot.services.stream import StreamConfig, StreamListener
from govbot.services.worker import run_worker_once
from govbot.settings import Settings, cron_trigger

LOG = logging.getLogger(__name__)

PURGE_AFTER = dt.timedelta(days=7)
PURGE_EVERY = dt.timedelta(hours=24)
# A worker run claims this many items before it checks for a wake-up again.
WORK_BATCH = 20
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# How long a lease of the escalate and digest jobs lasts (a dead holder frees it then).
JOB_TTL = dt.timedelta(minutes=30)


class Jobs:
    """govbot's background jobs on one ``BackgroundScheduler``."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        client: GerritClient,
        policy: Policy,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        worker_id: str | None = None,
        client_factory: Callable[[], GerritClient] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.client = client
        self.policy = policy
        self.clock = clock
        self.worker_id = worker_id or settings.worker_id or new_worker_id()
        # The escalate and digest jobs get a client of their own (they close it).
        self.client_factory = client_factory or (lambda: GerritClient.from_settings(self.settings))
        self.mirror = mirror_from_settings(settings)
        self._woken = threading.Event()
        self._working = threading.Event()
        self._stopping = threading.Event()
        self.scheduler = BackgroundScheduler(
            timezone=dt.UTC,
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.stream: StreamListener | None = None
        config = StreamConfig.from_settings(settings)
        if config is not None:
            self.stream = StreamListener(
                config,
                engine,
                settings,
                bot_username=client.username or config.user,
                wake=self.wake_later,
                on_reconnect=self.poll_now,
            )

    def start(self, *, poll_now: bool = True) -> Jobs:
        """Add the jobs and start the scheduler thread."""
        now = dt.datetime.now(dt.UTC)
        self._schedule_poll(now, poll_now)
        self._schedule_work(now)
        self._schedule_purge()
        self._schedule_escalate(now)
        self._schedule_index(now)
        self._schedule_backfill()
        self._schedule_digest(now)
        self.scheduler.start()
        if self.stream is not None:
            self.stream.start()
        s = self.settings
        LOG.info(
            "jobs started: poll every %ss, worker every %ss, escalate every %ss, index every "
            "%ss, digest on '%s' UTC (worker id %s)",
            s.poll_interval,
            s.worker_interval,
            s.escalate_interval,
            s.index_interval,
            s.digest_schedule,
            self.worker_id,
        )
        return self

    # -- the schedule: one job each ---------------------------------------------------------

    def _schedule_poll(self, now: dt.datetime, poll_now: bool) -> None:
        every = self.settings.poll_interval
        self.scheduler.add_job(
            self.poll,
            "interval",
            seconds=every,
            id="poll",
            name="poll Gerrit",
            next_run_time=now if poll_now else now + dt.timedelta(seconds=every),
            misfire_grace_time=max(1, int(every)),
        )

    def _schedule_work(self, now: dt.datetime) -> None:
        every = self.settings.worker_interval
        self.scheduler.add_job(
            self.work,
            "interval",
            seconds=every,
            id="work",
            name="review queued changes",
            next_run_time=now,
            misfire_grace_time=max(1, int(every)),
        )

    def _schedule_purge(self) -> None:
        self.scheduler.add_job(
            self.purge,
            "interval",
            seconds=PURGE_EVERY.total_seconds(),
            id="purge",
            name="purge finished work items",
            misfire_grace_time=3600,
        )

    def _schedule_escalate(self, now: dt.datetime) -> None:
        every = self.settings.escalate_interval
        self.scheduler.add_job(
            self.escalate,
            "interval",
            seconds=every,
            start_date=EPOCH,  # the same fire times in every process
            id="escalate",
            name="escalate stale reviews",
            next_run_time=now,
            misfire_grace_time=max(1, int(every)),
        )

    def _schedule_index(self, now: dt.datetime) -> None:
        every = self.settings.index_interval
        self.scheduler.add_job(
            self.index,
            "interval",
            seconds=every,
            start_date=EPOCH,
            id="index",
            name="index merged specs",
            next_run_time=now,
            misfire_grace_time=max(1, int(every)),
        )

    def _schedule_backfill(self) -> None:
        """Only with a git mirror and ``backfill_depth`` above 0."""
        if self.mirror is None or self.settings.backfill_depth <= 0:
            return
        every = self.settings.index_interval
        # Paused until the first index pass has recorded the heads (index() starts it),
        # so the overview fills first; then it resumes every interval until done.
        self.scheduler.add_job(
            self.backfill,
            "interval",
            seconds=every,
            id="backfill",
            name="backfill the watched branches' history",
            next_run_time=None,
            misfire_grace_time=max(1, int(every)),
        )

    def _schedule_digest(self, now: dt.datetime) -> None:
        """On ``digest_schedule``; a slot missed while no govbot ran is run now, once."""
        trigger = cron_trigger(self.settings.digest_schedule)
        self.scheduler.add_job(
            self.digest,
            trigger,
            id="digest",
            name="the TC digest",
            misfire_grace_time=3600,
        )
        missed = missed_slot(self.engine, "digest", trigger, self.clock())
        if missed is None:
            return
        LOG.info("digest slot %s was missed while govbot was down: running it now", missed)
        self.scheduler.add_job(
            self.digest,
            "date",
            run_date=now,
            kwargs={"slot": missed},
            id="digest-missed",
            name="the TC digest (missed slot)",
            misfire_grace_time=None,
        )

    def shutdown(self, wait: bool = True) -> None:
        """Stop scheduling; with ``wait``, let running jobs finish their current item."""
        self._stopping.set()
        self._woken.set()
        if self.stream is not None:
            self.stream.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)

    def wake(self) -> None:
        """Run the worker now (the webhook queued work); safe from any thread.

        A running worker notices the flag and looks again before it returns; otherwise
        the job is brought forward to now.
        """
        self._woken.set()
        if self._working.is_set() or self._stopping.is_set() or not self.scheduler.running:
            return
        try:
            self.scheduler.modify_job("work", next_run_time=dt.datetime.now(dt.UTC))
        except Exception:  # a wake-up is a hint: the interval run comes anyway
            LOG.debug("could not wake the worker job", exc_info=True)

    def wake_later(self, delay: float) -> None:
        """Run the worker once ``delay`` seconds have passed (an event's settle time)."""
        if delay <= 0:
            self.wake()
            return
        timer = threading.Timer(delay, self.wake)
        timer.daemon = True
        timer.start()

    def poll_now(self) -> None:
        """Bring the poll forward to now (after a stream reconnect)."""
        if self._stopping.is_set() or not self.scheduler.running:
            return
        try:
            self.scheduler.modify_job("poll", next_run_time=dt.datetime.now(dt.UTC))
        except Exception:  # a hint: the interval run comes anyway
            LOG.debug("could not bring the poll forward", exc_info=True)

    # -- callbacks: each calls one service and logs its own failure ----------------------

    def poll(self) -> None:
        try:
            result = poll_once(self.client, self.engine, self.settings, self.policy, self.clock())
        except Exception:
            LOG.exception("poll failed")
            return
        if result.queued:
            self.wake()

    def work(self) -> None:
        """Drain the queue; a wake-up during the run makes it look once more."""
        self._working.set()
        try:
            while not self._stopping.is_set():
                self._woken.clear()
                result = run_worker_once(
                    self.engine,
                    self.client,
                    self.policy,
                    self.settings,
                    self.clock,
                    self.worker_id,
                    WORK_BATCH,
                    mirror=self.mirror,
                )
                if result.gerrit_down:
                    return
                if result.processed >= WORK_BATCH or self._woken.is_set():
                    continue
                # Say "not working" before the last look, so that a wake() racing with
                # the return either is seen here or schedules a new run itself.
                self._working.clear()
                if not self._woken.is_set():
                    return
                self._working.set()
        except Exception:
            LOG.exception("worker run failed")
        finally:
            self._working.clear()

    def escalate_slot(self, now: dt.datetime) -> dt.datetime:
        """The escalate slot ``now`` is in: the interval's last fire time, epoch-aligned."""
        return _slot(now, self.settings.escalate_interval)

    def escalate(self) -> None:
        """One escalation pass, if no process ran this slot yet (the ``escalate`` lease);
        the queue it assessed is kept for the dashboard."""
        report = escalation_job(
            self.client_factory,
            self.engine,
            self.policy,
            owner=self.worker_id,
            now=self.clock,
            watched=self.settings.watched,
            slot=self.escalate_slot(self.clock()),
            ttl=JOB_TTL,
        )
        if report is None:
            return
        try:
            record_queue(self.engine, report)
        except Exception:
            LOG.exception("recording the review queue failed")

    def index(self) -> None:
        """Index merged specs (merged changes, and branch heads with a mirror), once per
        slot across processes (the ``index`` lease)."""
        s = self.settings
        index_job(
            self.engine,
            policy=self.policy,
            now=self.clock,
            watched=s.watched,
            owner=self.worker_id,
            client_factory=self.client_factory,
            mirror=self.mirror,
            ttl=JOB_TTL,
            slot=_slot(self.clock(), s.index_interval),
        )
        self._run_soon("backfill")

    def backfill(self) -> None:
        """Index the watched branches' history up to ``backfill_depth`` commits each,
        resuming where the last run stopped (``govbot.services.backfill``)."""
        backfill_job(
            self.engine,
            self.mirror,
            policy=self.policy,
            now=self.clock,
            watched=self.settings.watched,
            depth=self.settings.backfill_depth,
            owner=self.worker_id,
            stop=self._stopping.is_set,
            ttl=JOB_TTL,
        )

    def _run_soon(self, job_id: str) -> None:
        """Bring a job (paused or not) forward to now; nothing when it is not scheduled."""
        if self._stopping.is_set() or not self.scheduler.running:
            return
        if self.scheduler.get_job(job_id) is None:
            return
        try:
            self.scheduler.modify_job(job_id, next_run_time=dt.datetime.now(dt.UTC))
        except Exception:  # a hint: the interval run comes anyway
            LOG.debug("could not bring job %s forward", job_id, exc_info=True)

    def digest(self, slot: dt.datetime | None = None) -> None:
        """The TC digest for ``slot`` (default: the schedule's latest), once across processes."""
        if slot is None:
            slot = latest_slot(cron_trigger(self.settings.digest_schedule), self.clock())
        s = self.settings
        digest_job(
            self.engine,
            self.client_factory,
            self.policy,
            owner=self.worker_id,
            now=self.clock,
            smtp_host=s.smtp_host,
            smtp_port=s.smtp_port,
            to=s.digest_to,
            sender=s.digest_from,
            slot=slot,
            watched=s.watched,
            ttl=JOB_TTL,
        )

    def purge(self) -> None:
        try:
            with session_scope(self.engine) as session:
                removed = purge(session, self.clock() - PURGE_AFTER)
            if removed:
                LOG.info("purged %d finished work item(s)", removed)
        except Exception:
            LOG.exception("purge failed")


def _slot(now: dt.datetime, every: float) -> dt.datetime:
    """The slot of an interval job ``now`` is in: its last fire time, epoch-aligned."""
    return EPOCH + dt.timedelta(seconds=((now - EPOCH).total_seconds() // every) * every)


__all__ = ["Jobs"]
