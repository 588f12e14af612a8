"""Design specs as documents: RST (docutils) or Markdown (markdown-it-py) read into sections.

:func:`parse_spec` turns a spec into titled :class:`Section` s whose blocks say what is
prose and what is a comment, code or a directive. The fields of a spec-lite
(``:problem: ...``, ``:solution: ...``) become sections of their own, so that a spec is
read the same whatever the shape of its template. A spec that cannot be parsed (binary,
not UTF-8, too large, a parser crash) is a :class:`Document` with a ``problem``, never
an exception.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import io
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govbot.blueprints.config import MAX_BYTES
from govbot.errors import SpecError

if TYPE_CHECKING:
    from docutils import nodes

# docutils and markdown-it-py are imported by the functions that parse a spec: they cost
# a tenth of a second, and most runs (``govbot check`` of an API description) read none.

LOG = logging.getLogger(__name__)


class Format(StrEnum):
    RST = "rst"
    MARKDOWN = "md"


class BlockKind(StrEnum):
    """What a block of a section is; only prose kinds carry what the author wrote."""

    TEXT = "text"
    ITEM = "item"
    ADMONITION = "admonition"
    CODE = "code"
    COMMENT = "comment"

    @property
    def prose(self) -> bool:
        return self in (BlockKind.TEXT, BlockKind.ITEM, BlockKind.ADMONITION)


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a section's body: prose, a list item, code, a comment or a directive."""

    kind: BlockKind
    text: str
    line: int | None = None


@dataclass(frozen=True)
class Section:
    """A titled section (or a spec-lite field): its heading, own blocks, and subsections."""

    title: str
    level: int
    line: int  # line of the heading's text, or of the field's name (1-based)
    blocks: tuple[Block, ...] = ()
    subsections: tuple[Section, ...] = ()
    field: bool = False  # a field of a field list (``:problem: ...``), not a heading

    @property
    def key(self) -> str:
        """The title normalised for matching (``Use cases:`` -> ``use cases``)."""
        return normalise_title(self.title)

    @property
    def text(self) -> str:
        """The section's own prose (no comments, code or directives; no subsections)."""
        return "\n\n".join(b.text for b in self.blocks if b.kind.prose)

    def all_blocks(self) -> Iterator[Block]:
        """Own blocks, then every subsection's, in reading order."""
        yield from self.blocks
        for sub in self.subsections:
            yield from sub.all_blocks()

    def walk(self) -> Iterator[Section]:
        """This section and every section below it, in reading order."""
        yield self
        for sub in self.subsections:
            yield from sub.walk()


@dataclass(frozen=True)
class Document:
    """A parsed design spec: top-level sections, or the reason it could not be parsed."""

    file: str
    format: Format
    sections: tuple[Section, ...] = ()
    preamble: tuple[Block, ...] = ()  # blocks before the first heading
    problem: str | None = None  # set when the file could not be parsed
    problem_line: int | None = None
    digest: str = ""
    # Every word of the source with its line, to point at a sentence (see locate).
    words: tuple[str, ...] = field(default=(), repr=False)
    word_lines: tuple[int, ...] = field(default=(), repr=False)
    word_index: Mapping[str, tuple[int, ...]] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def title(self) -> str | None:
        """The document title: the single top-level heading, if there is one."""
        return self.sections[0].title if len(self.sections) == 1 else None

    def walk(self) -> Iterator[Section]:
        """Every section in reading order."""
        for s in self.sections:
            yield from s.walk()

    def find(self, titles: Iterable[str]) -> list[Section]:
        """Sections whose normalised title is one of ``titles``, in the order of ``titles``."""
        wanted = [normalise_title(t) for t in titles]
        found = list(self.walk())
        return [s for key in wanted for s in found if s.key == key]

    def locate(self, text: str, near: int | None = None) -> int | None:
        """The line where ``text`` (a sentence of this document) starts, or None.

        Its first words are searched in the source's words: markup between words does
        not matter, and a sentence that wraps is found at its first line. Of several
        matches, the one closest to ``near`` (the block's line as the parser gave it)
        wins; markup the parser dropped (":ref:", a link's target) can break a long
        probe, so a shorter one is tried next.
        """
        words = [w.lower() for w in WORD.findall(text)[:10]]
        if not words or not self.words:
            return near
        for n in dict.fromkeys((len(words), min(len(words), 5), min(len(words), 3))):
            found = self._nearest(words[:n], near or 1)
            if found is not None:
                return found
        return near

    def _nearest(self, probe: Sequence[str], near: int) -> int | None:
        positions = self.word_index.get(probe[0], ())
        start = bisect.bisect_left(self.word_lines, near)
        right = bisect.bisect_left(positions, start)
        left = right - 1
        n = len(probe)
        # Outward from the block's line, nearest first; a bounded number of tries.
        for _ in range(_LOCATE_TRIES):
            if left < 0 and right >= len(positions):
                return None
            take_right = left < 0 or (
                right < len(positions)
                and abs(self.word_lines[positions[right]] - near)
                <= abs(self.word_lines[positions[left]] - near)
            )
            i = positions[right] if take_right else positions[left]
            if take_right:
                right += 1
            else:
                left -= 1
            if list(self.words[i : i + n]) == list(probe):
                return self.word_lines[i]
        return None


