"""The offline pipeline of ``govbot check``: load, classify, diff, run every rule, evaluate.

The same pipeline serves three inputs: spec files (``govbot check SPEC...``), base/head
pairs (``--base OLD``), and a git range (``--git REV1..REV2``), where both sides are
read from git at their revision. The Gerrit review service calls it the same way, so
a contributor sees locally exactly the verdict the bot posts.

An OpenStack api-ref tree (:mod:`govbot.apiref`) is one spec like an OpenAPI file: a
directory given or found is read as one API with its project's microversion ledger and
policy defaults; a git range or a patch set that touches an api-ref tree, a policy
module, the ledger or a release note (the policy's ``api_ref.watch``) has the trees of
the repository checked.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govbot.apiref.policies import PolicyDefaults, read_policy_defaults
from govbot.apiref.project import with_policies
from govbot.apiref.source import Tree, listed
from govbot.apiref.tree import api_ref_directories, find_api_ref_trees, load_api_ref, project_root
from govbot.apiref.tree import read_api_ref as read_api_ref_dir
from govbot.audience import Classification, classify
from govbot.diff import Change, OperationDiff, SpecDiff, diff_specs
from govbot.errors import SpecError
from govbot.evaluate import Subject, evaluate
from govbot.findings import Report, Summary
from govbot.openapi.load import Reader, load_spec
from govbot.paths import SPEC_SUFFIXES
from govbot.policy import Policy
from govbot.services import verdicts
from govbot.surface import Spec, operations

if TYPE_CHECKING:  # git (GitPython) is for --git ranges only: see check_git.py
    from govbot.sources import ChangedFile

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SpecSource:
    """Where one spec comes from: a path, read by ``reader`` or from the filesystem.

    ``api_ref``: the path is the directory of an api-ref tree, read with its project
    (the reader's whole tree, or the directory's :func:`~govbot.apiref.tree.project_root`).
    """

    path: str
    reader: Reader | None = None
    root: Path | None = None  # bound for $refs when reading from the filesystem
    api_ref: bool = False

    def __str__(self) -> str:
        return self.path


@dataclass(frozen=True)
class PolicyTrees:
    """Trees given to read policy defaults from (``--policy-defaults``), read once."""

    trees: tuple[Tree, ...] = ()
    _read: dict[str, PolicyDefaults] = field(default_factory=dict, compare=False, repr=False)

    def defaults(self) -> PolicyDefaults | None:
        if not self.trees:
            return None
        if "all" not in self._read:
            self._read["all"] = read_policy_defaults(self.trees)
        return self._read["all"]


NO_POLICY_TREES = PolicyTrees()


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
    policy_trees: PolicyTrees = NO_POLICY_TREES,
    cache: bool = True,
) -> Report[Classification]:
    """Check spec files, each against its base when ``base_files`` pairs one (by position).

    Several heads are checked together (cross-spec rules see all of them). A directory
    stands for the specs in it: the api-ref trees at or under it, and the files matching
    the policy's globs, else (when it holds no api-ref tree) every
    ``*.yaml``/``*.yml``/``*.json``; a base directory pairs with a head directory by
    relative path (a spec only in the base was deleted). With a ``reader``, paths are
    relative to its root; otherwise they are filesystem paths and ``$ref``s may reach
    anywhere under ``root`` (default: the git work tree holding them, else their
    common directory). ``policy_trees``: policy defaults for every spec's audience;
    ``cache=False``: no verdict or validation cache.
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
        return check_pairs(
            pairs,
            policy=policy,
            today=today,
            max_bytes=max_bytes,
            policy_trees=policy_trees,
            cache=cache,
        )
    pairs, discovered = _filesystem_pairs(heads, bases, policy, root)
    return check_pairs(
        pairs,
        policy=policy,
        today=today,
        max_bytes=max_bytes,
        drop_fragments=discovered,
        policy_trees=policy_trees,
        cache=cache,
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
    # (base, head, found in a directory, api-ref tree)
    raw_pairs: list[tuple[Path | None, Path | None, bool, bool]] = []
    for b, h in zip(bases, head_paths, strict=True):
        bp = Path(b) if b is not None else None
        if h.is_dir():
            if bp is not None and not bp.is_dir():
                raise SpecError(f"{bp}: the base of a directory must be a directory")
            raw_pairs.extend(_pair_directories(bp, h, policy, head_root))
        else:
            if bp is not None and bp.is_dir():
                raise SpecError(f"{bp}: the base of a file must be a file")
            raw_pairs.append((bp, h, False, False))
    if not raw_pairs:
        raise SpecError(f"{', '.join(map(str, heads))}: no spec files found")
    pairs = [
        (
            _file_source(b, base_root, api_ref),
            _file_source(h, head_root, api_ref),
        )
        for b, h, _, api_ref in raw_pairs
    ]
    return pairs, {str(h) for _, h, found, api_ref in raw_pairs if found and h and not api_ref}


def _file_source(path: Path | None, root: Path, api_ref: bool) -> SpecSource | None:
    if path is None:
        return None
    if api_ref:
        return SpecSource(str(path), root=project_root(path), api_ref=True)
    return SpecSource(str(path), root=root)


def api_ref_pairs(
    changes: Iterable[ChangedFile], base: Tree | None, head: Tree | None, policy: Policy
) -> list[tuple[SpecSource | None, SpecSource | None]]:
    """(base, head) of every api-ref tree of the repository that the changes touch.

    A tree is touched when a changed file lies under it, or when a changed file outside
    every tree is one the policy watches (``api_ref.watch``: policy defaults, the
    ledger, release notes), since those change what the trees' APIs are.
    """
    paths = {p for c in changes for p in (c.old_path, c.new_path) if p}
    watched = {p for p in paths if policy.watches_api_ref(p)}
    if not watched:
        return []
    head_trees = api_ref_directories(head.files(), head.read) if head is not None else []
    base_trees = api_ref_directories(base.files(), base.read) if base is not None else []
    trees = sorted(set(head_trees) | set(base_trees))

    def inside(path: str, tree: str) -> bool:
        return not tree or path.startswith(tree + "/")

    project_wide = any(not any(inside(p, t) for t in trees) for p in watched)
    out: list[tuple[SpecSource | None, SpecSource | None]] = []
    for tree in trees:
        if project_wide or any(inside(p, tree) for p in paths):
            out.append(
                (
                    SpecSource(tree or ".", base, api_ref=True) if tree in base_trees else None,
                    SpecSource(tree or ".", head, api_ref=True) if tree in head_trees else None,
                )
            )
    return out


def check_pairs(
    pairs: Sequence[tuple[SpecSource | None, SpecSource | None]],
    *,
    policy: Policy,
    today: dt.date,
    max_bytes: int | None = None,
    drop_fragments: Iterable[str] = (),
    preloaded: Mapping[tuple[str, str], Spec] | None = None,
    loads: dict[tuple[str, str], Spec | None] | None = None,
    policy_trees: PolicyTrees = NO_POLICY_TREES,
    cache: bool = True,
    columns: bool = True,
) -> Report[Classification]:
    """Load each (base, head) pair (base None: new spec; head None: deleted) and evaluate.

    ``loads`` is a memo of (side, path) -> loaded spec shared with other checks of the same
    two revisions (the review passes of one patch set), so a spec is parsed once;
    ``preloaded`` specs, by (side, path), are the ones their sources load. The
    report of a check of the same bytes under the same policy is read back from the
    verdict cache (:mod:`govbot.services.verdicts`) when it is on; ``cache=False`` turns
    it and the validation cache off. ``columns=False``: findings without their columns
    (see :func:`~govbot.evaluate.evaluate`), a report the verdict cache never holds.
    """
    limit = max_bytes or policy.max_file_bytes
    discovered = set(drop_fragments)
    store = verdicts.directory() if cache and columns and not policy_trees.trees else None
    lookup = None
    if store is not None:
        lookup = verdicts.prepare(pairs, policy=policy, today=today, limit=limit, drop=discovered)
        reused = verdicts.read(store, lookup) if lookup is not None else None
        if reused is not None:
            return reused
    loaded: list[tuple[Spec | None, Spec | None, bool]] = []
    for base_src, head_src in pairs:
        head = _cached(preloaded or {}, "head", head_src, limit, loads, policy_trees, cache)
        base = _cached(preloaded or {}, "base", base_src, limit, loads, policy_trees, cache)
        loaded.append((base, head, head_src is not None and head_src.path in discovered))
    report = _evaluated(loaded, policy, today, columns=columns)
    if store is not None and lookup is not None:
        verdicts.write(store, lookup, report, [s for base, head, _ in loaded for s in (base, head)])
    return report


def _evaluated(
    loaded: Sequence[tuple[Spec | None, Spec | None, bool]],
    policy: Policy,
    today: dt.date,
    *,
    columns: bool = True,
) -> Report[Classification]:
    """Classify, diff and run every rule on the loaded (base, head, found in a directory)."""
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

    evaluation = evaluate(subjects, policy, today, columns=columns)
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
        _cached({}, "base", base, limit, loads, NO_POLICY_TREES),
        _cached({}, "head", head, limit, loads, NO_POLICY_TREES),
        policy,
    )


