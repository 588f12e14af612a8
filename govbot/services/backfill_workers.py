"""``govbot backfill --jobs N``: the commits' checks made in worker processes, a few
commits ahead of the one being recorded.

Checking a commit's specs (:func:`govbot.services.index.evaluate_commit`) needs no
database and is nearly all of a backfill's time; recording it does, and must go in
order (a snapshot's deprecations date from the snapshots before it). So N worker
processes check the commits of the walk, each a run of :data:`RUN` consecutive commits
in turn (a worker checks a version where it changed since the last one it checked,
:mod:`govbot.openapi.lineage`: the one just before it, but for the first of a run), at
most ``N + 1`` runs ahead, and the walking process records each in turn with the check
its worker made. A worker reads the repository
itself (its own git processes) and skips a commit whose spec files did not change since
the commit before it in the walk; a commit it skipped or failed on is checked by the
walking process as without workers, so errors are reported as they always are. When a
worker dies (killed for its memory...), the walk checks the commits left itself.

Most commits of a history leave a spec's findings and operations as they were: a worker
sends a spec's finding or operation rows only when their digest differs from the one it
sent last for that spec, and the walk puts back the rows it received last from that
worker under that digest (:class:`Sent`). Hundreds of rows a commit were pickled, sent
and unpickled for nothing, and held in the walking process while they waited.

The workers are forked where the platform can (they inherit the parsed policy); a
worker never touches the walking process's database connections.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import git

from govbot.openapi import lineage
from govbot.policy import Policy
from govbot.services.index import evaluate_commit
from govbot.services.index_evaluate import SpecRecord, SpecsEvaluation
from govbot.sources import GitReader, open_repo

LOG = logging.getLogger(__name__)

_WORKER: dict[str, Any] = {}


# Each worker holds a spec's parsed documents and its check (~150 MB for a 2 MB spec):
# the default stops here on a big machine; --jobs asks for more.
DEFAULT_MAX_WORKERS = 8
# Consecutive commits one worker checks in a row. Commits dealt one by one would give
# each of N workers every N-th commit, whose differences are N times as big; the first
# commit of each run is such a commit (its worker checked the one N runs before last).
RUN = 64
# The rows a worker may leave out of what it sends, when they are those it sent last.
_ROW_KINDS = ("findings", "operations")


@dataclass(frozen=True)
class Sent:
    """A worker's check of a commit as sent to the walk: the records of ``evaluation``
    have no rows of the kinds named in ``omitted`` (path -> kinds), which are the rows
    of the same digest the worker sent last for that path."""

    evaluation: SpecsEvaluation
    omitted: Mapping[str, tuple[str, ...]]


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """How many worker processes ``govbot backfill`` starts unless told: one per CPU,
    at most :data:`DEFAULT_MAX_WORKERS`."""
    return min(usable_cpus(), DEFAULT_MAX_WORKERS)


def _start(git_dir: str, project: str, policy: Policy, now: dt.datetime) -> None:
    _WORKER.update(repo=open_repo(git_dir), project=project, policy=policy, now=now, sent={})
    lineage.remember()  # each version checked where it changed since this worker's last


def _evaluate(sha: str, previous: str | None) -> Sent | None:
    repo: git.Repo = _WORKER["repo"]
    policy: Policy = _WORKER["policy"]
    if previous is not None and not _touches_specs(repo, previous, sha, policy):
        return None
    reader = GitReader(repo, sha)
    try:
        evaluation = evaluate_commit(
            reader, _WORKER["project"], policy=policy, now=_WORKER["now"], verdicts=False
        )
        return _slim(evaluation, _WORKER["sent"]) if evaluation is not None else None
    finally:
        settle()


def _slim(evaluation: SpecsEvaluation, sent: dict[tuple[str, str], str]) -> Sent:
    """``evaluation`` without the rows whose digest is the one last sent for the same
    path and kind (``sent``: (path, kind) -> digest, brought up to date)."""
    records: dict[str, SpecRecord] = {}
    omitted: dict[str, tuple[str, ...]] = {}
    for path, record in evaluation.records.items():
        left: list[str] = []
        for kind in _ROW_KINDS:
            digest = getattr(record, f"{kind}_digest")
            if sent.get((path, kind)) == digest and getattr(record, kind):
                left.append(kind)
            sent[path, kind] = digest
        if left:
            omitted[path] = tuple(left)
            record = dataclasses.replace(record, **dict.fromkeys(left, ()))
        records[path] = record
    return Sent(dataclasses.replace(evaluation, records=records), omitted)


def _restore(sent: Sent, held: dict[tuple[str, str], tuple[str, Any]]) -> SpecsEvaluation | None:
    """The evaluation ``sent`` stands for, its omitted rows put back from ``held`` ((path,
    kind) -> (digest, rows) the same worker sent last, brought up to date); None when
    the rows of a digest left out are not held (a result of that worker was lost)."""
    records: dict[str, SpecRecord] = {}
    for path, record in sent.evaluation.records.items():
        restored: dict[str, Any] = {}
        for kind in _ROW_KINDS:
            digest = getattr(record, f"{kind}_digest")
            if kind in sent.omitted.get(path, ()):
                last = held.get((path, kind))
                if last is None or last[0] != digest:
                    return None
                restored[kind] = last[1]
            else:
                held[path, kind] = (digest, getattr(record, kind))
        records[path] = dataclasses.replace(record, **restored) if restored else record
    return dataclasses.replace(sent.evaluation, records=records)


# A full collection every so many commits frees what the frozen heap holds in cycles.
FULL_COLLECTION_EVERY = 64
_settled = [0]


def settle() -> None:
    """After a commit's check in a long walk: the objects alive now leave the garbage
    collector's generations (:func:`gc.freeze`), and every
    :data:`FULL_COLLECTION_EVERY` commits come back for one full collection.

    A check of a 2 MB spec makes about a million objects, and the previous version
    stays alive for the next (:mod:`govbot.openapi.lineage`); with them in its
    generations the collector scanned them again and again, a fifth of a backfill's
    time. Frozen objects are still freed when nothing refers to them (reference
    counting); only garbage in cycles waits for the next full collection.
    """
    _settled[0] += 1
    if _settled[0] % FULL_COLLECTION_EVERY == 0:
        gc.unfreeze()
        gc.collect()
    else:
        gc.collect(1)  # the young garbage, cycles included, before it is frozen
    gc.freeze()


def _touches_specs(repo: git.Repo, previous: str, sha: str, policy: Policy) -> bool:
    """Whether a spec file or a watched api-ref file differs between the two commits."""
    changed = repo.git.diff_tree("-r", "--name-only", "--no-renames", previous, sha).splitlines()
    return any(policy.is_spec(p) or policy.watches_api_ref(p) for p in changed if p)


class Ahead:
    """The checks of ``commits``, made by ``jobs`` worker processes ahead of
    :meth:`take`, which must be asked for the commits in order."""

    def __init__(
        self,
        repo: git.Repo,
        commits: Sequence[str],
        project: str,
        *,
        policy: Policy,
        now: dt.datetime,
        jobs: int,
    ) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        # One pool of one process per worker, so that a run goes to one worker.
        self._pools = [
            ProcessPoolExecutor(
                max_workers=1,
                mp_context=context,
                initializer=_start,
                initargs=(str(repo.git_dir), project, policy, now),
            )
            for _ in range(jobs)
        ]
        # Enough for every worker to be busy: while the walk records a worker's run, the
        # others check the next ones and that worker the one after them. (Each check
        # waits here until recorded: a wider window only holds more of them.)
        self._window = (jobs + 1) * RUN
        self._queue: Iterator[tuple[int, tuple[str, str | None]]] = enumerate(
            zip(commits, [None, *commits[:-1]], strict=True)
        )
        self._pending: deque[tuple[str, int, Future[Sent | None]]] = deque()
        # Per worker, the rows it sent last of each path and kind (see _restore).
        self._held: list[dict[tuple[str, str], tuple[str, Any]]] = [{} for _ in range(jobs)]
        self._broken = False
        self._fill()

    def _fill(self) -> None:
        while not self._broken and len(self._pending) < self._window:
            step = next(self._queue, None)
            if step is None:
                return
            position, (sha, previous) = step
            worker = (position // RUN) % len(self._pools)
            try:
                future = self._pools[worker].submit(_evaluate, sha, previous)
                self._pending.append((sha, worker, future))
            except BrokenExecutor:
                self._lost()

    def _lost(self) -> None:
        if not self._broken:
            LOG.warning("backfill: a worker process died; the walk checks the commits left")
        self._broken = True

    def take(self, sha: str) -> SpecsEvaluation | None:
        """The check of ``sha`` (the next commit); None: the walking process checks it."""
        if not self._pending or self._pending[0][0] != sha:
            return None
        _, worker, future = self._pending.popleft()
        self._fill()
        try:
            sent = future.result()
            return _restore(sent, self._held[worker]) if sent is not None else None
        except BrokenExecutor:  # a worker was killed (out of memory...): no more workers
            self._lost()
            return None
        except Exception:  # the edge of a worker: the walking process checks it again
            return None

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "DEFAULT_MAX_WORKERS",
    "FULL_COLLECTION_EVERY",
    "RUN",
    "Ahead",
    "Sent",
    "default_workers",
    "settle",
    "usable_cpus",
]
