"""API health history: index the specs of merged commits (the ``index`` job and backfill).

The dashboard's history comes from merged states, not from changes in review. For one
commit of a project's branch, :func:`index_commit` checks every API spec there with the
``govbot check`` pipeline (all specs of the commit together, so that rules across them
run too) and records, per spec whose content changed since the API's previous snapshot:

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

Design specs (the policy's ``blueprints.specs`` globs) of the commit get their use-case
verdict (``blueprint_verdicts``, latest version per file).

Indexing is idempotent: a snapshot is unique per (API, commit), an API's files whose
content did not change are not snapshotted again, and every insert tolerates a second
process doing the same. After a run that recorded something, :func:`refresh_cross_findings`
recomputes the cross-service inconsistencies (CON080-CON099) among the latest external
specs of every project.

Entry points: :func:`index_job` (the scheduler: merged changes since a cursor, through the
Gerrit client, plus the branch heads when a git mirror is configured; :func:`index_pass`
is one such pass without the lease, ``govbot index``), :func:`backfill`
(``git log`` of a project's branch with a progress bar), and :func:`record_queue` (the
review queue as the last escalation pass assessed it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import click
import git
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.orm import Session

from govbot.apiref.project import facts_of
from govbot.apiref.tree import api_ref_directories, load_api_ref
from govbot.audience import Classification, classify
from govbot.blueprints import BlueprintConfig
from govbot.db.leases import run_leased
from govbot.db.models import (
    ApiDeprecation,
    ApiOperation,
    ApiSnapshot,
    ApiSpec,
    BlueprintVerdict,
    CrossFinding,
    IndexCursor,
    QueueState,
    SnapshotFinding,
    SpecDocument,
)
from govbot.db.session import insert_ignore, session_scope
from govbot.errors import GovbotError, SpecError
from govbot.evaluate import Subject, evaluate
from govbot.findings import Audience, Finding, Severity
from govbot.gerrit.changes import CURSOR_OVERLAP
from govbot.gerrit.sources import RevisionReader, change_ref, first_parent_files
from govbot.openapi.load import load_spec
from govbot.policy import Policy
from govbot.rules.catalog import all_rules
from govbot.rules.deprecation.elements import parse_sunset
from govbot.services.check import SpecSource, check_pairs, load_source
from govbot.services.spec_review import review_specs
from govbot.sources import GitReader, open_repo
from govbot.surface import Operation, Spec, operations

LOG = logging.getLogger(__name__)

JOB_NAME = "index"
# Without a cursor (first run) the job looks this far back; older history is backfill's.
FIRST_LOOKBACK = dt.timedelta(days=30)
MERGED_OPTIONS = ("CURRENT_REVISION",)
DEFAULT_BRANCH = "master"

_REVIEWED_ON = re.compile(r"^Reviewed-on:\s*\S*?/(?:\+/)?(\d+)/?\s*$", re.MULTILINE)
_REPLACEMENT = re.compile(
    r"\b(?:use|using|replaced by|superseded by|in favou?r of|switch to|moved to|migrate to)\s+"
    r"(?P<what>[^.;\n]{1,160}?)(?:\s+instead)?\s*(?:[.;\n]|$)",
    re.IGNORECASE,
)
_REPLACEMENT_KEYS = ("x-replaced-by", "x-replacement", "x-successor")


class TreeReader(Protocol):
    """What indexing reads a commit through: :class:`~govbot.sources.GitReader` fits."""

    def read(self, relpath: str) -> bytes: ...


@dataclass
class IndexResult:
    """What one :func:`index_commit` recorded."""

    project: str
    branch: str
    commit: str
    snapshots: list[str] = field(default_factory=list)  # spec files snapshotted
    unchanged: list[str] = field(default_factory=list)  # content as in the previous snapshot
    blueprints: list[str] = field(default_factory=list)  # design specs judged
    problems: list[str] = field(default_factory=list)  # specs that could not be loaded

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

    def add(self, result: IndexResult) -> None:
        self.commits += 1
        self.snapshots += len(result.snapshots)
        self.blueprints += len(result.blueprints)


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
) -> IndexResult:
    """Record the API specs (and design specs) of ``project``'s ``branch`` at ``commit``.

    ``reader`` reads the commit's files (a :class:`~govbot.sources.GitReader`, or a
    Gerrit revision reader); the specs are the files matching the policy's globs among
    ``files`` (default: every file of the reader's tree, which needs a ``files()``
    method). ``merged_at`` defaults to the commit's committer time when the reader
    knows it, else ``now``. Findings are judged as of ``now``'s date.
    """
    result = IndexResult(project, branch, commit)
    listing = list(files) if files is not None else list(_tree_files(reader))
    when = merged_at or _commit_time(reader) or now
    if change_number is None:
        change_number = _change_number(reader)

    spec_files = sorted(p for p in listing if policy.is_spec(p))
    if any(policy.watches_api_ref(p) for p in listing):
        spec_files += api_ref_directories(listing, reader.read)
    if spec_files:
        _index_specs(
            engine,
            reader,
            project,
            branch,
            commit,
            spec_files,
            policy,
            now,
            when,
            change_number,
            result,
        )

    bp_config = BlueprintConfig.from_policy(policy)
    design = sorted(p for p in listing if bp_config.is_spec(p) and not bp_config.is_template(p))
    if design:
        _index_blueprints(
            engine,
            reader,
            project,
            branch,
            commit,
            design,
            listing,
            policy,
            now,
            when,
            result,
        )
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


def _index_specs(
    engine: Engine,
    reader: TreeReader,
    project: str,
    branch: str,
    commit: str,
    spec_files: Sequence[str],
    policy: Policy,
    now: dt.datetime,
    when: dt.datetime,
    change_number: int | None,
    result: IndexResult,
) -> None:
    changed = [
        path
        for path in spec_files
        if _needs_snapshot(engine, reader, project, branch, path, commit, when)
    ]
    result.unchanged.extend(p for p in spec_files if p not in changed)
    if not changed:
        return
    limit = policy.max_file_bytes
    loaded: dict[str, Spec] = {}
    trees: set[str] = set()
    for path in spec_files:
        try:
            if policy.is_spec(path):
                loaded[path] = load_spec(path, reader=reader, max_bytes=limit)
            else:  # an api-ref tree (a directory), with its project
                loaded[path] = load_source(SpecSource(path, reader, api_ref=True), policy)
                trees.add(path)
        except (SpecError, OSError) as exc:
            result.problems.append(f"{path}: {exc}")
    # A file of the globs that is not an OpenAPI document itself but is reached by one
    # that is (a shared schema file) is checked through that one.
    referenced = {d for s in loaded.values() for d in s.documents if d != s.file}
    specs = {p: s for p, s in loaded.items() if not (p in referenced and not _is_openapi(s))}
    if not specs:
        return
    report = check_pairs(
        [(None, SpecSource(p, reader, api_ref=p in trees)) for p in specs],
        policy=policy.for_project(project),  # the project's rule profile
        today=now.date(),
        preloaded={("head", p): s for p, s in specs.items()},
    )
    for path in changed:
        spec = specs.get(path)
        if spec is None:
            continue
        classification = report.classifications.get(path)
        findings = [f for f in report.findings if f.file in spec.documents or f.file == path]
        documents = _store_documents(engine, reader, spec)
        if _record_snapshot(
            engine,
            project=project,
            branch=branch,
            commit=commit,
            when=when,
            change_number=change_number,
            spec=spec,
            classification=classification,
            findings=findings,
            documents=documents,
            policy=policy,
            now=now,
        ):
            result.snapshots.append(path)
        if not spec.ok:
            result.problems.append(f"{path}: {_problem(spec)}")


def _needs_snapshot(
    engine: Engine,
    reader: TreeReader,
    project: str,
    branch: str,
    path: str,
    commit: str,
    when: dt.datetime,
) -> bool:
    """False when this commit is recorded already, or the spec's files are byte for byte
    those of the API's previous snapshot (cheap: reads and hashes those files only)."""
    with session_scope(engine) as session:
        api_id = session.scalar(
            select(ApiSpec.id).where(
                ApiSpec.project == project, ApiSpec.branch == branch, ApiSpec.file == path
            )
        )
        if api_id is None:
            return True
        if session.scalar(
            select(ApiSnapshot.id).where(ApiSnapshot.api_id == api_id, ApiSnapshot.commit == commit)
        ):
            return False
        previous = session.scalar(
            select(ApiSnapshot.documents)
            .where(ApiSnapshot.api_id == api_id, ApiSnapshot.merged_at <= when)
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
        if _digest(data) != digest:
            return True
    return False


def _record_snapshot(
    engine: Engine,
    *,
    project: str,
    branch: str,
    commit: str,
    when: dt.datetime,
    change_number: int | None,
    spec: Spec,
    classification: Classification | None,
    findings: Sequence[Finding],
    documents: Mapping[str, str],
    policy: Policy,
    now: dt.datetime,
) -> bool:
    """Insert one snapshot with its rows; False when another process recorded it first."""
    ops = _operation_rows(spec, classification)
    counts = {str(a): 0 for a in Audience}
    for row in ops:
        counts[str(row["audience"])] += 1
    severities = {str(s): 0 for s in Severity}
    for f in findings:
        severities[str(f.severity)] += 1
    audience = classification.spec_audience if classification else Audience.EXTERNAL
    info = (spec.data or {}).get("info") if spec.ok else None
    info = info if isinstance(info, Mapping) else {}
    title = str(info.get("title") or "")
    version = str(info.get("version") or "")[:255]
    problem = None if spec.ok else _problem(spec)

    with session_scope(engine) as session:
        api_id = _api_id(session, project, branch, spec.file, audience, commit, when, now)
        previous = _deprecated_since(session, api_id, when)
        deprecations = _deprecation_rows(spec, classification, previous, when)
        values = {
            "api_id": api_id,
            "project": project,
            "branch": branch,
            "file": spec.file,
            "commit": commit,
            "merged_at": when,
            "change_number": change_number,
            "indexed_at": now,
            "title": title,
            "version": version,
            "audience": audience,
            "ops_external": counts["external"],
            "ops_external_admin": counts["external-admin"],
            "ops_internal": counts["internal"],
            "errors": severities["error"],
            "warnings": severities["warning"],
            "infos": severities["info"],
            "deprecated": len(deprecations),
            "policy_digest": policy.digest,
            "documents": dict(documents),
            "problem": problem,
        }
        if not insert_ignore(session, ApiSnapshot, values, conflict=["api_id", "commit"]):
            return False
        snapshot_id = session.scalar(
            select(ApiSnapshot.id).where(ApiSnapshot.api_id == api_id, ApiSnapshot.commit == commit)
        )
        if findings:
            session.execute(
                insert(SnapshotFinding),
                [_finding_row(snapshot_id, f) for f in findings],
            )
        if ops:
            session.execute(insert(ApiOperation), [{**r, "snapshot_id": snapshot_id} for r in ops])
        if deprecations:
            session.execute(
                insert(ApiDeprecation), [{**r, "snapshot_id": snapshot_id} for r in deprecations]
            )
        if deprecations:
            # An older commit indexed after newer ones (backfill behind the job): the
            # later snapshots' deprecations date from here at the latest.
            later = select(ApiSnapshot.id).where(
                ApiSnapshot.api_id == api_id, ApiSnapshot.merged_at > when
            )
            session.execute(
                update(ApiDeprecation)
                .where(
                    ApiDeprecation.snapshot_id.in_(later),
                    ApiDeprecation.key.in_([d["key"] for d in deprecations]),
                    ApiDeprecation.deprecated_since > when,
                )
                .values(deprecated_since=when)
            )
        # The API shows its newest merged state; an older commit (backfill running
        # behind the job) only adds history.
        sunsets = [d["sunset"] for d in deprecations if d["sunset"] is not None]
        session.execute(
            update(ApiSpec)
            .where(ApiSpec.id == api_id)
            .where((ApiSpec.latest_snapshot_id.is_(None)) | (ApiSpec.merged_at <= when))
            .values(
                latest_snapshot_id=snapshot_id,
                title=title,
                version=version,
                audience=audience,
                commit=commit,
                merged_at=when,
                indexed_at=now,
                ops_external=values["ops_external"],
                ops_external_admin=values["ops_external_admin"],
                ops_internal=values["ops_internal"],
                errors=values["errors"],
                warnings=values["warnings"],
                infos=values["infos"],
                deprecated=values["deprecated"],
                next_sunset=min(sunsets) if sunsets else None,
                problem=problem,
            )
        )
    return True


def _api_id(
    session: Session,
    project: str,
    branch: str,
    file: str,
    audience: Audience,
    commit: str,
    when: dt.datetime,
    now: dt.datetime,
) -> int:
    insert_ignore(
        session,
        ApiSpec,
        {
            "project": project,
            "branch": branch,
            "file": file,
            "title": "",
            "version": "",
            "audience": audience,
            "commit": commit,
            "merged_at": when,
            "indexed_at": now,
        },
        conflict=["project", "branch", "file"],
    )
    api_id = session.scalar(
        select(ApiSpec.id).where(
            ApiSpec.project == project, ApiSpec.branch == branch, ApiSpec.file == file
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


def _finding_row(snapshot_id: int | None, f: Finding) -> dict[str, Any]:
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
            digest = _digest(data)
            out[path] = digest
            insert_ignore(
                session,
                SpecDocument,
                {"digest": digest, "content": data, "size": len(data), "created_at": _now()},
                conflict=["digest"],
            )
    return out


# --- design specs --------------------------------------------------------------------------


def _index_blueprints(
    engine: Engine,
    reader: TreeReader,
    project: str,
    branch: str,
    commit: str,
    design: Sequence[str],
    listing: Sequence[str],
    policy: Policy,
    now: dt.datetime,
    when: dt.datetime,
    result: IndexResult,
) -> None:
    contents: dict[str, bytes] = {}
    digests: dict[str, str] = {}
    with session_scope(engine) as session:
        known = {
            file: (data or {}).get("digest")
            for file, data in session.execute(
                select(BlueprintVerdict.file, BlueprintVerdict.findings).where(
                    BlueprintVerdict.project == project, BlueprintVerdict.branch == branch
                )
            )
        }
    for path in design:
        try:
            data = reader.read(path)
        except (FileNotFoundError, PermissionError, OSError):
            continue
        digest = _digest(data)
        if known.get(path) == digest:
            continue
        contents[path] = data
        digests[path] = digest
    if not contents:
        return
    reports = review_specs(contents, policy, paths=listing, read=reader.read, today=now.date())
    with session_scope(engine) as session:
        for report in reports:
            v = report.verdict
            title = _design_title(contents.get(v.file, b"")) or Path(v.file).stem
            values = {
                "project": project,
                "branch": branch,
                "file": v.file,
                "title": title,
                "commit": commit,
                "merged_at": when,
                "indexed_at": now,
                "verdict": v.verdict,
                "strength": v.strength,
                "section": v.section,
                "line": v.line,
                "evidence": v.evidence,
                "words": v.words,
                "rest_api_impact": v.rest_api.declared,
                "findings": {
                    "digest": digests.get(v.file),
                    "items": [f.to_json() for f in report.findings],
                },
            }
            if not insert_ignore(
                session, BlueprintVerdict, values, conflict=["project", "branch", "file"]
            ):
                session.execute(
                    update(BlueprintVerdict)
                    .where(
                        BlueprintVerdict.project == project,
                        BlueprintVerdict.branch == branch,
                        BlueprintVerdict.file == v.file,
                        BlueprintVerdict.merged_at <= when,
                    )
                    .values(**values)
                )
            result.blueprints.append(v.file)


def _design_title(data: bytes) -> str | None:
    """The first heading of an RST or Markdown design spec (its title), if any."""
    text = data.decode("utf-8", "replace")
    lines = text.splitlines()
    for i, line in enumerate(lines[:80]):
        stripped = line.strip()
        if stripped.startswith("# "):
            return stripped[2:].strip()[:300]
        if (
            stripped
            and i + 1 < len(lines)
            and re.fullmatch(r"([=\-~^#*])\1{2,}", lines[i + 1].strip())
            and not re.fullmatch(r"([=\-~^#*])\1{2,}", stripped)
            and not stripped.startswith(("..", ":"))
        ):
            return stripped[:300]
    return None


# --- cross-service inconsistencies ---------------------------------------------------------


class _StoredReader:
    """A loader ``Reader`` over spec documents kept in the database, under a prefix.

    Each API is read as ``<project>/<file>`` so that specs of different projects with the
    same path stay apart, and ``$ref``s resolve against that API's own files.
    """

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self._files = dict(files)

    def read(self, relpath: str) -> bytes:
        try:
            return self._files[relpath]
        except KeyError:
            raise FileNotFoundError(relpath) from None

    def files(self) -> list[str]:
        return sorted(self._files)

    def exists(self, relpath: str) -> bool:
        return relpath in self._files


def refresh_cross_findings(engine: Engine, *, policy: Policy, now: dt.datetime) -> int:
    """Recompute ``cross_findings`` among the latest version of every external API.

    The cross rules (kind ``cross``) compare the external specs of every project; each
    minority usage becomes a finding on the API that has it. Returns how many there are.
    """
    with session_scope(engine) as session:
        apis = session.execute(
            select(ApiSpec.id, ApiSpec.project, ApiSpec.file, ApiSnapshot.documents)
            .join(ApiSnapshot, ApiSnapshot.id == ApiSpec.latest_snapshot_id)
            .where(ApiSpec.audience != Audience.INTERNAL, ApiSpec.problem.is_(None))
            .order_by(ApiSpec.project, ApiSpec.branch, ApiSpec.file)
        ).all()
        wanted = {d for *_, docs in apis for d in (docs or {}).values()}
        blobs = (
            dict(
                session.execute(
                    select(SpecDocument.digest, SpecDocument.content).where(
                        SpecDocument.digest.in_(wanted)
                    )
                ).all()
            )
            if wanted
            else {}
        )
    cross = [r for r in all_rules() if r.kind == "cross"]
    subjects: list[Subject] = []
    owner: dict[str, int] = {}
    for api_id, project, file, docs in apis:
        prefix = f"{project}/"
        files = {prefix + path: blobs[d] for path, d in (docs or {}).items() if d in blobs}
        name = prefix + file
        stored = _StoredReader(files)
        if name in files:
            spec = load_spec(name, reader=stored, validate=False)
        elif any(f.startswith(name + "/") for f in files):  # an api-ref tree
            spec = load_api_ref(name, stored)
        else:
            continue
        if not spec.ok:
            continue
        subjects.append(Subject(head=spec, head_audience=classify(spec, policy.audience)))
        for doc in files:
            owner.setdefault(doc, api_id)
        owner[name] = api_id
    findings: list[Finding] = []
    if len(subjects) >= 2 and cross:
        findings = list(evaluate(subjects, policy, now.date(), rules=cross).findings)
    rows = [
        {
            **_finding_row(None, f),
            "api_id": owner[f.file],
            "computed_at": now,
        }
        for f in findings
        if f.file in owner
    ]
    for row in rows:
        row.pop("snapshot_id")
    with session_scope(engine) as session:
        session.execute(delete(CrossFinding))
        if rows:
            session.execute(insert(CrossFinding), rows)
    LOG.info("cross-service check: %d finding(s) among %d API(s)", len(rows), len(subjects))
    return len(rows)


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
        revision = change.current_revision
        if not revision:
            continue
        merged_at = change.submitted or change.updated
        if mirror is not None:
            ps = change.current_revision_number or 1
            reader = mirror.fetch(
                project, change_ref(change.number, ps), branch=change.branch, commit=revision
            )
            result = index_commit(
                engine,
                reader,
                project,
                change.branch,
                revision,
                policy=policy,
                now=now,
                merged_at=merged_at,
                change_number=change.number,
            )
        else:
            changed = first_parent_files(client, change.number, revision)
            paths = [p for p in changed if not p.startswith("/")]
            specs = [p for p in paths if policy.is_spec(p)]
            design = BlueprintConfig.from_policy(policy)
            wanted = [p for p in paths if p in specs or design.is_spec(p)]
            if not wanted:
                newest = max(newest or change.updated, change.updated)
                continue
            reader = RevisionReader(client, change.number, revision, parent=False)  # type: ignore[arg-type]
            result = index_commit(
                engine,
                reader,
                project,
                change.branch,
                revision,
                policy=policy,
                now=now,
                merged_at=merged_at,
                change_number=change.number,
                files=wanted,
            )
        run.add(result)
        newest = max(newest or change.updated, change.updated)
    if newest is not None:
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
    total.errors.extend(part.errors)


# --- backfill ------------------------------------------------------------------------------


def history_globs(policy: Policy) -> list[str]:
    """The files whose commits make an API's or a spec repository's history: the specs,
    the design specs, and what ``api_ref.watch`` names (api-ref trees, policy defaults,
    the microversion ledger)."""
    return [*policy.spec_globs, *BlueprintConfig.from_policy(policy).specs, *policy.api_ref_watch]


def history(
    repo: git.Repo, branch: str, globs: Sequence[str], *, limit: int | None = None
) -> list[str]:
    """Commits of ``branch`` (first parents, oldest first) that touched a file of ``globs``;
    with ``limit``, only the newest ``limit`` of them (git applies ``-n`` before
    ``--reverse``, so the walk stops early on a long history)."""
    pathspecs = [f":(glob){g}" for g in globs]
    count = [f"--max-count={limit}"] if limit is not None else []
    out = repo.git.log(
        "--format=%H", "--first-parent", "--reverse", *count, branch, "--", *pathspecs
    )
    return [line.strip() for line in out.splitlines() if line.strip()]


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
) -> IndexRun:
    """Walk ``project``'s ``branch`` history and index every commit that touched a spec.

    ``repo_dir_or_mirror`` is a git repository (work tree or bare) holding the branch, or
    a :class:`~govbot.gerrit.mirror.GitMirror` (the branch is fetched first). With
    ``progress`` a bar is drawn on a terminal (a line every few commits otherwise).
    Running it again records nothing new.
    """
    now = now or _now()
    if hasattr(repo_dir_or_mirror, "fetch") and hasattr(repo_dir_or_mirror, "repo"):
        repo_dir_or_mirror.fetch(project, f"refs/heads/{branch}")
        repo = repo_dir_or_mirror.repo(project)
    else:
        repo = open_repo(repo_dir_or_mirror)
    try:
        commits = history(repo, branch, history_globs(policy))
    except git.GitCommandError as exc:
        raise SpecError(
            f"{repo.git_dir}: cannot read the history of {branch!r}: {str(exc.stderr).strip()}"
        ) from None
    run = IndexRun()
    stream = out if out is not None else sys.stderr
    for sha in _progress(commits, f"indexing {project} {branch}", progress, stream):
        reader = GitReader(repo, sha)
        try:
            result = index_commit(engine, reader, project, branch, sha, policy=policy, now=now)
        except GovbotError as exc:
            LOG.warning("backfill %s %s: %s", project, sha[:12], exc)
            run.errors.append(f"{sha[:12]}: {exc}")
            continue
        run.add(result)
    if run.snapshots:
        run.cross_findings = refresh_cross_findings(engine, policy=policy, now=now)
    return run


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


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_openapi(spec: Spec) -> bool:
    data = spec.data
    return isinstance(data, Mapping) and ("openapi" in data or "swagger" in data)


def _problem(spec: Spec) -> str:
    return spec.problems[0].message if spec.problems else "the spec could not be loaded"


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
    "backfill",
    "history",
    "history_globs",
    "index_commit",
    "index_heads",
    "index_job",
    "index_merged",
    "index_pass",
    "merged_query",
    "record_queue",
    "refresh_cross_findings",
    "replacement_of",
]
