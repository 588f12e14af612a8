"""Design specs (blueprints): sections of RST/Markdown, use-case verdicts, blueprint references.

Pure functions over text, no I/O except where a function says it reads a file:

* :func:`parse_spec` turns RST (docutils) or Markdown (markdown-it-py) into titled
  :class:`Section` s whose blocks say what is prose and what is a comment, code or a
  directive. A spec that cannot be parsed (binary, not UTF-8, too large, a parser crash)
  is a :class:`Document` with a ``problem``, never an exception.
* :func:`justify` is the use-case check of design.md §4.4 / research escalation.md B8.
* :func:`find_references`, :func:`api_impact_flag`, :func:`spec_candidates` and
  :func:`classify_change` serve the API-change check of B9.

How a verdict is reached (detectors strongest first; only the first three may fail a
spec, length and word cues only combine into a fail when *both* say nothing is there):

1. **Section.** The first heading of ``use_case_sections`` (``Use Cases``, ``User
   Stories``) is judged; only when the spec has none of those, the first of
   ``fallback_sections`` (``Problem description``, ``Motivation``). A dedicated
   section that says ``None`` is an explicit "no use case", so a longer problem
   description does not rescue it. None of them: ``missing-section``.
2. **Emptiness.** Comments, code, system messages and link-only lines are dropped, then
   placeholders (``None``, ``N/A``, ``TBD``, ``TODO``, ``<...>``, ``[...]``, ``-``).
   A section that *starts* with None/N/A and gives only a short reason ("None. Code
   cleanup.", "N/A, refactoring") declares that there is no use case. Nothing left:
   ``missing-empty``.
3. **Template text.** Sentences that also appear in the project's template are removed;
   if nothing is left, or what is left still shares ``template_similarity_max`` of its
   word 3-grams with the template: ``missing-template``. Only a template we are given
   (``--template``, the policy's ``template``) or find next to the spec (``*template.rst``
   in the spec's directory or a parent) is used: boilerplate is never guessed from the
   words alone, so that another project's template is not mistaken for nova's.
4. **Length and cues.** Fewer than ``min_words`` words *and* no actor (operator, user,
   deployer, "As a ...") is ``missing-empty`` too: a fragment that names nobody says
   neither who needs the change nor why. Otherwise the spec is justified: ``strong``
   (dedicated section with an actor and a need), ``good`` (fallback section with both),
   or ``unclear`` (an actor or a need is missing; a warning, never a fail). A policy
   that wants only structural fails (research B10) sets ``min_words: 0``.

``justified`` = strong, good or unclear; ``unjustified`` = any ``missing-*``; a template
file itself gets the verdict ``template`` and no findings.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from govbot.errors import PolicyError, SpecError
from govbot.openapi.load import DETAIL_MAX_BYTES
from govbot.paths import DESIGN_SPEC_SUFFIXES, glob_match

if TYPE_CHECKING:
    from docutils import nodes

    from govbot.evaluate import Evaluation
    from govbot.findings import Finding
    from govbot.policy import Policy

LOG = logging.getLogger(__name__)

Format = Literal["rst", "md"]
BlockKind = Literal["text", "item", "admonition", "code", "comment"]
VerdictName = Literal["justified", "unjustified", "template"]
Strength = Literal[
    "strong", "good", "unclear", "missing-template", "missing-empty", "missing-section"
]
# Kinds of block that carry what the author wrote (the rest is never "substance").
PROSE: frozenset[str] = frozenset({"text", "item", "admonition"})
STRENGTH_ORDER: tuple[Strength, ...] = (
    "strong",
    "good",
    "unclear",
    "missing-template",
    "missing-empty",
    "missing-section",
)
JUSTIFIED: frozenset[str] = frozenset({"strong", "good", "unclear"})

# --- configuration -----------------------------------------------------------------------


@dataclass(frozen=True)
class BlueprintConfig:
    """The policy's ``blueprints:`` section (design specs and API-change justification)."""

    # Files of a specs repository that are design specs (relative to its root).
    specs: tuple[str, ...] = ("specs/**/*.rst", "specs/**/*.md")
    # The project's spec template (relative to the repository root, or absolute);
    # None: look for ``template_names`` in the spec's directory and its parents.
    template: str | None = None
    # File names that are templates, never judged as specs (matched on the base name).
    template_names: tuple[str, ...] = (
        "*-template.rst",
        "*-template.md",
        "template.rst",
        "template.md",
    )
    # Sections that hold the use case, strongest first; fallback ones only count when
    # the spec has none of the dedicated ones.
    use_case_sections: tuple[str, ...] = ("Use Cases", "User Stories", "Use Case")
    fallback_sections: tuple[str, ...] = ("Problem description", "Problem statement", "Motivation")
    # Below this many words a section with no actor is "empty"; with one, it is fine.
    # 0 turns that off: only structure, placeholders and template text can fail a spec.
    min_words: int = 40
    # Share of a section's word 3-grams also in the template above which it is template text.
    template_similarity_max: float = 0.5
    # Extra whole-block placeholders (regexes, case-insensitive) and actor words.
    placeholders: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    # Sections that declare a REST API impact (BPR013).
    rest_api_sections: tuple[str, ...] = ("REST API impact", "API impact")
    # Files whose change is an external API change (B9 S2) ...
    api_paths: tuple[str, ...] = (
        "**/api/openstack/**",
        "**/api/schemas/**",
        "api-ref/source/**",
        "api-guide/**",
        "doc/api_samples/**",
        "**/policies/**",
    )
    # ... unless they are internal-only (service-to-service) or tests.
    internal_api_paths: tuple[str, ...] = ("**/internal/**", "**/placement/**")
    test_paths: tuple[str, ...] = ("**/tests/**", "**/test/**", "**/test_*.py")
    # Commit-message flags: a self-declared API change, and ones that exempt a change.
    api_flags: tuple[str, ...] = ("APIImpact",)
    # The specs repository of a project ("{project}" is the project's name) ...
    specs_repo: str = "{project}-specs"
    # ... unless listed here: (project, specs repository) pairs; the policy writes a
    # mapping ``{project: specs repository}``.
    specs_repos: tuple[tuple[str, str], ...] = ()
    # Largest spec file judged (bytes); the OpenAPI loader's detail limit.
    max_bytes: int = DETAIL_MAX_BYTES
    # The Gerrit review purpose of spec reviews: tag autogenerated:govbot:<purpose>.
    purpose: str = "spec-review"

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any] | None) -> BlueprintConfig:
        """Build from a merged policy document (``Policy.raw``): its ``blueprints`` key."""
        return cls.from_section((raw or {}).get("blueprints"))

    @classmethod
    def from_section(cls, section: Mapping[str, Any] | None) -> BlueprintConfig:
        """Build from the ``blueprints:`` section itself (None: every default).

        Unknown keys and wrong types raise :class:`PolicyError` naming the key; the
        policy's JSON Schema normally rejects them first.
        """
        if section is None:
            return cls()
        if not isinstance(section, Mapping):
            raise PolicyError("blueprints: must be a mapping")
        known = set(cls.__dataclass_fields__)
        values: dict[str, Any] = {}
        for key, value in section.items():
            if key not in known:
                raise PolicyError(f"blueprints: unknown key {key!r}")
            values[key] = _coerce(key, value, getattr(cls, key))
        return cls(**values)

    @classmethod
    def from_policy(cls, policy: Policy | None) -> BlueprintConfig:
        """The ``blueprints:`` section of a loaded policy (defaults without one)."""
        return policy.blueprints if policy is not None else cls()

    def is_template(self, path: str | Path) -> bool:
        """Whether ``path`` is a spec template by its file name."""
        name = PurePosixPath(str(path).replace("\\", "/")).name
        return any(glob_match(pattern, name) for pattern in self.template_names)

    def is_spec(self, path: str) -> bool:
        """Whether ``path`` (relative to the specs repository root) is a design spec."""
        return any(glob_match(g, path) for g in self.specs)

    def specs_repo_for(self, project: str) -> str:
        """The specs repository of ``project`` (``specs_repos``, else ``specs_repo``)."""
        for name, repo in self.specs_repos:
            if name == project:
                return repo
        return self.specs_repo.replace("{project}", project)

    def is_specs_repo(self, project: str) -> bool:
        """Whether ``project`` is a specs repository: named ``*-specs`` or in ``specs_repos``.

        Its changes propose design specs: they get the use-case check (BPR001-BPR005),
        never the blueprint check of API changes (BPR010-BPR013).
        """
        return project.endswith("-specs") or any(repo == project for _, repo in self.specs_repos)


