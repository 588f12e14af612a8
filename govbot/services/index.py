"""API health history: index the specs of merged commits (the ``index`` job).

The dashboard's history comes from merged states, not from changes in review. For one
commit of a project's branch, :func:`index_commit` checks every API spec there with the
``govbot check`` pipeline and records what the modules beside this one record:

* :mod:`govbot.services.index_snapshot`: per spec (or api-ref tree) whose content
  changed since the API's previous snapshot, the API snapshot with its findings,
  operations, deprecations and documents;
* :mod:`govbot.services.index_blueprints`: the use-case verdicts of the design specs
  (the policy's ``blueprints.specs`` globs);
* :mod:`govbot.services.index_cross`: after a run that recorded something, the
  cross-service inconsistencies (CON080-CON099) among the latest external specs.

Indexing is idempotent: a snapshot is unique per (API, commit), an API's files whose
content did not change are not snapshotted again, and every insert tolerates a second
process doing the same.

Entry points: :func:`index_job` (the scheduler: merged changes since a cursor, through the
Gerrit client, plus the branch heads when a git mirror is configured; :func:`index_pass`
is one such pass without the lease, ``govbot index``), and :func:`record_queue` (the
review queue as the last escalation pass assessed it). ``govbot backfill`` and the
background backfill are :mod:`govbot.services.backfill`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

import git
from sqlalchemy import Engine, delete, insert

from govbot.apiref.tree import api_ref_directories
from govbot.blueprints import BlueprintConfig
from govbot.db.leases import run_leased
from govbot.db.models import IndexCursor, QueueState
from govbot.db.session import session_scope
from govbot.errors import GovbotError
from govbot.gerrit.changes import CURSOR_OVERLAP
from govbot.gerrit.sources import RevisionReader, change_ref, first_parent_files
from govbot.policy import Policy
from govbot.services.index_blueprints import index_blueprints
from govbot.services.index_cross import refresh_cross_findings
from govbot.services.index_evaluate import SpecsEvaluation, evaluate_specs
from govbot.services.index_snapshot import (
    CommitAt,
    IndexResult,
    IndexRun,
    TreeReader,
    index_specs,
)

LOG = logging.getLogger(__name__)

JOB_NAME = "index"
# Without a cursor (first run) the job looks this far back; older history is backfill's.
FIRST_LOOKBACK = dt.timedelta(days=30)
MERGED_OPTIONS = ("CURRENT_REVISION",)
DEFAULT_BRANCH = "master"

_REVIEWED_ON = re.compile(r"^Reviewed-on:\s*\S*?/(?:\+/)?(\d+)/?\s*$", re.MULTILINE)


# --- one commit ----------------------------------------------------------------------------


def index_commit(
    engine: Engine,
    reader: TreeReader,
    project: str,
    branch: str,
    commit: str,
    *,
    policy: Policy,
    now: dt.datetime,
    merged_at: dt.datetime | None = None,
    change_number: int | None = None,
    files: Iterable[str] | None = None,
    evaluation: SpecsEvaluation | None = None,
    verdicts: bool = True,
) -> IndexResult:
    """Record the API specs (and design specs) of ``project``'s ``branch`` at ``commit``.

    ``reader`` reads the commit's files (a :class:`~govbot.sources.GitReader`, or a
    Gerrit revision reader); the specs are the files matching the policy's globs among
    ``files`` (default: every file of the reader's tree, which needs a ``files()``
    method). ``merged_at`` defaults to the commit's committer time when the reader
    knows it, else ``now``. Findings are judged as of ``now``'s date. ``evaluation``:
    the check of its specs, made already (:func:`evaluate_commit`). ``verdicts=False``
    (a backfill): the check neither reads nor stores the verdict cache.
    """
    result = IndexResult(project, branch, commit)
    listing = list(files) if files is not None else list(_tree_files(reader))
    when = merged_at or _commit_time(reader) or now
    if change_number is None:
        change_number = _change_number(reader)
    at = CommitAt(project, branch, commit, policy, now, when, change_number, verdicts)

    spec_files = _spec_files(reader, policy, listing)
    if spec_files:
        index_specs(engine, reader, at, spec_files, result, evaluation=evaluation)

    bp_config = BlueprintConfig.from_policy(policy)
    design = sorted(p for p in listing if bp_config.is_spec(p) and not bp_config.is_template(p))
    if design:
        index_blueprints(engine, reader, at, design, listing, result)
    if result.recorded:
        LOG.info(
            "indexed %s %s@%s: %d snapshot(s), %d blueprint(s)",
            project,
            branch,
            commit[:12],
            len(result.snapshots),
            len(result.blueprints),
        )
    return result


def evaluate_commit(
    reader: TreeReader, project: str, *, policy: Policy, now: dt.datetime, verdicts: bool = True
) -> SpecsEvaluation | None:
    """The check of a commit's specs that :func:`index_commit` would make, made without
    the database (a backfill worker's part); None when the commit has no spec."""
    spec_files = _spec_files(reader, policy, list(_tree_files(reader)))
    if not spec_files:
        return None
    return evaluate_specs(reader, policy, project, now.date(), spec_files, verdicts=verdicts)


def _spec_files(reader: TreeReader, policy: Policy, listing: Sequence[str]) -> list[str]:
    """The API specs of a commit: spec files, then api-ref trees."""
    spec_files = sorted(p for p in listing if policy.is_spec(p))
    if any(policy.watches_api_ref(p) for p in listing):
        spec_files += api_ref_directories(listing, reader.read)
    return spec_files


# --- the index job: merged changes through Gerrit, branch heads through a mirror -----------


class MergedChangeClient(Protocol):
    """The part of :class:`~govbot.gerrit.client.GerritClient` the index job uses."""

    def query_all(self, q: str, *, options: Sequence[str] = ...) -> Iterator[Any]: ...

    def files(self, change: Any, revision: str = ..., *, parent: int | None = ...) -> Any: ...

    def content(self, change: Any, revision: str, path: str, **kwargs: Any) -> bytes: ...


def merged_query(project: str, branch: str | None, after: dt.datetime) -> str:
    """Merged changes of one project/branch updated after ``after`` (UTC)."""
    when = after.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    terms = ["status:merged", f"project:{{{project}}}"]
    if branch:
        terms.append(f"branch:{{{branch}}}")
    terms.append(f'after:"{when}"')
    return " ".join(terms)


def index_merged(
    engine: Engine,
    client: MergedChangeClient,
    *,
    policy: Policy,
    now: dt.datetime,
    watched: Sequence[tuple[str, str | None]],
    mirror: Any = None,
) -> IndexRun:
    """Index the changes merged on each watched project/branch since its cursor.

    With a :class:`~govbot.gerrit.mirror.GitMirror` each merged patch set is fetched and
    every spec of its tree is checked; without one the specs the change touched are read
    over REST (``$ref``s to other files too). A failing project is logged and reported,
    its cursor stays, and the others carry on.
    """
    run = IndexRun()
    for project, branch in watched:
        try:
            _index_merged_one(engine, client, project, branch, policy, now, mirror, run)
        except (GovbotError, git.GitCommandError, OSError) as exc:
            LOG.warning("index %s %s: %s", project, branch or "*", exc)
            run.errors.append(f"{project}: {exc}")
    return run


def _index_merged_one(
    engine: Engine,
    client: MergedChangeClient,
    project: str,
    branch: str | None,
    policy: Policy,
    now: dt.datetime,
    mirror: Any,
    run: IndexRun,
) -> None:
    key = branch or "*"
    with session_scope(engine) as session:
        cursor = session.get(IndexCursor, (project, key))
        after = (cursor.last_updated - CURSOR_OVERLAP) if cursor else now - FIRST_LOOKBACK
    changes = list(client.query_all(merged_query(project, branch, after), options=MERGED_OPTIONS))
    changes.sort(key=lambda c: (c.submitted or c.updated, c.number))
    newest = cursor.last_updated if cursor else None
    for change in changes:
        if not change.current_revision:
            continue
        result = _index_change(engine, client, project, change, policy, now, mirror)
        if result is not None:
            run.add(result)
        newest = max(newest or change.updated, change.updated)
    if newest is not None:
        _advance_cursor(engine, project, key, newest, now)


def _index_change(
    engine: Engine,
    client: MergedChangeClient,
    project: str,
    change: Any,
    policy: Policy,
    now: dt.datetime,
    mirror: Any,
) -> IndexResult | None:
    """Index one merged change: its whole tree from the mirror, or without one the
    specs it touched over REST. None when it touched no spec (read over REST)."""
    revision = change.current_revision
    merged_at = change.submitted or change.updated
    files: list[str] | None = None
    if mirror is not None:
        ps = change.current_revision_number or 1
        reader: Any = mirror.fetch(
            project, change_ref(change.number, ps), branch=change.branch, commit=revision
        )
    else:
        changed = first_parent_files(client, change.number, revision)
        paths = [p for p in changed if not p.startswith("/")]
        design = BlueprintConfig.from_policy(policy)
        files = [p for p in paths if policy.is_spec(p) or design.is_spec(p)]
        if not files:
            return None
        reader = RevisionReader(client, change.number, revision, parent=False)  # type: ignore[arg-type]
    return index_commit(
        engine,
        reader,
        project,
        change.branch,
        revision,
        policy=policy,
        now=now,
        merged_at=merged_at,
        change_number=change.number,
        files=files,
    )


def _advance_cursor(
    engine: Engine, project: str, key: str, newest: dt.datetime, now: dt.datetime
) -> None:
    with session_scope(engine) as session:
        row = session.get(IndexCursor, (project, key))
        if row is None:
            session.add(
                IndexCursor(project=project, branch=key, last_updated=newest, updated_at=now)
            )
        elif row.last_updated < newest:
            row.last_updated = newest
            row.updated_at = now


def index_heads(
    engine: Engine,
    mirror: Any,
    *,
    policy: Policy,
    now: dt.datetime,
    watched: Sequence[tuple[str, str | None]],
) -> IndexRun:
    """Fetch each watched branch's head into the mirror and index it (the periodic scan).

    Catches what the merged-change query cannot see: direct pushes, and the commits a
    rebase or cherry-pick submit strategy creates. A watch without a branch scans
    ``master``.
    """
    run = IndexRun()
    for project, branch in watched:
        name = branch or DEFAULT_BRANCH
        ref = f"refs/heads/{name}"
        try:
            reader = mirror.fetch(project, ref)
            result = index_commit(
                engine,
                reader,
                project,
                name,
                reader.commit.hexsha,
                policy=policy,
                now=now,
            )
            run.add(result)
        except (GovbotError, git.GitCommandError, OSError, ValueError) as exc:
            LOG.warning("index %s %s: %s", project, name, exc)
            run.errors.append(f"{project}: {exc}")
    return run


def index_pass(
    engine: Engine,
    *,
    policy: Policy,
    now: Callable[[], dt.datetime],
    watched: Sequence[tuple[str, str | None]],
    client: MergedChangeClient | None = None,
    mirror: Any = None,
) -> IndexRun:
    """One index pass: merged changes (``client``) and branch heads (``mirror``); either
    may be None. The cross-service findings are recomputed when something new was
    recorded. Per-project failures are in the result's ``errors``."""
    total = IndexRun()
    if client is not None:
        part = index_merged(
            engine,
            client,
            policy=policy,
            now=now(),
            watched=watched,
            mirror=mirror,
        )
        _merge(total, part)
    if mirror is not None:
        part = index_heads(engine, mirror, policy=policy, now=now(), watched=watched)
        _merge(total, part)
    if total.snapshots:
        total.cross_findings = refresh_cross_findings(engine, policy=policy, now=now())
    return total


def index_job(
    engine: Engine,
    *,
    policy: Policy,
    now: Callable[[], dt.datetime],
    watched: Sequence[tuple[str, str | None]],
    owner: str,
    client_factory: Callable[[], MergedChangeClient | None] | None = None,
    mirror: Any = None,
    ttl: dt.timedelta = dt.timedelta(minutes=30),
    slot: dt.datetime | None = None,
) -> IndexRun | None:
    """The scheduler's ``index`` job: :func:`index_pass` under the ``index`` lease.

    Runs once across processes (per ``slot`` when one is given). Either source may be
    absent. Errors are logged and swallowed; None when another process ran it or it
    failed.
    """

    def run() -> IndexRun:
        client = client_factory() if client_factory is not None else None
        try:
            return index_pass(
                engine,
                policy=policy,
                now=now,
                watched=watched,
                client=client,
                mirror=mirror,
            )
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()

    try:
        ran, result = run_leased(engine, JOB_NAME, owner, run, now=now, ttl=ttl, slot=slot)
    except Exception:  # the edge of a scheduler job: log, keep the scheduler alive
        LOG.exception("job=index failed")
        return None
    if ran and result is not None:
        LOG.info(
            "job=index done: %d commit(s), %d snapshot(s), %d blueprint(s), %d error(s)",
            result.commits,
            result.snapshots,
            result.blueprints,
            len(result.errors),
        )
    return result


def _merge(total: IndexRun, part: IndexRun) -> None:
    total.commits += part.commits
    total.snapshots += part.snapshots
    total.blueprints += part.blueprints
    total.evaluated += part.evaluated
    total.errors.extend(part.errors)


# --- the review queue ----------------------------------------------------------------------


def record_queue(engine: Engine, report: Any, now: dt.datetime | None = None) -> int:
    """Keep the review queue as an escalation pass (an ``EscalationReport``) assessed it.

    The dashboard reads stale and at-risk changes from here, without asking Gerrit.
    Changes no longer among the candidates leave the queue. Returns the queue's size.
    """
    if report is None or not getattr(report, "enabled", True):
        return 0
    when = now or report.now
    rows = []
    for c in report.candidates:
        a = c.assessment
        if a.stale:
            state = "stale"
        elif a.at_risk:
            state = "at-risk"
        elif a.eligible:
            state = "waiting"
        else:
            state = "skipped"
        rows.append(
            {
                "change_number": a.number,
                "project": a.project,
                "branch": a.branch,
                "subject": a.subject,
                "owner": a.owner,
                "state": state,
                "skip_reason": str(a.skip_reason) if a.skip_reason else None,
                "waited_days": float(a.waited_days),
                "clock_start": a.clock_start,
                "due_at": a.due_at,
                "action": c.action,
                "assignee": c.assignee,
                "reason": a.reason,
                "assessed_at": when,
            }
        )
    with session_scope(engine) as session:
        session.execute(delete(QueueState))
        if rows:
            session.execute(insert(QueueState), rows)
    return len(rows)


# --- helpers -------------------------------------------------------------------------------


def _tree_files(reader: TreeReader) -> Iterator[str]:
    files = getattr(reader, "files", None)
    if files is None:
        raise TypeError(f"{reader!r} cannot list its files: pass files=")
    yield from files()


def _commit_time(reader: TreeReader) -> dt.datetime | None:
    commit = getattr(reader, "commit", None)
    when = getattr(commit, "committed_datetime", None)
    return when.astimezone(dt.UTC) if isinstance(when, dt.datetime) else None


def _change_number(reader: TreeReader) -> int | None:
    """The change number in a ``Reviewed-on:`` footer (Gerrit's reviewnotes), if any."""
    commit = getattr(reader, "commit", None)
    message = getattr(commit, "message", None)
    if not isinstance(message, str):
        return None
    match = _REVIEWED_ON.search(message)
    return int(match.group(1)) if match else None


__all__ = [
    "IndexResult",
    "IndexRun",
    "evaluate_commit",
    "index_commit",
    "index_heads",
    "index_job",
    "index_merged",
    "index_pass",
    "merged_query",
    "record_queue",
    "refresh_cross_findings",
]