_LOCATE_TRIES = 400
WORD = re.compile(r"[^\W_](?:[\w'\u2019-]*[^\W_])?")


def normalise_title(title: str) -> str:
    """Lower-case words only: ``1. Use-Cases (Optional):`` -> ``use cases``."""
    text = title.lower().replace("\u00a0", " ")
    text = re.sub(r"\((?:optional|required)\)", " ", text)
    text = re.sub(r"^\s*(?:\d+(?:\.\d+)*\.?|[ivx]+\.)\s+", "", text)
    text = re.sub(r"[^\w\s]+", " ", text.replace("_", " "))
    return " ".join(text.split())


def spec_format(file: str) -> Format:
    """Markdown for Markdown file names, RST otherwise."""
    markdown = file.lower().endswith((".md", ".markdown", ".mdown"))
    return Format.MARKDOWN if markdown else Format.RST


# --- parsing -----------------------------------------------------------------------------


def parse_spec(file: str, data: bytes | str, *, max_bytes: int = MAX_BYTES) -> Document:
    """Parse a design spec; a file that cannot be parsed gives a Document with a ``problem``."""
    fmt = spec_format(file)
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    digest = hashlib.sha256(raw).hexdigest()
    if len(raw) > max_bytes:
        problem = f"{len(raw)} bytes, over the limit of {max_bytes} bytes"
        return Document(file, fmt, problem=problem, digest=digest)
    nul = raw.find(b"\0")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        problem = f"binary content (a NUL byte at line {line}), not a text document"
        return Document(file, fmt, problem=problem, problem_line=line, digest=digest)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        problem = f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line})"
        return Document(file, fmt, problem=problem, problem_line=line, digest=digest)
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    try:
        if fmt is Format.MARKDOWN:
            preamble, sections = _parse_markdown(text)
        else:
            preamble, sections = _parse_rst(file, text)
    except RecursionError:
        return Document(file, fmt, problem="nested too deeply to parse", digest=digest)
    except Exception as exc:  # a third-party parser on untrusted input: report, never crash
        LOG.debug("parsing %s failed", file, exc_info=True)
        problem = f"cannot be parsed: {type(exc).__name__}: {exc}"
        return Document(file, fmt, problem=problem, digest=digest)
    words, lines = _word_index(text)
    index: dict[str, list[int]] = {}
    for i, word in enumerate(words):
        index.setdefault(word, []).append(i)
    return Document(
        file,
        fmt,
        sections=tuple(sections),
        preamble=tuple(preamble),
        digest=digest,
        words=words,
        word_lines=lines,
        word_index={w: tuple(p) for w, p in index.items()},
    )


