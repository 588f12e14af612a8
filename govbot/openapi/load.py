"""Loading OpenAPI documents: parse with a line map, refuse bad input, resolve ``$ref``, validate.

Public contract::

    class Reader(Protocol):
        def read(self, relpath: str) -> bytes   # raises FileNotFoundError
        # optional: def size(self, relpath: str) -> int, to refuse big files unread

    FileReader(root)                            # reads files under a directory, never outside it
    load_spec(path, *, reader=None, root=None, max_bytes=64 MiB, validate=True, ...) -> Spec

``path`` is relative to the reader's root when a reader is given; otherwise it is a
filesystem path and ``root`` (default: the git work tree containing it, else its
directory) bounds where ``$ref``s may point. Files reached by ``$ref`` are read through
the same reader, so a reader over a git revision resolves them at that revision.

Everything wrong with the *input* becomes a :class:`~govbot.findings.Problem` in
``Spec.problems`` with one of the codes below, and no severity: the rules of the same
code in :mod:`govbot.rules.loading` report them under the policy;
``Spec.data`` is None when the root document itself could not be used. Only a root file
that cannot be read at all raises (:class:`SpecNotFound`, :class:`~govbot.errors.SpecError`).
"""

from __future__ import annotations

import hashlib
import math
import os
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

import orjson
import yaml

from govbot.errors import SpecError
from govbot.findings import Problem
from govbot.openapi import validate as validation
from govbot.openapi.linemap import JsonLines, YamlLines, fixed_line
from govbot.surface import LineLookup, Spec, escape, get_pointer, join, split

# --- problem codes ---------------------------------------------------------------------
# The rules of govbot.rules.loading report these; they live here so that the loader
# needs nothing from the rules package.

SYNTAX_ERROR = "OAS001"
FILE_TOO_LARGE = "OAS002"
BINARY_FILE = "OAS003"
NOT_UTF8 = "OAS004"
ALIAS_BOMB = "OAS005"
TOO_DEEP = "OAS006"
NOT_OPENAPI = "OAS007"
UNSUPPORTED_VERSION = "OAS008"
REMOTE_REF = "OAS009"
OUTSIDE_ROOT = "OAS010"
REF_FILE_MISSING = "OAS011"
REF_TARGET_MISSING = "OAS012"
REF_LOOP = "OAS013"
INVALID = "OAS014"
VALIDATOR_FAILED = "OAS015"

PROBLEMS: Mapping[str, str] = {
    SYNTAX_ERROR: "syntax-error",
    FILE_TOO_LARGE: "file-too-large",
    BINARY_FILE: "binary-file",
    NOT_UTF8: "not-utf8",
    ALIAS_BOMB: "alias-bomb",
    TOO_DEEP: "nesting-too-deep",
    NOT_OPENAPI: "not-openapi",
    UNSUPPORTED_VERSION: "unsupported-version",
    REMOTE_REF: "remote-ref",
    OUTSIDE_ROOT: "outside-root",
    REF_FILE_MISSING: "ref-file-missing",
    REF_TARGET_MISSING: "ref-target-missing",
    REF_LOOP: "ref-loop",
    INVALID: "invalid-openapi",
    VALIDATOR_FAILED: "validator-failed",
}

SUPPORTED_VERSIONS = ("2.0", "3.0", "3.1", "3.2")
MAX_BYTES = 64 * 1024 * 1024
MAX_ALIAS_NODES = 1_000_000
# orjson refuses JSON nested deeper than 1024; YAML gets about the same bound.
MAX_DEPTH = 1000
# Documents up to this size also get openapi-spec-validator's detailed (slower) checks.
DETAIL_MAX_BYTES = 2 * 1024 * 1024
MAX_VALIDATION_FINDINGS = 50


class Reader(Protocol):
    def read(self, relpath: str) -> bytes: ...


class OutsideRoot(PermissionError):
    """A path that resolves (through ``..`` or a symlink) outside the reader's root."""


class SpecNotFound(SpecError, FileNotFoundError):
    """The spec to load does not exist (a one-line message, exit code 2)."""


