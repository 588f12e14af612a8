"""Backfill: ``govbot backfill`` of a branch's history, and the background backfill of
``govbot serve``, each watched branch's recent history.

:func:`backfill` walks a branch's history (:func:`history`: the first-parent commits
that touched a spec, a design spec or a watched api-ref file, oldest first) and indexes
every commit with :func:`govbot.services.index.index_commit`, with a progress bar.

The index job records each watched branch's head at start-up (with a git mirror,
:func:`govbot.services.index.index_heads`), so the dashboard lists every API after one
pass. What came before is this job's: per watched branch it plans the newest
``backfill_depth`` commits that touched a spec (:func:`history`),
and indexes them oldest first, as ``govbot backfill`` does, with
:func:`govbot.services.index.index_commit`. The plan and how far it got are kept in
``backfill_cursors``: a restart resumes after the last indexed commit, a project added
to the settings is planned at the next start (its head indexed first, since the index
job runs once per interval slot and a restart inside one skips it), a finished branch
is not read again unless ``backfill_depth`` was raised (then it is planned again from
the same head, the commits recorded already skipped cheaply).

Load on Gerrit: one git fetch per project and pass, into the mirror; the commits are
read from the mirror, never over REST. Older snapshots never replace an API's latest
(:class:`govbot.db.models.ApiSpec` follows merge time), so the overview stays right
while the backfill runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import git
from sqlalchemy import Engine

from govbot.blueprints import BlueprintConfig
from govbot.db.leases import run_leased
from govbot.db.models import BackfillCursor
from govbot.db.session import session_scope
from govbot.errors import GovbotError, SpecError
from govbot.openapi import lineage
from govbot.policy import Policy
from govbot.services.backfill_workers import Ahead, settle
from govbot.services.index import DEFAULT_BRANCH, index_commit
from govbot.services.index_cross import refresh_cross_findings
from govbot.services.index_snapshot import IndexRun, utcnow
from govbot.sources import GitReader, open_repo

LOG = logging.getLogger(__name__)

JOB_NAME = "backfill"


def history_globs(policy: Policy) -> list[str]:
    """The files whose commits make an API's or a spec repository's history: the specs,
    the design specs, and what ``api_ref.watch`` names (api-ref trees, policy defaults,
    the microversion ledger)."""
    return [*policy.spec_globs, *BlueprintConfig.from_policy(policy).specs, *policy.api_ref_watch]


def history(
    repo: git.Repo,
    branch: str,
    globs: Sequence[str],
    *,
    limit: int | None = None,
    since: str | None = None,
) -> list[str]:
    """Commits of ``branch`` (first parents, oldest first) that touched a file of ``globs``;
    with ``limit``, only the newest ``limit`` of them (git applies ``-n`` before
    ``--reverse``, so the walk stops early on a long history); with ``since``, only
    those after that commit."""
    pathspecs = [f":(glob){g}" for g in globs]
    count = [f"--max-count={limit}"] if limit is not None else []
    rev = f"{since}..{branch}" if since else branch
    out = repo.git.log("--format=%H", "--first-parent", "--reverse", *count, rev, "--", *pathspecs)
    return [line.strip() for line in out.splitlines() if line.strip()]


# A cursor whose plan reached the first commit of the branch: the whole history is
# indexed up to its head. ``backfill_cursors.depth`` of a ``govbot backfill`` (the
# background backfill compares its ``backfill_depth`` to it, and so leaves such a branch
# alone); the largest value the column holds on every database.
WHOLE_HISTORY = 2**31 - 1


def backfill(
    engine: Engine,
    repo_dir_or_mirror: str | Path | Any,
    project: str,
    branch: str = DEFAULT_BRANCH,
    *,
    policy: Policy,
    now: dt.datetime | None = None,
    progress: bool = True,
    out: Any = None,
    jobs: int = 1,
) -> IndexRun:
    """Walk ``project``'s ``branch`` history and index every commit that touched a spec.

    ``repo_dir_or_mirror`` is a git repository (work tree or bare) holding the branch, or
    a :class:`~govbot.gerrit.mirror.GitMirror` (the branch is fetched first). With
    ``progress`` a bar is drawn on a terminal (a line every few commits otherwise).

    The walk is kept in ``backfill_cursors``: running it again walks only the commits
    after the head it reached (all of them when the branch was rewritten, or a run
    failed on a commit). A commit whose spec files are those of the API's previous
    snapshot is not checked again.
    """
    now = now or utcnow()
    repo = _open(repo_dir_or_mirror, project, branch)
    head, since = _resume_point(engine, repo, project, branch)
    try:
        commits = history(repo, branch, history_globs(policy), since=since)
    except git.GitCommandError as exc:
        raise SpecError(
            f"{repo.git_dir}: cannot read the history of {branch!r}: {str(exc.stderr).strip()}"
        ) from None
    run = IndexRun()
    stream = out if out is not None else sys.stderr
    with contextlib.ExitStack() as stack:
        stack.enter_context(lineage.remembering())  # each version checked where it changed
        stack.callback(gc.unfreeze)  # what settle() froze goes back to the collector
        ahead = None
        if jobs > 1 and len(commits) > 1:
            ahead = stack.enter_context(
                Ahead(repo, commits, project, policy=policy, now=now, jobs=jobs)
            )
        for sha in _progress(commits, f"indexing {project} {branch}", progress, stream):
            reader = GitReader(repo, sha)
            evaluation = ahead.take(sha) if ahead is not None else None
            try:
                result = index_commit(
                    engine,
                    reader,
                    project,
                    branch,
                    sha,
                    policy=policy,
                    now=now,
                    evaluation=evaluation,
                    verdicts=False,  # history: its reports go to the database
                )
            except GovbotError as exc:
                LOG.warning("backfill %s %s: %s", project, sha[:12], exc)
                run.errors.append(f"{sha[:12]}: {exc}")
                continue
            finally:
                if ahead is None:
                    settle()  # this process checked the commit
            run.add(result)
    if not run.errors:  # a failed commit is tried again by the next run
        _walked(engine, project, branch, head, len(commits), fresh=since is None, now=now)
    if run.snapshots:
        run.cross_findings = refresh_cross_findings(engine, policy=policy, now=now)
    return run


def _open(repo_dir_or_mirror: str | Path | Any, project: str, branch: str) -> git.Repo:
    if hasattr(repo_dir_or_mirror, "fetch") and hasattr(repo_dir_or_mirror, "repo"):
        repo_dir_or_mirror.fetch(project, f"refs/heads/{branch}")
        return repo_dir_or_mirror.repo(project)
    return open_repo(repo_dir_or_mirror)


def _resume_point(
    engine: Engine, repo: git.Repo, project: str, branch: str
) -> tuple[str | None, str | None]:
    """The branch's head now, and the commit the history was indexed up to (None: walk
    it all): the head a finished walk of the whole history reached, if the branch still
    descends from it."""
    try:
        head = repo.git.rev_parse("--verify", "--quiet", f"{branch}^{{commit}}").strip()
    except git.GitCommandError:
        return None, None  # no such branch: history() says so
    with session_scope(engine) as session:
        row = session.get(BackfillCursor, (project, branch))
        whole = row is not None and row.finished_at is not None and row.planned < row.depth
        reached = row.head if row is not None and whole else None
    if reached is None:
        return head, None
    try:
        repo.git.merge_base("--is-ancestor", reached, head)
    except git.GitCommandError:  # rewritten (or the commit is gone): walk it all
        return head, None
    return head, reached


def _walked(
    engine: Engine,
    project: str,
    branch: str,
    head: str | None,
    walked: int,
    *,
    fresh: bool,
    now: dt.datetime,
) -> None:
    """The whole history up to ``head`` is indexed: the cursor says so."""
    if head is None:
        return
    with session_scope(engine) as session:
        row = session.get(BackfillCursor, (project, branch))
        if row is None:
            row = BackfillCursor(project=project, branch=branch, head=head, started_at=now)
            session.add(row)
        planned = walked if fresh else row.planned + walked
        row.head, row.depth, row.planned, row.done, row.last_commit = (
            head,
            WHOLE_HISTORY,
            planned,
            planned,
            head,
        )
        row.finished_at, row.error, row.updated_at = now, None, now


def _progress(items: Sequence[str], label: str, enabled: bool, stream: Any) -> Iterator[str]:
    """``items`` with a progress bar on a terminal, a plain counter line otherwise."""
    if not enabled or not items:
        yield from items
        return
    if getattr(stream, "isatty", lambda: False)():
        with click.progressbar(items, label=label, file=stream, show_pos=True) as bar:
            yield from bar
        return
    total = len(items)
    step = max(1, total // 20)
    for n, item in enumerate(items, 1):
        yield item
        if n == total or n % step == 0:
            click.echo(f"{label}: {n}/{total} commits", file=stream)


# --- the background backfill of govbot serve ----------------------------------------------


@dataclass
class BackfillRun:
    """What one backfill pass did: the index counts, and the branches it finished."""

    indexed: IndexRun = field(default_factory=IndexRun)
    finished: list[str] = field(default_factory=list)  # "project branch"
    stopped: bool = False  # asked to stop before the plan was done


def backfill_pass(
    engine: Engine,
    mirror: Any,
    *,
    policy: Policy,
    now: Callable[[], dt.datetime],
    watched: Sequence[tuple[str, str | None]],
    depth: int,
    stop: Callable[[], bool] = lambda: False,
) -> BackfillRun:
    """Index the planned history of every watched branch not finished yet.

    A failing project is logged and kept in its cursor's ``error``; the others carry on,
    and the next pass tries it again. ``stop`` is asked between commits.
    """
    run = BackfillRun()
    if depth <= 0:
        return run
    for project, branch in watched:
        name = branch or DEFAULT_BRANCH
        if stop():
            run.stopped = True
            break
        try:
            _backfill_branch(engine, mirror, project, name, policy, now, depth, stop, run)
        except (GovbotError, git.GitCommandError, OSError, ValueError) as exc:
            LOG.warning("backfill %s %s: %s", project, name, exc)
            run.indexed.errors.append(f"{project}: {exc}")
            _note_error(engine, project, name, str(exc), now())
    if run.indexed.snapshots:
        run.indexed.cross_findings = refresh_cross_findings(engine, policy=policy, now=now())
    return run


def _backfill_branch(
    engine: Engine,
    mirror: Any,
    project: str,
    branch: str,
    policy: Policy,
    now: Callable[[], dt.datetime],
    depth: int,
    stop: Callable[[], bool],
    run: BackfillRun,
) -> None:
    with session_scope(engine) as session:
        row = session.get(BackfillCursor, (project, branch))
        if row is not None and row.finished_at is not None and row.depth >= depth:
            return
        head, last = (row.head, row.last_commit) if row is not None else (None, None)
        deeper = row is not None and row.depth < depth  # the setting was raised: re-plan
    reader = mirror.fetch(project, f"refs/heads/{branch}")
    repo = reader.repo
    head = head or reader.commit.hexsha
    # The plan is read again from the fixed head on every pass: the same list each time.
    plan = history(repo, head, history_globs(policy), limit=depth)
    if row is None:
        # The head first: the baseline of a branch watched since the last index pass (the
        # index job runs once per interval slot, so a restart inside one skips it);
        # nothing new when the index job recorded it already.
        baseline = index_commit(engine, reader, project, branch, head, policy=policy, now=now())
        if baseline.recorded:
            run.indexed.add(baseline)
    if row is None or deeper:
        _start(engine, project, branch, head, depth, len(plan), now())
        last = None  # a deeper plan starts further back; what is recorded is skipped cheaply
    start = plan.index(last) + 1 if last in plan else 0
    with lineage.remembering():  # each version checked where it changed
        _walk_plan(engine, repo, project, branch, policy, now, plan, start, stop, run)
        if run.stopped:
            return
    _finish(engine, project, branch, len(plan), now())
    run.finished.append(f"{project} {branch}")
    LOG.info(
        "backfill %s %s: finished, %d commit(s) of history indexed", project, branch, len(plan)
    )


def _walk_plan(
    engine: Engine,
    repo: git.Repo,
    project: str,
    branch: str,
    policy: Policy,
    now: Callable[[], dt.datetime],
    plan: Sequence[str],
    start: int,
    stop: Callable[[], bool],
    run: BackfillRun,
) -> None:
    for position, sha in enumerate(plan[start:], start=start + 1):
        if stop():
            run.stopped = True
            return
        try:
            result = index_commit(
                engine,
                GitReader(repo, sha),
                project,
                branch,
                sha,
                policy=policy,
                now=now(),
                verdicts=False,  # history: its reports go to the database
            )
            run.indexed.add(result)
        except GovbotError as exc:  # one bad commit: said, and the walk goes on
            LOG.warning("backfill %s %s %s: %s", project, branch, sha[:12], exc)
            run.indexed.errors.append(f"{project} {sha[:12]}: {exc}")
        _advance(engine, project, branch, sha, position, now())


def _start(
    engine: Engine,
    project: str,
    branch: str,
    head: str,
    depth: int,
    planned: int,
    now: dt.datetime,
) -> None:
    """The plan recorded: a new cursor, or an existing one reset to a deeper plan."""
    with session_scope(engine) as session:
        row = session.get(BackfillCursor, (project, branch))
        if row is None:
            row = BackfillCursor(project=project, branch=branch, head=head, started_at=now)
            session.add(row)
        row.depth, row.planned, row.done, row.last_commit = depth, planned, 0, None
        row.finished_at, row.error, row.updated_at = None, None, now
    LOG.info("backfill %s %s: %d commit(s) planned before %s", project, branch, planned, head[:12])


def _advance(
    engine: Engine, project: str, branch: str, sha: str, done: int, now: dt.datetime
) -> None:
    with session_scope(engine) as session:
        row = session.get(BackfillCursor, (project, branch))
        if row is not None:
            row.done, row.last_commit, row.updated_at, row.error = done, sha, now, None


def _finish(engine: Engine, project: str, branch: str, planned: int, now: dt.datetime) -> None:
    with session_scope(engine) as session:
        row = session.get(BackfillCursor, (project, branch))
        if row is not None:
            row.done, row.finished_at, row.updated_at = planned, now, now


def _note_error(engine: Engine, project: str, branch: str, error: str, now: dt.datetime) -> None:
    line = " ".join(error.split())[:500]
    with session_scope(engine) as session:
        row = session.get(BackfillCursor, (project, branch))
        if row is not None:
            row.error, row.updated_at = line, now


def backfill_job(
    engine: Engine,
    mirror: Any,
    *,
    policy: Policy,
    now: Callable[[], dt.datetime],
    watched: Sequence[tuple[str, str | None]],
    depth: int,
    owner: str,
    stop: Callable[[], bool] = lambda: False,
    ttl: dt.timedelta = dt.timedelta(minutes=30),
) -> BackfillRun | None:
    """The scheduler's ``backfill`` job: :func:`backfill_pass` under the ``backfill``
    lease (one process at a time). Errors are logged and swallowed; None when another
    process runs it or it failed."""

    def run() -> BackfillRun:
        return backfill_pass(
            engine, mirror, policy=policy, now=now, watched=watched, depth=depth, stop=stop
        )

    try:
        ran, result = run_leased(engine, JOB_NAME, owner, run, now=now, ttl=ttl)
    except Exception:  # the edge of a scheduler job: log, keep the scheduler alive
        LOG.exception("job=backfill failed")
        return None
    if ran and result is not None and (result.indexed.commits or result.indexed.errors):
        LOG.info(
            "job=backfill done: %d commit(s), %d snapshot(s), %d error(s)%s",
            result.indexed.commits,
            result.indexed.snapshots,
            len(result.indexed.errors),
            " (stopped)" if result.stopped else "",
        )
    return result


__all__ = [
    "JOB_NAME",
    "BackfillRun",
    "backfill",
    "backfill_job",
    "backfill_pass",
    "history",
    "history_globs",
]