def _coerce(key: str, value: Any, default: Any) -> Any:
    if key == "specs_repos":
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items()
        ):
            raise PolicyError(f"blueprints.{key}: must map project names to specs repositories")
        return tuple(sorted(value.items()))
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise PolicyError(f"blueprints.{key}: must be a list of strings")
        return tuple(value)
    if key == "template":
        if value is not None and not isinstance(value, str):
            raise PolicyError(f"blueprints.{key}: must be a path or null")
        return value
    if isinstance(default, bool) or value is None:
        raise PolicyError(f"blueprints.{key}: bad value {value!r}")
    if isinstance(default, int) and not isinstance(default, bool):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise PolicyError(f"blueprints.{key}: must be a whole number >= 0")
        return value
    if isinstance(default, float):
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 1:
            raise PolicyError(f"blueprints.{key}: must be a number in (0, 1]")
        return float(value)
    if not isinstance(value, str):
        raise PolicyError(f"blueprints.{key}: must be a string")
    return value


# --- the document model ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a section's body: prose, a list item, code, a comment or a directive."""

    kind: BlockKind
    text: str
    line: int | None = None


@dataclass(frozen=True)
class Section:
    """A titled section: its heading, own blocks, and subsections."""

    title: str
    level: int
    line: int  # line of the heading's text (1-based)
    blocks: tuple[Block, ...] = ()
    subsections: tuple[Section, ...] = ()

    @property
    def key(self) -> str:
        """The title normalised for matching (``Use cases:`` -> ``use cases``)."""
        return normalise_title(self.title)

    @property
    def text(self) -> str:
        """The section's own prose (no comments, code or directives; no subsections)."""
        return "\n\n".join(b.text for b in self.blocks if b.kind in PROSE)

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


def normalise_title(title: str) -> str:
    """Lower-case words only: ``1. Use-Cases (Optional):`` -> ``use cases``."""
    text = title.lower().replace("\u00a0", " ")
    text = re.sub(r"\((?:optional|required)\)", " ", text)
    text = re.sub(r"^\s*(?:\d+(?:\.\d+)*\.?|[ivx]+\.)\s+", "", text)
    text = re.sub(r"[^\w\s]+", " ", text.replace("_", " "))
    return " ".join(text.split())


# --- parsing -----------------------------------------------------------------------------


def spec_format(file: str) -> Format:
    """``md`` for Markdown file names, ``rst`` otherwise."""
    return "md" if file.lower().endswith((".md", ".markdown", ".mdown")) else "rst"


def parse_spec(file: str, data: bytes | str, *, max_bytes: int = DETAIL_MAX_BYTES) -> Document:
    """Parse a design spec; a file that cannot be parsed gives a Document with a ``problem``."""
    fmt = spec_format(file)
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    digest = hashlib.sha256(raw).hexdigest()
    if len(raw) > max_bytes:
        return Document(
            file,
            fmt,
            problem=f"{len(raw)} bytes, over the limit of {max_bytes} bytes",
            digest=digest,
        )
    nul = raw.find(b"\0")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        return Document(
            file,
            fmt,
            problem=f"binary content (a NUL byte at line {line}), not a text document",
            problem_line=line,
            digest=digest,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return Document(
            file,
            fmt,
            problem=f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line})",
            problem_line=line,
            digest=digest,
        )
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    try:
        if fmt == "md":
            preamble, sections = _parse_markdown(text)
        else:
            preamble, sections = _parse_rst(file, text)
    except RecursionError:
        return Document(file, fmt, problem="nested too deeply to parse", digest=digest)
    except Exception as exc:  # a third-party parser on untrusted input: report, never crash
        LOG.debug("parsing %s failed", file, exc_info=True)
        return Document(
            file, fmt, problem=f"cannot be parsed: {type(exc).__name__}: {exc}", digest=digest
        )
    return Document(file, fmt, sections=tuple(sections), preamble=tuple(preamble), digest=digest)


_RST_SETTINGS: Mapping[str, Any] = {
    # Never write to stderr, never stop: every problem stays in the tree as a
    # system_message, which is dropped below.
    "report_level": 5,
    "halt_level": 5,
    "warning_stream": False,
    "traceback": True,  # let exceptions reach parse_spec instead of sys.exit()
    # Security: a spec under review must not read files from the bot's host or inject HTML.
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "_disable_config": True,  # ignore docutils.conf files of the working directory
    "doctitle_xform": False,  # keep the title as a section, with its line
    "syntax_highlight": "none",
    "smart_quotes": False,
    "pep_references": False,
    "rfc_references": False,
    "input_encoding": "unicode",
}