def sources_of(path: Path, policy: Policy) -> list[SpecSource]:
    """The specs a path given on the command line stands for (``govbot classify``): a
    file, or the api-ref trees and OpenAPI specs of a directory."""
    if not path.exists():
        raise SpecError(f"{path}: no such file or directory")
    if not path.is_dir():
        return [SpecSource(str(path), root=common_root([path]))]
    specs, trees = _directory_specs(path, policy, common_root([path]))
    root = common_root(list(specs.values())) if specs else None
    out = [SpecSource(str(p), root=root) for p in specs.values()]
    out += [SpecSource(str(t), root=project_root(t), api_ref=True) for t in trees.values()]
    if not out:
        raise SpecError(f"{path}: no spec files and no api-ref tree found")
    return out


def load_source(
    src: SpecSource, policy: Policy, policy_trees: PolicyTrees = NO_POLICY_TREES
) -> Spec:
    """One spec loaded as :func:`check_pairs` loads it (SpecError when it cannot be read)."""
    return _load(src, policy.max_file_bytes, policy_trees=policy_trees)


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


def discover_specs(
    directory: Path, policy: Policy, root: Path, *, by_suffix: bool = True
) -> list[Path]:
    """The spec files under ``directory``: by the policy's globs, else (``by_suffix``) by
    suffix."""
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
    if by_glob or not by_suffix:
        return by_glob
    return [p for p in files if p.suffix in SPEC_SUFFIXES]


