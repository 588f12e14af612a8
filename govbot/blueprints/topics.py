"""What kind of change a text describes (refactor, rename, driver ...), and small text helpers
of the blueprint reader."""

from __future__ import annotations

import re

from govbot.blueprints.document import WORD
from govbot.lazy_re import Regex, lazy

# Words about the code itself (refactors, tests, trees): generic actors there are its
# developers ("People get confused about what v3 is" in a code-tree cleanup).
TOPICS: tuple[tuple[str, Regex], ...] = (
    (
        "refactor",
        lazy(
            r"\b(?:refactor\w*|clean\s?ups?|cleaning\s+up|technical\s+debt|"
            r"consolidat\w+|simplif\w+\s+the\s+code|code\s+tree|codebase|"
            r"maintainab\w+|maintenance\s+burden)\b",
            re.I,
        ),
    ),
    ("rename", lazy(r"\brenam\w+\b", re.I)),
    ("driver", lazy(r"\b(?:drivers?|back-?ends?\s+support|plugins?)\b", re.I)),
    ("removal", lazy(r"\b(?:remov\w+|deprecat\w+|drop(?:s|ping)?)\b", re.I)),
    ("library", lazy(r"\b(?:librar(?:y|ies)|oslo\.\w+|dependenc(?:y|ies))\b", re.I)),
    ("tests", lazy(r"\b(?:unit|functional|tempest)\s+tests?\b|\bCI\b", re.I)),
)


def about_code(text: str) -> bool:
    """Whether ``text`` is about the code itself (a refactor, its tests)."""
    return any(p.search(text) for name, p in TOPICS if name in ("refactor", "tests"))


def topics(text: str) -> tuple[str, ...]:
    """What kind of change a text describes (refactor, rename, driver ...), for the evidence."""
    return tuple(name for name, p in TOPICS if p.search(text))


def cues(pattern: Regex, text: str) -> tuple[str, ...]:
    """The distinct matches of ``pattern`` in ``text``, lower-cased, in order."""
    return tuple(
        dict.fromkeys(" ".join(m.group(0).lower().split()) for m in pattern.finditer(text))
    )


def word_count(text: str) -> int:
    return len(WORD.findall(text))


def quote(text: str, limit: int = 160) -> str:
    """``text`` on one line, cut at ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "\u2026"
