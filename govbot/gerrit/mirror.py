"""Bare git mirrors of Gerrit projects: a patch set fetched once, then any file read locally.

``sources.change_specs`` reads a change's files through a :class:`GitMirror` when one is
configured (``GOVBOT_GIT_MIRROR_DIR``) and a changed spec refers to other files; the index
job reads merged patch sets through it. Everything that reaches git from Gerrit's answers
(a ref, a branch, a commit SHA) is checked first, and a URL's credentials reach git only
through its environment, never a config file or a command line.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import git

from govbot.errors import GerritError
from govbot.redact import redact_url
from govbot.sources import MAX_READ_BYTES, GitReader

try:  # a lock that also holds across processes sharing the cache directory
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

# The logger of the changed specs' reads, by the name operators' configuration already uses.
LOG = logging.getLogger("govbot.gerrit.sources")

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# What git check-ref-format refuses anywhere in a name: control characters, space, ~ ^ :
# ? * [ \, "..", "@{" (and so any option or REV:PATH).
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{")


class MirrorError(GerritError):
    """The git mirror could not fetch or find a commit."""


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
