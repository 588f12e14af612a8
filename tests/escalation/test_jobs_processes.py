"""The scheduler's escalate and digest jobs in two govbot processes on one PostgreSQL.

Both processes run the real ``Jobs`` (APScheduler) against the sandbox's demo seed. The
escalate job fires in both for the same epoch-aligned slots and runs once per slot; the
digest slot missed while "govbot was down" runs once at start-up, in one process: one
email, one archived digest. Changes 2 and 3 are escalated once each, nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from govbot.db import make_engine, session_scope, upgrade
from govbot.db.leases import acquire_lease, last_run, release_lease
from govbot.db.models import DigestRecord, Escalation, JobLease
from govbot.sandbox import running_sandbox
from govbot.settings import cron_trigger

WORKER = Path(__file__).with_name("jobs_worker.py")
REPO = Path(__file__).resolve().parents[2]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def engine(pg_schema_url: str) -> Iterator[Engine]:
    upgrade(pg_schema_url)
    engine = make_engine(pg_schema_url)
    yield engine
    engine.dispose()


def test_two_processes_run_escalate_and_digest_once(pg_schema_url, engine, smtp, tmp_path):
    inbox, port = smtp
    now = dt.datetime.now(dt.UTC)
    # The last digest went out 8 days ago: a Monday 08:00 slot was missed since.
    before = now - dt.timedelta(days=8)
    assert acquire_lease(engine, "digest", "earlier", before, dt.timedelta(minutes=5), slot=before)
    release_lease(engine, "digest", "earlier", before)
    trigger = cron_trigger("0 8 * * mon")
    missed = trigger.get_next_fire_time(None, now - dt.timedelta(days=7))
    assert missed is not None and missed <= now

    run = tmp_path / "run"
    run.mkdir()
    with running_sandbox(seed="demo") as demo:
        env = {**os.environ, "GOVBOT_CACHE_DIR": str(tmp_path / "cache")}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER),
                    pg_schema_url,
                    demo.url,
                    str(port),
                    str(run),
                    name,
                    "5",
                ],
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("a", "b")
        ]
        try:
            deadline = time.monotonic() + 60
            while not all((run / f"ready-{n}").exists() for n in "ab"):
                assert time.monotonic() < deadline, "workers not ready"
                assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
                time.sleep(0.02)
            (run / "go").touch()
            outputs = []
            for proc in procs:
                out, err = proc.communicate(timeout=120)
                assert proc.returncode == 0, err
                outputs.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
        reviewers = {
            n: demo.count_requests("POST", rf"^/a/changes/(?:[^/]*~)?{n}/revisions/[^/]+/review$")
            for n in range(1, 8)
        }

    a, b = outputs
    # Escalate: each slot ran in exactly one process; at least the start-up one ran.
    assert not set(a["escalate"]) & set(b["escalate"]), outputs
    assert a["escalate"] or b["escalate"]
    # Changes 2 and 3 escalated once each (one set-review adding a TC member), nothing else.
    assert reviewers == {1: 0, 2: 1, 3: 1, 4: 0, 5: 0, 6: 0, 7: 0}
    with session_scope(engine) as session:
        rows = session.scalars(select(Escalation).order_by(Escalation.change_number)).all()
        assert [(r.change_number, str(r.stage), r.assignee) for r in rows] == [
            (2, "escalate", "ana"),
            (3, "escalate", "chen"),
        ]
        # Digest: the missed slot ran once, in one process; one email, one archive.
        digests = session.scalars(select(DigestRecord)).all()
        lease = session.get(JobLease, "digest")
        assert lease is not None and lease.slot == missed
    assert sorted(a["digest"] + b["digest"]) == [missed.isoformat()], outputs
    assert len(digests) == 1 and digests[0].sent_at is not None
    assert len(inbox.messages) == 1
    assert last_run(engine, "digest") is not None and last_run(engine, "digest") > before
