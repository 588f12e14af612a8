"""Following ``$ref`` across files: targets refused or missing, loops, example data.

:class:`Loader` reads every file a spec's refs reach through one reader, so that a
reader over a git revision resolves them at that revision; what it refuses becomes a
:class:`~govbot.findings.Problem`.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from govbot.errors import FileTooLarge
from govbot.findings import Problem
from govbot.openapi.files import OutsideRoot, Reader
from govbot.openapi.parse import Document, parse_document
from govbot.openapi.problems import (
    FILE_TOO_LARGE,
    OUTSIDE_ROOT,
    REF_FILE_MISSING,
    REF_LOOP,
    REF_TARGET_MISSING,
    REMOTE_REF,
    Refused,
)
from govbot.surface import get_pointer, join, split

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# Keywords whose values are data, not OpenAPI structure: a "$ref" inside an example is
# part of the example. Their names are keywords only outside maps of names.
_LITERAL_KEYS = frozenset(("example", "default", "enum", "const"))
_NAME_MAPS = frozenset(
    (
        "properties",
        "patternProperties",
        "definitions",
        "$defs",
        "dependentSchemas",
        "schemas",
        "responses",
        "parameters",
        "examples",
        "requestBodies",
        "headers",
        "securitySchemes",
        "links",
        "callbacks",
        "pathItems",
        "paths",
        "content",
        "encoding",
        "variables",
        "mapping",
        "scopes",
        "webhooks",
    )
)


@dataclass(frozen=True, slots=True)
class _Target:
    kind: str  # "ok", or the problem code
    file: str = ""
    pointer: str = ""
    reason: str = ""


def _target(ref: str, file: str) -> _Target:
    path, _, fragment = ref.partition("#")
    if _SCHEME.match(path) or path.startswith("//"):
        return _Target(REMOTE_REF, reason="points to a URL; remote references are never fetched")
    path = unquote(path)
    if not path:
        target_file = file
    elif path.startswith("/"):
        return _Target(
            OUTSIDE_ROOT, reason="is an absolute path; refs must stay inside the repository"
        )
    else:
        target_file = posixpath.normpath(posixpath.join(posixpath.dirname(file), path))
        if target_file == ".." or target_file.startswith("../"):
            return _Target(OUTSIDE_ROOT, reason="points outside the repository root")
    pointer = unquote(fragment)
    if pointer and not pointer.startswith("/"):
        return _Target(
            REF_TARGET_MISSING,
            target_file,
            reason=f"fragment #{fragment} is not a JSON pointer (anchors are not supported)",
        )
    return _Target("ok", target_file, pointer)


def _is_literal(pointer: str) -> bool:
    """True when ``pointer`` lies inside example/default/enum data."""
    tokens = split(pointer)
    for i, token in enumerate(tokens):
        if i > 0 and tokens[i - 1] in _NAME_MAPS:
            continue  # a name, not a keyword
        if token in _LITERAL_KEYS:
            return True
        if token == "examples" and i + 1 < len(tokens) and tokens[i + 1].isdigit():
            return True  # JSON Schema examples: a list of values
        if token == "value" and i >= 2 and tokens[i - 2] == "examples":
            return True  # an Example Object's literal value
    return False


def _json_ref_sites(data: Any) -> dict[str, list[str]]:
    """Every ``$ref`` string of a JSON document with the pointers holding it."""
    sites: dict[str, list[str]] = {}
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, pointer = stack.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str):
                sites.setdefault(ref, []).append(pointer)
            stack.extend(
                (v, join(pointer, k)) for k, v in value.items() if isinstance(v, dict | list)
            )
        elif isinstance(value, list):
            stack.extend(
                (v, join(pointer, i)) for i, v in enumerate(value) if isinstance(v, dict | list)
            )
    for pointers in sites.values():
        pointers.sort(key=_pointer_order)
    return sites


def _pointer_order(pointer: str) -> list[Any]:
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in split(pointer)]


class Loader:
    def __init__(
        self, reader: Reader, *, max_bytes: int, max_alias_nodes: int, max_depth: int
    ) -> None:
        self.reader = reader
        self.max_bytes = max_bytes
        self.max_alias_nodes = max_alias_nodes
        self.max_depth = max_depth
        self.documents: dict[str, Document] = {}
        self.failed: dict[str, str] = {}  # file -> problem code
        self.problems: list[Problem] = []
        self.failed_lines: dict[str, int | None] = {}

    def read(self, file: str) -> bytes:
        size_of = getattr(self.reader, "size", None)
        try:
            if size_of is not None:
                size = size_of(file)
                if size > self.max_bytes:
                    raise Refused(
                        FILE_TOO_LARGE,
                        f"{file}: {size} bytes, over the limit of {self.max_bytes} bytes; not read",
                    )
            return self.reader.read(file)
        except FileTooLarge as exc:  # the reader's own bound, met before the bytes
            raise Refused(FILE_TOO_LARGE, f"{file}: {exc.strerror}") from None

    def parse(
        self, file: str, data: bytes, referrer: str = "", digest: str | None = None
    ) -> Document | None:
        try:
            doc = parse_document(
                file,
                data,
                max_bytes=self.max_bytes,
                max_alias_nodes=self.max_alias_nodes,
                max_depth=self.max_depth,
                digest=digest,
            )
        except Refused as refused:
            self.refuse(file, refused, referrer)
            return None
        self.documents[file] = doc
        return doc

    def adopt(self, doc: Document) -> None:
        """Take ``doc``, parsed already, as the document of its file."""
        self.documents[doc.file] = doc

    def refuse(self, file: str, refused: Refused, referrer: str = "") -> None:
        self.failed[file] = refused.code
        self.failed_lines[file] = refused.line
        message = refused.message + (f" (reached by a $ref from {referrer})" if referrer else "")
        self.problems.append(Problem(refused.code, message, file, line=refused.line))

    def external(self, file: str, referrer: str) -> tuple[Document | None, str]:
        """The document of a file a ref reaches, else None and why ("CODE" or "CODE:cause")."""
        if file in self.documents:
            return self.documents[file], ""
        if file in self.failed:
            return None, self.failed[file]
        try:
            data = self.read(file)
        except Refused as refused:
            self.refuse(file, refused, referrer)
            return None, refused.code
        except OutsideRoot:
            self.failed[file] = OUTSIDE_ROOT
        except FileNotFoundError:
            self.failed[file] = REF_FILE_MISSING
        except OSError as exc:  # a directory, no permission: the ref cannot be followed
            self.failed[file] = f"{REF_FILE_MISSING}:{exc.strerror or exc}"
        else:
            doc = self.parse(file, data, referrer)
            return (doc, "") if doc is not None else (None, self.failed[file])
        return None, self.failed[file]

    def resolve(self, root: Document) -> dict[tuple[str, str], tuple[str, str]]:
        """Follow every ref from ``root`` across files; refused refs become problems."""
        refs: dict[tuple[str, str], tuple[str, str]] = {}
        pending: list[tuple[Document, str, str, str]] = []  # (doc, ref, code, reason)
        queue = [root]
        seen = {root.file}
        while queue:
            doc = queue.pop(0)
            for ref in doc.refs:
                target = _target(ref, doc.file)
                if target.kind != "ok":
                    pending.append((doc, ref, target.kind, target.reason))
                    continue
                if target.file != doc.file and not self.sites(doc, ref):
                    continue  # only in examples or defaults: data, never read as a file
                tdoc, why = self.external(target.file, doc.file)
                if tdoc is None:
                    code, _, cause = why.partition(":")
                    if code == REF_FILE_MISSING:
                        reason = f"file {target.file} " + (
                            f"cannot be read: {cause}" if cause else "does not exist"
                        )
                        pending.append((doc, ref, REF_FILE_MISSING, reason))
                    elif code == OUTSIDE_ROOT:
                        pending.append(
                            (
                                doc,
                                ref,
                                OUTSIDE_ROOT,
                                f"file {target.file} resolves outside the repository root",
                            )
                        )
                    # a file refused for its content was reported once, on that file
                    continue
                try:
                    get_pointer(tdoc.data, target.pointer)
                except (KeyError, IndexError, TypeError, ValueError):
                    where = (
                        f"{target.file}#{target.pointer}"
                        if target.file != doc.file
                        else f"#{target.pointer}"
                    )
                    pending.append((doc, ref, REF_TARGET_MISSING, f"nothing at {where}"))
                    continue
                refs[(doc.file, ref)] = (target.file, target.pointer)
                if tdoc.file not in seen:
                    seen.add(tdoc.file)
                    queue.append(tdoc)
        self._report_refs(pending)
        self._break_loops(refs)
        return refs

    def sites(self, doc: Document, ref: str) -> list[str]:
        """Pointers of the objects holding ``ref`` in ``doc``, leaving out example data."""
        located = doc.refs.get(ref)
        if located is None:
            for r, pointers in _json_ref_sites(doc.data).items():
                if r in doc.refs:
                    doc.refs[r] = pointers
            located = doc.refs.get(ref) or []
        return [p for p in located if not _is_literal(p)]

    def _report_refs(self, pending: list[tuple[Document, str, str, str]]) -> None:
        reported: set[tuple[str, str, str]] = set()
        for doc, ref, code, reason in pending:
            sites = self.sites(doc, ref)
            if not sites:
                continue  # only inside examples or defaults: data, not a reference
            # one finding per missing file and referring file; otherwise per ref
            key = (doc.file, code, reason if code == REF_FILE_MISSING else ref)
            if key in reported:
                continue
            reported.add(key)
            more = f" (and {len(sites) - 1} more places)" if len(sites) > 1 else ""
            message = f"{doc.file}: $ref {ref!r} {reason}{more}"
            self.problems.append(Problem(code, message, doc.file, sites[0]))

    def _break_loops(self, refs: dict[tuple[str, str], tuple[str, str]]) -> None:
        """Find refs that lead only to refs, in a circle; report each circle once and drop it."""

        def next_hop(node: tuple[str, str]) -> tuple[str, str] | None:
            file, pointer = refs[node]
            value = get_pointer(self.documents[file].data, pointer)
            if isinstance(value, dict) and isinstance(value.get("$ref"), str):
                hop = (file, value["$ref"])
                return hop if hop in refs else None
            return None

        state: dict[tuple[str, str], int] = {}  # 1 on the current path, 2 done
        loops: list[list[tuple[str, str]]] = []
        for start in list(refs):
            path: list[tuple[str, str]] = []
            node: tuple[str, str] | None = start
            while node is not None and node not in state:
                state[node] = 1
                path.append(node)
                node = next_hop(node)
            if node is not None and state.get(node) == 1:
                loops.append(path[path.index(node) :])
            for visited in path:
                state[visited] = 2
        for loop in loops:
            # Where each hop sits: the value holding loop[i]'s ref is the target of
            # the hop before it, so the loop is reported at a place inside it.
            places = [refs[node] for node in loop]
            file, pointer = places[-1]
            for node in loop:
                refs.pop(node, None)
            chain = " -> ".join(p if f == file else f"{f}#{p}" for f, p in [places[-1], *places])
            message = f"{file}: $ref loop {chain}: every hop is a $ref, so it never reaches a value"
            self.problems.append(Problem(REF_LOOP, message, file, pointer))
