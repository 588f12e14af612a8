"""The API snapshot of a merged commit: what :func:`govbot.services.index.index_commit`
records per spec whose content changed since the API's previous snapshot.

* an :class:`~govbot.db.models.ApiSnapshot`: commit, merge time, change number, title and
  version, operations by audience, findings by severity, deprecations;
* its findings (``snapshot_findings``) and its operations with the audience evidence
  (``api_operations``), each kind stored once per content: a snapshot whose rows are
  row for row an earlier snapshot's reads that one's (``findings_of``,
  ``operations_of``); its deprecated operations with sunset and replacement
  (``api_deprecations``);
* the bytes of every file it was read from (``spec_documents``, by content digest), so
  that the cross-service check can run later from the database alone.

An OpenStack api-ref tree of the commit is one API like a spec file, read with its
project's policy defaults and microversion ledger: a change of either makes a snapshot
too, since it changes who may call the operations or the API's version.

What is recorded is worked out first, without the database
(:mod:`govbot.services.index_evaluate`), so that a backfill can do that part in worker
processes. Also here: what one commit's indexing reports (:class:`IndexResult`, :class:`IndexRun`)
and the commit it is about (:class:`CommitAt`), which the design-spec and cross-service
modules share.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Integer, Select, Update, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from govbot.db.models import (
    ApiDeprecation,
    ApiOperation,
    ApiSnapshot,
    ApiSpec,
    SnapshotFinding,
    SpecDocument,
)
from govbot.db.session import insert_ignore, session_scope
from govbot.db.types import UTCDateTime
from govbot.findings import Audience
from govbot.openapi.splice import common_ends
from govbot.policy import Policy
from govbot.services.index_evaluate import (
    SpecRecord,
    SpecsEvaluation,
    TreeReader,
    evaluate_specs,
)


@dataclass(frozen=True)
class CommitAt:
    """The commit being indexed, when it merged, and the policy it is judged under."""

    project: str
    branch: str
    commit: str
    policy: Policy
    now: dt.datetime  # findings are judged as of this date
    when: dt.datetime  # merge time
    change_number: int | None = None
    verdicts: bool = True  # read and store the check's report in the verdict cache


@dataclass
class IndexResult:
    """What one :func:`~govbot.services.index.index_commit` recorded."""

    project: str
    branch: str
    commit: str
    snapshots: list[str] = field(default_factory=list)  # spec files snapshotted
    unchanged: list[str] = field(default_factory=list)  # content as in the previous snapshot
    blueprints: list[str] = field(default_factory=list)  # design specs judged
    problems: list[str] = field(default_factory=list)  # specs that could not be loaded
    evaluated: int = 0  # checks of its specs run: 0 when their content was known

    @property
    def recorded(self) -> bool:
        return bool(self.snapshots or self.blueprints)


@dataclass
class IndexRun:
    """What one run of the index job (or a backfill) did."""

    commits: int = 0
    snapshots: int = 0
    blueprints: int = 0
    cross_findings: int | None = None  # None: not recomputed (nothing new)
    errors: list[str] = field(default_factory=list)
    evaluated: int = 0  # commits whose specs were checked (the others' were known)

    def add(self, result: IndexResult) -> None:
        self.commits += 1
        self.evaluated += result.evaluated
        self.snapshots += len(result.snapshots)
        self.blueprints += len(result.blueprints)


def index_specs(
    engine: Engine,
    reader: TreeReader,
    at: CommitAt,
    spec_files: Sequence[str],
    result: IndexResult,
    *,
    evaluation: SpecsEvaluation | None = None,
) -> None:
    """Snapshot every spec of ``spec_files`` whose content changed (all of them are
    checked together, so that rules across them run too). ``evaluation``: that check,
    made already (by a backfill worker); made here when absent or of other files."""
    changed = [path for path in spec_files if _needs_snapshot(engine, reader, at, path)]
    result.unchanged.extend(p for p in spec_files if p not in changed)
    if not changed:
        return
    if evaluation is None or evaluation.spec_files != tuple(spec_files):
        evaluation = evaluate_specs(
            reader, at.policy, at.project, at.now.date(), spec_files, verdicts=at.verdicts
        )
    result.problems.extend(evaluation.problems)
    if not evaluation.records:
        return
    result.evaluated += 1
    for path in changed:
        record = evaluation.records.get(path)
        if record is None:
            continue
        documents = _store_documents(engine, reader, record.documents, at)
        if _record_snapshot(engine, at, record, documents):
            result.snapshots.append(path)
        if record.problem is not None:
            result.problems.append(f"{path}: {record.problem}")


def _needs_snapshot(engine: Engine, reader: TreeReader, at: CommitAt, path: str) -> bool:
    """False when this commit is recorded already, or the spec's files are byte for byte
    those of the API's previous snapshot (cheap: reads and hashes those files only)."""
    with session_scope(engine) as session:
        api_id = session.scalar(
            _statements().api_id, {"project": at.project, "branch": at.branch, "file": path}
        )
        if api_id is None:
            return True
        if session.scalar(_statements().snapshot_id, {"api_id": api_id, "commit": at.commit}):
            return False
        previous = session.scalar(
            _statements().previous_documents, {"api_id": api_id, "when": at.when}
        )
    if not previous or not any(d == path or d.startswith(path + "/") for d in previous):
        return True  # never snapshotted (an api-ref tree: none of its files)
    for doc, digest in previous.items():
        try:
            data = reader.read(doc)
        except (FileNotFoundError, PermissionError, OSError):
            return True
        if content_digest(data) != digest:
            return True
    return False


