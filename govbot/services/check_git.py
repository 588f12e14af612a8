"""``govbot check --git REV1..REV2``: the specs and api-ref trees a git range touched.

Apart from :mod:`govbot.services.check` so that a check of files does not import git
(GitPython); only this entry point needs it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

from govbot.audience import Classification
from govbot.findings import Report
from govbot.paths import SPEC_SUFFIXES
from govbot.policy import Policy
from govbot.services.check import (
    NO_POLICY_TREES,
    PolicyTrees,
    SpecSource,
    _is_openapi,
    _load,
    api_ref_pairs,
    check_pairs,
)
from govbot.sources import ChangedFile, GitReader, changed_files, open_repo
from govbot.surface import Spec


def check_git(
    repo: str | Path,
    rev1: str,
    rev2: str,
    *,
    policy: Policy,
    today: dt.date,
    max_bytes: int | None = None,
    policy_trees: PolicyTrees = NO_POLICY_TREES,
    cache: bool = True,
) -> Report[Classification]:
    """Check everything a reviewer would see for ``rev1..rev2``: the specs the range touched.

    A spec is touched when its file, or any file its ``$ref``s reach, changed; both
    sides are read from git at their revision. Renamed specs are compared with their
    old path, added ones have no base, and a deleted spec is compared with an empty one
    (every operation removed). An api-ref tree is touched when a file under it changed,
    or a file of its project the policy watches (policy defaults, ledger, release notes).
    """
    git_repo = open_repo(repo)
    limit = max_bytes or policy.max_file_bytes
    base_reader = GitReader(git_repo, rev1, max_bytes=limit)
    head_reader = GitReader(git_repo, rev2, max_bytes=limit)
    changes = changed_files(git_repo, rev1, rev2)
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
    pairs.extend(api_ref_pairs(changes, base_reader, head_reader, policy))
    return check_pairs(
        pairs,
        policy=policy,
        today=today,
        max_bytes=max_bytes,
        preloaded=preloaded,
        policy_trees=policy_trees,
        cache=cache,
    )


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
