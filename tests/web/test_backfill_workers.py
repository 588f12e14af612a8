"""``govbot backfill --jobs N`` (govbot/services/backfill_workers.py): worker processes
check the commits, the walk records them in order, and the database ends up exactly as
one process leaves it; a worker that fails costs only time. Both databases."""

from __future__ import annotations

import gc
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from test_backfill_history import commit, git
from web_support import BLUEPRINT_GOOD, COMPUTE, COMPUTE_FILE, NOW, compute_spec

from govbot.db import make_engine, upgrade
from govbot.db.models import ApiDeprecation, ApiOperation, ApiSnapshot, SnapshotFinding
from govbot.db.session import session_scope
from govbot.policy import Policy
from govbot.services import backfill_workers
from govbot.services.backfill import backfill
from govbot.services.backfill_workers import Ahead, usable_cpus
from govbot.services.index import index_commit
from govbot.services.index_evaluate import SpecRecord, SpecsEvaluation
from govbot.sources import GitReader

DESIGN = "specs/2026.1/approved/keypair-last-used.rst"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A history with what the walk must keep in order: versions, a design-spec-only
    commit, a spec that does not parse, a deprecation that begins and one that ends."""
    repo = tmp_path / "compute-api"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    commit(repo, {COMPUTE_FILE: compute_spec("2.90", with_admin=False)}, "2.90")
    commit(repo, {COMPUTE_FILE: compute_spec("2.91")}, "2.91: admin API")
    commit(repo, {DESIGN: BLUEPRINT_GOOD}, "A design spec")
    commit(repo, {COMPUTE_FILE: "openapi: 3.0.3\ninfo: [broken\n"}, "Broken")
    commit(
        repo,
        {COMPUTE_FILE: compute_spec("2.92", extra_field="\n        locked: {type: boolean}")},
        "2.92",
    )
    deprecated = compute_spec("2.93").replace(
        "      operationId: list-servers\n",
        "      operationId: list-servers\n      deprecated: true\n",
    )
    commit(repo, {COMPUTE_FILE: deprecated}, "2.93: list deprecated")
    commit(repo, {COMPUTE_FILE: compute_spec("2.94")}, "2.94: list again")
    return repo


def recorded(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a backfill records, by commit, without ids or times of indexing."""
    with session_scope(engine) as s:
        snapshots = s.execute(
            select(
                ApiSnapshot.commit,
                ApiSnapshot.title,
                ApiSnapshot.version,
                ApiSnapshot.audience,
                ApiSnapshot.ops_external,
                ApiSnapshot.ops_external_admin,
                ApiSnapshot.errors,
                ApiSnapshot.warnings,
                ApiSnapshot.infos,
                ApiSnapshot.deprecated,
                ApiSnapshot.problem,
                ApiSnapshot.documents,
            )
        ).all()
        findings = s.execute(
            select(
                ApiSnapshot.commit,
                SnapshotFinding.rule,
                SnapshotFinding.severity,
                SnapshotFinding.line,
                SnapshotFinding.pointer,
                SnapshotFinding.message,
                SnapshotFinding.fingerprint,
            ).join(  # a snapshot's rows, or the earlier snapshot's it shares them with
                ApiSnapshot,
                func.coalesce(ApiSnapshot.findings_of, ApiSnapshot.id)
                == SnapshotFinding.snapshot_id,
            )
        ).all()
        operations = s.execute(
            select(
                ApiSnapshot.commit,
                ApiOperation.key,
                ApiOperation.audience,
                ApiOperation.evidence,
                ApiOperation.deprecated,
            ).join(  # a snapshot's rows, or the earlier snapshot's it shares them with
                ApiSnapshot,
                func.coalesce(ApiSnapshot.operations_of, ApiSnapshot.id)
                == ApiOperation.snapshot_id,
            )
        ).all()
        deprecations = s.execute(
            select(
                ApiSnapshot.commit,
                ApiDeprecation.key,
                ApiDeprecation.sunset,
                ApiDeprecation.replacement,
                ApiDeprecation.deprecated_since,
            ).join(ApiSnapshot, ApiSnapshot.id == ApiDeprecation.snapshot_id)
        ).all()
    return {
        name: sorted((tuple(map(repr, r)) for r in rows), key=str)
        for name, rows in (
            ("snapshots", snapshots),
            ("findings", findings),
            ("operations", operations),
            ("deprecations", deprecations),
        )
    }


