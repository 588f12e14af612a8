"""Reading an os-api-ref tree into :class:`~govbot.apiref.facts.ApiRef` facts.

The tree is walked as Sphinx would build it: from ``index.rst`` (else every ``*.inc``
and ``*.rst`` file of the directory) through ``include`` (relative to the including
file) and ``toctree`` entries (relative to their document), never outside the reader's
root. Section levels follow docutils: adornment styles take levels in the order they
first appear, and an included file continues its includer's sections. What belongs to an
operation is what its section holds: the ``rest_method`` line, prose status codes or
``rest_status_code`` lists, ``rest_parameters`` lists under its Request / Response
subsections, and the admonitions that mark it. Marks of an index part ("Deprecated
APIs", "Obsolete APIs", "Internal Service APIs", "... (EXPERIMENTAL)") reach the files
included under it. Anything not understood is skipped and recorded, never guessed.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from govbot.apiref import problems
from govbot.apiref.facts import Mark, Skip, Where
from govbot.apiref.flatyaml import FlatYaml, YamlRefused, read_flat_yaml
from govbot.apiref.operations import OpDraft, ParamList, StatusList
from govbot.apiref.rst import Block, Directive, Paragraph, Title, scan
from govbot.apiref.surface import OutsideRoot, Problem

MAX_DOCUMENTS = 2000
MAX_INCLUDE_DEPTH = 16
MAX_DOC_BYTES = 8 * 1024 * 1024

_PAREN_MARK = re.compile(r"\((DEPRECATED|REMOVED|OBSOLETE|EXPERIMENTAL)\)", re.IGNORECASE)
_PART = re.compile(
    r"^(deprecated|obsolete|removed|internal|experimental)\b.*\bapis?\b", re.IGNORECASE
)
_MARK_OF = {
    "deprecated": "deprecated",
    "removed": "obsolete",
    "obsolete": "obsolete",
    "experimental": "experimental",
    "internal": "internal",
}
# "This API is deprecated ...", "The ``policies`` API is deprecated", "These APIs are
# experimental": the subject must be the API itself, so "... which is deprecated" about
# something else, or "will probably be deprecated", do not count.
_SUBJECT = (
    r"\b(?:this|these|the|[\w`'*-]+)(?:\s+[\w`'*.-]+){0,5}?\s+"
    r"(?:api|apis|action|actions|operation|operations|extension|extensions|call|calls"
    r"|method|methods|resource|resources|endpoint|endpoints)\s+"
)
_SAYS_DEPRECATED = re.compile(
    _SUBJECT + r"(?:is|are|has\s+been|have\s+been|was|were)\s+(?:now\s+|also\s+)?deprecated\b",
    re.IGNORECASE,
)
_SAYS_EXPERIMENTAL = re.compile(
    _SUBJECT + r"(?:is|are)\s+(?:an?\s+)?(?:`+)?experimental\b", re.IGNORECASE
)
_ADMONITIONS = frozenset(
    {"note", "warning", "important", "attention", "caution", "danger", "admonition", "tip"}
)
_REQUEST = re.compile(r"^request\b", re.IGNORECASE)
_RESPONSE = re.compile(r"^response\b", re.IGNORECASE)
# "This API is available starting with microversion 2.81." (nova's prose for what
# other sections say with ``.. versionadded::``): the operation's own minimum.
_SAYS_SINCE = re.compile(
    r"\bthis (?:api|action|operation|call)\b[^.]{0,30}?\b(?:available|introduced|added|new)\b"
    r"[^.]{0,30}?\bmicroversion\s+(\d+\.\d+)\b",
    re.IGNORECASE,
)
_STATUS_PROSE = re.compile(r"^(normal|success|error)(?:\s+response)?\s+codes?\s*:", re.IGNORECASE)


@dataclass
class _Section:
    title: str
    level: int
    where: Where
    marks: list[Mark] = field(default_factory=list)
    op: OpDraft | None = None
    direction: str | None = None  # "request" / "response" for those subsections
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class _Context:
    """One Sphinx document (a toctree entry) and the files it includes."""

    docname_dir: str
    styles: dict[tuple[str, bool], int] = field(default_factory=dict)
    stack: list[_Section] = field(default_factory=list)


class Walker:
    """Reads the documents of one tree; collects operation drafts, problems and skips."""

    def __init__(self, read: Callable[[str], bytes], directory: str, max_bytes: int) -> None:
        self.read = read
        self.directory = directory
        self.max_bytes = max_bytes
        self.drafts: list[OpDraft] = []
        self.problems: list[Problem] = []
        self.skipped: list[Skip] = []
        self.documents: list[str] = []
        self.page_texts: dict[str, str] = {}
        self.title = ""
        self._blocks: dict[str, list[Block] | None] = {}
        self._yaml: dict[str, FlatYaml | None] = {}

    # -- files -------------------------------------------------------------------------

    def blocks(self, path: str, where: Where | None) -> list[Block] | None:
        if path in self._blocks:
            return self._blocks[path]
        result: list[Block] | None = None
        if len(self._blocks) >= MAX_DOCUMENTS:
            self.skip(f"more than {MAX_DOCUMENTS} documents: the rest are not read", where)
        else:
            data = self._read(path, where, problems.UNREADABLE)
            if data is not None:
                result = self._decode(path, data, where)
        self._blocks[path] = result
        if result is not None:
            self.documents.append(path)
        return result

    def _read(self, path: str, where: Where | None, code: str) -> bytes | None:
        at = where or Where(path, 1)
        try:
            data = self.read(path)
        except OutsideRoot:
            self.problem(
                problems.INCLUDE_OUTSIDE,
                f"{path}: resolves (through a symlink) outside the tree; not read",
                at,
            )
            return None
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            self.problem(code, f"{path}: no such file (named at {at})", at)
            return None
        except OSError as exc:
            self.problem(code, f"{path}: cannot read: {exc.strerror or exc}", at)
            return None
        if len(data) > self.max_bytes:
            self.problem(code, f"{path}: {len(data)} bytes, over the limit; not read", at)
            return None
        return data

    def _decode(self, path: str, data: bytes, where: Where | None) -> list[Block] | None:
        at = where or Where(path, 1)
        if b"\0" in data:
            self.problem(problems.UNREADABLE, f"{path}: binary content, not a document", at)
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            self.problem(problems.UNREADABLE, f"{path}: not UTF-8 text at line {line}", at)
            return None
        return scan(text.removeprefix("\ufeff"))

    def flat_yaml(self, path: str, where: Where, *, parameters: bool) -> FlatYaml | None:
        if path in self._yaml:
            return self._yaml[path]
        missing = problems.PARAMETERS_MISSING if parameters else problems.SKIPPED
        data = self._read(path, where, missing)
        result = None
        if data is not None:
            try:
                result = read_flat_yaml(path, data, max_bytes=self.max_bytes)
            except YamlRefused as refused:
                code = problems.PARAMETERS_INVALID if parameters else problems.SKIPPED
                self.problem(code, refused.message, Where(path, refused.line or 1))
            else:
                self.documents.append(path)
                for key, line in result.duplicates:
                    self.problem(
                        problems.DUPLICATE_KEY,
                        f"{path}: entry {key!r} is defined again at line {line}; the last "
                        "definition is used",
                        Where(path, line),
                    )
                for what, line in result.skipped:
                    self.skip(what, Where(path, line))
        self._yaml[path] = result
        return result

    def problem(self, code: str, message: str, where: Where) -> None:
        self.problems.append(problems.problem(code, message, where.file, where.line))

    def skip(self, reason: str, where: Where | None) -> None:
        self.skipped.append(Skip(reason, where or Where(self.directory, 1)))

    # -- documents ---------------------------------------------------------------------

    def walk_root(self, path: str) -> None:
        blocks = self.blocks(path, None)
        if blocks is None:
            return
        ctx = _Context(posixpath.dirname(path))
        self._walk(path, blocks, ctx, [], (path,))
        self._close(ctx, 0)

    def _walk(
        self,
        path: str,
        blocks: list[Block],
        ctx: _Context,
        inherited: list[Mark],
        chain: tuple[str, ...],
    ) -> None:
        # This file's own open sections: an index part ("Deprecated APIs") marks the files
        # included under it even after their own titles closed it in docutils' tree.
        own: list[_Section] = []
        for block in blocks:
            if isinstance(block, Title):
                section = self._title(path, block, ctx)
                while own and own[-1].level >= section.level:
                    own.pop()
                own.append(section)
            elif isinstance(block, Paragraph):
                self._paragraph(path, block, ctx)
            else:
                marks = [*inherited, *(m for s in own for m in s.marks)]
                self._directive(path, block, ctx, marks, chain, inherited)

    def _title(self, path: str, block: Title, ctx: _Context) -> _Section:
        level = ctx.styles.setdefault(block.style, len(ctx.styles) + 1)
        self._close(ctx, level)
        where = Where(path, block.line)
        section = _Section(block.text, level, where)
        if not self.title:
            self.title = block.text
        for m in _PAREN_MARK.finditer(block.text):
            kind = _MARK_OF[m.group(1).lower()]
            section.marks.append(Mark(kind, f"the title {block.text!r} says {m.group(0)}", where))
        part = _PART.match(block.text)
        if part is not None:
            kind = _MARK_OF[part.group(1).lower()]
            section.marks.append(Mark(kind, f"listed under {block.text!r}", where))
        if _REQUEST.match(block.text):
            section.direction = "request"
        elif _RESPONSE.match(block.text):
            section.direction = "response"
        ctx.stack.append(section)
        return section

    def _close(self, ctx: _Context, level: int) -> None:
        """Close the sections of ``level`` and deeper, finishing their operations."""
        while ctx.stack and ctx.stack[-1].level >= level:
            section = ctx.stack.pop()
            if section.op is not None:
                # Sections of other files still open around it (an included file without
                # a page title lands in the previous file's page) do not mark it; its
                # includer's marks came with the draft.
                file = section.where.file
                ancestors = [m for s in ctx.stack if s.where.file == file for m in s.marks]
                section.op.marks = [*section.op.marks, *ancestors, *section.marks]
                if ctx.stack:
                    section.op.page = ctx.stack[-1].title
                self.drafts.append(section.op)
            elif ctx.stack and ctx.stack[-1].op is not None:
                # A Request / Response subsection: what it says belongs to the operation.
                ctx.stack[-1].marks.extend(section.marks)
            elif section.paragraphs and not any(s.op for s in ctx.stack):
                self.page_texts.setdefault(section.title, " ".join(section.paragraphs)[:2000])

    def _op(self, ctx: _Context) -> OpDraft | None:
        return next((s.op for s in reversed(ctx.stack) if s.op is not None), None)

    def _paragraph(self, path: str, block: Paragraph, ctx: _Context) -> None:
        op = self._op(ctx)
        m = _STATUS_PROSE.match(block.text)
        if m is not None:
            if op is None:
                self.skip("status codes outside an operation", Where(path, block.line))
                return
            kind = "error" if m.group(1).lower() == "error" else "success"
            op.prose_statuses.append((kind, block.text[m.end() :], Where(path, block.line)))
            return
        if op is not None:
            op.paragraphs.append(block.text)
            since = _SAYS_SINCE.search(block.text) if not op.min_version else None
            if since is not None and ctx.stack and ctx.stack[-1].op is op:
                op.min_version = since.group(1)
        elif ctx.stack:
            ctx.stack[-1].paragraphs.append(block.text)
        if op is not None and op.first_block:
            op.first_block = False

    def _directive(
        self,
        path: str,
        block: Directive,
        ctx: _Context,
        inherited: list[Mark],
        chain: tuple[str, ...],
        base: list[Mark],
    ) -> None:
        where = Where(path, block.line)
        name = block.name
        op = self._op(ctx)
        if name == "rest_method":
            self._rest_method(block, where, ctx, base)
        elif name == "rest_parameters":
            self._params(block, where, ctx, op)
        elif name == "rest_status_code":
            self._statuses(block, where, ctx, op)
        elif name == "include":
            self._include(path, block, where, ctx, inherited, chain)
        elif name == "toctree":
            self._toctree(block, where, ctx, inherited, chain)
        elif name == "versionadded" and op is not None and op.first_block:
            # Right after rest_method, Sphinx's versionadded dates the operation itself.
            if not op.min_version and block.argument:
                op.min_version = block.argument.split()[0]
        elif name == "deprecated" or name in _ADMONITIONS:
            self._admonition(block, where, ctx, op)
        if op is not None and name != "rest_method":
            op.first_block = False

    def _rest_method(
        self, block: Directive, where: Where, ctx: _Context, inherited: list[Mark]
    ) -> None:
        content = [(line, text) for line, text in block.content if text.strip()]
        argument = block.argument
        if not argument and content:
            # os-api-ref reads "METHOD URL" from the first content line when the
            # directive line has none.
            argument = content.pop(0)[1]
        parts = argument.split()
        if len(parts) != 2 or not ctx.stack or ctx.stack[-1].op is not None:
            self.skip("a rest_method that is not `METHOD URL` first in its section", where)
            return
        section = ctx.stack[-1]
        draft = OpDraft(method=parts[0].upper(), url=parts[1], title=section.title, where=where)
        for _, text in content:
            key, _, value = text.partition(":")
            if key.strip() == "min_version":
                draft.min_version = value.strip()
            elif key.strip() == "max_version":
                draft.max_version = value.strip()
            elif text.strip():
                self.skip(f"rest_method option {text.strip()!r} not understood", where)
        draft.marks = list(inherited)
        section.op = draft

    def _params(self, block: Directive, where: Where, ctx: _Context, op: OpDraft | None) -> None:
        if op is None:
            self.skip("rest_parameters outside an operation", where)
            return
        direction = None
        for section in reversed(ctx.stack):
            if section.op is not None:
                break
            direction = direction or section.direction
        file = self._relative(ctx.docname_dir, block.argument)
        if file is None:
            self.problem(
                problems.INCLUDE_OUTSIDE,
                f"parameters file {block.argument!r} is outside the tree; not read",
                where,
            )
            return
        entries = self.flat_yaml(file, where, parameters=True)
        op.param_lists.append(ParamList(file, entries, direction, block.content, where))

    def _statuses(self, block: Directive, where: Where, ctx: _Context, op: OpDraft | None) -> None:
        args = block.argument.split()
        if op is None or len(args) != 2 or args[0] not in ("success", "error"):
            self.skip("a rest_status_code that is not `success|error FILE` in an operation", where)
            return
        file = self._relative(ctx.docname_dir, args[1])
        table = self.flat_yaml(file, where, parameters=False) if file is not None else None
        op.status_lists.append(StatusList(args[0], table, block.content, where))

    def _admonition(
        self, block: Directive, where: Where, ctx: _Context, op: OpDraft | None
    ) -> None:
        text = block.text
        if op is not None:
            op.paragraphs.append(text)
        elif ctx.stack:
            ctx.stack[-1].paragraphs.append(text)
        if not ctx.stack:
            return
        quote = text if len(text) <= 120 else text[:117] + "..."
        target = ctx.stack[-1].marks
        if block.name == "deprecated":
            target.append(Mark("deprecated", f"a deprecated directive: {quote!r}", where))
            return
        lowered = text.lower()
        m = _SAYS_DEPRECATED.search(text) if "deprecated" in lowered else None
        if m is not None:
            target.append(Mark("deprecated", f"a {block.name} says {m.group(0)!r}", where))
        m = _SAYS_EXPERIMENTAL.search(text) if "experimental" in lowered else None
        if m is not None:
            target.append(Mark("experimental", f"a {block.name} says {m.group(0)!r}", where))

    def _include(
        self,
        path: str,
        block: Directive,
        where: Where,
        ctx: _Context,
        inherited: list[Mark],
        chain: tuple[str, ...],
    ) -> None:
        target = self._relative(posixpath.dirname(path), block.argument)
        if target is None:
            self.problem(
                problems.INCLUDE_OUTSIDE,
                f"include of {block.argument!r} leaves the tree; not read",
                where,
            )
            return
        if target in chain or len(chain) > MAX_INCLUDE_DEPTH:
            self.skip(f"include of {block.argument!r} loops or nests too deep", where)
            return
        blocks = self.blocks(target, where)
        if blocks is None:
            return
        self._walk(target, blocks, ctx, inherited, (*chain, target))

    def _toctree(
        self,
        block: Directive,
        where: Where,
        ctx: _Context,
        inherited: list[Mark],
        chain: tuple[str, ...],
    ) -> None:
        if "glob" in block.options:
            self.skip("a globbing toctree", where)
            return
        marks = inherited
        for line, text in block.content:
            entry = text.strip()
            if not entry or entry.startswith(":"):
                continue
            m = re.match(r"^.*<(.+)>$", entry)
            entry = m.group(1).strip() if m else entry
            if "://" in entry or entry == "self":
                continue
            name = entry if entry.endswith((".rst", ".inc")) else entry + ".rst"
            target = self._relative(ctx.docname_dir, name)
            at = Where(where.file, line)
            if target is None:
                self.problem(
                    problems.INCLUDE_OUTSIDE, f"toctree entry {entry!r} leaves the tree", at
                )
                continue
            if target in chain or target in self._blocks or len(chain) > MAX_INCLUDE_DEPTH:
                continue
            blocks = self.blocks(target, at)
            if blocks is None:
                continue
            sub = _Context(posixpath.dirname(target))
            self._walk(target, blocks, sub, list(marks), (*chain, target))
            self._close(sub, 0)

    def _relative(self, base_dir: str, name: str) -> str | None:
        """``name`` relative to ``base_dir``; None when it leaves the reader's root."""
        name = name.strip()
        if not name:
            return None
        if name.startswith("/"):
            joined = posixpath.normpath(posixpath.join(self.directory, name.lstrip("/")))
        else:
            joined = posixpath.normpath(posixpath.join(base_dir, name))
        if joined == ".." or joined.startswith("../") or joined.startswith("/"):
            return None
        return joined