def _parse_rst(file: str, text: str) -> tuple[list[Block], list[Section]]:
    from docutils import nodes
    from docutils.core import publish_doctree

    doctree = publish_doctree(
        text,
        source_path=file,
        settings_overrides={**_RST_SETTINGS, "warning_stream": io.StringIO()},
    )
    lines = text.split("\n")
    preamble: list[Block] = []
    sections: list[Section] = []
    for child in doctree.children:
        if isinstance(child, nodes.section):
            sections.append(_rst_section(child, 1, lines))
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
        else:
            blocks.extend(_rst_blocks(child))
    return Section(
        title=" ".join(title.split()),
        level=level,
        line=_heading_line(title_node, title, lines),
        blocks=tuple(blocks),
        subsections=tuple(subsections),
    )


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


def _rst_blocks(node: nodes.Node, kind: BlockKind = "text") -> Iterator[Block]:
    from docutils import nodes

    name = node.tagname
    line = getattr(node, "line", None)
    if name == "comment":
        yield Block("comment", node.astext(), line)
        return
    if name in _RST_SKIP_NAMES:
        return
    if name in _RST_CODE_NAMES:
        yield Block("code", node.astext(), line)
        return
    if name in _RST_TEXT_NAMES:
        text = _rst_text(node)
        if text:
            yield Block(kind, text, line)
        return
    if isinstance(node, nodes.Admonition):
        kind = "admonition"
    elif name == "list_item" or name == "definition_list_item" or name == "field":
        kind = "item" if kind == "text" else kind
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


def _parse_markdown(text: str) -> tuple[list[Block], list[Section]]:
    from markdown_it import MarkdownIt

    text = _blank_front_matter(text)
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    tokens = md.parse(text)
    preamble: list[Block] = []
    # A stack of open sections as mutable [title, level, line, blocks, subsections].
    roots: list[_MdSection] = []
    stack: list[_MdSection] = []
    item_depth = 0
    quote_depth = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        line = tok.map[0] + 1 if tok.map else None
        if tok.type == "heading_open":
            level = int(tok.tag[1:])
            inline = tokens[i + 1]
            section = _MdSection(_md_inline_text(inline), level, line or 1)
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
        elif tok.type == "blockquote_open":
            quote_depth += 1
        elif tok.type == "blockquote_close":
            quote_depth -= 1
        elif tok.type == "inline":
            content = _md_inline_text(tok)
            if content:
                target.append(Block("item" if item_depth else "text", content, line))
        elif tok.type in ("fence", "code_block"):
            target.append(Block("code", tok.content, line))
        elif tok.type == "html_block":
            target.extend(_html_blocks(tok.content, line))
        i += 1
    return preamble, [s.freeze() for s in roots]


@dataclass
class _MdSection:
    title: str
    level: int
    line: int
    blocks: list[Block] = field(default_factory=list)
    subsections: list[_MdSection] = field(default_factory=list)

    def freeze(self, depth: int = 1) -> Section:
        return Section(
            title=self.title,
            level=self.level,
            line=self.line,
            blocks=tuple(self.blocks),
            subsections=tuple(s.freeze(depth + 1) for s in self.subsections),
        )


_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_HTML_TAG = re.compile(r"<[^>]+>")


def _html_blocks(html: str, line: int | None) -> Iterator[Block]:
    for comment in _HTML_COMMENT.findall(html):
        yield Block("comment", comment, line)
    rest = _HTML_TAG.sub(" ", _HTML_COMMENT.sub(" ", html))
    rest = " ".join(rest.split())
    if rest:
        yield Block("text", rest, line)


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


# --- substance: what is left of a section once the noise is gone -------------------------

_WORD = re.compile(r"[^\W_](?:[\w'\u2019-]*[^\W_])?")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")
_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+", re.I)
_TRACKER_URL = re.compile(
    r"(?:bugs\.launchpad\.net|blueprints\.launchpad\.net|storyboard\.openstack\.org|"
    r"/\+bug/|/issues/\d+|/\+spec/)",
    re.I,
)
_NONE_WORDS = (
    r"none|n\s*/\s*a|n\.a\.|na|nil|nothing|not applicable|not needed|no use cases?|tbd|tbc|"
    r"todo|xxx|fixme|-+|\u2014|\u2013"
)
_PLACEHOLDER_BLOCK = re.compile(
    rf"^(?:{_NONE_WORDS}|\.\.\.|…|<[^<>]*>|\[[^\[\]]*\]|\(fill me in[^)]*\)|fill me in.*|"
    r"to be (?:written|determined|defined|done|added|completed).*)[\s.!:;,]*$",
    re.I,
)
_DECLARED_NONE = re.compile(rf"^(?:{_NONE_WORDS})(?:\s*[.,;:!()\-\u2013\u2014]|\s*$)", re.I)
# "See above.", "Refer to the problem description": the use case is said to be elsewhere.
_SEE_ELSEWHERE = re.compile(
    r"^(?:please\s+)?(?:see|refer to|as (?:described|explained|stated)|described|covered|"
    r"same as|explained)\b",
    re.I,
)
# "None. <reason>" declares no use case while the reason stays this short; a longer text
# after "None." is read as the use case itself.
_NONE_REASON_MAX_WORDS = 40
_INLINE_PLACEHOLDER = re.compile(r"<[^<>\n]{1,80}>|\b(?:TODO|TBD|XXX|FIXME)\b:?", re.I)

# Who can need a change. Generic technical nouns ("provider", "application", "client"
# alone) are left out: they name code as often as people.
_ACTORS = (
    r"operators?|deployers?|admins?|administrators?|end[- ]?users?|users?|tenants?|"
    r"customers?|developers?|devs|consumers?|clients|client (?:tooling|tools|developers?)|"
    r"cloud providers?|service providers?|owners?|project members?|auditors?|maintainers?|"
    r"people|persons?|someone|anyone|tooling|sdks?|ui|gui|dashboards?|automation|vendors?|"
    r"integrators?|contributors?|reviewers?|consuming services?|callers?|humans?"
)
_STORY = re.compile(r"\bas (?P<role>an?\s+[\w -]{2,60}?),?\s+(?:i|we)\b", re.I)
_SPEAKER = re.compile(
    r"\b(?:i|we)\s+(?:want|need|would like|wish|expect|cannot|can't|can ?not|am|are unable)\b",
    re.I,
)
_NEEDS = re.compile(
    r"\b(?:needs?|needed|wants?|wanted|would like|wish(?:es)?|requires?|required|requirements?|"
    r"so that|in order to|cannot|can't|can ?not|unable|not able|not possible|impossible|"
    r"difficult|hard to|currently|today|at present|right now|workarounds?|problems?|"
    r"problematic|issues?|pain(?:ful)?|fails?|failures?|broken|missing|lacks?|lacking|"
    r"expects?|able to|allows?|enables?|useful|benefits?|avoid|prevent|improve|should|must|"
    r"have to|has to|limitations?|limited|error-prone|confusing|slow|expensive)\b",
    re.I,
)


