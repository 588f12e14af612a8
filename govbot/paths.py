"""Paths: the one glob dialect of policies, spec file names, the packaged policy.

A glob is matched against a path relative to the repository root, with ``/`` between
directories: ``*`` and ``?`` stay inside one directory, ``**`` spans any number of them
(``api-specs/**/*.yaml`` matches ``api-specs/a.yaml`` and ``api-specs/x/y/a.yaml``),
``[abc]`` and ``[!abc]`` are character classes. The policy's spec globs, waivers,
audience rules and blueprint paths all use it, and the Gerrit intake sends the same
globs to Gerrit as a ``file:`` regex, so that a file is selected the same way
everywhere.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

# What an OpenAPI document may be called, and a design spec (blueprint).
SPEC_SUFFIXES = (".yaml", ".yml", ".json")
DESIGN_SPEC_SUFFIXES = (".rst", ".md")
# Gerrit's name for the commit message "file" of a revision (its lines start after a
# header): where findings about a change's commit message are placed.
COMMIT_MSG = "/COMMIT_MSG"

# Characters that mean something to Python's ``re`` or to Gerrit's regex (Lucene's
# automaton syntax, which adds ``#@&<>~``); a glob's literal character is written as a
# one-character class (``[.]``) when it is one of them. Not with a backslash: inside a
# quoted query value Gerrit's lexer eats backslashes before Lucene sees the regex, so
# ``\.`` would reach it as "any character". ``[.]`` means a dot to Lucene and Python alike.
_SPECIAL = frozenset('.?+*|{}()"#@&<>~$')
# These cannot stand alone in a class (``[^]``, ``[]]``, ``[\]``; Python warns on
# ``[[]``), so they keep a backslash: rare in file names, and read the same by Python.
_ESCAPED = frozenset("[]^\\")


def glob_regex(glob: str) -> str:
    """``glob`` as a regex of the whole path that both Python and Gerrit accept.

    No anchors and no ``(?:`` (Gerrit's automaton has neither): ``api-specs/**/*.yaml``
    becomes ``api-specs/(.*/)?[^/]*[.]yaml``.
    """
    out: list[str] = []
    i = 0
    glob = glob.removeprefix("./")
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        c = glob[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and "]" in glob[i + 1 :]:
            end = glob.index("]", i + 1)
            body = glob[i + 1 : end]
            out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
            i = end
        elif c in _SPECIAL:
            out.append("[" + c + "]")
        elif c in _ESCAPED:
            out.append("\\" + c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=512)
def _compiled(glob: str) -> re.Pattern[str]:
    return re.compile(glob_regex(glob) + r"\Z")


def glob_match(glob: str, path: str) -> bool:
    """Whether ``path`` (relative to the repository root) matches ``glob``."""
    path = path.replace("\\", "/").removeprefix("./")
    return _compiled(glob).match(path) is not None


def matches_any(globs: Iterable[str], path: str) -> bool:
    """Whether ``path`` matches one of ``globs``."""
    return any(glob_match(g, path) for g in globs)


def packaged_policy_dir() -> Path:
    """The default policy shipped inside the package (a copy of the top-level ``policies/``)."""
    return Path(str(resources.files("govbot") / "data" / "policies"))


def write_atomically(path: Path, payload: bytes) -> bool:
    """Write ``payload`` to ``path`` through a temporary file renamed into place, so that a
    concurrent reader never sees half a file; False when the disk refuses (read-only, full):
    for a cache that only costs the next run its time."""
    tmp_name = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as tmp:
            tmp_name = tmp.name
            tmp.write(payload)
        os.replace(tmp_name, path)
    except OSError:
        if tmp_name:
            Path(tmp_name).unlink(missing_ok=True)
        return False
    return True