@pytest.fixture
def alone(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite database for the run without workers."""
    url = f"sqlite:///{tmp_path / 'alone.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each commit the walk asked the workers for: whether they had checked it."""
    seen: list[bool] = []
    take = Ahead.take

    def spy(self: Ahead, sha: str) -> Any:
        evaluation = take(self, sha)
        seen.append(evaluation is not None)
        return evaluation

    monkeypatch.setattr(Ahead, "take", spy)
    return seen


def walk(engine: Engine, policy: Policy, repo: Path, jobs: int) -> Any:
    return backfill(
        engine, repo, COMPUTE, "master", policy=policy, now=NOW, out=io.StringIO(), jobs=jobs
    )


def test_workers_record_what_one_process_records(
    db_engine: Engine, alone: Engine, policy: Policy, repo: Path, taken: list[bool]
) -> None:
    parallel = walk(db_engine, policy, repo, jobs=2)
    # Every commit but the design spec's was checked by a worker.
    assert taken == [True, True, False, True, True, True, True]
    single = walk(alone, policy, repo, jobs=1)
    assert len(taken) == 7  # no workers without --jobs
    assert gc.get_freeze_count() == 0  # what the walk froze (settle) went back
    assert (parallel.commits, parallel.evaluated, parallel.snapshots, parallel.blueprints) == (
        single.commits,
        single.evaluated,
        single.snapshots,
        single.blueprints,
    )
    assert parallel.errors == single.errors == []
    mine, theirs = recorded(db_engine), recorded(alone)
    assert mine == theirs
    assert len(mine["snapshots"]) == 6
    assert len([r for r in mine["snapshots"] if r[10] != "None"]) == 1  # the broken one
    assert mine["deprecations"]  # deprecated_since follows the order of the walk


def test_a_failing_worker_leaves_the_commit_to_the_walk(
    db_engine: Engine,
    alone: Engine,
    policy: Policy,
    repo: Path,
    taken: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The workers are forked after this patch: every check they make fails."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a worker's bug")

    monkeypatch.setattr(backfill_workers, "evaluate_commit", broken)
    parallel = walk(db_engine, policy, repo, jobs=2)
    assert taken == [False] * 7
    assert parallel.errors == []
    walk(alone, policy, repo, jobs=1)
    assert recorded(db_engine) == recorded(alone)


def test_a_rerun_with_workers_walks_only_the_new_commits(
    db_engine: Engine, policy: Policy, repo: Path, taken: list[bool]
) -> None:
    walk(db_engine, policy, repo, jobs=2)
    taken.clear()
    commit(repo, {COMPUTE_FILE: compute_spec("2.95")}, "2.95")
    one = walk(db_engine, policy, repo, jobs=2)
    assert (one.commits, one.evaluated, one.snapshots) == (1, 1, 1)
    assert taken == []  # one commit: checked by the walk itself
    commit(repo, {COMPUTE_FILE: compute_spec("2.96")}, "2.96")
    commit(repo, {COMPUTE_FILE: compute_spec("2.97")}, "2.97")
    two = walk(db_engine, policy, repo, jobs=2)
    assert (two.commits, two.evaluated, two.snapshots) == (2, 2, 2)
    assert taken == [True, True]


def test_the_default_is_one_worker_per_cpu_up_to_a_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backfill_workers, "usable_cpus", lambda: 2)
    assert backfill_workers.default_workers() == 2
    monkeypatch.setattr(backfill_workers, "usable_cpus", lambda: 64)
    assert backfill_workers.default_workers() == backfill_workers.DEFAULT_MAX_WORKERS == 8
    assert usable_cpus() >= 1


