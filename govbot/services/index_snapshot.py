"""The API snapshot of a merged commit: what :func:`govbot.services.index.index_commit`
records per spec whose content changed since the API's previous snapshot.

* an :class:`~govbot.db.models.ApiSnapshot`: commit, merge time, change number, title and
  version, operations by audience, findings by severity, deprecations;
* its findings (``snapshot_findings``), its operations with the audience evidence
  (``api_operations``) and its deprecated operations with sunset and replacement
  (``api_deprecations``);
* the bytes of every file it was read from (``spec_documents``, by content digest), so
  that the cross-service check can run later from the database alone.

An OpenStack api-ref tree of the commit is one API like a spec file, read with its
project's policy defaults and microversion ledger: a change of either makes a snapshot
too, since it changes who may call the operations or the API's version.

Also here: what one commit's indexing reports (:class:`IndexResult`, :class:`IndexRun`)
and the commit it is about (:class:`CommitAt`), which the design-spec and cross-service
modules share.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from govbot.apiref.project import facts_of
from govbot.audience import Classification
from govbot.db.models import (
    ApiDeprecation,
    ApiOperation,
    ApiSnapshot,
    ApiSpec,
    SnapshotFinding,
    SpecDocument,
)
from govbot.db.session import insert_ignore, session_scope
from govbot.errors import SpecError
from govbot.findings import Audience, Finding, Severity
from govbot.openapi.load import load_spec
from govbot.policy import Policy
from govbot.rules.deprecation.elements import parse_sunset
from govbot.services.check import SpecSource, check_pairs, load_source
from govbot.surface import Operation, Spec, operations

_REPLACEMENT = re.compile(
    r"\b(?:use|using|replaced by|superseded by|in favou?r of|switch to|moved to|migrate to)\s+"
    r"(?P<what>[^.;\n]{1,160}?)(?:\s+instead)?\s*(?:[.;\n]|$)",
    re.IGNORECASE,
)
_REPLACEMENT_KEYS = ("x-replaced-by", "x-replacement", "x-successor")


class TreeReader(Protocol):
    """What indexing reads a commit through: :class:`~govbot.sources.GitReader` fits."""

    def read(self, relpath: str) -> bytes: ...


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
) -> None:
    """Snapshot every spec of ``spec_files`` whose content changed (all of them are
    checked together, so that rules across them run too)."""
    changed = [path for path in spec_files if _needs_snapshot(engine, reader, at, path)]
    result.unchanged.extend(p for p in spec_files if p not in changed)
    if not changed:
        return
    specs, trees = _load_specs(reader, at.policy, spec_files, result)
    if not specs:
        return
    result.evaluated += 1
    report = check_pairs(
        [(None, SpecSource(p, reader, api_ref=p in trees)) for p in specs],
        policy=at.policy.for_project(at.project),  # the project's rule profile
        today=at.now.date(),
        preloaded={("head", p): s for p, s in specs.items()},
    )
    for path in changed:
        spec = specs.get(path)
        if spec is None:
            continue
        findings = [f for f in report.findings if f.file in spec.documents or f.file == path]
        documents = _store_documents(engine, reader, spec)
        classification = report.classifications.get(path)
        if _record_snapshot(engine, at, spec, classification, findings, documents):
            result.snapshots.append(path)
        if not spec.ok:
            result.problems.append(f"{path}: {problem_of(spec)}")


def _load_specs(
    reader: TreeReader, policy: Policy, spec_files: Sequence[str], result: IndexResult
) -> tuple[dict[str, Spec], set[str]]:
    """The specs to check (path -> spec), and which of them are api-ref trees."""
    loaded: dict[str, Spec] = {}
    trees: set[str] = set()
    for path in spec_files:
        try:
            if policy.is_spec(path):
                loaded[path] = load_spec(path, reader=reader, max_bytes=policy.max_file_bytes)
            else:  # an api-ref tree (a directory), with its project
                loaded[path] = load_source(SpecSource(path, reader, api_ref=True), policy)
                trees.add(path)
        except (SpecError, OSError) as exc:
            result.problems.append(f"{path}: {exc}")
    # A file of the globs that is not an OpenAPI document itself but is reached by one
    # that is (a shared schema file) is checked through that one.
    referenced = {d for s in loaded.values() for d in s.documents if d != s.file}
    specs = {p: s for p, s in loaded.items() if not (p in referenced and not _is_openapi(s))}
    return specs, trees


def _needs_snapshot(engine: Engine, reader: TreeReader, at: CommitAt, path: str) -> bool:
    """False when this commit is recorded already, or the spec's files are byte for byte
    those of the API's previous snapshot (cheap: reads and hashes those files only)."""
    with session_scope(engine) as session:
        api_id = session.scalar(
            select(ApiSpec.id).where(
                ApiSpec.project == at.project, ApiSpec.branch == at.branch, ApiSpec.file == path
            )
        )
        if api_id is None:
            return True
        if session.scalar(
            select(ApiSnapshot.id).where(
                ApiSnapshot.api_id == api_id, ApiSnapshot.commit == at.commit
            )
        ):
            return False
        previous = session.scalar(
            select(ApiSnapshot.documents)
            .where(ApiSnapshot.api_id == api_id, ApiSnapshot.merged_at <= at.when)
            .order_by(ApiSnapshot.merged_at.desc(), ApiSnapshot.id.desc())
            .limit(1)
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


def _summary(
    spec: Spec, classification: Classification | None, findings: Sequence[Finding]
) -> dict[str, Any]:
    """The snapshot's columns that come from the spec alone: title, version, audience,
    operations by audience, findings by severity, the load problem."""
    ops = _operation_rows(spec, classification)
    counts = {str(a): 0 for a in Audience}
    for row in ops:
        counts[str(row["audience"])] += 1
    severities = {str(s): 0 for s in Severity}
    for f in findings:
        severities[str(f.severity)] += 1
    info = (spec.data or {}).get("info") if spec.ok else None
    info = info if isinstance(info, Mapping) else {}
    return {
        "title": str(info.get("title") or ""),
        "version": str(info.get("version") or "")[:255],
        "audience": classification.spec_audience if classification else Audience.EXTERNAL,
        "ops_external": counts["external"],
        "ops_external_admin": counts["external-admin"],
        "ops_internal": counts["internal"],
        "errors": severities["error"],
        "warnings": severities["warning"],
        "infos": severities["info"],
        "problem": None if spec.ok else problem_of(spec),
        "_ops": ops,
    }


def _record_snapshot(
    engine: Engine,
    at: CommitAt,
    spec: Spec,
    classification: Classification | None,
    findings: Sequence[Finding],
    documents: Mapping[str, str],
) -> bool:
    """Insert one snapshot with its rows; False when another process recorded it first."""
    summary = _summary(spec, classification, findings)
    ops = summary.pop("_ops")
    with session_scope(engine) as session:
        api_id = _api_id(session, at, spec.file, summary["audience"])
        previous = _deprecated_since(session, api_id, at.when)
        deprecations = _deprecation_rows(spec, classification, previous, at.when)
        values = {
            **summary,
            "api_id": api_id,
            "project": at.project,
            "branch": at.branch,
            "file": spec.file,
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
            select(ApiSnapshot.id).where(
                ApiSnapshot.api_id == api_id, ApiSnapshot.commit == at.commit
            )
        )
        if findings:
            session.execute(
                insert(SnapshotFinding), [finding_row(snapshot_id, f) for f in findings]
            )
        if ops:
            session.execute(insert(ApiOperation), [{**r, "snapshot_id": snapshot_id} for r in ops])
        if deprecations:
            session.execute(
                insert(ApiDeprecation), [{**r, "snapshot_id": snapshot_id} for r in deprecations]
            )
            _backdate_deprecations(session, api_id, deprecations, at.when)
        _update_latest(session, api_id, snapshot_id, at, values, deprecations)
    return True


def _backdate_deprecations(
    session: Session, api_id: int, deprecations: Sequence[Mapping[str, Any]], when: dt.datetime
) -> None:
    """An older commit indexed after newer ones (backfill behind the job): the later
    snapshots' deprecations date from here at the latest."""
    later = select(ApiSnapshot.id).where(ApiSnapshot.api_id == api_id, ApiSnapshot.merged_at > when)
    session.execute(
        update(ApiDeprecation)
        .where(
            ApiDeprecation.snapshot_id.in_(later),
            ApiDeprecation.key.in_([d["key"] for d in deprecations]),
            ApiDeprecation.deprecated_since > when,
        )
        .values(deprecated_since=when)
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
        update(ApiSpec)
        .where(ApiSpec.id == api_id)
        .where((ApiSpec.latest_snapshot_id.is_(None)) | (ApiSpec.merged_at <= at.when))
        .values(
            latest_snapshot_id=snapshot_id,
            commit=at.commit,
            merged_at=at.when,
            indexed_at=at.now,
            next_sunset=min(sunsets) if sunsets else None,
            **{column: values[column] for column in _LATEST_COLUMNS},
        )
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
        select(ApiSpec.id).where(
            ApiSpec.project == at.project, ApiSpec.branch == at.branch, ApiSpec.file == file
        )
    )
    assert api_id is not None
    return api_id


def _operation_rows(spec: Spec, classification: Classification | None) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for op in operations(spec):
        if op.key in rows:
            continue
        if classification is not None:
            decision = classification.decision(op.key)
            audience, source, evidence = decision.audience, decision.source, decision.evidence
            where_file, where_pointer = decision.file, decision.pointer
        else:
            audience, source, evidence = Audience.EXTERNAL, "default", "not classified"
            where_file, where_pointer = spec.file, op.node.pointer
        rows[op.key] = {
            "key": op.key,
            "method": op.method.upper(),
            "path": op.path,
            "operation_id": op.operation_id,
            "audience": audience,
            "source": source[:64],
            "evidence": evidence,
            "evidence_file": where_file or "",
            "evidence_pointer": where_pointer or "",
            "deprecated": op.deprecated,
        }
    return list(rows.values())


def _deprecated_since(session: Session, api_id: int, when: dt.datetime) -> dict[str, dt.datetime]:
    """Operation key -> since when it is deprecated, from the API's previous snapshot."""
    previous = session.scalar(
        select(ApiSnapshot.id)
        .where(ApiSnapshot.api_id == api_id, ApiSnapshot.merged_at < when)
        .order_by(ApiSnapshot.merged_at.desc(), ApiSnapshot.id.desc())
        .limit(1)
    )
    if previous is None:
        return {}
    rows = session.execute(
        select(ApiDeprecation.key, ApiDeprecation.deprecated_since).where(
            ApiDeprecation.snapshot_id == previous
        )
    )
    return {key: since for key, since in rows}


def _deprecation_rows(
    spec: Spec,
    classification: Classification | None,
    since: Mapping[str, dt.datetime],
    when: dt.datetime,
) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for op in operations(spec):
        if not op.deprecated or op.key in rows:
            continue
        raw = op.sunset
        sunset = parse_sunset(raw) if raw is not None else None
        rows[op.key] = {
            "key": op.key,
            "operation": f"{op.method.upper()} {op.path}",
            "audience": classification.of(op.key) if classification else Audience.EXTERNAL,
            "sunset": sunset,
            "sunset_raw": None if raw is None or sunset is not None else str(raw)[:255],
            "replacement": replacement_of(op),
            "deprecated_since": since.get(op.key, when),
        }
    return list(rows.values())


def replacement_of(op: Operation) -> str | None:
    """What a deprecated operation names as its replacement: an ``x-replaced-by`` (or
    ``x-replacement``, ``x-successor``) extension, else the words after "use ...",
    "replaced by ...", "in favour of ..." in its description or summary."""
    for key in _REPLACEMENT_KEYS:
        value = op.value.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:500]
    for key in ("x-deprecated-message", "description", "summary"):
        text = op.value.get(key)
        if not isinstance(text, str):
            continue
        match = _REPLACEMENT.search(text)
        if match:
            return match.group("what").strip(" `*'\"")[:500] or None
    return None