def words(text: str) -> list[str]:
    """The words of ``text`` (markup and punctuation ignored)."""
    return _WORD.findall(text)


def _norm_words(text: str) -> list[str]:
    return [w.lower().replace("\u2019", "'") for w in words(text)]


def sentences(text: str) -> list[str]:
    """``text`` split into sentences (on ., ! and ? followed by space)."""
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if s.strip()]


@dataclass(frozen=True)
class TemplateText:
    """What a template says, for "text copied from the template never counts"."""

    files: tuple[str, ...]
    sentences: frozenset[str]
    shingles: frozenset[tuple[str, ...]]

    @classmethod
    def from_documents(cls, docs: Sequence[Document]) -> TemplateText:
        sents: set[str] = set()
        shingles: set[tuple[str, ...]] = set()
        for doc in docs:
            blocks = list(doc.preamble) + [b for s in doc.walk() for b in s.blocks]
            for b in blocks:
                if b.kind not in PROSE:
                    continue
                for s in sentences(b.text):
                    key = _sentence_key(s)
                    if key:
                        sents.add(key)
                shingles.update(_shingles(_norm_words(b.text)))
        return cls(
            files=tuple(d.file for d in docs),
            sentences=frozenset(sents),
            shingles=frozenset(shingles),
        )


def _sentence_key(sentence: str) -> str:
    ws = _norm_words(sentence)
    return " ".join(ws) if len(ws) >= 3 else ""


def _shingles(ws: Sequence[str], n: int = 3) -> set[tuple[str, ...]]:
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


@dataclass(frozen=True)
class Substance:
    """A section's body after removing comments, code, placeholders and template text."""

    text: str
    words: int
    removed_placeholders: tuple[str, ...] = ()
    removed_template: int = 0  # sentences dropped because the template has them
    template_share: float = 0.0  # share of the rest's 3-grams that are the template's
    declared_none: str = ""  # "None. code cleanup": the author says there is no use case
    refers_elsewhere: str = ""  # "See above.": the author says it is in another section
    delegated: tuple[str, ...] = ()  # links to a bug/RFE/story standing in for the text
    actors: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()


def substance(
    section: Section, config: BlueprintConfig, template: TemplateText | None = None
) -> Substance:
    """What ``section`` says once comments, code, placeholders and template text are gone."""
    extra = [re.compile(p, re.I) for p in config.placeholders]
    kept: list[str] = []
    removed: list[str] = []
    delegated: list[str] = []
    for block in section.all_blocks():
        if block.kind not in PROSE:
            continue
        text = " ".join(block.text.split())
        bare = _URL.sub(" ", text)
        if not words(bare) or re.fullmatch(
            r"\W*(?:see|refer to|link|rfe|bug|story)?\W*", bare, re.I
        ):
            delegated.extend(u for u in _URL.findall(text) if _TRACKER_URL.search(u))
            continue  # a line that is only a link
        if _PLACEHOLDER_BLOCK.match(text) or any(p.fullmatch(text) for p in extra):
            removed.append(text)
            continue
        cleaned = " ".join(_INLINE_PLACEHOLDER.sub(" ", text).split())
        if words(cleaned):
            kept.append(cleaned)
        else:
            removed.append(text)
    declared = ""
    if kept and _DECLARED_NONE.match(kept[0]):
        rest = _DECLARED_NONE.sub("", kept[0], count=1)
        if len(words(" ".join([rest, *kept[1:]]))) < _NONE_REASON_MAX_WORDS:
            declared = kept[0]
    removed_template = 0
    share = 0.0
    if template is not None and kept:
        kept, removed_template = _without_template_sentences(kept, template)
        grams = _shingles(_norm_words(" ".join(kept)))
        if grams:
            share = len(grams & template.shingles) / len(grams)
    text = "\n\n".join(kept)
    elsewhere = text if len(kept) == 1 and _SEE_ELSEWHERE.match(text) else ""
    if len(words(text)) > 12:
        elsewhere = ""
    return Substance(
        text=text,
        words=len(words(text)),
        removed_placeholders=tuple(removed),
        removed_template=removed_template,
        template_share=share,
        declared_none=declared,
        refers_elsewhere=elsewhere,
        delegated=tuple(dict.fromkeys(delegated)),
        actors=tuple(dict.fromkeys(m.lower() for m in _actor_matches(text, config))),
        needs=tuple(dict.fromkeys(m.group(0).lower() for m in _NEEDS.finditer(text))),
    )


def _without_template_sentences(
    blocks: Sequence[str], template: TemplateText
) -> tuple[list[str], int]:
    out: list[str] = []
    dropped = 0
    for block in blocks:
        parts = sentences(block)
        keep = [s for s in parts if _sentence_key(s) not in template.sentences]
        dropped += len(parts) - len(keep)
        if keep and words(" ".join(keep)):
            out.append(" ".join(keep))
    return out, dropped


