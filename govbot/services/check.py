"""The offline pipeline of ``govbot check``: load, classify, diff, run every rule, evaluate.

The same pipeline serves three inputs: spec files (``govbot check SPEC...``), base/head
pairs (``--base OLD``), and a git range (``--git REV1..REV2``), where both sides are
read from git at their revision. The Gerrit review service calls it the same way, so
a contributor sees locally exactly the verdict the bot posts.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govbot.audience import Classification, classify
from govbot.diff import diff_specs
from govbot.errors import SpecError
from govbot.evaluate import Subject, evaluate
from govbot.findings import Report, Summary
from govbot.openapi.load import Reader, load_spec
from govbot.paths import SPEC_SUFFIXES
from govbot.policy import Policy
from govbot.sources import ChangedFile, GitReader, changed_files, open_repo
from govbot.surface import Spec

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SpecSource:
    """Where one spec comes from: a path, read by ``reader`` or from the filesystem."""

    path: str
    reader: Reader | None = None
    root: Path | None = None  # bound for $refs when reading from the filesystem

    def __str__(self) -> str:
        return self.path


# --- entry points ----------------------------------------------------------------------


def check_files(
    heads: Sequence[str | Path],
    *,
    base_files: Sequence[str | Path | None] | None = None,
    policy: Policy,
    today: dt.date,
    root: str | Path | None = None,
    reader: Reader | None = None,
    max_bytes: int | None = None,
) -> Report[Classification]:
    """Check spec files, each against its base when ``base_files`` pairs one (by position).

    Several heads are checked together (cross-spec rules see all of them). A directory
    stands for the specs in it: those matching the policy's globs, else every
    ``*.yaml``/``*.yml``/``*.json``; a base directory pairs with a head directory by
    relative path (a file only in the base was deleted). With a ``reader``, paths are
    relative to its root; otherwise they are filesystem paths and ``$ref``s may reach
    anywhere under ``root`` (default: the git work tree holding them, else their
    common directory).
    """
    if not heads:
        raise SpecError("no spec given")
    if base_files is not None and len(base_files) != len(heads):
        raise SpecError(
            f"{len(base_files)} base spec(s) for {len(heads)} spec(s): give one --base per spec"
        )
    bases: Sequence[str | Path | None] = (
        base_files if base_files is not None else [None] * len(heads)
    )
    if reader is not None:
        pairs = [
            (SpecSource(str(b), reader) if b is not None else None, SpecSource(str(h), reader))
            for b, h in zip(bases, heads, strict=True)
        ]
        return check_pairs(pairs, policy=policy, today=today, max_bytes=max_bytes)
    pairs, discovered = _filesystem_pairs(heads, bases, policy, root)
    return check_pairs(
        pairs, policy=policy, today=today, max_bytes=max_bytes, drop_fragments=discovered
    )


def _filesystem_pairs(
    heads: Sequence[str | Path],
    bases: Sequence[str | Path | None],
    policy: Policy,
    root: str | Path | None,
) -> tuple[list[tuple[SpecSource | None, SpecSource | None]], set[str]]:
    """The (base, head) pairs of files and directories, and the heads found in directories."""
    head_paths = [Path(h) for h in heads]
    base_paths = [Path(b) for b in bases if b is not None]
    for p in [*head_paths, *base_paths]:
        if not p.exists():
            raise SpecError(f"{p}: no such file or directory")
    head_root = Path(root).resolve() if root is not None else common_root(head_paths)
    base_root = (
        Path(root).resolve()
        if root is not None
        else (common_root(base_paths) if base_paths else head_root)
    )
    # (base, head, found in a directory)
    raw_pairs: list[tuple[Path | None, Path | None, bool]] = []
    for b, h in zip(bases, head_paths, strict=True):
        bp = Path(b) if b is not None else None
        if h.is_dir():
            if bp is not None and not bp.is_dir():
                raise SpecError(f"{bp}: the base of a directory must be a directory")
            raw_pairs.extend(_pair_directories(bp, h, policy, head_root))
        else:
            if bp is not None and bp.is_dir():
                raise SpecError(f"{bp}: the base of a file must be a file")
            raw_pairs.append((bp, h, False))
    if not raw_pairs:
        raise SpecError(f"{', '.join(map(str, heads))}: no spec files found")
    pairs = [
        (
            SpecSource(str(b), root=base_root) if b is not None else None,
            SpecSource(str(h), root=head_root) if h is not None else None,
        )
        for b, h, _ in raw_pairs
    ]
    return pairs, {str(h) for _, h, found in raw_pairs if found and h is not None}


def check_git(
    repo: str | Path,
    rev1: str,
    rev2: str,
    *,
    policy: Policy,
    today: dt.date,
    max_bytes: int | None = None,
) -> Report[Classification]:
    """Check everything a reviewer would see for ``rev1..rev2``: the specs the range touched.

    A spec is touched when its file, or any file its ``$ref``s reach, changed; both
    sides are read from git at their revision. Renamed specs are compared with their
    old path, added ones have no base, and a deleted spec is compared with an empty one
    (every operation removed).
    """
    git_repo = open_repo(repo)
    base_reader = GitReader(git_repo, rev1)
    head_reader = GitReader(git_repo, rev2)
    changes = changed_files(git_repo, rev1, rev2)
    limit = max_bytes or policy.max_file_bytes
    loaded = _touched_specs(changes, head_reader, policy, limit)
    referenced = {d for s in loaded.values() for d in s.documents if d != s.file}
    renamed_from = {c.new_path: c.old_path for c in changes if c.status == "R"}

    pairs: list[tuple[SpecSource | None, SpecSource | None]] = []
    preloaded: dict[tuple[str, str], Spec] = {}
    for path, spec in sorted(loaded.items()):
        if path in referenced and not _is_openapi(spec):
            continue  # a fragment, checked through the spec that references it
        base_path = renamed_from.get(path, path)
        base = SpecSource(base_path, base_reader) if base_reader.exists(base_path) else None
        pairs.append((base, SpecSource(path, head_reader)))
        preloaded[("head", path)] = spec
    for old, base_spec in _deleted_specs(changes, base_reader, head_reader, policy, limit):
        pairs.append((SpecSource(old, base_reader), None))
        preloaded[("base", old)] = base_spec
    return check_pairs(pairs, policy=policy, today=today, max_bytes=max_bytes, preloaded=preloaded)


def _touched_specs(
    changes: Sequence[ChangedFile], head_reader: GitReader, policy: Policy, limit: int
) -> dict[str, Spec]:
    """The head's specs that changed, or whose ``$ref``'d files changed, loaded."""
    changed = {p for c in changes for p in (c.old_path, c.new_path) if p}
    head_files = sorted(p for p in head_reader.files() if policy.is_spec(p))
    loaded: dict[str, Spec] = {}
    for path in head_files:
        if path in changed:
            loaded[path] = _load(SpecSource(path, head_reader), limit)
    # A changed file that is not an OpenAPI document itself (a shared schema file) is
    # checked through the specs that reference it: find those among the unchanged ones.
    fragments = {
        p
        for p in changed
        if p.endswith(SPEC_SUFFIXES) and (p not in loaded or not _is_openapi(loaded[p]))
    }
    if fragments:
        for path in head_files:
            if path not in loaded:
                probe = _load(SpecSource(path, head_reader), limit, validate=False)
                if _is_openapi(probe) and fragments & set(probe.documents):
                    loaded[path] = _load(SpecSource(path, head_reader), limit)
    return loaded


def _deleted_specs(
    changes: Sequence[ChangedFile],
    base_reader: GitReader,
    head_reader: GitReader,
    policy: Policy,
    limit: int,
) -> Iterator[tuple[str, Spec]]:
    """The specs the range deleted (renamed out of the globs too), loaded from the base."""
    for c in changes:
        old = c.old_path
        if old is None or not policy.is_spec(old) or head_reader.exists(old):
            continue
        if c.status == "R" and c.new_path is not None and policy.is_spec(c.new_path):
            continue
        base_spec = _load(SpecSource(old, base_reader), limit)
        if _is_openapi(base_spec):
            yield old, base_spec


def check_pairs(
    pairs: Sequence[tuple[SpecSource | None, SpecSource | None]],
    *,
    policy: Policy,
    today: dt.date,
    max_bytes: int | None = None,
    drop_fragments: Iterable[str] = (),
    preloaded: Mapping[tuple[str, str], Spec] | None = None,
    loads: dict[tuple[str, str], Spec | None] | None = None,
) -> Report[Classification]:
    """Load each (base, head) pair (base None: new spec; head None: deleted) and evaluate.

    ``loads`` is a memo of (side, path) -> loaded spec shared with other checks of the same
    two revisions (the review passes of one patch set), so a spec is parsed once.
    """
    limit = max_bytes or policy.max_file_bytes
    preloaded = preloaded or {}
    discovered = set(drop_fragments)
    loaded: list[tuple[Spec | None, Spec | None, bool]] = []
    for base_src, head_src in pairs:
        head = _cached(preloaded, "head", head_src, limit, loads)
        base = _cached(preloaded, "base", base_src, limit, loads)
        loaded.append((base, head, head_src is not None and head_src.path in discovered))

    # A file found in a directory that another spec of the check references, and that
    # is not an OpenAPI document itself, is a fragment: it is checked through that spec.
    referenced = {d for _, h, _ in loaded if h is not None for d in h.documents if d != h.file}
    subjects: list[Subject] = []
    classifications: dict[str, Classification] = {}
    files: list[str] = []
    for base, head, discovered in loaded:
        if head is not None and discovered and head.file in referenced and not _is_openapi(head):
            continue
        subject = _subject(base, head, policy)
        if subject is None:
            continue
        subjects.append(subject)
        files.append(subject.head.file)
        if subject.head_audience is not None and not subject.deleted:
            classifications[subject.head.file] = subject.head_audience

    evaluation = evaluate(subjects, policy, today)
    return Report(
        findings=evaluation.findings,
        classifications=classifications,
        summary=Summary.of(
            evaluation.findings, evaluation.waived, evaluation.suppressed, len(subjects)
        ),
        waived=evaluation.waived,
        suppressed=evaluation.suppressed,
        policy_source=policy.source,
        policy_digest=policy.digest,
        files=tuple(files),
    )


def load_subject(
    base: SpecSource | None,
    head: SpecSource | None,
    *,
    policy: Policy,
    max_bytes: int | None = None,
    loads: dict[tuple[str, str], Spec | None] | None = None,
) -> Subject | None:
    """One (base, head) pair loaded, classified and diffed, without running any rule (the
    spec review asks whether a change touched external surface); None for a deleted file
    that was not a spec."""
    limit = max_bytes or policy.max_file_bytes
    return _subject(
        _cached({}, "base", base, limit, loads), _cached({}, "head", head, limit, loads), policy
    )


# --- helpers ---------------------------------------------------------------------------


def common_root(paths: Sequence[Path]) -> Path:
    """The git work tree holding every path, else their deepest common directory."""
    resolved = [p.resolve() for p in paths]
    dirs = [p if p.is_dir() else p.parent for p in resolved]
    if not dirs:
        return Path.cwd().resolve()
    top = _git_top(dirs[0])
    if top is not None and all(d == top or top in d.parents for d in dirs):
        return top
    return Path(os.path.commonpath([str(d) for d in dirs]))


def _git_top(start: Path) -> Path | None:
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d
    return None


def discover_specs(directory: Path, policy: Policy, root: Path) -> list[Path]:
    """The spec files under ``directory``: by the policy's globs, else by suffix."""
    files = sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )
    by_glob = []
    for p in files:
        try:
            rel = p.resolve().relative_to(root).as_posix()
        except ValueError:
            continue
        if policy.is_spec(rel):
            by_glob.append(p)
    return by_glob or [p for p in files if p.suffix in SPEC_SUFFIXES]


