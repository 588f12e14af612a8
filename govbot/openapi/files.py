"""Where the OpenAPI reader reads files: any :class:`Reader`, or the filesystem under a root."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from govbot.errors import OutsideRoot

__all__ = ["FileReader", "OutsideRoot", "Reader"]


class Reader(Protocol):
    def read(self, relpath: str) -> bytes: ...


class FileReader:
    """Reads files under ``root``; paths resolving outside it raise :class:`OutsideRoot`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, relpath: str) -> Path:
        path = (self.root / relpath).resolve()
        if not path.is_relative_to(self.root):
            raise OutsideRoot(f"{relpath} resolves outside {self.root}")
        return path

    def read(self, relpath: str) -> bytes:
        return self._path(relpath).read_bytes()

    def size(self, relpath: str) -> int:
        return self._path(relpath).stat().st_size