@functools.lru_cache(maxsize=32)
def _actor_regex(extra: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = _ACTORS + "".join("|" + re.escape(a.lower()) for a in extra)
    return re.compile(rf"\b(?:{alternatives})\b", re.I)


def _actor_matches(text: str, config: BlueprintConfig) -> list[str]:
    """Who the text names: user-story roles ("an operator"), actor words, else "I/we need"."""
    found = [" ".join(m.group("role").split()[:5]) for m in _STORY.finditer(text)]
    found += [m.group(0) for m in _actor_regex(config.actors).finditer(text)]
    if not found:
        found = [m.group(0) for m in _SPEAKER.finditer(text)]
    return found


# --- the verdict -------------------------------------------------------------------------


@dataclass(frozen=True)
class RestApiImpact:
    """Whether a spec declares a REST API impact (a non-empty ``REST API impact`` section)."""

    declared: bool
    section: str | None = None
    line: int | None = None
    evidence: str = ""


@dataclass(frozen=True)
class Verdict:
    """The use-case verdict of one spec (the JSON object of ``govbot blueprint``)."""

    file: str
    verdict: VerdictName
    strength: Strength | None
    section: str | None = None
    line: int | None = None
    evidence: str = ""
    words: int = 0
    actors: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    problem: str | None = None  # the spec could not be parsed
    templates: tuple[str, ...] = ()  # template files compared against
    rest_api: RestApiImpact = field(default_factory=lambda: RestApiImpact(False))

    @property
    def justified(self) -> bool:
        return self.verdict == "justified"

    def to_json(
        self, findings: Iterable[Finding] = (), rule_url: Callable[[str], str] | None = None
    ) -> dict[str, Any]:
        """The object ``govbot blueprint --format json`` prints for this file."""
        return {
            "file": self.file,
            "verdict": self.verdict,
            "strength": self.strength,
            "section": self.section,
            "line": self.line,
            "evidence": self.evidence,
            "findings": [
                f.to_json(help=rule_url(f.rule) if rule_url is not None else None) for f in findings
            ],
            "words": self.words,
            "actors": list(self.actors),
            "needs": list(self.needs),
            "templates": list(self.templates),
            "rest_api_impact": self.rest_api.declared,
        }


def justify(
    doc: Document,
    config: BlueprintConfig | None = None,
    template: TemplateText | None = None,
    *,
    is_template: bool = False,
) -> Verdict:
    """The use-case verdict of ``doc`` (see the module docstring for the detectors)."""
    config = config or BlueprintConfig()
    templates = template.files if template is not None else ()
    if is_template:
        return Verdict(
            doc.file,
            "template",
            None,
            evidence="a spec template (by its file name or --template): not judged",
            templates=templates,
        )
    if not doc.ok:
        return Verdict(
            doc.file,
            "unjustified",
            "missing-section",
            line=doc.problem_line,
            evidence=f"cannot be parsed: {doc.problem}",
            problem=doc.problem,
            templates=templates,
        )
    rest_api = rest_api_impact(doc, config, template)
    dedicated = doc.find(config.use_case_sections)
    candidates = dedicated or doc.find(config.fallback_sections)
    if not candidates:
        wanted = ", ".join(f'"{t}"' for t in (*config.use_case_sections, *config.fallback_sections))
        return Verdict(
            doc.file,
            "unjustified",
            "missing-section",
            line=_where_it_should_be(doc, config),
            evidence=f"no section titled {wanted}",
            templates=templates,
            rest_api=rest_api,
        )
    judged = [_judge_section(s, bool(dedicated), config, template) for s in candidates]
    best = min(judged, key=lambda v: STRENGTH_ORDER.index(v[0]))
    if dedicated and best[3].refers_elsewhere:
        # "Use Cases: see the problem description" sends the reader there: judge that.
        fallback = [
            _judge_section(s, False, config, template) for s in doc.find(config.fallback_sections)
        ]
        passing = [v for v in fallback if v[0] in JUSTIFIED]
        if passing:
            strength, section, evidence, sub = min(
                passing, key=lambda v: STRENGTH_ORDER.index(v[0])
            )
            evidence = f'"{best[1].title}" refers to it; {evidence}'
            best = (strength, section, evidence, sub)
    strength, section, evidence, sub = best
    return Verdict(
        doc.file,
        "justified" if strength in JUSTIFIED else "unjustified",
        strength,
        section=section.title,
        line=section.line,
        evidence=evidence,
        words=sub.words,
        actors=sub.actors,
        needs=sub.needs,
        templates=templates,
        rest_api=rest_api,
    )


def _judge_section(
    section: Section, dedicated: bool, config: BlueprintConfig, template: TemplateText | None
) -> tuple[Strength, Section, str, Substance]:
    sub = substance(section, config, template)
    where = f'"{section.title}"'
    if sub.declared_none:
        return (
            "missing-empty",
            section,
            f'{where} declares no use case: "{_quote(sub.declared_none)}"',
            sub,
        )
    if sub.words == 0:
        if sub.delegated:
            return (
                "unclear",
                section,
                f"{where} only links to {sub.delegated[0]} (not verified)",
                sub,
            )
        if sub.removed_template:
            return "missing-template", section, f"{where} only has the template's text", sub
        if sub.removed_placeholders:
            return (
                "missing-empty",
                section,
                f'{where} only has a placeholder: "{_quote(sub.removed_placeholders[0])}"',
                sub,
            )
        return "missing-empty", section, f"{where} is empty", sub
    if sub.refers_elsewhere:
        return (
            "missing-empty",
            section,
            f'{where} only refers to another section: "{_quote(sub.refers_elsewhere)}"',
            sub,
        )
    if sub.template_share >= config.template_similarity_max:
        return (
            "missing-template",
            section,
            f'{where} is {sub.template_share:.0%} the template\'s wording: "{_quote(sub.text)}"',
            sub,
        )
    if sub.words < config.min_words and not sub.actors:
        return (
            "missing-empty",
            section,
            f"{where} has {sub.words} words and names no actor (who needs it?): "
            f'"{_quote(sub.text)}"',
            sub,
        )
    said = []
    if sub.actors:
        said.append("actors: " + ", ".join(sub.actors[:4]))
    if sub.needs:
        said.append("need: " + ", ".join(f'"{n}"' for n in sub.needs[:3]))
    summary = f"{where}: {sub.words} words" + ("; " + "; ".join(said) if said else "")
    if sub.actors and sub.needs:
        return ("strong" if dedicated else "good"), section, summary, sub
    missing = "no actor" if not sub.actors else "no need stated"
    return "unclear", section, f"{summary} ({missing})", sub


def _quote(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _where_it_should_be(doc: Document, config: BlueprintConfig) -> int:
    """The line to comment on when no section holds a use case: near the introduction."""
    found = doc.find([*config.fallback_sections, "Summary", "Introduction", "Abstract"])
    if found:
        return found[0].line
    return doc.sections[0].line if doc.sections else 1


def rest_api_impact(
    doc: Document, config: BlueprintConfig | None = None, template: TemplateText | None = None
) -> RestApiImpact:
    """Whether ``doc`` declares a REST API impact: the section is there and not None/N/A."""
    config = config or BlueprintConfig()
    found = doc.find(config.rest_api_sections) if doc.ok else []
    if not found:
        return RestApiImpact(False, evidence="no REST API impact section")
    section = found[0]
    sub = substance(section, config, template)
    if sub.declared_none:
        return RestApiImpact(
            False, section.title, section.line, f'says "{_quote(sub.declared_none)}"'
        )
    if sub.words == 0 or sub.template_share >= config.template_similarity_max:
        what = "only the template's text" if sub.removed_template or sub.words else "nothing"
        return RestApiImpact(False, section.title, section.line, f"says {what}")
    return RestApiImpact(True, section.title, section.line, f"{sub.words} words")


# --- templates ---------------------------------------------------------------------------


def read_spec(
    path: str | Path, *, display: str | None = None, max_bytes: int = DETAIL_MAX_BYTES
) -> Document:
    """Read and parse one spec file; SpecError when it cannot be read at all."""
    p = Path(path)
    name = display or str(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            return Document(
                name,
                spec_format(name),
                problem=f"{size} bytes, over the limit of {max_bytes} bytes",
            )
        data = p.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise SpecError(f"{name}: is a directory, not a spec") from None
    except OSError as exc:
        raise SpecError(f"{name}: cannot read: {exc.strerror or exc}") from None
    return _parse_cached(name, data, max_bytes)


@functools.lru_cache(maxsize=64)
def _parse_cached(name: str, data: bytes, max_bytes: int) -> Document:
    return parse_spec(name, data, max_bytes=max_bytes)


def find_templates(
    spec: str | Path, config: BlueprintConfig | None = None, *, root: str | Path | None = None
) -> list[Path]:
    """Templates next to ``spec``: files named like ``template_names`` in its directory or a parent.

    The nearest directory that has any wins (all of its templates are used: text
    copied from any of them never counts). The walk stops at ``root``, at the top of
    a git work tree, or after six levels.
    """
    config = config or BlueprintConfig()
    here = Path(spec).resolve().parent
    stop = Path(root).resolve() if root is not None else None
    for _ in range(6):
        found = _templates_in(here, config.template_names)
        if found:
            return [_relative(p) for p in found]
        if here == stop or (here / ".git").exists() or here.parent == here:
            break
        here = here.parent
    return []


def _relative(path: Path) -> Path:
    """``path`` relative to the working directory when it is below it (for messages)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _templates_in(directory: Path, names: tuple[str, ...]) -> tuple[Path, ...]:
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return ()
    return tuple(p for p in entries if p.is_file() and any(glob_match(n, p.name) for n in names))


def load_template(
    paths: Sequence[str | Path], config: BlueprintConfig | None = None
) -> TemplateText | None:
    """Parse template files into the text a spec must not be credited for."""
    config = config or BlueprintConfig()
    if not paths:
        return None
    keys = []
    for p in paths:
        try:
            st = Path(p).stat()
        except OSError as exc:
            raise SpecError(f"{p}: cannot read template: {exc.strerror or exc}") from None
        keys.append((str(p), st.st_mtime_ns, st.st_size))
    return _load_template_cached(tuple(keys), config.max_bytes)


@functools.lru_cache(maxsize=32)
def _load_template_cached(keys: tuple[tuple[str, int, int], ...], max_bytes: int) -> TemplateText:
    return TemplateText.from_documents([read_spec(k[0], max_bytes=max_bytes) for k in keys])


_TEMPLATE_CACHE: dict[tuple[tuple[str, str], ...], TemplateText] = {}


def _template_text(files: Sequence[tuple[str, bytes]]) -> TemplateText:
    """Templates from (path, content) pairs; parsed once per content."""
    key = tuple((name, hashlib.sha256(data).hexdigest()) for name, data in files)
    found = _TEMPLATE_CACHE.get(key)
    if found is None:
        if len(_TEMPLATE_CACHE) > 32:
            _TEMPLATE_CACHE.clear()
        docs = [parse_spec(name, data) for name, data in files]
        found = _TEMPLATE_CACHE[key] = TemplateText.from_documents(docs)
    return found


def template_from_text(file: str, text: str | bytes) -> TemplateText:
    """A template from its content (for templates read from git or Gerrit)."""
    return TemplateText.from_documents([parse_spec(file, text)])


def judge_file(
    path: str | Path,
    config: BlueprintConfig | None = None,
    *,
    template: str | Path | None = None,
    display: str | None = None,
) -> tuple[Document, Verdict]:
    """Read, parse and judge one spec file; the template is ``template``, the policy's, or found."""
    config = config or BlueprintConfig()
    name = display or str(path)
    explicit = Path(template) if template is not None else None
    if explicit is None and config.template:
        explicit = Path(config.template)
    if explicit is not None and not explicit.is_file():
        raise SpecError(f"{explicit}: no such template file")
    is_template = config.is_template(path) or (
        explicit is not None and Path(path).resolve() == explicit.resolve()
    )
    doc = read_spec(path, display=name, max_bytes=config.max_bytes)
    tpl_paths = [explicit] if explicit is not None else find_templates(path, config)
    tpl = load_template(tpl_paths, config) if not is_template else None
    return doc, justify(doc, config, tpl, is_template=is_template)


# --- blueprint references in commit messages ---------------------------------------------

RefKind = Literal["implements", "partial", "blueprint", "topic", "url"]
_SLUG = re.compile(r"^[a-z0-9][a-z0-9+._-]*$")
_FOOTER = re.compile(
    r"^\s*(?P<key>partial(?:ly)?[- ]implements|implements(?:[- ]blueprint)?|blueprints?|"
    r"related[- ]blueprint|bp)\s*:\s*(?P<rest>.+)$",
    re.I,
)
_IMPLEMENTS_PROSE = re.compile(
    r"^\s*(?P<key>partial(?:ly)?[- ]implements|implements)\s+(?:blueprint|bp)\b[\s:#]*(?P<rest>\S.*)$",
    re.I,
)
_BP_WORD = re.compile(r"^(?:blueprint|bp)\b[\s:#]*", re.I)
_BP_URL = re.compile(
    r"(?:https?://)?blueprints\.launchpad\.net/(?P<project>[^/\s]+)/\+spec/(?P<name>[^/\s?#)\]>]+)",
    re.I,
)
_TOPIC = re.compile(r"^(?:bp|blueprint)/(?P<name>.+)$", re.I)
_TRAILING = ".,;:)]}>'\"`!?*"
_LEADING = "(<[{'\"`#*"


@dataclass(frozen=True, slots=True)
class BlueprintRef:
    """One blueprint a change says it implements."""

    name: str
    kind: RefKind
    line: int | None  # line in the commit message (1-based); None for the topic
    text: str  # what was matched, for the evidence
    project: str | None = None  # from a Launchpad URL

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "line": self.line,
            "text": self.text,
            "project": self.project,
        }


def clean_name(token: str) -> str | None:
    """A blueprint name from a token: punctuation around it stripped, lower-cased, or None."""
    name = token.strip().lstrip(_LEADING).rstrip(_TRAILING).lower()
    name = _BP_WORD.sub("", name) if name.startswith(("blueprint", "bp")) and ":" in name else name
    return name if name and _SLUG.match(name) and len(name) <= 100 else None


def find_references(message: str, topic: str | None = None) -> tuple[BlueprintRef, ...]:
    """Every blueprint reference of a commit message (and its Gerrit topic), in order.

    Recognised: footers ``Implements: blueprint X``, ``Partial-Implements:``,
    ``Partially-Implements:`` (also with a space), ``Implements-blueprint: X``,
    ``Blueprint: X``, ``bp: X``; a line ``Implements blueprint X``; Launchpad URLs
    ``blueprints.launchpad.net/<project>/+spec/<name>``; the topic ``bp/X``. Keys are
    case-insensitive, trailing punctuation is stripped. A blueprint merely mentioned in
    prose ("this blueprint is ...") is not a reference: jeepyb's looser pattern would
    read "is" as a name.
    """
    refs: list[BlueprintRef] = []
    for number, line in enumerate(message.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue  # git's comment lines
        m = _FOOTER.match(line) or _IMPLEMENTS_PROSE.match(line)
        if m:
            key = m.group("key").lower()
            kind: RefKind = (
                "partial"
                if key.startswith("partial")
                else "implements"
                if key.startswith("implements")
                else "blueprint"
            )
            for token in _footer_tokens(m.group("rest")):
                name = clean_name(token)
                if name:
                    refs.append(BlueprintRef(name, kind, number, line.strip()))
        for url in _BP_URL.finditer(line):
            name = clean_name(url.group("name"))
            if name:
                refs.append(
                    BlueprintRef(name, "url", number, url.group(0), url.group("project").lower())
                )
    if topic:
        t = _TOPIC.match(topic.strip())
        if t:
            name = clean_name(t.group("name").rsplit("/", 1)[-1])
            if name:
                refs.append(BlueprintRef(name, "topic", None, f"topic {topic.strip()}"))
    unique: dict[str, BlueprintRef] = {}
    for ref in refs:
        unique.setdefault(ref.name, ref)
    return tuple(unique.values())


_BP_NAMED = re.compile(r"(?<![\w-])(?:blueprint|bp)(?![\w-])[\s:#]+(\S+)", re.I)


def _footer_tokens(rest: str) -> Iterator[str]:
    """The names of a footer's value: comma-separated, each "blueprint X" or a bare "X".

    Only the first word of each comma-separated part is a name, so that prose after it
    ("blueprint foo-bar to add the field") is not read as more names.
    """
    for part in rest.split(","):
        if _BP_URL.search(part):
            continue  # URLs are read separately, with their project
        named = _BP_NAMED.findall(part)
        if named:
            yield from named
            continue
        first = part.split()[:1]
        if first and first[0].lower().strip(":#") not in ("and", "&", "blueprint", "bp"):
            yield first[0]


def api_impact_flag(message: str, flags: Sequence[str] = ("APIImpact",)) -> int | None:
    """The line of the first ``APIImpact`` flag in the message (as nova's dashboard finds it), or None."""
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in flags) + r")\b", re.I)
    for number, line in enumerate(message.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        if pattern.search(line):
            return number
    return None


# --- resolving a name to a spec file ---------------------------------------------------------

_SPEC_PATH = re.compile(
    r"^(?:.*/)?specs/(?P<release>[^/]+)/(?P<state>approved|implemented)/(?P<name>[^/]+)\.(?:rst|md)$"
)


def spec_candidates(name: str, paths: Iterable[str]) -> list[str]:
    """The spec files of blueprint ``name`` among ``paths`` (a specs repository's listing).

    Matches ``specs/<release>/{approved,implemented}/<name>.rst|.md`` (the file name is
    the blueprint name, compared case-insensitively). Implemented specs first, then
    approved; within each, later paths (newer releases sort later by name in most
    repositories) first.
    """
    wanted = name.lower()
    found = []
    for path in paths:
        m = _SPEC_PATH.match(path.replace("\\", "/"))
        if m and m.group("name").lower() == wanted:
            found.append((m.group("state") != "implemented", path))
    implemented = sorted((p for late, p in found if not late), reverse=True)
    approved = sorted((p for late, p in found if late), reverse=True)
    return implemented + approved


# --- is this change an external API change? ----------------------------------------------


@dataclass(frozen=True, slots=True)
class SpecChange:
    """A changed OpenAPI spec of the change, as the OpenAPI pipeline classified it."""

    file: str
    external: bool  # some added/changed/removed operation is external
    summary: str = ""


@dataclass(frozen=True)
class ApiChange:
    """Why a change does or does not need a blueprint (B9 step 1)."""

    external: bool
    signals: tuple[str, ...] = ()  # evidence for an external API change
    internal: tuple[str, ...] = ()  # API signals that were internal only
    exempt: str = ""  # why an API-looking change is not asked (revert, tests only)

    @property
    def needs_blueprint(self) -> bool:
        return self.external and not self.exempt


def classify_change(
    files: Iterable[str],
    message: str = "",
    *,
    spec_changes: Iterable[SpecChange] = (),
    config: BlueprintConfig | None = None,
) -> ApiChange:
    """Decide whether a change touches an **external** API (signals strongest first).

    S1: an OpenAPI diff with external surface (``spec_changes``, from the OpenAPI
    pipeline); S2: files under ``api_paths`` that are not tests nor ``internal_api_paths``;
    S3: an ``APIImpact`` flag. Internal-only API changes are recorded but need no
    blueprint. Reverts are exempt.
    """
    config = config or BlueprintConfig()
    signals: list[str] = []
    internal: list[str] = []
    for change in spec_changes:
        what = f"{change.file}: {change.summary}" if change.summary else change.file
        (signals if change.external else internal).append(
            f"{'external' if change.external else 'internal'} API spec changed ({what})"
        )
    for path in files:
        if not any(glob_match(g, path) for g in config.api_paths):
            continue
        if any(glob_match(g, path) for g in config.test_paths):
            continue
        if any(glob_match(g, path) for g in config.internal_api_paths):
            internal.append(f"internal API file changed: {path}")
        else:
            signals.append(f"API file changed: {path}")
    flag = api_impact_flag(message, config.api_flags)
    if flag is not None:
        signals.append(f"{config.api_flags[0]} flag in the commit message (line {flag})")
    exempt = ""
    if re.search(r"^This reverts commit [0-9a-f]{7,40}", message, re.M):
        exempt = "a revert"
    return ApiChange(bool(signals), tuple(signals), tuple(internal), exempt)


# --- the command and the service entry points --------------------------------------------


@dataclass(frozen=True)
class SpecReport:
    """One spec's verdict with its findings under the policy."""

    verdict: Verdict
    findings: tuple[Finding, ...] = ()

    def to_json(self, rule_url: Callable[[str], str] | None = None) -> dict[str, Any]:
        """As ``govbot blueprint --format json`` prints it; ``rule_url`` gives ``help``."""
        return self.verdict.to_json(self.findings, rule_url)


def check_specs(
    files: Sequence[str | Path],
    policy: Policy,
    *,
    template: str | Path | None = None,
    today: dt.date | None = None,
) -> list[SpecReport]:
    """Judge spec files and turn the verdicts into findings under ``policy`` (BPR001-005)."""
    config = BlueprintConfig.from_policy(policy)
    judged = [judge_file(file, config, template=template) for file in files]
    return _spec_reports(judged, policy, config, today)


def review_specs(
    contents: Mapping[str, bytes],
    policy: Policy,
    *,
    paths: Iterable[str] = (),
    read: Callable[[str], bytes] | None = None,
    today: dt.date | None = None,
) -> list[SpecReport]:
    """The BPR001-005 reports of spec files given by content (a Gerrit patch set, a git tree).

    ``contents`` maps repository paths to their bytes at the revision under review;
    ``paths`` lists the repository's files at that revision and ``read`` reads one, so
    that the template (the policy's, or ``template_names`` next to the spec) is found as
    ``govbot blueprint`` finds it on disk. Without ``read`` no template is used.
    """
    config = BlueprintConfig.from_policy(policy)
    listing = list(paths)
    judged = []
    for path, data in contents.items():
        doc = parse_spec(path, data, max_bytes=config.max_bytes)
        is_template = config.is_template(path) or path == config.template
        template = None
        if read is not None and not is_template:
            template = _template_in_listing(path, listing, read, config)
        judged.append((doc, justify(doc, config, template, is_template=is_template)))
    return _spec_reports(judged, policy, config, today)


def _spec_reports(
    judged: Sequence[tuple[Document, Verdict]],
    policy: Policy,
    config: BlueprintConfig,
    today: dt.date | None,
) -> list[SpecReport]:
    from govbot.evaluate import evaluate_documents
    from govbot.rules.blueprints import DesignContext

    contexts = [
        DesignContext(file=v.file, document=doc, verdict=v, config=config) for doc, v in judged
    ]
    evaluation = evaluate_documents(contexts, policy, today or dt.date.today())
    return [
        SpecReport(v, tuple(f for f in evaluation.findings if f.file == v.file)) for _, v in judged
    ]


def blueprint_command(
    files: Sequence[str | Path],
    template: str | Path | None,
    fmt: str,
    policy: Policy,
    *,
    out: Callable[[str], Any] | None = None,
    rule_url: Callable[[str], str] | None = None,
) -> int:
    """``govbot blueprint``: print a verdict per file; 1 when any file is unjustified.

    Exit 1 needs an error-level finding as well, so a policy that waives or demotes the
    BPR rule for a spec also lets the command pass. A file that cannot be read raises
    :class:`SpecError` (the CLI's exit 2); a file that cannot be *parsed* is a finding.
    """
    write = out or sys.stdout.write
    if template is not None and not Path(template).is_file():
        raise SpecError(f"{template}: no such template file")
    reports = check_specs(expand_files(files), policy, template=template)
    if fmt == "json":
        data = [r.to_json(rule_url) for r in reports]
        write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        write(render_verdicts_text(reports))
    failed = any(
        r.verdict.verdict == "unjustified" and any(f.severity.value == "error" for f in r.findings)
        for r in reports
    )
    return 1 if failed else 0


def expand_files(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given; a directory stands for every ``.rst``/``.md`` file under it, sorted."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            out.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix.lower() in DESIGN_SPEC_SUFFIXES
                    and p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            out.append(path)
    return out


def render_verdicts_text(reports: Sequence[SpecReport]) -> str:
    """The text output of ``govbot blueprint``: one verdict line per file, its findings below."""
    lines: list[str] = []
    counts = {"justified": 0, "unjustified": 0, "template": 0}
    for report in reports:
        v = report.verdict
        counts[v.verdict] += 1
        where = f":{v.line}" if v.line else ""
        strength = f" ({v.strength})" if v.strength else ""
        lines.append(f"{v.file}{where}: {v.verdict}{strength}: {v.evidence}")
        for f in report.findings:
            at = f":{f.line}" if f.line else ""
            lines.append(f"  {f.file}{at}: {f.severity.value} {f.rule} {f.name}: {f.message}")
    total = len(reports)
    parts = [f"{counts['justified']} justified", f"{counts['unjustified']} unjustified"]
    if counts["template"]:
        parts.append(f"{counts['template']} template{'s' if counts['template'] != 1 else ''}")
    lines.append(f"{total} spec{'s' if total != 1 else ''}: " + ", ".join(parts))
    return "\n".join(lines) + "\n"


def review_change(
    message: str,
    files: Sequence[str],
    policy: Policy,
    *,
    topic: str | None = None,
    spec_changes: Sequence[SpecChange] = (),
    lookup: Callable[[str], Sequence[ResolvedSpec]] | None = None,
    today: dt.date | None = None,
) -> Evaluation:
    """The BPR010-013 findings of one change (commit message, files, topic) under ``policy``.

    ``lookup(name)`` returns the specs of a blueprint (merged or in review) already
    judged, e.g. by :func:`resolve_specs` over a specs-repository mirror.
    """
    from govbot.evaluate import evaluate_documents
    from govbot.rules.blueprints import ChangeContext

    config = BlueprintConfig.from_policy(policy)
    ctx = ChangeContext.build(
        message, files, topic=topic, spec_changes=spec_changes, lookup=lookup, config=config
    )
    return evaluate_documents([ctx], policy, today or dt.date.today())


@dataclass(frozen=True)
class ResolvedSpec:
    """A blueprint's spec file, read from the specs repository and judged."""

    name: str
    path: str
    verdict: Verdict
    merged: bool = True  # False: the spec is still in review

    @property
    def rest_api(self) -> RestApiImpact:
        return self.verdict.rest_api


def resolve_specs(
    name: str,
    paths: Iterable[str],
    read: Callable[[str], bytes],
    config: BlueprintConfig | None = None,
    *,
    merged: bool = True,
) -> list[ResolvedSpec]:
    """Find and judge the spec files of ``name`` in a specs repository.

    ``paths`` lists the repository's files and ``read(path)`` returns one file's bytes
    (a ``GitReader`` of the mirror gives both). The template is the policy's or any
    ``template_names`` file in the spec's directory or a parent, read the same way.
    """
    config = config or BlueprintConfig()
    all_paths = list(paths)
    out = []
    for path in spec_candidates(name, all_paths):
        doc = parse_spec(path, read(path), max_bytes=config.max_bytes)
        template = _template_in_listing(path, all_paths, read, config)
        out.append(ResolvedSpec(name, path, justify(doc, config, template), merged=merged))
    return out


def _template_in_listing(
    spec: str, paths: Sequence[str], read: Callable[[str], bytes], config: BlueprintConfig
) -> TemplateText | None:
    if config.template:
        try:
            return _template_text([(config.template, read(config.template))])
        except (FileNotFoundError, KeyError):
            LOG.warning(
                "template %s named by the policy is not in the specs repository", config.template
            )
            return None
    directory = PurePosixPath(spec).parent
    by_dir: dict[PurePosixPath, list[str]] = {}
    for p in paths:
        pp = PurePosixPath(p)
        if config.is_template(pp.name):
            by_dir.setdefault(pp.parent, []).append(p)
    for _ in range(6):
        if directory in by_dir:
            return _template_text([(p, read(p)) for p in sorted(by_dir[directory])])
        if directory == directory.parent:
            break
        directory = directory.parent
    return None