def _word_index(text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    words: list[str] = []
    lines: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        for w in WORD.findall(line):
            words.append(w.lower())
            lines.append(number)
    return tuple(words), tuple(lines)


_RST_SETTINGS: Mapping[str, Any] = {
    # Never write to stderr, never stop: every problem stays in the tree as a
    # system_message, which is dropped below.
    "report_level": 5,
    "halt_level": 5,
    "traceback": True,  # let exceptions reach parse_spec instead of sys.exit()
    # Security: a spec under review must not read files from the bot's host or inject HTML.
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "_disable_config": True,  # ignore docutils.conf files of the working directory
    "doctitle_xform": False,  # keep the title as a section, with its line
    "docinfo_xform": False,  # a spec-lite's leading field list stays a field list
    "syntax_highlight": "none",
    "smart_quotes": False,
    "pep_references": False,
    "rfc_references": False,
    "input_encoding": "unicode",
    # docutils drops a whole document with a line over its limit (10,000 characters);
    # the spec's size is already bounded by max_bytes.
    "line_length_limit": MAX_BYTES,
}


def _parse_rst(file: str, text: str) -> tuple[list[Block], list[Section]]:
    from docutils import nodes
    from docutils.core import publish_doctree

    settings = {**_RST_SETTINGS, "warning_stream": io.StringIO()}
    doctree = publish_doctree(text, source_path=file, settings_overrides=settings)
    lines = text.split("\n")
    preamble: list[Block] = []
    sections: list[Section] = []
    for child in doctree.children:
        if isinstance(child, nodes.section):
            sections.append(_rst_section(child, 1, lines))
        elif isinstance(child, nodes.field_list):
            sections.extend(_rst_fields(child, 1, lines))
        else:
            preamble.extend(_rst_blocks(child))
    return preamble, sections


def _rst_section(node: nodes.section, level: int, lines: Sequence[str]) -> Section:
    from docutils import nodes

    title_node = node[0] if node.children and isinstance(node[0], nodes.title) else None
    title = title_node.astext() if title_node is not None else ""
    blocks: list[Block] = []
    subsections: list[Section] = []
    for child in node.children[1 if title_node is not None else 0 :]:
        if isinstance(child, nodes.section):
            subsections.append(_rst_section(child, level + 1, lines))
        elif isinstance(child, nodes.field_list):
            subsections.extend(_rst_fields(child, level + 1, lines))
        else:
            blocks.extend(_rst_blocks(child))
    return Section(
        title=" ".join(title.split()),
        level=level,
        line=_heading_line(title_node, title, lines),
        blocks=tuple(blocks),
        subsections=tuple(subsections),
    )


def _rst_fields(node: nodes.field_list, level: int, lines: Sequence[str]) -> Iterator[Section]:
    from docutils import nodes

    """A field list's fields as sections: ``:problem: text`` is a section "problem"."""
    for item in node.children:
        if not isinstance(item, nodes.field) or len(item.children) < 2:
            continue
        name = " ".join(item[0].astext().split())
        blocks = tuple(b for child in item[1].children for b in _rst_blocks(child))
        yield Section(
            title=name,
            level=level,
            line=_field_line(name, blocks, lines),
            blocks=blocks,
            field=True,
        )


def _field_line(name: str, blocks: Sequence[Block], lines: Sequence[str]) -> int:
    # docutils gives fields no line; find ":name:" above the body's first line.
    first = next((b.line for b in blocks if b.line), len(lines))
    marker = f":{name}:"
    for number in range(min(first, len(lines)), 0, -1):
        if lines[number - 1].lstrip().lower().startswith(marker.lower()):
            return number
    return max(1, first - 1)


def _heading_line(title_node: Any, title: str, lines: Sequence[str]) -> int:
    # docutils reports the line of the underline; the title text is the line above it
    # (or two lines above for a multi-line title, which we find by its first word).
    reported = getattr(title_node, "line", None) or 1
    first = title.split()[0] if title.split() else ""
    for candidate in (reported - 1, reported - 2, reported):
        if 1 <= candidate <= len(lines) and first and first in lines[candidate - 1]:
            return candidate
    return max(1, reported - 1)


_RST_SKIP_NAMES = frozenset(
    {
        "comment",
        "system_message",
        "target",
        "substitution_definition",
        "pending",
        "raw",
        "footnote",
        "citation",
    }
)
_RST_CODE_NAMES = frozenset({"literal_block", "doctest_block", "math_block"})
_RST_TEXT_NAMES = frozenset({"paragraph", "line_block", "rubric", "term", "attribution"})


def _rst_blocks(node: nodes.Node, kind: BlockKind = BlockKind.TEXT) -> Iterator[Block]:
    from docutils import nodes

    name = node.tagname
    line = getattr(node, "line", None)
    if name == "comment":
        yield Block(BlockKind.COMMENT, node.astext(), line)
        return
    if name in _RST_SKIP_NAMES:
        return
    if name in _RST_CODE_NAMES:
        yield Block(BlockKind.CODE, node.astext(), line)
        return
    if name in _RST_TEXT_NAMES:
        text = _rst_text(node)
        if text:
            yield Block(kind, text, line)
        return
    if isinstance(node, nodes.Admonition):
        kind = BlockKind.ADMONITION
    elif name in ("list_item", "definition_list_item", "field"):
        kind = BlockKind.ITEM if kind is BlockKind.TEXT else kind
    elif isinstance(node, nodes.Text):
        text = " ".join(str(node).split())
        if text:
            yield Block(kind, text, line)
        return
    for child in node.children:
        yield from _rst_blocks(child, kind)


def _rst_text(node: nodes.Node) -> str:
    from docutils import nodes

    parts: list[str] = []
    for sub in node.findall(nodes.Text):
        parent = sub.parent
        if parent is not None and parent.tagname in (
            "system_message",
            "target",
            "footnote_reference",
        ):
            continue
        parts.append(str(sub))
    return " ".join("".join(parts).split())


@dataclass
class _MdSection:
    title: str
    level: int
    line: int
    blocks: list[Block] = field(default_factory=list)
    subsections: list[_MdSection] = field(default_factory=list)

    def freeze(self) -> Section:
        return Section(
            title=self.title,
            level=self.level,
            line=self.line,
            blocks=tuple(self.blocks),
            subsections=tuple(s.freeze() for s in self.subsections),
        )


def _parse_markdown(text: str) -> tuple[list[Block], list[Section]]:
    from markdown_it import MarkdownIt

    text = _blank_front_matter(text)
    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(text)
    preamble: list[Block] = []
    roots: list[_MdSection] = []
    stack: list[_MdSection] = []
    item_depth = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        line = tok.map[0] + 1 if tok.map else None
        if tok.type == "heading_open":
            level = int(tok.tag[1:])
            section = _MdSection(_md_inline_text(tokens[i + 1]), level, line or 1)
            while stack and stack[-1].level >= level:
                stack.pop()
            (stack[-1].subsections if stack else roots).append(section)
            stack.append(section)
            i += 3
            continue
        target = stack[-1].blocks if stack else preamble
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            item_depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            item_depth -= 1
        elif tok.type == "inline":
            content = _md_inline_text(tok)
            if content:
                kind = BlockKind.ITEM if item_depth else BlockKind.TEXT
                target.append(Block(kind, content, line))
        elif tok.type in ("fence", "code_block"):
            target.append(Block(BlockKind.CODE, tok.content, line))
        elif tok.type == "html_block":
            target.extend(_html_blocks(tok.content, line))
        i += 1
    return preamble, [s.freeze() for s in roots]


_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_HTML_TAG = re.compile(r"<[^>]+>")


def _html_blocks(html: str, line: int | None) -> Iterator[Block]:
    for comment in _HTML_COMMENT.findall(html):
        yield Block(BlockKind.COMMENT, comment, line)
    rest = " ".join(_HTML_TAG.sub(" ", _HTML_COMMENT.sub(" ", html)).split())
    if rest:
        yield Block(BlockKind.TEXT, rest, line)


def _md_inline_text(inline: Any) -> str:
    parts: list[str] = []
    in_comment = False
    for child in inline.children or ():
        if child.type in ("text", "code_inline"):
            if not in_comment:
                parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
        elif child.type == "html_inline":
            content = child.content
            if content.startswith("<!--"):
                in_comment = "-->" not in content
            elif in_comment and "-->" in content:
                in_comment = False
    return " ".join("".join(parts).split())


def _blank_front_matter(text: str) -> str:
    # YAML front matter ("---" ... "---") is metadata, not a heading: blank it, keep lines.
    if not text.startswith("---\n"):
        return text
    end = text.find("\n---\n", 4)
    if end < 0:
        return text
    head = text[: end + 5]
    return "\n" * head.count("\n") + text[end + 5 :]


# --- reading files -----------------------------------------------------------------------


def read_spec(
    path: str | Path, *, display: str | None = None, max_bytes: int = MAX_BYTES
) -> Document:
    """Read and parse one spec file; SpecError when it cannot be read at all."""
    p = Path(path)
    name = display or str(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            problem = f"{size} bytes, over the limit of {max_bytes} bytes"
            return Document(name, spec_format(name), problem=problem)
        data = p.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise SpecError(f"{name}: is a directory, not a spec") from None
    except OSError as exc:
        raise SpecError(f"{name}: cannot read: {exc.strerror or exc}") from None
    return parse_cached(name, data, max_bytes)


@functools.lru_cache(maxsize=64)
def parse_cached(name: str, data: bytes, max_bytes: int = MAX_BYTES) -> Document:
    """:func:`parse_spec`, remembered by content (templates are read for every spec)."""
    return parse_spec(name, data, max_bytes=max_bytes)