def _record_snapshot(
    engine: Engine, at: CommitAt, record: SpecRecord, documents: Mapping[str, str]
) -> bool:
    """Insert one snapshot with its rows; False when another process recorded it first."""
    summary = dict(record.summary)
    findings, ops = record.findings, record.operations
    with session_scope(engine) as session:
        api_id = _api_id(session, at, record.file, summary["audience"])
        since = _deprecated_since(session, api_id, at.when)
        deprecations = [
            {**row, "deprecated_since": since.get(row["key"], at.when)}
            for row in record.deprecations
        ]
        statements = _statements()
        shared = _owner(session, statements.operations_owner, api_id, record.operations_digest, ops)
        shared_findings = _owner(
            session, statements.findings_owner, api_id, record.findings_digest, findings
        )
        values = {
            **summary,
            "operations_digest": record.operations_digest,
            "operations_of": shared,
            "findings_digest": record.findings_digest,
            "findings_of": shared_findings,
            "api_id": api_id,
            "project": at.project,
            "branch": at.branch,
            "file": record.file,
            "commit": at.commit,
            "merged_at": at.when,
            "change_number": at.change_number,
            "indexed_at": at.now,
            "deprecated": len(deprecations),
            "policy_digest": at.policy.digest,
            "documents": dict(documents),
        }
        if not insert_ignore(session, ApiSnapshot, values, conflict=["api_id", "commit"]):
            return False
        snapshot_id = session.scalar(
            _statements().snapshot_id, {"api_id": api_id, "commit": at.commit}
        )
        # Into the tables, not through the ORM's bulk inserts: the rows are plain values
        # with nothing to track, and the ORM's bookkeeping of some 800 rows per snapshot
        # of a big spec was a fifth of the time of recording it.
        if findings and shared_findings is None:
            session.execute(
                insert(SnapshotFinding.__table__),
                [{**r, "snapshot_id": snapshot_id} for r in findings],
            )
        if ops and shared is None:
            session.execute(
                insert(ApiOperation.__table__), [{**r, "snapshot_id": snapshot_id} for r in ops]
            )
        if deprecations:
            session.execute(
                insert(ApiDeprecation.__table__),
                [{**r, "snapshot_id": snapshot_id} for r in deprecations],
            )
            _backdate_deprecations(session, api_id, deprecations, at.when)
        _update_latest(session, api_id, snapshot_id, at, values, deprecations)
    return True


