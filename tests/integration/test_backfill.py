"""The background backfill of ``govbot serve`` (govbot/services/backfill.py), on the demo
sandbox's git over a real mirror and both databases: the heads are the baseline, the
history before them is indexed up to the configured depth, and a stopped backfill
resumes where it stopped."""

from __future__ import annotations

import datetime as dt

from integration_support import NOW
from sqlalchemy import func, select

from govbot.db.models import ApiSnapshot, ApiSpec, BackfillCursor
from govbot.db.session import session_scope
from govbot.gerrit.mirror import mirror_from_settings
from govbot.sandbox import lifecycle
from govbot.sandbox.seed import BLOCK_STORAGE, COMPUTE, COMPUTE_SPEC_PATH
from govbot.services.backfill import backfill_pass
from govbot.services.index import index_pass

WATCHED = ((COMPUTE, None), (BLOCK_STORAGE, None))


def _clock() -> dt.datetime:
    return NOW


def _more_history(gerrit, count: int, start: int = 1) -> list[str]:
    """``count`` direct pushes to compute-api's master, each changing its spec, an hour
    apart after ``NOW``."""
    project = gerrit.projects[COMPUTE]
    text = project.trees[project.branches["master"]][COMPUTE_SPEC_PATH].decode()
    shas = []
    for n in range(start, start + count):
        text = text.replace("info:\n", f"info:\n  x-revision: {n}\n", 1)
        when = NOW + dt.timedelta(hours=n)
        files = {COMPUTE_SPEC_PATH: text}
        shas.append(lifecycle.push(gerrit, COMPUTE, files, message=f"Revision {n}", when=when))
    return shas


def _cursor(engine, project: str) -> BackfillCursor:
    with session_scope(engine) as s:
        row = s.get(BackfillCursor, (project, "master"))
        assert row is not None
        s.expunge(row)
        return row


def _snapshots(engine, project: str) -> int:
    with session_scope(engine) as s:
        q = select(func.count(ApiSnapshot.id)).join(ApiSpec, ApiSpec.id == ApiSnapshot.api_id)
        return s.scalar(q.where(ApiSpec.project == project)) or 0


def test_heads_are_the_baseline_then_history_to_depth_resumable(
    gerrit, settings, db_engine, policy
) -> None:
    shas = _more_history(gerrit, 3)
    mirror = mirror_from_settings(settings)

    run = index_pass(db_engine, policy=policy, now=_clock, watched=WATCHED, mirror=mirror)
    assert not run.errors
    with session_scope(db_engine) as s:
        apis = {(a.project, a.commit) for a in s.scalars(select(ApiSpec))}
    assert (COMPUTE, shas[-1]) in apis
    assert BLOCK_STORAGE in {p for p, _ in apis}
    assert _snapshots(db_engine, COMPUTE) == 1  # only the head so far

    # Stopped after one commit: the cursor says how far it got.
    asked: list[int] = []

    def stop_after_one() -> bool:
        asked.append(1)
        return len(asked) > 2

    first = backfill_pass(
        db_engine,
        mirror,
        policy=policy,
        now=_clock,
        watched=WATCHED,
        depth=3,
        stop=stop_after_one,
    )
    assert first.stopped
    cursor = _cursor(db_engine, COMPUTE)
    assert (cursor.planned, cursor.done, cursor.finished_at) == (3, 1, None)
    assert cursor.head == shas[-1]
    assert cursor.last_commit == shas[0]  # the oldest of the newest three, first

    # A push after the plan does not move it: the plan is fixed at its head.
    _more_history(gerrit, 1, start=10)
    second = backfill_pass(db_engine, mirror, policy=policy, now=_clock, watched=WATCHED, depth=3)
    assert not second.stopped and not second.indexed.errors
    cursor = _cursor(db_engine, COMPUTE)
    assert (cursor.planned, cursor.done) == (3, 3)
    assert cursor.finished_at is not None
    assert f"{COMPUTE} master" in second.finished
    # shas[0] (stopped run) and shas[1] (this one) are new; shas[2] is the head, recorded.
    assert _snapshots(db_engine, COMPUTE) == 3
    with session_scope(db_engine) as s:
        latest = s.scalar(select(ApiSpec.commit).where(ApiSpec.project == COMPUTE))
    assert latest == shas[-1]  # older snapshots never replace the latest

    third = backfill_pass(db_engine, mirror, policy=policy, now=_clock, watched=WATCHED, depth=3)
    assert third.indexed.commits == 0 and not third.finished

    # The setting raised: planned again from the same head, further back.
    deeper = backfill_pass(db_engine, mirror, policy=policy, now=_clock, watched=WATCHED, depth=4)
    assert f"{COMPUTE} master" in deeper.finished
    cursor = _cursor(db_engine, COMPUTE)
    assert (cursor.depth, cursor.planned, cursor.done, cursor.head) == (4, 4, 4, shas[-1])
    assert cursor.finished_at is not None


def test_depth_zero_reads_nothing(gerrit, settings, db_engine, policy) -> None:
    mirror = mirror_from_settings(settings)
    run = backfill_pass(db_engine, mirror, policy=policy, now=_clock, watched=WATCHED, depth=0)
    assert run.indexed.commits == 0
    assert mirror.fetches == 0


def test_a_missing_project_is_noted_and_the_others_go_on(
    gerrit, settings, db_engine, policy
) -> None:
    mirror = mirror_from_settings(settings)
    watched = (("openstack/no-such-api", None), (BLOCK_STORAGE, None))
    run = backfill_pass(db_engine, mirror, policy=policy, now=_clock, watched=watched, depth=5)
    assert len(run.indexed.errors) == 1 and "openstack/no-such-api" in run.indexed.errors[0]
    assert f"{BLOCK_STORAGE} master" in run.finished
