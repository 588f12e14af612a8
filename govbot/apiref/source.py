"""Where the readers of this package read: a project's source tree, listed and read.

A :class:`Tree` is a directory on disk (:class:`FileTree`) or a git revision
(:class:`govbot.sources.GitReader` has the same two methods), so that ``govbot check``
on a checkout, ``govbot check --git`` and the review of a Gerrit patch set read the same
files the same way. Paths are relative to the tree's root, with ``/``; nothing outside
the root is ever read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from govbot.apiref.surface import FileReader, Reader

# Directories never read for policies or the ledger: tests, build output, VCS data.
SKIP_DIRS = frozenset({"tests", "test", "node_modules", "__pycache__", "build", "dist"})
# A project tree walked on disk stops after this many files (a checkout with a vendored
# world in it must not stall a check).
MAX_FILES = 200_000


class Tree(Protocol):
    def read(self, relpath: str) -> bytes: ...

    def files(self) -> Iterable[str]: ...


class FileTree:
    """The files under ``under`` (default: all) of the directory ``root``, read through a
    :class:`FileReader` (symlinks leaving ``root`` are refused). Hidden directories and
    :data:`SKIP_DIRS` are not listed."""

    def __init__(self, root: str | Path, under: str = "") -> None:
        self.root = Path(root).resolve()
        self.under = under.strip("/")
        self._reader = FileReader(self.root)
        self._files: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        return f"FileTree({str(self.root)!r}, {self.under!r})"

    def read(self, relpath: str) -> bytes:
        return self._reader.read(relpath)

    def files(self) -> tuple[str, ...]:
        if self._files is None:
            self._files = tuple(self._walk())
        return self._files

    def _walk(self) -> Iterator[str]:
        start = self.root / self.under if self.under else self.root
        if start.is_file():
            yield self.under
            return
        count = 0
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS
            )
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in sorted(filenames):
                count += 1
                if count > MAX_FILES:
                    return
                yield name if rel == "." else f"{rel}/{name}"


def package_top(path: Path) -> Path:
    """The directory above the Python package holding ``path`` (itself if none)."""
    top = path if path.is_dir() else path.parent
    while (top / "__init__.py").is_file() and top.parent != top:
        top = top.parent
    return top


def tree_of(path: str | Path) -> FileTree:
    """A tree for a path given on the command line: a project, a package, or one file.

    A package (or a file in one) is rooted above its top package, so that its modules
    have their full dotted names (``nova.policies.base``) and show as ``nova/policies/..``.
    """
    p = Path(path).resolve()
    top = package_top(p)
    return FileTree(top, p.relative_to(top).as_posix() if p != top else "")


class _Unlisted:
    """A reader that cannot list its files (Gerrit's REST ``/content``): read by name only."""

    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def read(self, relpath: str) -> bytes:
        return self._reader.read(relpath)

    def files(self) -> tuple[str, ...]:
        return ()


def listed(reader: Reader) -> Tree:
    """``reader`` as a :class:`Tree`: itself when it lists its files (a git revision),
    else one that lists none (an api-ref tree is then read from its ``index.rst``,
    without the project's ledger and policy defaults)."""
    files = getattr(reader, "files", None)
    return reader if callable(files) else _Unlisted(reader)  # type: ignore[return-value]
