"""Separate OS processes sharing one queue: nothing done twice, nothing lost."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from govbot.db import session_scope
from govbot.db.models import WorkItem, WorkState
from govbot.db.queue import claim, complete, enqueue

WORKER = Path(__file__).with_name("queue_worker.py")
REPO = Path(__file__).resolve().parents[2]


def run_processes(
    url: str, run_dir: Path, *commands: list[str], timeout: float = 120
) -> list[dict]:
    """Start one process per command, release them together, return their JSON reports."""
    run_dir.mkdir(parents=True, exist_ok=True)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                command[0],
                url,
                str(run_dir),
                "--name",
                f"p{n}",
                *command[1:],
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, command in enumerate(commands)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(list(run_dir.glob("ready-*"))) < len(procs):
            failed = [p for p in procs if p.poll() is not None]
            assert not failed, failed[0].communicate()[1]
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.01)
        (run_dir / "go").touch()
        outputs = [p.communicate(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    reports = []
    for command, p, (out, err) in zip(commands, procs, outputs, strict=True):
        if command[0] != "crash":
            assert p.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


def create_work_log(engine: Engine) -> None:
    """A table for this test only: one row per item processed, written with complete()."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE work_log (item_id BIGINT NOT NULL, item_key VARCHAR(255) NOT NULL,"
                " worker VARCHAR(255) NOT NULL, started FLOAT NOT NULL, finished FLOAT NOT NULL)"
            )
        )


def state_counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        rows = session.execute(select(WorkItem.state, func.count()).group_by(WorkItem.state))
        return {str(state): count for state, count in rows}


def test_two_processes_claim_every_item_exactly_once(
    db_url: str, db_engine: Engine, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Two worker processes on one queue: each item is processed once, none lost."""
    items = 2000
    create_work_log(db_engine)
    with session_scope(db_engine) as session:
        for n in range(items):
            enqueue(session, "recheck-change", f"change:{n}", {"n": n})

    started = time.perf_counter()
    reports = run_processes(
        db_url, tmp_path / "run", ["work", "--batch", "5"], ["work", "--batch", "5"]
    )
    elapsed = time.perf_counter() - started

    done = [item for report in reports for item in report["done"]]
    assert len(done) == items
    assert len(set(done)) == items
    assert all(report["lost"] == 0 for report in reports)
    with db_engine.connect() as connection:
        logged = connection.execute(text("SELECT item_id FROM work_log")).scalars().all()
        attempts = connection.execute(select(WorkItem.attempts)).scalars().all()
    assert Counter(logged) == Counter(done)  # the side effect happened once per item
    assert set(attempts) == {1}  # nobody claimed an item someone else held
    assert state_counts(db_engine) == {"done": items}
    split = [len(report["done"]) for report in reports]
    assert min(split) > 0  # both processes took a share of the work
    print(
        f"\n[{request.node.callspec.id}] 2 processes, {items} items, batch 5: "
        f"{elapsed:.2f} s wall incl. start-up, split {split}, "
        f"worker seconds {[r['seconds'] for r in reports]}, "
        f"claims {[r['claims'] for r in reports]} (empty {[r['empty_claims'] for r in reports]}), "
        f"{items / max(r['seconds'] for r in reports):.0f} items/s"
    )


def test_two_processes_enqueueing_one_burst_make_one_item_per_key(
    db_url: str, db_engine: Engine, tmp_path: Path
) -> None:
    """The same 50 events sent 10 times by each of two processes queue 50 items."""
    reports = run_processes(
        db_url,
        tmp_path / "run",
        ["enqueue", "--keys", "50", "--repeat", "10"],
        ["enqueue", "--keys", "50", "--repeat", "10"],
    )
    assert sum(report["inserted"] for report in reports) == 50
    assert state_counts(db_engine) == {"queued": 50}


def test_two_processes_enqueue_and_work_at_once(
    db_url: str, db_engine: Engine, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Producing and consuming the same keys from two processes: no key worked on by
    two workers at the same time, every key worked on after its last event, nothing
    done twice."""
    keys = 300
    create_work_log(db_engine)
    reports = run_processes(
        db_url,
        tmp_path / "run",
        ["mixed", "--keys", str(keys), "--batch", "3", "--work-ms", "1"],
        ["mixed", "--keys", str(keys), "--batch", "3", "--work-ms", "1"],
    )
    done = [item for report in reports for item in report["done"]]
    assert len(done) == len(set(done))
    with db_engine.connect() as connection:
        rows = connection.execute(
            text("SELECT item_key, started, finished FROM work_log ORDER BY started")
        ).all()
    assert len(rows) == len(done)
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for key, begun, ended in rows:
        spans[key].append((begun, ended))
    assert set(spans) == {f"key-{n}" for n in range(keys)}
    for key, intervals in spans.items():
        for (_, end), (begin, _) in itertools.pairwise(intervals):
            assert begin >= end, f"{key} was worked on by two workers at once"
    assert state_counts(db_engine) == {"done": len(done)}
    inserted = sum(report["inserted"] for report in reports)
    print(
        f"\n[{request.node.callspec.id}] 2 processes each enqueueing the same {keys} keys "
        f"while working: {2 * keys} enqueues -> {inserted} items, all processed once"
    )


def test_a_crashed_worker_process_item_is_retried_after_its_lease(
    db_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """A worker killed mid-job loses nothing: its item is claimed again once the lease ends."""
    with session_scope(db_engine) as session:
        enqueue(session, "recheck-change", "change:7", {"n": 7})
    (report,) = run_processes(db_url, tmp_path / "run", ["crash", "--lease", "30"])
    assert len(report["claimed"]) == 1

    now = dt.datetime.now(dt.UTC)
    with session_scope(db_engine) as session:
        assert claim(session, "survivor", now) == []  # the dead worker's lease still runs
    with session_scope(db_engine) as session:
        (item,) = claim(session, "survivor", now + dt.timedelta(seconds=31))
    assert item.id == report["claimed"][0]
    assert item.attempts == 2
    with session_scope(db_engine) as session:
        assert complete(session, item, now + dt.timedelta(seconds=32))
    assert state_counts(db_engine) == {WorkState.DONE.value: 1}
