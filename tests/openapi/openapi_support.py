"""What the OpenAPI reader's tests share: files in memory, read as a git revision is."""

from __future__ import annotations


class DictReader:
    """A reader over in-memory files, as a git revision would be; ``reads`` lists what
    was read, in order."""

    def __init__(self, files: dict[str, str] | dict[str, bytes] | dict[str, str | bytes]) -> None:
        self.files = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
        self.reads: list[str] = []

    def read(self, relpath: str) -> bytes:
        self.reads.append(relpath)
        try:
            return self.files[relpath]
        except KeyError:
            raise FileNotFoundError(relpath) from None
