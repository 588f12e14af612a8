"""A separate OS process working the shared queue, for tests/db/test_db_queue_processes.py.

Run as ``python queue_worker.py MODE URL RUN_DIR [options]``. Each process writes
``RUN_DIR/ready-<name>``, waits for ``RUN_DIR/go`` (so all start together), does its
part and prints one JSON line with what it did.

Modes:
  work     claim, "process" (insert a row into the test's ``work_log`` table in the same
           transaction as ``complete``), until nothing is queued or claimed anywhere
  mixed    like work, but also enqueue the keys ``key-0 .. key-(N-1)`` as it goes
  enqueue  enqueue the same keys ``--repeat`` times, as an event burst would
  crash    claim one item and die without completing it (os._exit)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from govbot.db import make_engine, session_scope
from govbot.db.models import WorkItem, WorkState
from govbot.db.queue import claim, complete, enqueue, new_worker_id


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["work", "mixed", "enqueue", "crash"])
    parser.add_argument("url")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--name", default=str(os.getpid()))
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--keys", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--work-ms", type=float, default=0.0)
    args = parser.parse_args()

    engine = make_engine(args.url)
    me = f"{args.name}:{new_worker_id()}"
    (args.run_dir / f"ready-{args.name}").touch()
    while not (args.run_dir / "go").exists():
        time.sleep(0.001)
    started = time.perf_counter()
    report: dict[str, object] = {"name": args.name, "worker": me}
    try:
        if args.mode == "enqueue":
            report |= run_enqueue(engine, args.keys, args.repeat)
        elif args.mode == "crash":
            with session_scope(engine) as session:
                items = claim(session, me, utcnow(), dt.timedelta(seconds=args.lease))
            print(json.dumps({"claimed": [item.id for item in items]}), flush=True)
            os._exit(3)  # no cleanup, no complete(): a worker killed mid-job
        else:
            report |= run_work(engine, me, args)
    finally:
        engine.dispose()
    report["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(report), flush=True)
    return 0


def run_enqueue(engine: Engine, keys: int, repeat: int) -> dict[str, object]:
    inserted = 0
    for _ in range(repeat):
        for n in range(keys):
            with session_scope(engine) as session:  # one transaction per event, as intake does
                inserted += enqueue(session, "recheck-change", f"key-{n}", {"n": n})
    return {"inserted": inserted}


def run_work(engine: Engine, me: str, args: argparse.Namespace) -> dict[str, object]:
    lease = dt.timedelta(seconds=args.lease)
    to_enqueue = list(range(args.keys)) if args.mode == "mixed" else []
    done: list[int] = []
    claims = empty_claims = lost = inserted = 0
    while True:
        if to_enqueue:
            n = to_enqueue.pop(0)
            with session_scope(engine) as session:
                inserted += enqueue(session, "recheck-change", f"key-{n}", {"n": n})
        with session_scope(engine) as session:
            items = claim(session, me, utcnow(), lease, limit=args.batch)
        claims += 1
        if not items:
            empty_claims += 1
            if not to_enqueue and not unfinished(engine):
                break
            time.sleep(0.002)
            continue
        claimed = time.time()
        for item in items:
            if args.work_ms:
                time.sleep(args.work_ms / 1000)
            with session_scope(engine) as session:
                session.execute(
                    text(
                        "INSERT INTO work_log (item_id, item_key, worker, started, finished)"
                        " VALUES (:id, :key, :worker, :started, :finished)"
                    ),
                    {
                        "id": item.id,
                        "key": item.key,
                        "worker": me,
                        "started": claimed,
                        "finished": time.time(),
                    },
                )
                if not complete(session, item, utcnow()):
                    lost += 1
                    session.rollback()
                    continue
            done.append(item.id)
    return {
        "done": done,
        "claims": claims,
        "empty_claims": empty_claims,
        "lost": lost,
        "inserted": inserted,
    }


def unfinished(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(
            select(func.count())
            .select_from(WorkItem)
            .where(WorkItem.state.in_([WorkState.QUEUED, WorkState.CLAIMED]))
        )


if __name__ == "__main__":
    sys.exit(main())
