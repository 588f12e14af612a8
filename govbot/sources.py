"""Files at a revision: read spec blobs from git and list the specs a range changed.

``govbot check --git REV1..REV2`` loads the base side with ``GitReader(repo, REV1)`` and
the head side with ``GitReader(repo, REV2)``, so that cross-file ``$ref``s resolve
against the files *as they were* at each revision, never against the work tree.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import git

from govbot.errors import FileTooLarge, OutsideRoot, SpecError
from govbot.paths import glob_match

Status = Literal["A", "M", "D", "R"]
_SYMLINK_MODE = 0o120000
_MAX_LINK_HOPS = 8
_MAX_LINK_BYTES = 4096  # PATH_MAX: a link target is never longer
_FULL_ID = re.compile(r"[0-9a-f]{40}")
# No blob bigger than this is read unless the caller allows it: the policy's default
# max_file_bytes (govbot.policy); callers pass the policy's own limit.
MAX_READ_BYTES = 64 * 1024 * 1024


def open_repo(path: str | Path) -> git.Repo:
    """The git repository at ``path`` (or containing it); SpecError if there is none."""
    try:
        return git.Repo(path, search_parent_directories=True)
    except git.NoSuchPathError:
        raise SpecError(f"{path}: no such directory") from None
    except git.InvalidGitRepositoryError:
        raise SpecError(f"{path}: not a git repository") from None


def resolve_rev(repo: git.Repo, rev: str) -> git.Commit:
    """The commit ``rev`` names; SpecError naming ``rev`` and why it names none.

    ``rev`` comes from the command line or from Gerrit, so it is checked here, at the
    edge: only a commit is accepted, never ``REV:PATH`` (a file inside a revision, which
    may name a path outside the repository) nor anything git would read as an option;
    git sees it only after ``--end-of-options``.
    """
    text = str(rev)
    cause = _bad_revision(text)
    if cause is not None:
        raise SpecError(f"{repo.working_dir}: revision {text!r} {cause}")
    if _FULL_ID.fullmatch(text):
        # A full commit id (a walk's, from git log) is looked up in the object database
        # the readers already talk to, without a git process of its own per commit.
        try:
            commit = repo.commit(text)
            commit.tree  # noqa: B018  (reads the object: a missing or non-commit id fails)
            return commit
        except (git.GitError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            pass  # rev-parse below says what it is, or that it is unknown
    try:
        sha = repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{text}^{{commit}}")
        return repo.commit(sha.strip())
    except (git.GitError, ValueError, KeyError, IndexError, TypeError):
        raise SpecError(f"{repo.working_dir}: unknown revision {text!r}") from None


def _listing(tree: git.Tree) -> list[str]:
    """Every file path under ``tree``, relative to it, in the order ``traverse()`` gives
    (breadth first: a level's files, then the next level's)."""
    try:
        return [path for level in _levels(tree) for path in level]
    except _TooDeep:  # a tree nested deeper than any project's: walked without recursion
        return [str(item.path) for item in tree.traverse() if isinstance(item, git.Blob)]


class _TooDeep(Exception):
    """A tree nested deeper than :data:`MAX_LISTED_DEPTH`."""


def _levels(tree: git.Tree, depth: int = 0) -> tuple[tuple[str, ...], ...]:
    """The file paths under ``tree``, relative to it, by depth, each level in traversal
    order.

    Kept per tree object (its id names its content, in any repository): the next commit
    of a history shares every tree but those on the paths it changed, so listing a
    commit of a big repository (a backfill does at every commit) reads a few trees, not
    thousands."""
    if depth > MAX_LISTED_DEPTH:
        raise _TooDeep
    known = _LISTINGS.pop(tree.binsha, None)
    if known is not None:
        _LISTINGS[tree.binsha] = known  # the most recently used last
        return known
    here: list[str] = []
    below: list[tuple[str, tuple[tuple[str, ...], ...]]] = []
    for item in tree:
        if isinstance(item, git.Blob):
            here.append(item.name)
        elif isinstance(item, git.Tree):
            below.append((item.name, _levels(item, depth + 1)))
    levels = [tuple(here)]
    depth = max((len(sub) for _, sub in below), default=0)
    for d in range(depth):
        levels.append(
            tuple(f"{name}/{path}" for name, sub in below if d < len(sub) for path in sub[d])
        )
    found = tuple(levels)
    while len(_LISTINGS) >= MAX_LISTINGS:
        _LISTINGS.pop(next(iter(_LISTINGS)))
    _LISTINGS[tree.binsha] = found
    return found


# The file listing (by depth) of each tree object used lately, by its id, least recent
# first.
_LISTINGS: dict[bytes, tuple[tuple[str, ...], ...]] = {}
MAX_LISTINGS = 4096
# Trees nested deeper than this (none a person writes; a crafted repository may) are
# listed by GitPython's traversal instead: the listing by levels recurses.
MAX_LISTED_DEPTH = 64


def _bad_revision(rev: str) -> str | None:
    """Why ``rev`` cannot name a commit (None when it may)."""
    if not rev.strip():
        return "is empty"
    if any(ord(c) < 32 or ord(c) == 127 for c in rev):
        return "contains a control character"
    if rev.startswith("-"):
        return "starts with '-': an option, not a revision"
    if ":" in rev:
        return "names a file inside a revision (REV:PATH), not a commit"
    return None


class GitReader:
    """A :class:`govbot.openapi.load.Reader` over the tree of one commit.

    Paths are relative to the repository root. Symbolic links are followed inside the
    tree (the OpenStack specs use one for ``v2.yaml``); a path or link leading out of it
    (or a chain of links that never ends) raises :class:`~govbot.errors.OutsideRoot`,
    which the loader reports as a finding. Sizes come from the object header (``git
    cat-file -s``), so a blob over ``max_bytes`` is refused without reading it.
    """

    def __init__(
        self, repo: str | Path | git.Repo, rev: str, *, max_bytes: int = MAX_READ_BYTES
    ) -> None:
        self.repo = repo if isinstance(repo, git.Repo) else open_repo(repo)
        self.rev = rev
        self.commit = resolve_rev(self.repo, rev)
        self.max_bytes = max_bytes
        # Each file read once: a check hashes a spec's bytes and then parses them, and
        # indexing reads them again to keep them (a big spec is a delta chain to undo).
        self._read: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return f"GitReader({self.repo.working_dir!r}, {self.rev!r})"

    def read(self, relpath: str) -> bytes:
        """The content of ``relpath`` at this revision; FileNotFoundError if absent,
        :class:`~govbot.errors.FileTooLarge` (unread) if over ``max_bytes``."""
        known = self._read.get(relpath)
        if known is not None:
            return known
        blob = self._blob(relpath)
        if blob.size > self.max_bytes:
            raise FileTooLarge(relpath, int(blob.size), self.max_bytes)
        data: bytes = blob.data_stream.read()
        self._read[relpath] = data
        return data

    def size(self, relpath: str) -> int:
        """Size in bytes of ``relpath`` at this revision, without reading it."""
        return int(self._blob(relpath).size)

    def exists(self, relpath: str) -> bool:
        """Whether ``relpath`` is a file at this revision."""
        try:
            self._blob(relpath)
        except (FileNotFoundError, OutsideRoot):
            return False
        return True

    def files(self) -> Iterator[str]:
        """Every file path in the tree at this revision."""
        return iter(_listing(self.commit.tree))

    def _blob(self, relpath: str) -> git.Blob:
        path = _normal(relpath)
        for _ in range(_MAX_LINK_HOPS):
            try:
                item = self.commit.tree / path
            except KeyError:
                raise FileNotFoundError(f"{relpath} at {self.rev}") from None
            if not isinstance(item, git.Blob):
                raise FileNotFoundError(f"{relpath} at {self.rev} is not a file")
            if item.mode != _SYMLINK_MODE:
                return item
            if item.size > _MAX_LINK_BYTES:  # a link's blob is its target: a path
                raise OutsideRoot(f"{relpath} at {self.rev}: not a symbolic link git made")
            target = item.data_stream.read().decode("utf-8", "replace")
            path = _normal(posixpath.join(posixpath.dirname(path), target))
        raise OutsideRoot(f"{relpath} at {self.rev}: more than {_MAX_LINK_HOPS} symbolic links")


def _normal(relpath: str) -> str:
    path = posixpath.normpath(str(relpath).replace("\\", "/"))
    if path.startswith(("/", "../")) or path == "..":
        raise OutsideRoot(f"{relpath}: outside the repository")
    if path == ".":
        raise FileNotFoundError(f"{relpath}: not a file")
    return path


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """One file a range changed: A(dded), M(odified), D(eleted) or R(enamed)."""

    status: Status
    old_path: str | None  # None for an added file
    new_path: str | None  # None for a deleted file

    @property
    def path(self) -> str:
        """The path that names the file in the change (the new one, unless deleted)."""
        return self.new_path or self.old_path or ""


def changed_files(repo: str | Path | git.Repo, rev1: str, rev2: str) -> list[ChangedFile]:
    """Every file changed between two revisions, renames detected (``git diff -M``)."""
    repo = repo if isinstance(repo, git.Repo) else open_repo(repo)
    old, new = resolve_rev(repo, rev1), resolve_rev(repo, rev2)
    out: list[ChangedFile] = []
    for d in old.diff(new):
        kind = d.change_type
        if kind == "A" or kind == "C":
            out.append(ChangedFile("A", None, d.b_path))
        elif kind == "D":
            out.append(ChangedFile("D", d.a_path, None))
        elif kind == "R":
            out.append(ChangedFile("R", d.a_path, d.b_path))
        else:  # M, T (type change)
            out.append(ChangedFile("M", d.a_path, d.b_path))
    return sorted(out, key=lambda c: c.path)


def changed_specs(
    repo: str | Path | git.Repo, rev1: str, rev2: str, globs: Sequence[str]
) -> list[ChangedFile]:
    """The files matching ``globs`` that the range added, modified, deleted or renamed.

    A file renamed into the globs counts as added, one renamed out of them as deleted.
    """
    return select_specs(changed_files(repo, rev1, rev2), globs)


def select_specs(changes: Iterable[ChangedFile], globs: Sequence[str]) -> list[ChangedFile]:
    """The changes that touch a path matching ``globs`` (the rules of :func:`changed_specs`)."""
    out = []
    for c in changes:
        old_in = c.old_path is not None and _matches(c.old_path, globs)
        new_in = c.new_path is not None and _matches(c.new_path, globs)
        if c.status == "R":
            if old_in and new_in:
                out.append(c)
            elif new_in:
                out.append(ChangedFile("A", None, c.new_path))
            elif old_in:
                out.append(ChangedFile("D", c.old_path, None))
        elif old_in or new_in:
            out.append(c)
    return out


def _matches(path: str, globs: Iterable[str]) -> bool:
    return any(glob_match(g, path) for g in globs)
