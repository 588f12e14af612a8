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
:class:`GitMirror`, which fetches ``refs/changes/NN/N/P`` once and then reads any file
locally. The mirror is chosen only when one is configured and a changed spec refers to
other files (a ``$ref`` that does not start with ``#``): a spec that stands alone costs
two REST calls, not a fetch.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import posixpath
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

import git

from govbot.errors import FileTooLarge, GerritError
from govbot.gerrit.bounded import ContentTooLarge
from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.client import GerritClient
from govbot.gerrit.errors import GerritBadRequest, GerritNotFound
from govbot.gerrit.revisions import FileInfo, RevisionInfo
from govbot.gerrit.scalars import strip_xssi
from govbot.gerrit.transport import ChangeRef, change_label
from govbot.openapi.load import Reader
from govbot.openapi.problems import MAX_BYTES
from govbot.redact import redact_url
from govbot.sources import MAX_READ_BYTES, ChangedFile, GitReader, select_specs

try:  # a lock that also holds across processes sharing the cache directory
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

LOG = logging.getLogger(__name__)

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# What git check-ref-format refuses anywhere in a name: control characters, space, ~ ^ :
# ? * [ \, "..", "@{" (and so any option or REV:PATH).
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{")
# `$ref: other.yaml#/x`, `"$ref": "./common.json"`: a reference that leaves the document.
_EXTERNAL_REF = re.compile(rb"""\$ref['"]?\s*:\s*['"]?([^'"\s#][^'"\s,}]*)""")


class MirrorError(GerritError):
    """The git mirror could not fetch or find a commit."""


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


# --- the git mirror ------------------------------------------------------------------------


class GitMirror:
    """Bare mirrors of Gerrit projects under ``cache_dir``, one per project.

    ``url_for_project(project)`` gives the URL to fetch from (``file://`` for the
    sandbox, ``https://HOST/a/PROJECT`` for a real Gerrit, with credentials supplied by
    git's credential helper or the URL). Credentials in the URL never reach the mirror's
    ``config`` (nor a command line): the remote is the URL without them, and each fetch
    sends them as an ``Authorization`` header set through git's environment
    (``GIT_CONFIG_*``). Fetches are serialised per project, also across processes sharing
    ``cache_dir``; a commit already present is never fetched again (patch set refs never
    move). Git never prompts for a password.
    """

    def __init__(
        self,
        cache_dir: str | Path,
        url_for_project: Callable[[str], str],
        *,
        timeout: float = 300.0,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.url_for_project = url_for_project
        self.timeout = timeout
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.fetches = 0  # git fetch commands run (for tests and benchmarks)

    def __repr__(self) -> str:
        return f"GitMirror({str(self.cache_dir)!r})"

    def path(self, project: str) -> Path:
        """Where ``project``'s bare repository lives (one flat directory per project)."""
        return self.cache_dir / (quote(project, safe="") + ".git")

    def repo(self, project: str) -> git.Repo:
        """``project``'s bare repository, created (with its ``origin``) on first use."""
        path = self.path(project)
        if (path / "objects").is_dir():
            repo = git.Repo(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            repo = git.Repo.init(path, bare=True)
        url, _ = split_credentials(self.url_for_project(project))
        with repo.config_reader() as config:
            current = config.get_value('remote "origin"', "url", default="")
        if current != url:
            # Written through the config file, so the URL never shows in a command line
            # (and a mirror made before credentials were kept out of it is cleaned).
            with repo.config_writer() as config:
                config.set_value('remote "origin"', "url", url)
        return repo

    def has_commit(self, project: str, sha: str) -> bool:
        """Whether the mirror already holds commit ``sha``."""
        path = self.path(project)
        if not (path / "objects").is_dir():
            return False
        return _has_commit(git.Repo(path), sha)

    def fetch(
        self,
        project: str,
        ref: str,
        *,
        branch: str | None = None,
        commit: str | None = None,
        max_bytes: int = MAX_READ_BYTES,
    ) -> GitReader:
        """Fetch ``ref`` (``refs/changes/NN/N/P``) and ``branch``; a reader at ``commit``
        (default: what ``ref`` points at). Nothing is fetched when ``commit`` is present.

        ``ref``, ``branch`` and ``commit`` come from Gerrit's answers: they are checked
        first (a ref name under ``refs/``, a hexadecimal SHA), so that none reaches git
        as an option or a ``REV:PATH``; a bad one is a MirrorError naming it.
        """
        _check_ref(ref)
        if branch:
            _check_ref(branch if branch.startswith("refs/") else f"refs/heads/{branch}")
        if commit is not None and not _SHA.fullmatch(commit):
            raise MirrorError(f"{project}: {commit!r} is not a commit SHA")
        with self._lock(project):
            repo = self.repo(project)
            if commit is not None and _has_commit(repo, commit):
                return GitReader(repo, commit, max_bytes=max_bytes)
            refspecs = [f"+{ref}:{ref}"]
            if branch:
                full = branch if branch.startswith("refs/") else f"refs/heads/{branch}"
                refspecs.append(f"+{full}:{full}")
            LOG.debug("git fetch %s %s", project, " ".join(refspecs))
            self.fetches += 1
            try:
                repo.git.fetch(
                    "--quiet",
                    "--no-tags",
                    "origin",
                    *refspecs,
                    kill_after_timeout=self.timeout,
                    env=fetch_env(self.url_for_project(project)),
                )
            except git.GitCommandError as error:
                url = redact_url(self.url_for_project(project))
                detail = _last_line(str(error.stderr or ""), url)
                raise MirrorError(
                    f"git fetch of {ref} from {url} failed: {detail or f'exit {error.status}'}"
                ) from None
            target = commit or ref
            if commit is not None and not _has_commit(repo, commit):
                raise MirrorError(f"{project}: {ref} does not contain commit {commit}")
            return GitReader(repo, target, max_bytes=max_bytes)

    def reader(self, project: str, rev: str) -> GitReader:
        """A reader at ``rev`` of the mirror as it is (no fetch)."""
        return GitReader(self.repo(project), rev)

    @contextlib.contextmanager
    def _lock(self, project: str) -> Iterator[None]:
        with self._locks_guard:
            lock = self._locks.setdefault(project, threading.Lock())
        with lock:
            if fcntl is None:  # pragma: no cover
                yield
                return
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            lock_path = self.cache_dir / (quote(project, safe="") + ".lock")
            with lock_path.open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without the ``user:password@`` of an http(s) URL, and that user and password
    (None when it has no password: a user name alone is no secret, and a credential
    helper may need it)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url, None
    if parts.scheme not in ("http", "https") or password is None:
        return url, None
    clean = redact_url(url, keep_user=False)
    return clean, (unquote(parts.username or ""), unquote(password))


def fetch_env(url: str) -> dict[str, str]:
    """The environment of a ``git fetch`` from ``url``: no prompts, and the URL's
    credentials, if any, as a Basic ``Authorization`` header for that URL only, given as
    configuration in the environment (``GIT_CONFIG_COUNT``, git 2.31): neither the
    mirror's config nor the process list ever shows them."""
    env = {"GIT_TERMINAL_PROMPT": "0"}
    clean, credentials = split_credentials(url)
    if credentials is None:
        return env
    token = base64.b64encode(":".join(credentials).encode("utf-8")).decode("ascii")
    index = _env_config_count()
    env.update(
        {
            "GIT_CONFIG_COUNT": str(index + 1),
            f"GIT_CONFIG_KEY_{index}": f"http.{clean}.extraHeader",
            f"GIT_CONFIG_VALUE_{index}": f"Authorization: Basic {token}",
        }
    )
    return env


def _env_config_count() -> int:
    """How many ``GIT_CONFIG_KEY_n`` entries the environment already has (kept)."""
    try:
        return max(0, int(os.environ.get("GIT_CONFIG_COUNT", "0")))
    except ValueError:
        return 0


def mirror_from_settings(settings: Any) -> GitMirror | None:
    """The git mirror a deployment configured (``GOVBOT_GIT_MIRROR_DIR``), or None.

    Projects are fetched from ``GOVBOT_GIT_URL`` (``{project}`` replaced by the name),
    by default ``{GOVBOT_GERRIT_URL}/{project}``: Gerrit's anonymous HTTP. Credentials are
    never put in the URL; a git credential helper supplies them for ``/a/`` URLs.
    """
    directory = getattr(settings, "git_mirror_dir", "")
    if not directory:
        return None
    template = getattr(settings, "git_url", "") or (
        str(getattr(settings, "gerrit_url", "")).rstrip("/") + "/{project}"
    )
    return GitMirror(directory, lambda project: template.replace("{project}", project))


def _check_ref(ref: str) -> None:
    """MirrorError unless ``ref`` is a ref name git would accept under ``refs/`` (the
    rules of ``git check-ref-format``, checked without running git)."""
    parts = ref.split("/")
    if (
        not ref.startswith("refs/")
        or _BAD_REF.search(ref)
        or ref.endswith((".", "/", ".lock"))
        or any(not part or part.startswith(".") for part in parts)
    ):
        raise MirrorError(f"{ref!r} is not a ref name")


def _has_commit(repo: git.Repo, sha: str) -> bool:
    try:
        repo.git.cat_file("-e", f"{sha}^{{commit}}")
    except git.GitCommandError:
        return False
    return True


def _last_line(text: str, url: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    line = re.sub(r"(?<=://)[^/@\s]*@", "", line)  # user:password@ in git's own messages
    return line.removeprefix("stderr: ").strip().strip("'")[:500] or ""


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
    label = change_info.number
    # A root commit has no parent 1: Gerrit answers 400 to parent=1 (gerrit-fidelity #1).
    root = rev.commit is not None and not rev.commit.parents
    files = changed_files(client, change_info, rev.sha, root=root)
    if files is None:
        root, files = True, client.files(change_info, rev.sha)
    changed = {path: info for path, info in files.items() if not info.is_magic}
    specs = tuple(select_specs((_changed_file(info) for info in changed.values()), globs))
    if rev.commit is not None and len(rev.commit.parents) > 1:
        listed = len(changed)
        changed = commentable_files(client, change_info, rev, changed)
        LOG.info(
            "change=%s ps=%s is a merge: inline comments only on the %d of %d files it "
            "changes against the auto-merge",
            label,
            rev.number,
            len(changed),
            listed,
        )
    specs = tuple(sorted(specs, key=lambda c: c.path))
    ref = rev.ref or change_ref(change_info.number, rev.number)
    parent = rev.commit.parents[0].commit if rev.commit and rev.commit.parents else None
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
    if root:
        LOG.info("change=%s ps=%s is a root commit: every file is new", label, rev.number)
    source: Literal["rest", "git"] = "rest"
    notes: list[str] = []
    refers, unreadable = _survey(specs, head, base) if specs else (False, {})
    if mirror is not None and (refers or unreadable):
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
                label,
                rev.number,
                error,
            )
            notes.append(f"git mirror failed: {error}")
        else:
            parents = git_head.commit.parents
            parent = parents[0].hexsha if parents else None
            head = git_head
            base = (
                GitReader(git_head.repo, parent, max_bytes=max_bytes) if parent else EmptyReader()
            )
            source = "git"
            unreadable = {}  # git has no download limit
    if unreadable:
        # Not a failed review: the specs Gerrit will not send are left out, with a note.
        specs = tuple(c for c in specs if c.path not in unreadable)
        for path, reason in sorted(unreadable.items()):
            notes.append(f"{path} not checked: Gerrit would not send it ({reason})")
    LOG.info(
        "change=%s ps=%s: %d of %d changed files are specs; read via %s",
        label,
        rev.number,
        len(specs),
        len(changed),
        source,
    )
    return ChangeSpecs(
        change=change_info,
        revision=rev.sha,
        patch_set=rev.number,
        ref=ref,
        files=specs,
        changed=changed,
        head=head,
        base=base,
        source=source,
        parent=parent,
        notes=tuple(notes),
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