def _owner(
    session: Session, owner: Select[Any], api_id: int, digest: str, rows: Sequence[Any]
) -> int | None:
    """The snapshot of the API holding rows of ``digest``, found by ``owner`` (one of
    :class:`_Statements`' ``*_owner``); None if none (or no rows: nothing to share)."""
    if not rows or not digest:
        return None
    return session.scalar(owner, {"api_id": api_id, "digest": digest})


def _backdate_deprecations(
    session: Session, api_id: int, deprecations: Sequence[Mapping[str, Any]], when: dt.datetime
) -> None:
    """An older commit indexed after newer ones (backfill behind the job): the later
    snapshots' deprecations date from here at the latest."""
    session.execute(
        _statements().backdate,
        {"api_id": api_id, "when": when, "keys": [d["key"] for d in deprecations]},
    )


_LATEST_COLUMNS = (
    "title",
    "version",
    "audience",
    "ops_external",
    "ops_external_admin",
    "ops_internal",
    "errors",
    "warnings",
    "infos",
    "deprecated",
    "problem",
)


def _update_latest(
    session: Session,
    api_id: int,
    snapshot_id: int | None,
    at: CommitAt,
    values: Mapping[str, Any],
    deprecations: Sequence[Mapping[str, Any]],
) -> None:
    """The API shows its newest merged state; an older commit (backfill running behind
    the job) only adds history."""
    sunsets = [d["sunset"] for d in deprecations if d["sunset"] is not None]
    session.execute(
        _statements().latest,
        {
            "api_id_": api_id,
            "when_": at.when,
            "latest_snapshot_id": snapshot_id,
            "commit": at.commit,
            "merged_at": at.when,
            "indexed_at": at.now,
            "next_sunset": min(sunsets) if sunsets else None,
            **{column: values[column] for column in _LATEST_COLUMNS},
        },
    )


def _api_id(session: Session, at: CommitAt, file: str, audience: Audience) -> int:
    insert_ignore(
        session,
        ApiSpec,
        {
            "project": at.project,
            "branch": at.branch,
            "file": file,
            "title": "",
            "version": "",
            "audience": audience,
            "commit": at.commit,
            "merged_at": at.when,
            "indexed_at": at.now,
        },
        conflict=["project", "branch", "file"],
    )
    api_id = session.scalar(
        _statements().api_id, {"project": at.project, "branch": at.branch, "file": file}
    )
    assert api_id is not None
    return api_id


def _deprecated_since(session: Session, api_id: int, when: dt.datetime) -> dict[str, dt.datetime]:
    """Operation key -> since when it is deprecated, from the API's previous snapshot."""
    rows = session.execute(_statements().deprecated_since, {"api_id": api_id, "when": when})
    return {key: since for key, since in rows}


@dataclass(frozen=True)
class _Statements:
    """The statements recording a snapshot runs, built once: a backfill runs each of
    them at every commit, and building one costs more than running it on SQLite."""

    api_id: Select[Any]
    snapshot_id: Select[Any]
    previous_documents: Select[Any]
    operations_owner: Select[Any]
    findings_owner: Select[Any]
    deprecated_since: Select[Any]
    backdate: Update
    latest: Update


