"""Job leases: a scheduled job runs once across processes; missed slots run once."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from govbot.db import upgrade
from govbot.db.leases import (
    acquire_lease,
    last_run,
    latest_slot,
    missed_slot,
    release_lease,
    run_leased,
)

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(minutes=10)
WORKER = Path(__file__).with_name("lease_worker.py")
REPO = Path(__file__).resolve().parents[2]


def test_lease_is_exclusive_until_it_expires(engine: Engine) -> None:
    """One holder at a time; the holder may extend it; an expired lease is free."""
    assert acquire_lease(engine, "escalate", "a", NOW, TTL)
    assert not acquire_lease(engine, "escalate", "b", NOW + dt.timedelta(minutes=1), TTL)
    assert acquire_lease(engine, "escalate", "a", NOW + dt.timedelta(minutes=2), TTL)
    assert not acquire_lease(engine, "escalate", "b", NOW + dt.timedelta(minutes=11), TTL)
    assert acquire_lease(engine, "escalate", "b", NOW + dt.timedelta(minutes=13), TTL)
    assert acquire_lease(engine, "digest", "a", NOW, TTL)  # another job, another lease


def test_released_lease_is_free_and_records_the_run(engine: Engine) -> None:
    assert acquire_lease(engine, "escalate", "a", NOW, TTL)
    release_lease(engine, "escalate", "a", NOW + dt.timedelta(seconds=5))
    assert last_run(engine, "escalate") == NOW + dt.timedelta(seconds=5)
    assert acquire_lease(engine, "escalate", "b", NOW + dt.timedelta(seconds=6), TTL)


def test_a_slot_runs_once_even_after_the_first_run_finished(engine: Engine) -> None:
    """Process b fires late for the same slot after a finished: it does not run again."""
    ran = []
    first = run_leased(engine, "digest", "a", lambda: ran.append("a"), now=lambda: NOW, slot=NOW)
    second = run_leased(
        engine,
        "digest",
        "b",
        lambda: ran.append("b"),
        now=lambda: NOW + dt.timedelta(minutes=1),
        slot=NOW,
    )
    assert (first[0], second[0], ran) == (True, False, ["a"])
    week = NOW + dt.timedelta(days=7)
    assert run_leased(engine, "digest", "b", lambda: ran.append("b"), now=lambda: week, slot=week)[
        0
    ]
    assert ran == ["a", "b"]


def test_missed_slots_coalesce_into_one_run(engine: Engine) -> None:
    """After downtime over two Monday slots, start-up runs once, for the latest."""
    trigger = CronTrigger(day_of_week="mon", hour=8, minute=0, timezone="UTC")
    assert missed_slot(engine, "digest", trigger, NOW) is None  # never ran: nothing to catch up
    run_leased(engine, "digest", "a", lambda: None, now=lambda: NOW, slot=NOW)
    assert missed_slot(engine, "digest", trigger, NOW + dt.timedelta(days=6)) is None
    back = NOW + dt.timedelta(days=15)  # two Mondays later, Tuesday
    slot = missed_slot(engine, "digest", trigger, back)
    assert slot == NOW + dt.timedelta(days=14)
    ran = []
    run_leased(engine, "digest", "a", lambda: ran.append(1), now=lambda: back, slot=slot)
    assert ran == [1] and missed_slot(engine, "digest", trigger, back) is None
    # the slot a run fired a little late is for: the same in every process
    assert latest_slot(trigger, NOW + dt.timedelta(seconds=3)) == NOW
    assert latest_slot(trigger, NOW - dt.timedelta(seconds=1)) == NOW - dt.timedelta(days=7)


def test_two_processes_race_for_one_slot(pg_schema_url: str, tmp_path: Path) -> None:
    """Two OS processes on one PostgreSQL fire the same slot together: one runs."""
    upgrade(pg_schema_url)
    slot = dt.datetime.now(dt.UTC).replace(microsecond=0)
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), pg_schema_url, str(tmp_path), f"p{n}", slot.isoformat()],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("ready-*"))) < len(procs):
            failed = [p for p in procs if p.poll() is not None]
            assert not failed, failed[0].communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        (tmp_path / "go").touch()
        outputs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    assert sum(json.loads(out)["ran"] for out, _ in outputs) == 1


def test_a_job_longer_than_its_lease_keeps_it(engine: Engine) -> None:
    """run_leased renews the lease while the job runs: a second process cannot start
    the same job after the first's ttl has passed three times over."""
    ttl = dt.timedelta(seconds=0.6)
    started, finish = threading.Event(), threading.Event()
    taken: list[bool] = []

    def job() -> str:
        started.set()
        finish.wait(60)
        return "done"

    def clock() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    runner = threading.Thread(
        target=lambda: taken.append(run_leased(engine, "index", "a", job, now=clock, ttl=ttl)[0])
    )
    runner.start()
    try:
        assert started.wait(30)
        time.sleep(3 * ttl.total_seconds())
        assert not acquire_lease(engine, "index", "b", clock(), ttl)
    finally:
        finish.set()
        runner.join(30)
    assert taken == [True]
    assert acquire_lease(engine, "index", "b", clock(), ttl)  # released at the end