class FileReader:
    """Reads files under ``root``; paths resolving outside it raise :class:`OutsideRoot`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, relpath: str) -> Path:
        path = (self.root / relpath).resolve()
        if not path.is_relative_to(self.root):
            raise OutsideRoot(f"{relpath} resolves outside {self.root}")
        return path

    def read(self, relpath: str) -> bytes:
        return self._path(relpath).read_bytes()

    def size(self, relpath: str) -> int:
        return self._path(relpath).stat().st_size


# --- parsing ---------------------------------------------------------------------------


class _Refused(Exception):
    """Internal: a file the loader will not use; becomes a finding at the boundary."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


@dataclass
class _Document:
    file: str
    data: Any
    lines: LineLookup
    is_json: bool
    digest: str
    size: int
    # ref string -> pointers of the mappings holding it; None until looked for (JSON
    # finds its refs with a regular expression and locates them only when one is bad).
    refs: dict[str, list[str] | None] = field(default_factory=dict)


_BOM = "\ufeff"
_JSON_REF = re.compile(r'"\$ref"\s*:\s*"([^"\\]*(?:\\.[^"\\]*)*)"')
_DEPTH_MESSAGE = "depth limit exceeded"


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def parse_document(
    file: str,
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_alias_nodes: int = MAX_ALIAS_NODES,
    max_depth: int = MAX_DEPTH,
) -> _Document:
    """Parse one file; raises :class:`_Refused` for input the loader must not use."""
    if len(data) > max_bytes:
        raise _Refused(
            FILE_TOO_LARGE, f"{file}: {len(data)} bytes, over the limit of {max_bytes} bytes"
        )
    nul = data.find(b"\0")
    if nul >= 0:
        raise _Refused(
            BINARY_FILE,
            f"{file}: binary content (a NUL byte at line {_line_of(data, nul)}), not a text document",
            _line_of(data, nul),
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        raise _Refused(
            NOT_UTF8,
            f"{file}: not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line})",
            line,
        ) from None
    if text.startswith(_BOM):
        text = text[1:]
    digest = hashlib.sha256(data).hexdigest()
    first = text.lstrip()[:1]
    looks_json = first in ("{", "[")
    if file.lower().endswith(".json") or looks_json:
        try:
            value = orjson.loads(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)
        except orjson.JSONDecodeError as exc:
            if _DEPTH_MESSAGE in str(exc):
                raise _Refused(
                    TOO_DEEP,
                    f"{file}: nested deeper than orjson's limit of 1024 levels",
                    exc.lineno,
                ) from None
            if file.lower().endswith((".yaml", ".yml")):
                pass  # a YAML file in flow style: let the YAML parser have it
            else:
                raise _Refused(
                    SYNTAX_ERROR,
                    f"{file}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                    exc.lineno,
                ) from None
        else:
            doc = _Document(file, value, JsonLines(text), True, digest, len(data))
            if '"$ref"' in text:
                for m in _JSON_REF.finditer(text):
                    ref = m.group(1)
                    if "\\" in ref:
                        ref = orjson.loads(f'"{ref}"')
                    doc.refs[ref] = None
            return doc
    value, table, root_line, sites = _build_yaml(file, text, max_alias_nodes, max_depth)
    doc = _Document(file, value, YamlLines(value, table, root_line), False, digest, len(data))
    doc.refs.update(sites)
    return doc


# YAML 1.2 core schema, the one OpenAPI asks for: only JSON types, so dates stay strings
# and "yes"/"on" are words, not booleans.
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_NUMERIC_START = frozenset("0123456789+-.")
_WORDS: dict[str, Any] = {
    **dict.fromkeys(("null", "Null", "NULL", "~"), None),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
}
_WORD_START = frozenset(w[0] for w in _WORDS)
_CORE_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float"))
_MERGE = object()  # the key "<<"
_NO_KEY = object()


def _plain(value: str) -> Any:
    if not value:
        return None
    first = value[0]
    if first in _NUMERIC_START:
        if _INT.match(value):
            return int(value)
        if _FLOAT.match(value):
            return float(value)
        if first == "0" and len(value) > 2:
            if _OCT.match(value):
                return int(value[2:], 8)
            if _HEX.match(value):
                return int(value[2:], 16)
    if first in _WORD_START and value in _WORDS:
        return _WORDS[value]
    return value


def _key_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode() if value is None or isinstance(value, bool) else str(value)


def _yaml_parser(text: str) -> Any:
    # libyaml when present; its parser is a state machine, so depth costs no C stack
    # (PyYAML's composer recurses and crashes the interpreter on very deep input).
    if yaml.__with_libyaml__:
        from yaml.cyaml import CParser

        return CParser(text)
    return yaml.SafeLoader(text)


def _build_yaml(
    file: str, text: str, max_alias_nodes: int, max_depth: int
) -> tuple[Any, dict[int, Any], int, dict[str, list[str]]]:
    parser = _yaml_parser(text)
    try:
        return _build_events(file, parser.get_event, max_alias_nodes, max_depth)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise _Refused(
            SYNTAX_ERROR, f"{file}: YAML syntax error at line {line}: {problem}", line
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise _Refused(
            SYNTAX_ERROR, f"{file}: unacceptable character at line {line}: {exc.reason}", line
        ) from None
    except yaml.YAMLError as exc:
        raise _Refused(SYNTAX_ERROR, f"{file}: YAML error: {exc}") from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()


def _build_events(
    file: str, get_event: Callable[[], Any], max_alias_nodes: int, max_depth: int
) -> tuple[Any, dict[int, Any], int, dict[str, list[str]]]:
    """Build JSON values from YAML events, iteratively.

    Aliases share the anchored value (no copy), and the size each alias would add if
    expanded is counted, so a "billion laughs" document is refused after reading it
    once, without ever being materialised. Every key and item line is recorded in a
    table per container for :class:`YamlLines`.
    """
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    map_end, seq_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    doc_start, stream_end = yaml.DocumentStartEvent, yaml.StreamEndEvent

    root: Any = _NO_KEY
    root_line = 1
    table: dict[int, Any] = {}
    anchors: dict[str, tuple[Any, int]] = {}
    open_anchors: set[str] = set()
    sites: dict[str, list[str]] = {}
    # A frame: [container, lines, pending key (maps), anchor, node count at start,
    #           merge sources (maps), line, is_map]
    stack: list[list[Any]] = []
    nodes = 0
    expanded = 0
    while True:
        event = get_event()
        kind = type(event)
        if kind is scalar_event:
            nodes += 1
            raw = event.value
            if event.style:
                value = raw  # quoted or block scalars are strings
            elif event.tag is None or event.tag in _CORE_TAGS:
                value = _plain(raw)
            else:
                value = raw  # "!", "!!str" and tags outside JSON keep the text
            line = event.start_mark.line + 1
            if event.anchor:
                anchors[event.anchor] = (value, 1)
            is_container = False
        elif kind is map_start or kind is seq_start:
            nodes += 1
            line = event.start_mark.line + 1
            if len(stack) >= max_depth:
                raise _Refused(
                    TOO_DEEP, f"{file}: nested deeper than {max_depth} levels at line {line}", line
                )
            is_map = kind is map_start
            container: Any = {} if is_map else []
            lines: Any = {} if is_map else []
            table[id(container)] = lines
            if event.anchor:
                open_anchors.add(event.anchor)
            stack.append([container, lines, _NO_KEY, event.anchor, nodes, None, line, is_map])
            continue
        elif kind is map_end or kind is seq_end:
            frame = stack.pop()
            value, line = frame[0], frame[6]
            if frame[5]:
                _merge(value, frame[1], frame[5], table)
            if frame[3]:
                anchors[frame[3]] = (value, nodes - frame[4] + 1)
                open_anchors.discard(frame[3])
            is_container = True
        elif kind is alias_event:
            line = event.start_mark.line + 1
            name = event.anchor
            if name not in anchors:
                if name in open_anchors:
                    raise _Refused(
                        ALIAS_BOMB,
                        f"{file}: YAML alias *{name} at line {line} refers to its own anchor "
                        "(an infinitely deep value)",
                        line,
                    )
                raise _Refused(
                    SYNTAX_ERROR, f"{file}: YAML alias *{name} at line {line} has no anchor", line
                )
            value, size = anchors[name]
            nodes += size
            expanded += size
            if expanded > max_alias_nodes:
                raise _Refused(
                    ALIAS_BOMB,
                    f"{file}: YAML aliases expand to more than {max_alias_nodes} nodes "
                    f"(alias *{name} at line {line}); refused without expanding them",
                    line,
                )
            is_container = isinstance(value, dict | list)
        elif kind is stream_end:
            break
        elif kind is doc_start:
            if root is not _NO_KEY:
                line = event.start_mark.line + 1
                raise _Refused(
                    SYNTAX_ERROR,
                    f"{file}: a second YAML document starts at line {line}; expected one",
                    line,
                )
            continue
        else:
            continue

        if not stack:
            root, root_line = value, line
            continue
        top = stack[-1]
        if not top[7]:
            top[0].append(value)
            top[1].append(line)
            continue
        key = top[2]
        if key is _NO_KEY:
            if is_container:
                raise _Refused(
                    SYNTAX_ERROR,
                    f"{file}: a mapping key at line {line} is not a scalar; JSON allows only strings",
                    line,
                )
            if kind is scalar_event:
                if raw == "<<" and not event.style and event.tag is None:
                    top[2] = _MERGE
                    continue
                key = raw
            else:
                key = _key_text(value)
            top[2] = key
            top[1][key] = line
            continue
        if key is _MERGE:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(s, dict) for s in sources):
                raise _Refused(
                    SYNTAX_ERROR, f"{file}: the merge key << at line {line} needs mappings", line
                )
            top[5] = (top[5] or []) + sources
        else:
            top[0][key] = value
            if key == "$ref" and type(value) is str:
                sites.setdefault(value, []).append(_frames_pointer(stack))
        top[2] = _NO_KEY
    if root is _NO_KEY:
        root = None
    return root, table, root_line, sites


def _merge(
    mapping: dict[str, Any],
    lines: dict[str, int],
    sources: list[dict[str, Any]],
    table: dict[int, Any],
) -> None:
    """Apply YAML merge keys: explicit keys win, then earlier sources over later ones."""
    explicit = dict(mapping)
    explicit_lines = dict(lines)
    mapping.clear()
    lines.clear()
    for source in sources:
        source_lines = table.get(id(source), {})
        for key, value in source.items():
            if key not in mapping and key not in explicit:
                mapping[key] = value
                if key in source_lines:
                    lines[key] = source_lines[key]
    mapping.update(explicit)
    lines.update(explicit_lines)


def _frames_pointer(stack: list[list[Any]]) -> str:
    """Pointer of the mapping on top of the stack."""
    parts = []
    for frame in stack[:-1]:
        if frame[7]:
            key = frame[2]  # a merge key or a key still being read has no text of its own
            parts.append("/" + escape(key if isinstance(key, str) else "<<"))
        else:
            parts.append(f"/{len(frame[0])}")
    return "".join(parts)


# --- $ref ------------------------------------------------------------------------------

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


# --- the loader ------------------------------------------------------------------------


class _Loader:
    def __init__(
        self, reader: Reader, *, max_bytes: int, max_alias_nodes: int, max_depth: int
    ) -> None:
        self.reader = reader
        self.max_bytes = max_bytes
        self.max_alias_nodes = max_alias_nodes
        self.max_depth = max_depth
        self.documents: dict[str, _Document] = {}
        self.failed: dict[str, str] = {}  # file -> problem code
        self.problems: list[Problem] = []
        self.failed_lines: dict[str, int | None] = {}

    def read(self, file: str) -> bytes:
        size_of = getattr(self.reader, "size", None)
        if size_of is not None:
            size = size_of(file)
            if size > self.max_bytes:
                raise _Refused(
                    FILE_TOO_LARGE,
                    f"{file}: {size} bytes, over the limit of {self.max_bytes} bytes; not read",
                )
        return self.reader.read(file)

    def parse(self, file: str, data: bytes, referrer: str = "") -> _Document | None:
        try:
            doc = parse_document(
                file,
                data,
                max_bytes=self.max_bytes,
                max_alias_nodes=self.max_alias_nodes,
                max_depth=self.max_depth,
            )
        except _Refused as refused:
            self.refuse(file, refused, referrer)
            return None
        self.documents[file] = doc
        return doc

    def refuse(self, file: str, refused: _Refused, referrer: str = "") -> None:
        self.failed[file] = refused.code
        self.failed_lines[file] = refused.line
        message = refused.message + (f" (reached by a $ref from {referrer})" if referrer else "")
        self.problems.append(Problem(refused.code, message, file, line=refused.line))

    def external(self, file: str, referrer: str) -> tuple[_Document | None, str]:
        """The document of a file a ref reaches, else None and why ("CODE" or "CODE:cause")."""
        if file in self.documents:
            return self.documents[file], ""
        if file in self.failed:
            return None, self.failed[file]
        try:
            data = self.read(file)
        except _Refused as refused:
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

    def resolve(self, root: _Document) -> dict[tuple[str, str], tuple[str, str]]:
        """Follow every ref from ``root`` across files; refused refs become problems."""
        refs: dict[tuple[str, str], tuple[str, str]] = {}
        pending: list[tuple[_Document, str, str, str]] = []  # (doc, ref, code, reason)
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

    def sites(self, doc: _Document, ref: str) -> list[str]:
        """Pointers of the objects holding ``ref`` in ``doc``, leaving out example data."""
        located = doc.refs.get(ref)
        if located is None:
            for r, pointers in _json_ref_sites(doc.data).items():
                if r in doc.refs:
                    doc.refs[r] = pointers
            located = doc.refs.get(ref) or []
        return [p for p in located if not _is_literal(p)]

    def _report_refs(self, pending: list[tuple[_Document, str, str, str]]) -> None:
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


def _version(file: str, data: Any) -> tuple[str, _Refused | None]:
    if data is None:
        return "", _Refused(NOT_OPENAPI, f"{file}: empty document, not an OpenAPI description", 1)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single {type(data).__name__} value"
        return "", _Refused(
            NOT_OPENAPI, f"{file}: the top level is {kind}, not an OpenAPI description"
        )
    if "openapi" in data:
        field_name, raw = "openapi", data["openapi"]
    elif "swagger" in data:
        field_name, raw = "swagger", data["swagger"]
    else:
        return "", _Refused(
            NOT_OPENAPI, f"{file}: no `openapi` or `swagger` field; not an OpenAPI description"
        )
    text = str(raw) if isinstance(raw, str | int | float) and not isinstance(raw, bool) else ""
    version = ".".join(text.split(".")[:2])
    ok = (field_name == "swagger" and version == "2.0") or (
        field_name == "openapi" and version in SUPPORTED_VERSIONS and version != "2.0"
    )
    if not ok:
        return "", _Refused(
            UNSUPPORTED_VERSION,
            f"{file}: unsupported version {field_name}: {raw!r} (supported: swagger 2.0, openapi 3.0, 3.1, 3.2)",
        )
    return version, None


def _open(path: str | Path, reader: Reader | None, root: str | Path | None) -> tuple[Reader, str]:
    if reader is not None:
        rel = posixpath.normpath(str(path).replace(os.sep, "/"))
        if rel.startswith(("../", "/")) or rel == "..":
            raise SpecError(f"{path}: not inside the reader's root")
        return reader, rel
    p = Path(path)
    if not p.exists():
        raise SpecNotFound(f"{path}: no such file")
    if p.is_dir():
        raise SpecError(f"{path}: is a directory, not a spec file")
    parent = p.absolute().parent.resolve()
    root_dir = Path(root).resolve() if root is not None else (_git_root(parent) or parent)
    try:
        rel = (parent / p.name).relative_to(root_dir)
    except ValueError:
        raise SpecError(f"{path}: not inside the root {root_dir}") from None
    return FileReader(root_dir), rel.as_posix()


def _git_root(directory: Path) -> Path | None:
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def load_spec(
    path: str | Path,
    *,
    reader: Reader | None = None,
    root: str | Path | None = None,
    max_bytes: int = MAX_BYTES,
    validate: bool = True,
    cache: bool = True,
    max_alias_nodes: int = MAX_ALIAS_NODES,
    max_depth: int = MAX_DEPTH,
    detail_max_bytes: int = DETAIL_MAX_BYTES,
) -> Spec:
    """Load, resolve and (unless ``validate=False``) validate one OpenAPI document.

    ``cache=False`` (or ``GOVBOT_CACHE_DIR=`` empty) turns off the validation cache.
    Documents up to ``detail_max_bytes`` also get openapi-spec-validator's detailed
    checks; bigger ones only the (fast) OpenAPI schema check.
    Raises :class:`SpecNotFound` or :class:`~govbot.errors.SpecError` only when the
    root file cannot be read at all.
    """
    reader, rel = _open(path, reader, root)
    loader = _Loader(
        reader, max_bytes=max_bytes, max_alias_nodes=max_alias_nodes, max_depth=max_depth
    )
    try:
        data = loader.read(rel)
    except _Refused as refused:
        return _refused_spec(rel, refused)
    except OutsideRoot:
        return _refused_spec(
            rel,
            _Refused(
                OUTSIDE_ROOT, f"{rel}: resolves (through a symlink) outside the repository root"
            ),
        )
    except FileNotFoundError:
        raise SpecNotFound(f"{rel}: no such file") from None
    except OSError as exc:
        raise SpecError(f"{rel}: cannot read: {exc.strerror or exc}") from None
    doc = loader.parse(rel, data)
    if doc is None:
        problem = loader.problems[0]
        return _refused_spec(rel, _Refused(problem.code, problem.message, problem.line))
    version, refused = _version(rel, doc.data)
    if refused is not None:
        return _refused_spec(rel, refused, lines=doc.lines)
    refs = loader.resolve(doc)
    lines: dict[str, LineLookup] = {f: d.lines for f, d in loader.documents.items()}
    for file, line in loader.failed_lines.items():
        lines.setdefault(file, fixed_line(line))
    spec = Spec(
        file=rel,
        data=doc.data,
        version=version,
        documents={f: d.data for f, d in loader.documents.items()},
        refs=refs,
        lines=lines,
    )
    problems = [_placed(spec, p) for p in loader.problems]
    if validate:
        problems.extend(
            _validation_problems(spec, loader, doc, cache=cache, detail_max_bytes=detail_max_bytes)
        )
    return replace(spec, problems=tuple(problems))


def _placed(spec: Spec, problem: Problem) -> Problem:
    """The problem with its line, from the line maps when the reader did not know it."""
    if problem.line is not None:
        return problem
    return replace(problem, line=spec.line(problem.file, problem.pointer))


def _refused_spec(file: str, refused: _Refused, *, lines: LineLookup | None = None) -> Spec:
    lookup = fixed_line(refused.line) if lines is None or refused.line is not None else lines
    line = refused.line if refused.line is not None else lookup("")
    problem = Problem(refused.code, refused.message, file, line=line)
    return Spec(file=file, data=None, lines={file: lookup}, problems=(problem,))


def _validation_problems(
    spec: Spec, loader: _Loader, root: _Document, *, cache: bool, detail_max_bytes: int
) -> Iterator[Problem]:
    # Refs the loader refused would make the detailed validator fail for the wrong reason.
    refs_ok = not any(p.code in _REF_CODES or p.file != root.file for p in loader.problems)
    fingerprint = "\0".join(f"{f}\0{d.digest}" for f, d in sorted(loader.documents.items()))
    issues = validation.validate_document(
        spec.version,
        root.data,
        file=root.file,
        documents=spec.documents,
        refs=spec.refs,
        detail=refs_ok and root.size <= detail_max_bytes,
        fingerprint=fingerprint,
        cache_dir=validation.cache_dir() if cache else None,
    )
    per_file: dict[str, list[Problem]] = {}
    for issue in issues:
        code = VALIDATOR_FAILED if issue.failed else INVALID
        if issue.failed:
            message = f"{issue.file}: {issue.message}"
        else:
            where = issue.pointer or "the top level"
            message = f"{issue.file}: invalid OpenAPI {spec.version} at {where}: {issue.message}"
        line = spec.line(issue.file, issue.pointer)
        per_file.setdefault(issue.file, []).append(
            Problem(code, message, issue.file, issue.pointer, line)
        )
    for file, found in per_file.items():
        found.sort(key=lambda p: (p.line or 0, p.pointer))
        invalid = [p for p in found if p.code == INVALID]
        yield from (p for p in found if p.code != INVALID)
        yield from invalid[:MAX_VALIDATION_FINDINGS]
        if len(invalid) > MAX_VALIDATION_FINDINGS:
            rest = len(invalid) - MAX_VALIDATION_FINDINGS
            message = f"{file}: {rest} more OpenAPI {spec.version} validation errors not shown"
            yield Problem(INVALID, message, file, "", spec.line(file, ""))


_REF_CODES = frozenset((REMOTE_REF, OUTSIDE_ROOT, REF_FILE_MISSING, REF_TARGET_MISSING, REF_LOOP))