def _pair_directories(
    base: Path | None, head: Path, policy: Policy, root: Path
) -> list[tuple[Path | None, Path | None, bool]]:
    heads = {p.relative_to(head): p for p in discover_specs(head, policy, root)}
    if base is None:
        return [(None, p, True) for p in heads.values()]
    base_root = common_root([base])
    bases = {p.relative_to(base): p for p in discover_specs(base, policy, base_root)}
    out: list[tuple[Path | None, Path | None, bool]] = []
    for rel in sorted(set(heads) | set(bases)):
        out.append((bases.get(rel), heads.get(rel), True))
    return out


def _cached(
    preloaded: Mapping[tuple[str, str], Spec],
    side: str,
    src: SpecSource | None,
    limit: int,
    loads: dict[tuple[str, str], Spec | None] | None = None,
) -> Spec | None:
    if src is None:
        return None
    key = (side, src.path)
    spec = preloaded.get(key)
    if spec is not None:
        return spec
    if loads is not None and key in loads:
        return loads[key]
    spec = _load(src, limit)
    if loads is not None:
        loads[key] = spec
    return spec


def _load(src: SpecSource, limit: int, *, validate: bool = True) -> Spec:
    try:
        return load_spec(
            src.path, reader=src.reader, root=src.root, max_bytes=limit, validate=validate
        )
    except SpecError:
        raise
    except FileNotFoundError:
        raise SpecError(f"{src.path}: no such file") from None
    except IsADirectoryError:
        raise SpecError(f"{src.path}: is a directory") from None
    except PermissionError:
        raise SpecError(f"{src.path}: permission denied") from None
    except OSError as exc:
        raise SpecError(f"{src.path}: cannot read: {exc.strerror or exc}") from None


def _is_openapi(spec: Spec) -> bool:
    data = spec.data
    return isinstance(data, Mapping) and ("openapi" in data or "swagger" in data)


def _subject(base: Spec | None, head: Spec | None, policy: Policy) -> Subject | None:
    deleted = head is None
    if head is None:
        if base is None or not base.ok:
            return None  # a deleted file that was not a spec either: nothing to say
        head = _empty_like(base)
    head_audience = classify(head, policy.audience) if head.ok else None
    base_audience = classify(base, policy.audience) if base is not None and base.ok else None
    diff = diff_specs(base, head) if base is not None and base.ok and head.ok else None
    return Subject(
        head=head,
        head_audience=head_audience,
        base=base,
        base_audience=base_audience,
        diff=diff,
        deleted=deleted,
    )


def _empty_like(base: Spec) -> Spec:
    """A stand-in for a deleted spec: the same document with no operations."""
    data = base.data or {}
    keep = {k: data[k] for k in ("openapi", "swagger", "info") if k in data}
    empty: dict[str, Any] = {**keep, "paths": {}}
    return Spec(file=base.file, data=empty, version=base.version, documents={base.file: empty})
