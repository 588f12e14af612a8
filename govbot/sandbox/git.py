"""Real git objects and refs for the sandbox: one bare repository per project.

Objects are written as loose objects through gitdb (GitPython's object database) and
refs as loose ref files, without a ``git`` process per write: seeding thousands of changes
(benchmarks) stays fast, and the result is an ordinary repository that ``git fetch
file://...`` reads like any other.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import git
from gitdb.base import IStream
from gitdb.db import LooseObjectDB

FILE_MODE = b"100644"
TREE_MODE = b"40000"


@dataclass(frozen=True, slots=True)
class Person:
    """A git author or committer."""

    name: str
    email: str
    when: datetime
    tz_minutes: int = 0

    def signature(self) -> bytes:
        seconds = int(self.when.astimezone(UTC).timestamp())
        sign = "+" if self.tz_minutes >= 0 else "-"
        hours, minutes = divmod(abs(self.tz_minutes), 60)
        return f"{self.name} <{self.email}> {seconds} {sign}{hours:02d}{minutes:02d}".encode()


class GitStore:
    """A bare repository the sandbox writes commits into."""

    def __init__(self, path: Path, default_branch: str = "master") -> None:
        self.path = path
        if not (path / "objects").is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            git.Repo.init(path, bare=True, initial_branch=default_branch)
        self._db = LooseObjectDB(str(path / "objects"))
        self._blobs: dict[bytes, str] = {}
        self._trees: dict[tuple[tuple[bytes, bytes, bytes], ...], str] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """``file://`` URL for ``git fetch``/``git clone``."""
        return self.path.resolve().as_uri()

    def _store(self, kind: bytes, data: bytes) -> str:
        stream = self._db.store(IStream(kind, len(data), io.BytesIO(data)))
        sha = stream.hexsha
        return sha.decode() if isinstance(sha, bytes) else sha

    def blob(self, data: bytes) -> str:
        sha = self._blobs.get(data)
        if sha is None:
            sha = self._blobs[data] = self._store(b"blob", data)
        return sha

    def tree(self, files: Mapping[str, bytes]) -> str:
        """Write the (nested) tree holding ``files`` (path -> content); return its SHA."""
        root: dict[str, object] = {}
        for path, content in files.items():
            node = root
            *dirs, name = path.split("/")
            for part in dirs:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise ValueError(f"{path}: {part} is a file")
                node = child
            node[name] = content
        return self._write_tree(root)

    def _write_tree(self, node: dict[str, object]) -> str:
        entries = []
        for name, value in node.items():
            if isinstance(value, dict):
                entries.append((name.encode(), TREE_MODE, self._write_tree(value)))
            else:
                assert isinstance(value, bytes)
                entries.append((name.encode(), FILE_MODE, self.blob(value)))
        # git orders entries by name, comparing a tree's name as if it ended in "/".
        entries.sort(key=lambda e: e[0] + b"/" if e[1] == TREE_MODE else e[0])
        key = tuple((name, mode, sha.encode()) for name, mode, sha in entries)
        sha = self._trees.get(key)
        if sha is None:
            body = b"".join(
                mode + b" " + name + b"\0" + bytes.fromhex(sha) for name, mode, sha in entries
            )
            sha = self._trees[key] = self._store(b"tree", body)
        return sha

    def commit(
        self, tree: str, parents: list[str], author: Person, committer: Person, message: str
    ) -> str:
        lines = [b"tree " + tree.encode()]
        lines += [b"parent " + p.encode() for p in parents]
        lines.append(b"author " + author.signature())
        lines.append(b"committer " + committer.signature())
        body = b"\n".join(lines) + b"\n\n" + message.encode()
        return self._store(b"commit", body)

    def set_ref(self, ref: str, sha: str) -> None:
        """Point ``ref`` (``refs/...``) at ``sha`` by writing a loose ref file."""
        if not ref.startswith("refs/") or ".." in ref:
            raise ValueError(f"bad ref name: {ref}")
        target = self.path / ref
        with self._lock:
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(target.name + ".lock")
            temporary.write_text(sha + "\n")
            os.replace(temporary, target)