def test_a_worker_that_dies_leaves_the_rest_to_the_walk(
    db_engine: Engine,
    alone: Engine,
    policy: Policy,
    repo: Path,
    taken: list[bool],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A worker killed in the middle (the kernel's out-of-memory killer): the pool is
    broken, and the walk checks the commit it had and the ones no worker finished."""
    evaluate = backfill_workers.evaluate_commit
    doomed = git(repo, "rev-parse", "HEAD~3")

    def dies_on_one(reader: Any, *args: Any, **kwargs: Any) -> Any:
        if reader.commit.hexsha == doomed:
            os._exit(9)
        return evaluate(reader, *args, **kwargs)

    monkeypatch.setattr(backfill_workers, "evaluate_commit", dies_on_one)
    parallel = walk(db_engine, policy, repo, jobs=2)
    assert parallel.errors == []
    # The first commit came from a worker, the doomed one from the walk; a commit a
    # worker finished before the pool broke may still come from it (it is as good).
    assert len(taken) == 7 and taken[0] is True and taken[3] is False
    assert "a worker process died" in caplog.text
    walk(alone, policy, repo, jobs=1)
    assert recorded(db_engine) == recorded(alone)


def test_settling_freezes_the_heap_and_collects_it_whole_now_and_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After each commit of a long walk the live objects leave the collector's
    generations; every FULL_COLLECTION_EVERY commits they come back for a full one."""
    collections: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collections.append(generation) or 0)
    monkeypatch.setattr(backfill_workers, "FULL_COLLECTION_EVERY", 3)
    monkeypatch.setattr(backfill_workers, "_settled", [0])
    try:
        for _ in range(6):
            backfill_workers.settle()
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert collections == [1, 1, 2, 1, 1, 2]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_backfill_leaves_the_verdict_cache_to_the_present(
    db_engine: Engine,
    alone: Engine,
    policy: Policy,
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    jobs: int,
) -> None:
    """History goes to the database: a backfill neither stores its commits' reports in
    the verdict cache nor reads them there; indexing the branch's head as the index job
    does (the present) stores its report."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("GOVBOT_CACHE_DIR", str(cache))
    run = walk(db_engine, policy, repo, jobs=jobs)
    assert run.snapshots == 6 and run.errors == []
    assert not list((cache / "verdicts").rglob("*.json"))
    head = git(repo, "rev-parse", "HEAD")
    indexed = index_commit(
        alone, GitReader(repo, head), COMPUTE, "master", head, policy=policy, now=NOW
    )
    assert indexed.snapshots == [COMPUTE_FILE]
    assert len(list((cache / "verdicts").rglob("*.json"))) == 1


def test_each_worker_checks_runs_of_consecutive_commits(
    db_engine: Engine,
    alone: Engine,
    policy: Policy,
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker checks a version where it changed since the last one it checked: the
    commits are dealt in runs, so that this is the commit just before."""
    evaluate = backfill_workers.evaluate_commit
    log = tmp_path / "checked"

    def logged(reader: Any, *args: Any, **kwargs: Any) -> Any:
        with log.open("a") as out:
            out.write(f"{os.getpid()} {reader.commit.hexsha}\n")
        return evaluate(reader, *args, **kwargs)

    monkeypatch.setattr(backfill_workers, "evaluate_commit", logged)
    monkeypatch.setattr(backfill_workers, "RUN", 3)
    walk(db_engine, policy, repo, jobs=2)
    order = git(repo, "rev-list", "--reverse", "HEAD").split()
    by = {sha: pid for pid, sha in (line.split() for line in log.read_text().splitlines())}
    # The design-spec commit (the third) is skipped unchecked by its worker.
    workers = [by.get(sha) for sha in order]
    assert workers[2] is None
    first, second = workers[0], workers[3]
    assert first != second and None not in (first, second)
    assert workers == [first, first, None, second, second, second, first]
    walk(alone, policy, repo, jobs=1)
    assert recorded(db_engine) == recorded(alone)


def _evaluation(findings: str, operations: str) -> SpecsEvaluation:
    """One spec's check whose rows of each kind are named by their digest."""
    record = SpecRecord(
        path=COMPUTE_FILE,
        file=COMPUTE_FILE,
        summary={"title": "Compute API"},
        operations=({"key": f"GET /{operations}"},),
        deprecations=(),
        findings=({"rule": "CON001", "message": findings},),
        documents=(COMPUTE_FILE,),
        problem=None,
        operations_digest=operations,
        findings_digest=findings,
    )
    return SpecsEvaluation((COMPUTE_FILE,), {COMPUTE_FILE: record}, ())


def test_rows_sent_before_are_left_out_and_put_back_by_digest() -> None:
    """A worker leaves out the rows it sent last for a spec; the walk puts back those it
    holds from that worker, and gives the commit to the walk when a result was lost."""
    sent: dict[tuple[str, str], str] = {}
    held: dict[tuple[str, str], tuple[str, Any]] = {}
    first, same = _evaluation("f1", "o1"), _evaluation("f1", "o1")
    slim = backfill_workers._slim(first, sent)
    assert slim.omitted == {} and backfill_workers._restore(slim, held) == first
    slim = backfill_workers._slim(same, sent)
    assert slim.omitted == {COMPUTE_FILE: ("findings", "operations")}
    record = slim.evaluation.records[COMPUTE_FILE]
    assert record.findings == () and record.operations == ()
    assert backfill_workers._restore(slim, held) == same
    changed = backfill_workers._slim(_evaluation("f2", "o1"), sent)
    assert changed.omitted == {COMPUTE_FILE: ("operations",)}
    # That result never reached the walk (a worker's error after the check): the next
    # one leaves out rows the walk does not hold, so the walk checks that commit itself.
    again = backfill_workers._slim(_evaluation("f2", "o1"), sent)
    assert again.omitted == {COMPUTE_FILE: ("findings", "operations")}
    assert backfill_workers._restore(again, held) is None


def test_a_worker_sends_unchanged_rows_once(
    db_engine: Engine,
    alone: Engine,
    policy: Policy,
    tmp_path: Path,
    taken: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Commits that leave the findings or the operations as they were: their rows cross
    from the worker once, and the walk records what one process records."""
    repo = tmp_path / "compute-api"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    extra = "\n        hostName: {type: string}"
    for version, field in (("3.1", ""), ("3.2", ""), ("3.3", extra), ("3.4", "")):
        commit(repo, {COMPUTE_FILE: compute_spec(version, extra_field=field)}, version)
    slim = backfill_workers._slim
    log = tmp_path / "omitted"

    def logged(evaluation: SpecsEvaluation, sent: Any) -> Any:
        out = slim(evaluation, sent)
        with log.open("a") as f:
            f.write(repr(sorted(out.omitted.get(COMPUTE_FILE, ()))) + "\n")
        return out

    monkeypatch.setattr(backfill_workers, "_slim", logged)
    walk(db_engine, policy, repo, jobs=2)
    assert taken == [True] * 4
    assert log.read_text().splitlines() == [
        "[]",
        "['findings', 'operations']",
        "['operations']",  # one more finding
        "['operations']",  # the findings of 3.2 again: not those sent last
    ]
    walk(alone, policy, repo, jobs=1)
    mine = recorded(db_engine)
    assert mine == recorded(alone)
    assert len(mine["findings"]) > 3 * len(mine["snapshots"])  # every snapshot has its own
