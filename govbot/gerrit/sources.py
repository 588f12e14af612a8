"""Spec files of a Gerrit patch set and of its parent, read over REST or from a git mirror.

:func:`change_specs` answers "which API specs did this patch set change, and how do I read
both sides?" for the review pipeline:

* the changed files come from ``GET .../revisions/{sha}/files/?parent=1`` (first parent,
  also for merge commits), without Gerrit's magic ``/COMMIT_MSG`` and ``/MERGE_LIST``;
  statuses are folded to A/M/D/R (copied is added, rewritten is modified) and filtered by
  the policy's spec globs with the rules of :func:`govbot.sources.select_specs`;
* the **head** reader reads the patch set, the **base** reader its first parent. Both
  implement the loader's ``Reader``, so ``$ref``s to other files resolve at the right side.
* a **root commit** has no parent 1 (Gerrit answers 400 to ``parent=1``): its files are
  listed against nothing and its base is empty (gerrit-fidelity #1);
* on a **merge commit** Gerrit checks every inline comment's path, on either side, against
  the files changed against its default base, the auto-merge (a comment elsewhere fails
  the whole review with 400 "file ... not found in revision"), so
  :attr:`ChangeSpecs.changed` keeps only those; findings about the other files go in the
  summary (gerrit-fidelity #2).

Two kinds of reader: :class:`RevisionReader` (REST ``/content``, one call per file,
cached) and the :class:`~govbot.sources.GitReader` of a per-project bare
:class:`~govbot.gerrit.mirror.GitMirror`, which fetches ``refs/changes/NN/N/P`` once and
then reads any file locally. The mirror is chosen only when one is configured and a changed spec refers to
other files (a ``$ref`` that does not start with ``#``): a spec that stands alone costs
two REST calls, not a fetch.
"""

from __future__ import annotations

import logging
import posixpath
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import git

from govbot.errors import FileTooLarge
from govbot.gerrit.bounded import ContentTooLarge
from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.client import GerritClient
from govbot.gerrit.errors import GerritBadRequest, GerritNotFound
from govbot.gerrit.mirror import GitMirror, MirrorError
from govbot.gerrit.revisions import FileInfo, RevisionInfo
from govbot.gerrit.scalars import strip_xssi
from govbot.gerrit.transport import ChangeRef, change_label
from govbot.openapi.load import Reader
from govbot.openapi.problems import MAX_BYTES
from govbot.sources import ChangedFile, GitReader, select_specs

LOG = logging.getLogger(__name__)

# `$ref: other.yaml#/x`, `"$ref": "./common.json"`: a reference that leaves the document.
_EXTERNAL_REF = re.compile(rb"""\$ref['"]?\s*:\s*['"]?([^'"\s#][^'"\s,}]*)""")


# --- readers -------------------------------------------------------------------------------