def finding_row(snapshot_id: int | None, f: Finding) -> dict[str, Any]:
    """A ``snapshot_findings`` row (``cross_findings`` has the same columns)."""
    return {
        "snapshot_id": snapshot_id,
        "rule": f.rule,
        "name": f.name[:100],
        "severity": f.severity,
        "audience": f.audience,
        "file": f.file,
        "line": f.line,
        "pointer": f.pointer,
        "message": f.message,
        "fingerprint": f.fingerprint or f.with_fingerprint().fingerprint,
    }


def _store_documents(engine: Engine, reader: TreeReader, spec: Spec) -> dict[str, str]:
    """Keep the bytes of every file of ``spec`` (once per content); path -> digest.

    An api-ref tree's files are its documents, its project's policy modules and ledger.
    """
    out: dict[str, str] = {}
    paths = [spec.file, *sorted(d for d in spec.documents if d != spec.file)]
    facts = facts_of(spec)
    if facts is not None:
        paths += facts.ledger.files if facts.ledger is not None else ()
        paths += facts.policies.files if facts.policies is not None else ()
    with session_scope(engine) as session:
        for path in paths:
            try:
                data = reader.read(path)
            except (FileNotFoundError, PermissionError, OSError):
                continue
            digest = content_digest(data)
            out[path] = digest
            insert_ignore(
                session,
                SpecDocument,
                {"digest": digest, "content": data, "size": len(data), "created_at": utcnow()},
                conflict=["digest"],
            )
    return out


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def content_digest(data: bytes) -> str:
    """The digest a stored document is kept under (``spec_documents.digest``)."""
    return hashlib.sha256(data).hexdigest()


def _is_openapi(spec: Spec) -> bool:
    data = spec.data
    return isinstance(data, Mapping) and ("openapi" in data or "swagger" in data)


def problem_of(spec: Spec) -> str:
    """The first load problem of a spec that could not be read, as one line."""
    return spec.problems[0].message if spec.problems else "the spec could not be loaded"


__all__ = [
    "CommitAt",
    "IndexResult",
    "IndexRun",
    "TreeReader",
    "content_digest",
    "finding_row",
    "index_specs",
    "problem_of",
    "replacement_of",
    "utcnow",
]
