"""Repository paths: the one glob dialect of policies and settings.

``*`` stays inside one directory, ``**`` spans any number of them (``**/`` also none),
``?`` is one character and ``[...]`` a class, as in the policy's documentation.
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=512)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """The compiled regular expression of a glob (anchored at both ends)."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(pattern: str, path: str) -> bool:
    """Match ``path`` against a glob where ``*`` stays inside one directory and ``**`` spans any."""
    path = path.replace("\\", "/").removeprefix("./")
    return glob_regex(pattern.removeprefix("./")).match(path) is not None
