"""A line scanner for the reStructuredText that os-api-ref documents are written in.

It finds what the api-ref reader needs and nothing more: section titles (with their
adornment style, whose order of first appearance gives the level, as in docutils),
directives (name, argument, options, indented content, each line with its number) and
paragraphs. Literal blocks (a paragraph ending in ``::``) and comments are skipped, so
text inside them is never mistaken for a directive. It never runs a directive: files
named by ``include`` are read by the caller, inside its tree; ``literalinclude`` and
the rest are never opened.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1{2,}\s*\Z")
_DIRECTIVE = re.compile(r"(\s*)\.\.\s+([A-Za-z][\w:+.-]*)::(?:\s+(.*?))?\s*\Z")
_COMMENT = re.compile(r"\s*\.\.(?:\s|\Z)")
_OPTION = re.compile(r":([\w-]+):(?:\s+(.*?))?\s*\Z")


@dataclass(frozen=True, slots=True)
class Title:
    text: str
    style: tuple[str, bool]  # (adornment character, has an overline)
    line: int


@dataclass(frozen=True, slots=True)
class Directive:
    name: str
    argument: str
    options: Mapping[str, str]
    content: tuple[tuple[int, str], ...]  # (line number, text without the block's indent)
    line: int

    @property
    def text(self) -> str:
        """Argument and content as one text (admonitions)."""
        body = " ".join(t.strip() for _, t in self.content if t.strip())
        return f"{self.argument} {body}".strip()


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    line: int


Block = Title | Directive | Paragraph


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _is_adornment(line: str) -> bool:
    return bool(_ADORNMENT.match(line))


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """Index after the lines (from ``start``) indented deeper than ``indent``, or blank."""
    j = start
    n = len(lines)
    while j < n and (not lines[j].strip() or _indent(lines[j]) > indent):
        j += 1
    while j > start and not lines[j - 1].strip():
        j -= 1
    return j


def scan(text: str) -> list[Block]:
    """The titles, directives and paragraphs of one document, in order."""
    lines = text.expandtabs(8).splitlines()
    out: list[Block] = []
    i, n = 0, len(lines)
    literal_after = False  # the previous paragraph ended with "::"
    while i < n:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if literal_after and _indent(line) > 0:
            i = _block_end(lines, i, 0)
            literal_after = False
            continue
        literal_after = False
        title = _title(lines, i)
        if title is not None:
            out.append(title[0])
            i = title[1]
            continue
        m = _DIRECTIVE.match(line)
        if m is not None:
            indent = len(m.group(1))
            end = _block_end(lines, i + 1, indent)
            out.append(_directive(m.group(2), m.group(3) or "", lines, i, end))
            i = end
            continue
        if _COMMENT.match(line):
            i = _block_end(lines, i + 1, _indent(line))
            continue
        if _is_adornment(line):  # a transition, or a stray adornment
            i += 1
            continue
        start = i
        parts = []
        while i < n and lines[i].strip() and not _DIRECTIVE.match(lines[i]):
            if i > start and _title(lines, i) is not None:
                break
            parts.append(lines[i].strip())
            i += 1
        text_ = " ".join(parts)
        out.append(Paragraph(text_, start + 1))
        literal_after = text_.endswith("::")
    return out


def _title(lines: list[str], i: int) -> tuple[Title, int] | None:
    """A section title starting at ``lines[i]`` (underline, or overline and underline)."""
    n = len(lines)
    line = lines[i]
    if _is_adornment(line) and i + 2 < n:
        text, under = lines[i + 1], lines[i + 2]
        if (
            text.strip()
            and not _is_adornment(text)
            and _is_adornment(under)
            and under.strip()[0] == line.strip()[0]
        ):
            return Title(text.strip(), (line.strip()[0], True), i + 2), i + 3
        return None
    if i + 1 < n and line.strip() and _indent(line) == 0 and _is_adornment(lines[i + 1]):
        if _DIRECTIVE.match(line) or _COMMENT.match(line):
            return None
        under = lines[i + 1].strip()
        # docutils: an underline shorter than its title is still a title when it has at
        # least four characters (it only warns); shorter ones are not.
        if len(under) >= len(line.rstrip()) or len(under) >= 4:
            return Title(line.strip(), (under[0], False), i + 1), i + 2
    return None


def _directive(name: str, argument: str, lines: list[str], i: int, end: int) -> Directive:
    body = [(k + 1, lines[k]) for k in range(i + 1, end)]
    # Argument lines continue on the following lines until a blank line or an option.
    options: dict[str, str] = {}
    k = 0
    while k < len(body) and body[k][1].strip():
        text = body[k][1].strip()
        m = _OPTION.match(text)
        if m is not None:
            options[m.group(1)] = m.group(2) or ""
        elif not options and name not in _CONTENT_FIRST:
            argument = f"{argument} {text}".strip()
        else:
            break
        k += 1
    rest = body[k:]
    indents = [_indent(t) for _, t in rest if t.strip()]
    cut = min(indents) if indents else 0
    content = tuple((num, t[cut:] if t.strip() else "") for num, t in rest)
    return Directive(name, argument, options, content, i + 1)


# Directives whose first indented lines are content, not a continued argument.
_CONTENT_FIRST = frozenset(
    {
        "rest_method",
        "rest_parameters",
        "rest_status_code",
        "toctree",
        "note",
        "warning",
        "important",
        "attention",
        "caution",
        "danger",
        "tip",
        "hint",
        "admonition",
        "deprecated",
        "versionadded",
        "versionchanged",
        "code-block",
        "code",
    }
)
