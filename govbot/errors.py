"""The one small exception hierarchy.

Problems in the *input* (a broken spec, an unparseable sunset date) are findings,
never exceptions. These are for the cases where govbot cannot run at all.
"""

from __future__ import annotations

import errno


class GovbotError(Exception):
    """Base class; the CLI turns it into a one-line message and exit code 2."""


class ConfigError(GovbotError):
    """Deployment settings are missing or wrong."""


class PolicyError(GovbotError):
    """A governance policy file is unreadable or does not match its schema."""


class SpecError(GovbotError):
    """A spec cannot be read at all (missing file, unreadable path)."""


class GerritError(GovbotError):
    """Gerrit refused or failed a request in a way the caller must handle."""


class OutsideRoot(PermissionError):
    """A path that resolves (through ``..`` or a symlink) outside the reader's root.

    Kept here, below every reader (filesystem, git, api-ref), so that each reports the
    same fact and the OpenAPI loader turns it into one finding (OAS010).
    """


class FileTooLarge(OSError):
    """A file whose size is over the limit, found before its bytes were read (or after
    ``limit`` of them): ``size`` is its size, or None when only "more than ``limit``" is
    known."""

    def __init__(self, path: str, size: int | None, limit: int) -> None:
        self.path = path
        self.size = size
        self.limit = limit
        amount = f"{size} bytes" if size is not None else f"more than {limit} bytes"
        super().__init__(errno.EFBIG, f"{amount}, over the limit of {limit} bytes; not read")

    def __str__(self) -> str:
        return f"{self.path}: {self.strerror}"
