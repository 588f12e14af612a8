"""The policy's audience rules compiled: regexes with a cheap pre-check, tag names folded."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from govbot.audience.model import AudienceConfig
from govbot.errors import PolicyError


@dataclass(frozen=True)
class Pattern:
    key: str  # policy key, for evidence
    text: str  # as the TC wrote it
    regex: re.Pattern[str]
    # A word every match contains (lower case), or "": a text without it is skipped
    # without running the regex, which keeps long descriptions cheap.
    needle: str = ""


@dataclass(frozen=True)
class Patterns:
    """The regexes of one policy key, tried in policy order."""

    items: tuple[Pattern, ...]

    def __bool__(self) -> bool:
        return bool(self.items)

    def search(self, text: str) -> tuple[Pattern, re.Match[str]] | None:
        """The first pattern (in policy order) found in ``text``, with its match."""
        low = text.lower() if text.isascii() else None
        for p in self.items:
            if low is not None and p.needle and p.needle not in low:
                continue
            m = p.regex.search(text)
            if m is not None:
                return p, m
        return None


_INLINE_FLAGS = re.compile(r"\(\?[aiLmsux-]")
_ESCAPE_TAIL = {"x": 2, "u": 4, "U": 8}


def required_word(pattern: str) -> str:
    """The longest ASCII word that every match of ``pattern`` must contain ("" if unsure).

    Only literal letters and digits outside groups, classes and quantifiers count, and a
    pattern with a top-level ``|`` or inline flags (``(?x)`` changes what a space means)
    has none. Matching is case-insensitive, so the word is lower-cased.
    """
    if _INLINE_FLAGS.search(pattern):
        return ""
    best, run, depth, i, n = "", "", 0, 0, len(pattern)
    while i < n:
        c = pattern[i]
        step = 1
        if c == "\\":
            nxt = pattern[i + 1 : i + 2]
            step = 2 + _ESCAPE_TAIL.get(nxt, 0)
            if nxt == "N":
                step = max(pattern.find("}", i) + 1 - i, 2)
            elif nxt.isdigit():
                while step < 4 and pattern[i + step : i + step + 1].isdigit():
                    step += 1
            c = ""
        elif c == "[":
            j = i + 1
            j += pattern[j : j + 1] == "^"
            j += pattern[j : j + 1] == "]"
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            step = j + 1 - i
            c = ""
        elif c in "?*+{":
            run = run[:-1]  # the quantified character may be absent
            if c == "{":
                step = max(pattern.find("}", i) + 1 - i, 1)
            c = ""
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return ""
        if depth == 0 and c.isascii() and c.isalnum():
            run += c
        else:
            if len(run) > len(best):
                best = run
            run = ""
        i += step
    if len(run) > len(best):
        best = run
    return best.lower()


@dataclass(frozen=True)
class CompiledRules:
    internal_files: tuple[tuple[str, str], ...]  # (policy key, glob)
    admin_files: tuple[tuple[str, str], ...]
    internal_paths: Patterns
    admin_paths: Patterns
    internal_tags: Mapping[str, str]  # casefolded -> as written
    admin_tags: Mapping[str, str]
    internal_servers: Patterns
    admin_scopes: tuple[Pattern, ...]
    internal_descriptions: Patterns
    admin_descriptions: Patterns


def compile_rules(config: AudienceConfig) -> CompiledRules:
    """The policy's audience rules compiled once (regexes, casefolded tags)."""
    try:
        return _compile_cached(config)
    except TypeError:  # unhashable values (lists) in a hand-built config
        return _compile_uncached(config)


@functools.lru_cache(maxsize=32)
def _compile_cached(config: AudienceConfig) -> CompiledRules:
    return _compile_uncached(config)


def _compile_uncached(config: AudienceConfig) -> CompiledRules:
    def values(key: str) -> tuple[str, ...]:
        raw = getattr(config, key) or ()
        if isinstance(raw, str):
            raw = (raw,)
        return tuple(str(v) for v in raw)

    def regexes(key: str, *, full: bool = False) -> tuple[Pattern, ...]:
        out = []
        for text in values(key):
            try:
                regex = re.compile(rf"(?:{text})\Z" if full else text, re.IGNORECASE)
            except re.error as exc:
                raise PolicyError(
                    f"audience.{key}: {text!r} is not a valid regular expression: {exc}"
                ) from exc
            out.append(Pattern(key, text, regex, "" if full else required_word(text)))
        return tuple(out)

    def patterns(key: str) -> Patterns:
        return Patterns(regexes(key))

    def globs(key: str) -> tuple[tuple[str, str], ...]:
        return tuple((key, g) for g in values(key))

    def names(key: str) -> dict[str, str]:
        return {t.casefold(): t for t in values(key)}

    return CompiledRules(
        internal_files=globs("internal_files"),
        admin_files=globs("admin_files"),
        internal_paths=patterns("internal_paths"),
        admin_paths=patterns("admin_paths"),
        internal_tags=names("internal_tags"),
        admin_tags=names("admin_tags"),
        internal_servers=patterns("internal_servers"),
        admin_scopes=regexes("admin_scopes", full=True),
        internal_descriptions=patterns("internal_descriptions"),
        admin_descriptions=patterns("admin_descriptions"),
    )