def _pair_directories(
    base: Path | None, head: Path, policy: Policy, root: Path
) -> list[tuple[Path | None, Path | None, bool, bool]]:
    """(base, head, found, api-ref tree) of the specs of a directory and of its base."""
    heads, head_refs = _directory_specs(head, policy, root)
    if base is None:
        return [(None, p, True, False) for p in heads.values()] + [
            (None, p, True, True) for p in head_refs.values()
        ]
    bases, base_refs = _directory_specs(base, policy, common_root([base]))
    out: list[tuple[Path | None, Path | None, bool, bool]] = []
    for rel in sorted(set(heads) | set(bases)):
        out.append((bases.get(rel), heads.get(rel), True, False))
    for rel in sorted(set(head_refs) | set(base_refs)):
        out.append((base_refs.get(rel), head_refs.get(rel), True, True))
    return out


def _directory_specs(
    directory: Path, policy: Policy, root: Path
) -> tuple[dict[Path, Path], dict[Path, Path]]:
    """The OpenAPI specs and the api-ref trees of a directory, by relative path.

    Files inside an api-ref tree are its own; in a directory holding api-ref trees
    (an OpenStack project) only the policy's spec globs name OpenAPI specs.
    """
    trees = find_api_ref_trees(directory)
    specs = [
        p
        for p in discover_specs(directory, policy, root, by_suffix=not trees)
        if not any(p == t or t in p.parents for t in trees)
    ]
    return (
        {p.relative_to(directory): p for p in specs},
        {t.relative_to(directory): t for t in trees},
    )