@functools.cache
def _statements() -> _Statements:
    snapshot, deprecation, spec = ApiSnapshot, ApiDeprecation, ApiSpec.__table__
    api_id, when = bindparam("api_id", type_=Integer), bindparam("when", type_=UTCDateTime)
    newest = (snapshot.merged_at.desc(), snapshot.id.desc())
    previous = (
        select(snapshot.id)
        .where(snapshot.api_id == api_id, snapshot.merged_at < when)
        .order_by(*newest)
        .limit(1)
        .scalar_subquery()
    )
    later = select(snapshot.id).where(snapshot.api_id == api_id, snapshot.merged_at > when)
    return _Statements(
        api_id=select(ApiSpec.id).where(
            ApiSpec.project == bindparam("project"),
            ApiSpec.branch == bindparam("branch"),
            ApiSpec.file == bindparam("file"),
        ),
        snapshot_id=select(snapshot.id).where(
            snapshot.api_id == api_id, snapshot.commit == bindparam("commit")
        ),
        previous_documents=select(snapshot.documents)
        .where(snapshot.api_id == api_id, snapshot.merged_at <= when)
        .order_by(*newest)
        .limit(1),
        operations_owner=select(func.coalesce(snapshot.operations_of, snapshot.id))
        .where(snapshot.api_id == api_id, snapshot.operations_digest == bindparam("digest"))
        .limit(1),
        findings_owner=select(func.coalesce(snapshot.findings_of, snapshot.id))
        .where(snapshot.api_id == api_id, snapshot.findings_digest == bindparam("digest"))
        .limit(1),
        deprecated_since=select(deprecation.key, deprecation.deprecated_since).where(
            deprecation.snapshot_id == previous
        ),
        backdate=update(deprecation)
        .where(
            deprecation.snapshot_id.in_(later),
            deprecation.key.in_(bindparam("keys", expanding=True)),
            deprecation.deprecated_since > when,
        )
        .values(deprecated_since=when),
        # The SET columns are the parameters' (all but the two the WHERE names).
        latest=spec.update().where(
            spec.c.id == bindparam("api_id_", type_=Integer),
            spec.c.latest_snapshot_id.is_(None)
            | (spec.c.merged_at <= bindparam("when_", type_=UTCDateTime)),
        ),
    )


def _store_documents(
    engine: Engine, reader: TreeReader, paths: Sequence[str], at: CommitAt
) -> dict[str, str]:
    """Keep the bytes of every file of a spec (once per content); path -> digest. A new
    version of a file this process stored before is kept as its difference from that
    one (:func:`_difference`)."""
    out: dict[str, str] = {}
    with session_scope(engine) as session:
        for path in paths:
            try:
                data = reader.read(path)
            except (FileNotFoundError, PermissionError, OSError):
                continue
            digest = content_digest(data)
            out[path] = digest
            key = (at.project, at.branch, path)
            last = _STORED.pop(key, None)
            values: dict[str, Any] = {
                "digest": digest,
                "content": data,
                "size": len(data),
                "created_at": utcnow(),
            }
            if last is not None and last[0] != digest:
                values.update(_difference(session, last, data))
            insert_ignore(session, SpecDocument, values, conflict=["digest"])
            while len(_STORED) >= STORED_FILES:
                _STORED.pop(next(iter(_STORED)))
            _STORED[key] = (digest, data)
    return out


# The last version of each file this process stored (per project and branch), most
# recent last: the next version is kept as its difference from it.
_STORED: dict[tuple[str, str, str], tuple[str, bytes]] = {}
STORED_FILES = 8
# A version stands on at most this many bases (then it is kept whole), so that reading
# one back takes a few rows, not the file's whole history.
MAX_BASES = 16


def _difference(session: Session, last: tuple[str, bytes], data: bytes) -> dict[str, Any]:
    """The columns that keep ``data`` as its difference from the stored version ``last``
    (digest, bytes); none (kept whole) when that version is not stored, stands on
    :data:`MAX_BASES` bases already, or shares less than half of ``data``."""
    base, before = last
    depth = session.scalar(select(SpecDocument.depth).where(SpecDocument.digest == base))
    if depth is None or depth + 1 > MAX_BASES:
        return {}
    head, tail = common_ends(before, data)
    if 2 * (head + tail) < len(data):
        return {}
    middle = data[head : len(data) - tail]
    return {"content": middle, "base": base, "head": head, "tail": tail, "depth": depth + 1}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def content_digest(data: bytes) -> str:
    """The digest a stored document is kept under (``spec_documents.digest``)."""
    # Indexing a commit asks it twice of the same bytes (did the file change? then to
    # store it): a reader hands out one object per file, so the last answer is kept.
    last = _DIGESTED[0]
    if last is not None and last[0] is data:
        return last[1]
    digest = hashlib.sha256(data).hexdigest()
    _DIGESTED[0] = (data, digest)
    return digest


_DIGESTED: list[tuple[bytes, str] | None] = [None]
