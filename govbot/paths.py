"""Paths: the one glob dialect of policies, spec file names, constants of paths.

A glob is matched against a path relative to the repository root, with ``/`` between
directories: ``*`` and ``?`` stay inside one directory, ``**`` spans any number of them
(``**/`` also none), ``[abc]`` and ``[!abc]`` are character classes.
"""

from __future__ import annotations

import functools
import re

# What a design spec (blueprint) may be called.
DESIGN_SPEC_SUFFIXES = (".rst", ".md")
# Gerrit's name for the commit message "file" of a revision: where findings about a
# change's commit message are placed.
COMMIT_MSG = "/COMMIT_MSG"


@functools.lru_cache(maxsize=512)
def _compiled(glob: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and "]" in glob[i + 1 :]:
            end = glob.index("]", i + 1)
            body = glob[i + 1 : end]
            out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(glob: str, path: str) -> bool:
    """Whether ``path`` (relative to the repository root) matches ``glob``."""
    path = path.replace("\\", "/").removeprefix("./")
    return _compiled(glob.removeprefix("./")).match(path) is not None