def _cached(
    preloaded: Mapping[tuple[str, str], Spec],
    side: str,
    src: SpecSource | None,
    limit: int,
    loads: dict[tuple[str, str], Spec | None] | None = None,
    policy_trees: PolicyTrees = NO_POLICY_TREES,
    cache: bool = True,
) -> Spec | None:
    if src is None:
        return None
    key = (side, src.path)
    spec = preloaded.get(key)
    if spec is not None:
        return spec
    if loads is not None and key in loads:
        return loads[key]
    spec = _load(src, limit, policy_trees=policy_trees, cache=cache)
    if loads is not None:
        loads[key] = spec
    return spec


def _load(
    src: SpecSource,
    limit: int,
    *,
    validate: bool = True,
    policy_trees: PolicyTrees = NO_POLICY_TREES,
    cache: bool = True,
) -> Spec:
    try:
        if src.api_ref:
            return _load_api_ref(src, policy_trees)
        spec = load_spec(
            src.path,
            reader=src.reader,
            root=src.root,
            max_bytes=limit,
            validate=validate,
            cache=cache,
        )
        defaults = policy_trees.defaults()
        return with_policies(spec, defaults) if defaults is not None and spec.ok else spec
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


def _load_api_ref(src: SpecSource, policy_trees: PolicyTrees) -> Spec:
    """An api-ref tree with its project: on disk, or the whole tree of the reader (a git
    revision; a reader that cannot list its files gives the tree without its project)."""
    if src.reader is None:
        return read_api_ref_dir(src.path, root=src.root, policy_trees=policy_trees.trees)
    return load_api_ref(src.path, listed(src.reader), policy_trees=policy_trees.trees)


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
    diff = None
    if base is not None and base.ok and head.ok:
        # classify built both surfaces (kept on the specs): the diff reuses them
        diff = diff_specs(base, head, surfaces=(operations(base), operations(head)))
    if diff is not None and base is not None and base_audience and head_audience:
        diff = _with_audience_changes(diff, base, head, base_audience, head_audience)
    return Subject(
        head=head,
        head_audience=head_audience,
        base=base,
        base_audience=base_audience,
        diff=diff,
        deleted=deleted,
    )


def _with_audience_changes(
    diff: SpecDiff,
    base: Spec,
    head: Spec,
    base_audience: Classification,
    head_audience: Classification,
) -> SpecDiff:
    """``diff`` with an ``audience`` change on each operation whose audience changed.

    A changed policy default changes who may call an operation without touching its
    description: the operation is changed surface all the same, judged strictly (an
    operation opened to users is held to the rules of external APIs from then on).
    """
    moved = {
        key: Change("audience", str(before.audience), str(after.audience))
        for key, after in head_audience.operations.items()
        if (before := base_audience.operations.get(key)) is not None
        and before.audience is not after.audience
    }
    if not moved:
        return diff
    changed = []
    for d in diff.changed:
        change = moved.pop(d.key, None)
        changed.append(replace(d, changes=(*d.changes, change)) if change else d)
    base_ops = {op.key: op for op in operations(base)}
    head_ops = {op.key: op for op in operations(head)}
    for key, change in moved.items():
        if key in base_ops and key in head_ops:
            changed.append(OperationDiff(key, "changed", base_ops[key], head_ops[key], (change,)))
    extra = len(changed) - len(diff.changed)
    return replace(diff, changed=tuple(changed), unchanged=max(0, diff.unchanged - extra))


def _empty_like(base: Spec) -> Spec:
    """A stand-in for a deleted spec: the same document with no operations."""
    data = base.data or {}
    keep = {k: data[k] for k in ("openapi", "swagger", "info") if k in data}
    empty: dict[str, Any] = {**keep, "paths": {}}
    return Spec(
        file=base.file,
        data=empty,
        version=base.version,
        documents={base.file: empty},
        dialect=base.dialect,
    )
