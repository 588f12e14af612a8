"""What indexing works out about a commit's specs before it records anything: the
``govbot check`` of them, and per spec the rows of its snapshot.

:func:`evaluate_specs` reads and checks; it touches no database, and what it returns
(:class:`SpecsEvaluation`) is plain values that cross a process boundary, so that
``govbot backfill --jobs N`` evaluates commits in worker processes while one process
records them in order (:mod:`govbot.services.index_snapshot` records,
:mod:`govbot.services.backfill` runs the workers).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from govbot.apiref.project import facts_of
from govbot.audience import Classification
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
class SpecRecord:
    """One spec of a commit as its snapshot records it (less what depends on the
    snapshots before it: when each deprecation began)."""

    path: str  # the spec file, or the api-ref tree
    file: str  # the spec's root file
    summary: Mapping[str, Any]  # the snapshot's columns that come from the spec alone
    operations: tuple[Mapping[str, Any], ...]  # api_operations rows, no snapshot_id
    deprecations: tuple[Mapping[str, Any], ...]  # api_deprecations rows, no deprecated_since
    findings: tuple[Mapping[str, Any], ...]  # snapshot_findings rows, no snapshot_id
    documents: tuple[str, ...]  # the files whose bytes are kept with the snapshot
    problem: str | None  # the load problem of a spec that could not be read
    # What identifies the rows of each kind (rows_digest): a snapshot whose rows are an
    # earlier snapshot's reads that one's instead of storing them again.
    operations_digest: str = ""
    findings_digest: str = ""


@dataclass(frozen=True)
class SpecsEvaluation:
    """The check of a commit's specs (``spec_files``, all checked together)."""

    spec_files: tuple[str, ...]
    records: Mapping[str, SpecRecord]  # path -> record, for the specs that loaded
    problems: tuple[str, ...]  # "path: why" for the specs that could not be loaded


def evaluate_specs(
    reader: TreeReader,
    policy: Policy,
    project: str,
    today: dt.date,
    spec_files: Sequence[str],
    *,
    verdicts: bool = True,
) -> SpecsEvaluation:
    """Load and check ``spec_files`` of one commit under ``project``'s rule profile.

    ``verdicts=False``: the report is neither looked up in the verdict cache nor stored
    there (a backfill's commits are history: their reports go to the database, and
    hundreds of entries of a 2 MB spec, ~330 KB each, would push the present's checks
    out of the cache)."""
    problems: list[str] = []
    specs, trees = _load_specs(reader, policy, spec_files, problems)
    records: dict[str, SpecRecord] = {}
    if specs:
        report = check_pairs(
            [(None, SpecSource(p, reader, api_ref=p in trees)) for p in specs],
            policy=policy.for_project(project),  # the project's rule profile
            today=today,
            preloaded={("head", p): s for p, s in specs.items()},
            cache=verdicts,  # every spec is loaded already: only the verdict cache
            # A snapshot keeps its findings' lines; a report for the verdict cache,
            # which checks of the present read back, is whole.
            columns=verdicts,
        )
        for path, spec in specs.items():
            findings = tuple(
                f for f in report.findings if f.file in spec.documents or f.file == path
            )
            records[path] = _record(path, spec, report.classifications.get(path), findings)
    return SpecsEvaluation(tuple(spec_files), records, tuple(problems))


def _load_specs(
    reader: TreeReader, policy: Policy, spec_files: Sequence[str], problems: list[str]
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
            problems.append(f"{path}: {exc}")
    # A file of the globs that is not an OpenAPI document itself but is reached by one
    # that is (a shared schema file) is checked through that one.
    referenced = {d for s in loaded.values() for d in s.documents if d != s.file}
    specs = {p: s for p, s in loaded.items() if not (p in referenced and not _is_openapi(s))}
    return specs, trees


def _record(
    path: str, spec: Spec, classification: Classification | None, findings: tuple[Finding, ...]
) -> SpecRecord:
    ops = _operation_rows(spec, classification)
    counts = {str(a): 0 for a in Audience}
    for row in ops:
        counts[str(row["audience"])] += 1
    severities = {str(s): 0 for s in Severity}
    for f in findings:
        severities[str(f.severity)] += 1
    info = (spec.data or {}).get("info") if spec.ok else None
    info = info if isinstance(info, Mapping) else {}
    problem = None if spec.ok else problem_of(spec)
    summary = {
        "title": str(info.get("title") or ""),
        "version": str(info.get("version") or "")[:255],
        "audience": classification.spec_audience if classification else Audience.EXTERNAL,
        "ops_external": counts["external"],
        "ops_external_admin": counts["external-admin"],
        "ops_internal": counts["internal"],
        "errors": severities["error"],
        "warnings": severities["warning"],
        "infos": severities["info"],
        "problem": problem,
    }
    documents = [spec.file, *sorted(d for d in spec.documents if d != spec.file)]
    facts = facts_of(spec)
    if facts is not None:  # an api-ref tree: its project's policy modules and ledger too
        documents += facts.ledger.files if facts.ledger is not None else ()
        documents += facts.policies.files if facts.policies is not None else ()
    finding_rows = tuple(finding_row(f) for f in findings)
    return SpecRecord(
        path=path,
        file=spec.file,
        summary=summary,
        operations=tuple(ops),
        deprecations=tuple(_deprecation_rows(spec, classification)),
        findings=finding_rows,
        documents=tuple(documents),
        problem=problem,
        operations_digest=rows_digest(ops),
        findings_digest=rows_digest(finding_rows),
    )


def finding_row(f: Finding) -> dict[str, Any]:
    """A finding as its row is stored (``snapshot_findings`` without ``snapshot_id``;
    ``cross_findings`` has the same columns)."""
    return {
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


def rows_digest(rows: Sequence[Mapping[str, Any]]) -> str:
    """What identifies a snapshot's rows of one kind: the SHA-256 of them, in order."""
    return hashlib.sha256(orjson.dumps(rows)).hexdigest()


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


def _deprecation_rows(spec: Spec, classification: Classification | None) -> list[dict[str, Any]]:
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


def _is_openapi(spec: Spec) -> bool:
    data = spec.data
    return isinstance(data, Mapping) and ("openapi" in data or "swagger" in data)


def problem_of(spec: Spec) -> str:
    """The first load problem of a spec that could not be read, as one line."""
    return spec.problems[0].message if spec.problems else "the spec could not be loaded"


__all__ = [
    "SpecRecord",
    "SpecsEvaluation",
    "TreeReader",
    "evaluate_specs",
    "finding_row",
    "problem_of",
    "replacement_of",
    "rows_digest",
]