class Unreadable(FileNotFoundError):
    """A file Gerrit will not send over REST: ``/content`` answered 400 ("File too big"
    over ``change.maxFileSizeDownload``, or a directory) (gerrit-fidelity #9). ``reason``
    is Gerrit's answer."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class RevisionReader:
    """A loader ``Reader`` over Gerrit's ``/content`` of one revision (or its first parent).

    Each file is fetched once and kept; a file absent at that side raises
    FileNotFoundError, as the loader expects. ``revision`` should be a commit SHA so that
    every read sees the same patch set even if a new one is uploaded meanwhile.

    Sizes are checked before bytes are read: ``sizes`` (path -> bytes at this side, from
    the file list's ``FileInfo.size``) answers :meth:`size` without a download, and a
    file listed over ``max_bytes`` is never asked for. Any other file is read in chunks
    and no further than ``max_bytes``; one over it raises
    :class:`~govbot.errors.FileTooLarge`, which the loader reports as OAS002.
    """

    def __init__(
        self,
        client: GerritClient,
        change: int | str | ChangeInfo,
        revision: str,
        *,
        parent: bool,
        sizes: Mapping[str, int] | None = None,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.client = client
        self.change = change
        self.revision = revision
        self.parent = parent
        self.sizes = dict(sizes or {})
        self.max_bytes = max_bytes
        self._cache: dict[str, bytes | FileTooLarge | None] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        side = "parent of " if self.parent else ""
        return f"RevisionReader(change {change_label(self.change)}, {side}{self.revision})"

    def read(self, relpath: str) -> bytes:
        """The bytes of ``relpath`` at this side; FileNotFoundError if absent."""
        path = _normal(relpath)
        with self._lock:
            if path in self._cache:
                data = self._cache[path]
                if data is None:
                    raise FileNotFoundError(f"{relpath} at {self._where()}")
                if isinstance(data, FileTooLarge):
                    raise data
                return data
        listed = self.sizes.get(path)
        if listed is not None and listed > self.max_bytes:
            raise FileTooLarge(relpath, listed, self.max_bytes)
        try:
            data = self.client.content(
                self.change, self.revision, path, parent=self.parent, max_bytes=self.max_bytes
            )
        except ContentTooLarge as exc:
            LOG.warning("%s at %s is not read: %s", relpath, self._where(), exc)
            refused = FileTooLarge(relpath, exc.size, self.max_bytes)
            with self._lock:
                self._cache[path] = refused
            raise refused from None
        except GerritNotFound:
            with self._lock:
                self._cache[path] = None
            raise FileNotFoundError(f"{relpath} at {self._where()}") from None
        except GerritBadRequest as exc:
            # Gerrit's 400 here: a file over maxFileSizeDownload ("File too big") or a
            # directory. govbot cannot read it: unreadable, with the reason, not a failed
            # job (gerrit-fidelity #9).
            LOG.warning("%s at %s is unreadable: %s", relpath, self._where(), exc)
            with self._lock:
                self._cache[path] = None
            reason = (strip_xssi(exc.body).strip() or str(exc)).splitlines()[0]
            raise Unreadable(
                f"{relpath} at {self._where()}: unreadable ({reason})", reason
            ) from None
        with self._lock:
            self._cache[path] = data
        return data

    def size(self, relpath: str) -> int:
        """Size in bytes of ``relpath`` at this side: from the file list when it gave one
        (nothing is downloaded), else from a bounded read (FileTooLarge over the limit)."""
        listed = self.sizes.get(_normal(relpath))
        return listed if listed is not None else len(self.read(relpath))

    def exists(self, relpath: str) -> bool:
        """Whether ``relpath`` is a file at this side."""
        if _normal(relpath) in self.sizes:
            return True
        try:
            self.read(relpath)
        except FileNotFoundError:
            return False
        except FileTooLarge:
            return True
        return True

    def _where(self) -> str:
        side = "the parent of " if self.parent else ""
        return f"{side}change {change_label(self.change)} revision {self.revision}"


class EmptyReader:
    """The side of a root commit: no files at all."""

    def read(self, relpath: str) -> bytes:
        raise FileNotFoundError(f"{relpath}: no parent commit")

    def exists(self, relpath: str) -> bool:
        return False

    def files(self) -> Iterator[str]:
        return iter(())


def _normal(relpath: str) -> str:
    path = posixpath.normpath(str(relpath).replace("\\", "/"))
    if path.startswith(("/", "../")) or path in ("..", "."):
        # Magic files (/COMMIT_MSG) and anything outside the tree are not spec files.
        raise FileNotFoundError(f"{relpath}: not a file of the repository")
    return path


# --- the changed specs of a patch set ------------------------------------------------------


@dataclass(frozen=True)
class ChangeSpecs:
    """The spec files a patch set changed, and readers for both of its sides."""

    change: ChangeInfo
    revision: str  # commit SHA of the patch set
    patch_set: int
    ref: str  # refs/changes/NN/N/P
    files: tuple[ChangedFile, ...]  # the changed specs, by path
    # The files inline comments may go on: every file the patch set changed against its
    # first parent (no magic files); on a merge, only those also changed against the
    # auto-merge, the files Gerrit accepts comments on.
    changed: Mapping[str, FileInfo]
    head: Reader  # the patch set
    base: Reader  # its first parent
    source: Literal["rest", "git"] = "rest"
    parent: str | None = None  # first parent's SHA, when known
    notes: tuple[str, ...] = field(default=())  # e.g. why the mirror was not used

    @property
    def paths(self) -> frozenset[str]:
        """Every path (old and new) of the changed specs."""
        return frozenset(p for c in self.files for p in (c.old_path, c.new_path) if p)


def change_ref(change: int, patch_set: int) -> str:
    """``refs/changes/NN/N/P``: NN is the change number's last two digits."""
    return f"refs/changes/{change % 100:02d}/{change}/{patch_set}"


def has_external_refs(data: bytes) -> bool:
    """Whether a spec's text has a ``$ref`` to another file (not ``#...``, not a URL)."""
    return any(b"://" not in m.group(1) for m in _EXTERNAL_REF.finditer(data))


def change_specs(
    client: GerritClient,
    change_info: ChangeInfo,
    *,
    globs: Sequence[str],
    mirror: GitMirror | None = None,
    revision: str | int | None = None,
    max_bytes: int = MAX_BYTES,
) -> ChangeSpecs:
    """The changed specs of ``change_info``'s current patch set (or of ``revision``: a SHA
    or patch set number), with head and base readers (REST, or ``mirror`` when a changed
    spec ``$ref``s other files). A failing mirror falls back to REST, with a warning.
    No file over ``max_bytes`` (the policy's ``max_file_bytes``) is downloaded: the file
    list's sizes decide first, and every read is bounded."""
    rev = _revision(client, change_info, revision)
    files, changed, root = _listed(client, change_info, rev)
    specs = tuple(select_specs((_changed_file(info) for info in changed.values()), globs))
    if rev.commit is not None and len(rev.commit.parents) > 1:
        changed = _merge_commentable(client, change_info, rev, changed)
    specs = tuple(sorted(specs, key=lambda c: c.path))
    ref = rev.ref or change_ref(change_info.number, rev.number)
    parent = rev.commit.parents[0].commit if rev.commit and rev.commit.parents else None
    head, base = _rest_sides(client, change_info, rev, files, root=root, max_bytes=max_bytes)
    if root:
        LOG.info(
            "change=%s ps=%s is a root commit: every file is new", change_info.number, rev.number
        )
    sides = _Sides(head, base, parent=parent)
    refers, unreadable = _survey(specs, sides.head, sides.base) if specs else (False, {})
    if mirror is not None and (refers or unreadable):
        sides = _mirror_sides(mirror, change_info, ref, rev, sides, max_bytes)
        if sides.source == "git":
            unreadable = {}  # git has no download limit
    # Not a failed review: the specs Gerrit will not send are left out, with a note.
    specs = tuple(c for c in specs if c.path not in unreadable)
    notes = sides.notes + _unreadable_notes(unreadable)
    LOG.info(
        "change=%s ps=%s: %d of %d changed files are specs; read via %s",
        change_info.number,
        rev.number,
        len(specs),
        len(changed),
        sides.source,
    )
    return ChangeSpecs(
        change=change_info,
        revision=rev.sha,
        patch_set=rev.number,
        ref=ref,
        files=specs,
        changed=changed,
        head=sides.head,
        base=sides.base,
        source=sides.source,
        parent=sides.parent,
        notes=notes,
    )


@dataclass(frozen=True)
class _Sides:
    """The readers of a patch set and of its first parent, and where they read."""

    head: Reader
    base: Reader
    source: Literal["rest", "git"] = "rest"
    parent: str | None = None
    notes: tuple[str, ...] = ()


def _listed(
    client: GerritClient, change_info: ChangeInfo, rev: RevisionInfo
) -> tuple[dict[str, FileInfo], dict[str, FileInfo], bool]:
    """The file list against the first parent (magic files included), the files of the
    tree in it, and whether the patch set is a root commit."""
    # A root commit has no parent 1: Gerrit answers 400 to parent=1 (gerrit-fidelity #1).
    root = rev.commit is not None and not rev.commit.parents
    files = changed_files(client, change_info, rev.sha, root=root)
    if files is None:
        root, files = True, client.files(change_info, rev.sha)
    changed = {path: info for path, info in files.items() if not info.is_magic}
    return files, changed, root


def _merge_commentable(
    client: GerritClient,
    change_info: ChangeInfo,
    rev: RevisionInfo,
    changed: dict[str, FileInfo],
) -> dict[str, FileInfo]:
    listed = len(changed)
    commentable = commentable_files(client, change_info, rev, changed)
    LOG.info(
        "change=%s ps=%s is a merge: inline comments only on the %d of %d files it "
        "changes against the auto-merge",
        change_info.number,
        rev.number,
        len(commentable),
        listed,
    )
    return commentable


def _rest_sides(
    client: GerritClient,
    change_info: ChangeInfo,
    rev: RevisionInfo,
    files: Mapping[str, FileInfo],
    *,
    root: bool,
    max_bytes: int,
) -> tuple[Reader, Reader]:
    """REST readers of the patch set and its parent (none for a root commit), sized by
    the file list so that nothing over ``max_bytes`` is asked for."""
    head_sizes, base_sizes = listed_sizes(files.values())
    head: Reader = RevisionReader(
        client, change_info, rev.sha, parent=False, sizes=head_sizes, max_bytes=max_bytes
    )
    base: Reader = (
        EmptyReader()
        if root
        else RevisionReader(
            client, change_info, rev.sha, parent=True, sizes=base_sizes, max_bytes=max_bytes
        )
    )
    return head, base


def _mirror_sides(
    mirror: GitMirror,
    change_info: ChangeInfo,
    ref: str,
    rev: RevisionInfo,
    rest: _Sides,
    max_bytes: int,
) -> _Sides:
    """The sides read from the git mirror; ``rest`` (with a note why) when it fails."""
    try:
        git_head = mirror.fetch(
            change_info.project,
            ref,
            branch=change_info.branch,
            commit=rev.sha,
            max_bytes=max_bytes,
        )
    except (MirrorError, OSError, git.GitError) as error:
        LOG.warning(
            "change=%s ps=%s: git mirror failed, reading over REST: %s",
            change_info.number,
            rev.number,
            error,
        )
        return replace(rest, notes=(*rest.notes, f"git mirror failed: {error}"))
    parents = git_head.commit.parents
    parent = parents[0].hexsha if parents else None
    base = GitReader(git_head.repo, parent, max_bytes=max_bytes) if parent else EmptyReader()
    return _Sides(git_head, base, "git", parent, rest.notes)


def _unreadable_notes(unreadable: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(
        f"{path} not checked: Gerrit would not send it ({reason})"
        for path, reason in sorted(unreadable.items())
    )


def listed_sizes(files: Iterable[FileInfo]) -> tuple[dict[str, int], dict[str, int]]:
    """(path -> size in the revision, path -> size in its parent) from a file list:
    ``size`` is the file's size in the revision and ``size_delta`` the change, so the
    parent's (old path's) size is their difference. Magic files are left out."""
    head: dict[str, int] = {}
    base: dict[str, int] = {}
    for info in files:
        if info.is_magic:
            continue
        if info.status != "D":
            head[info.path] = info.size
        if info.status not in ("A", "C"):
            old = info.size - info.size_delta
            if old >= 0:
                base[info.old_path or info.path] = old
    return head, base


def changed_files(
    client: GerritClient, change_info: ChangeRef, sha: str, *, root: bool = False
) -> dict[str, FileInfo] | None:
    """Files changed against the first parent (``root``: against nothing); None when the
    commit turns out to have no parent (a root commit whose commit info was not at hand:
    Gerrit answers 400 "invalid parent number")."""
    if root:
        return client.files(change_info, sha)
    try:
        return client.files(change_info, sha, parent=1)
    except GerritBadRequest as exc:
        if "parent" not in str(exc).lower():
            raise
        return None


def first_parent_files(
    client: GerritClient, change: ChangeRef, revision: str | RevisionInfo
) -> dict[str, FileInfo]:
    """Every file ``revision`` changed against its first parent (against nothing when it
    is a root commit), magic files included. Given a RevisionInfo with its commit, a root
    commit is listed at once, without the 400 that ``parent=1`` gets."""
    sha = revision if isinstance(revision, str) else revision.sha
    commit = None if isinstance(revision, str) else revision.commit
    files = changed_files(client, change, sha, root=commit is not None and not commit.parents)
    return files if files is not None else client.files(change, sha)


def commentable_files(
    client: GerritClient,
    change: ChangeRef,
    revision: RevisionInfo,
    files: Mapping[str, FileInfo],
) -> dict[str, FileInfo]:
    """The entries of ``files`` (listed against parent 1) that may carry inline comments:
    all of them, except on a merge, where Gerrit takes comments only on the files changed
    against the auto-merge (and its magic files)."""
    if revision.commit is None or len(revision.commit.parents) < 2:
        return dict(files)
    merged = client.files(change, revision.sha)
    return {path: info for path, info in files.items() if path in merged}


def _revision(
    client: GerritClient, change_info: ChangeInfo, wanted: str | int | None
) -> RevisionInfo:
    """The RevisionInfo to read: from ``change_info`` when it has it, else asked for."""
    found = _find_revision(change_info, wanted)
    if found is not None:
        return found
    options = ["CURRENT_REVISION", "CURRENT_COMMIT"] if wanted is None else ["ALL_REVISIONS"]
    fresh = client.change(change_info, options=options)
    found = _find_revision(fresh, wanted)
    if found is None:
        raise GerritNotFound(
            f"change {change_info.number} has no revision {wanted or 'current'}",
            status=404,
            change=change_info.number,
        )
    return found


def _find_revision(info: ChangeInfo, wanted: str | int | None) -> RevisionInfo | None:
    if wanted is None:
        return info.current
    text = str(wanted)
    if text.isdigit() and len(text) < 7:
        return info.revision(int(text))
    for sha, revision in info.revisions.items():
        if sha.startswith(text):
            return revision
    return None


def _changed_file(info: FileInfo) -> ChangedFile:
    if info.status in ("A", "C"):  # a copy is a new file; its source is untouched
        return ChangedFile("A", None, info.path)
    if info.status == "D":
        return ChangedFile("D", info.path, None)
    if info.status == "R" and info.old_path:
        return ChangedFile("R", info.old_path, info.path)
    return ChangedFile("M", info.path, info.path)  # M, W (rewritten)


def _survey(
    specs: Sequence[ChangedFile], head: Reader, base: Reader
) -> tuple[bool, dict[str, str]]:
    """Read each changed spec, both sides (REST reads are cached for the loader): whether
    one refers to other files, and the specs Gerrit will not send (path -> why)."""
    refers = False
    unreadable: dict[str, str] = {}
    for item in specs:
        for reader, path in ((head, item.new_path), (base, item.old_path)):
            if path is None:
                continue
            try:
                data = reader.read(path)
            except Unreadable as exc:
                unreadable[item.path] = exc.reason
                continue
            except (FileNotFoundError, FileTooLarge):
                continue  # too large: the loader reports its size (OAS002), unread
            refers = refers or has_external_refs(data)
    return refers, unreadable
