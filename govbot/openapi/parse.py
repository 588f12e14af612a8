"""Parsing one file: JSON with orjson, YAML 1.2 with libyaml events, and a line map.

Input the reader must not use (too big, binary, not UTF-8, an alias bomb, too deep,
malformed) raises :class:`~govbot.openapi.problems.Refused` with its problem code.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import orjson
import yaml

from govbot.openapi.linemap import JsonLines, YamlLines
from govbot.openapi.problems import (
    ALIAS_BOMB,
    BINARY_FILE,
    FILE_TOO_LARGE,
    MAX_ALIAS_NODES,
    MAX_BYTES,
    MAX_DEPTH,
    NOT_UTF8,
    SYNTAX_ERROR,
    TOO_DEEP,
    YAML_TAG,
    Refused,
)
from govbot.surface import LineLookup, escape


@dataclass
class Document:
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
_BOM_BYTES = _BOM.encode()
_JSON_REF = re.compile(r'"\$ref"\s*:\s*"([^"\\]*(?:\\.[^"\\]*)*)"')
# A $ref and its string, in JSON text as bytes (also govbot.openapi.units's).
JSON_REF_BYTES = re.compile(_JSON_REF.pattern.encode())
# A JSON string (unterminated at the end of a truncated text too) or a bracket.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _json_depth_at(text: str, index: int) -> int:
    """How many JSON arrays and objects are open at ``index`` (brackets in strings aside)."""
    bare = _JSON_STRING.sub("", text[:index])
    return bare.count("[") + bare.count("{") - bare.count("]") - bare.count("}")


def parse_document(
    file: str,
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_alias_nodes: int = MAX_ALIAS_NODES,
    max_depth: int = MAX_DEPTH,
    digest: str | None = None,
) -> Document:
    """Parse one file; raises :class:`Refused` for input the reader must not use.

    ``digest``: the SHA-256 of ``data`` when the caller has it already.
    """
    digest = digest or hashlib.sha256(data).hexdigest()
    raw = data[3:] if data.startswith(_BOM_BYTES) else data
    json_like = raw.lstrip()[:1] in (b"{", b"[")
    if json_like and len(data) <= max_bytes and b"\0" not in data:
        # A JSON text orjson accepts is UTF-8: no decoding, and lines only when asked
        fast = _loaded_json(file, raw, digest, len(data))
        if fast is not None:
            return fast
    text = _text(file, data, max_bytes)
    if file.lower().endswith(".json") or json_like:
        doc = _parse_json(file, data, text, digest, max_depth)
        if doc is not None:
            return doc
    value, table, root_line, sites = _build_yaml(file, text, max_alias_nodes, max_depth)
    doc = Document(file, value, YamlLines(value, table, root_line), False, digest, len(data))
    doc.refs.update(sites)
    return doc


def _text(file: str, data: bytes, max_bytes: int) -> str:
    """The file as text: not too big, not binary, UTF-8 (a byte-order mark dropped)."""
    if len(data) > max_bytes:
        raise Refused(
            FILE_TOO_LARGE, f"{file}: {len(data)} bytes, over the limit of {max_bytes} bytes"
        )
    nul = data.find(b"\0")
    if nul >= 0:
        raise Refused(
            BINARY_FILE,
            f"{file}: binary content (a NUL byte at line {_line_of(data, nul)}), not a text document",
            _line_of(data, nul),
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        raise Refused(
            NOT_UTF8,
            f"{file}: not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line})",
            line,
        ) from None
    return text[1:] if text.startswith(_BOM) else text


def _loaded_json(file: str, raw: bytes, digest: str, size: int) -> Document | None:
    """The document of a JSON text orjson parses; None when it does not (the slow path
    then says why)."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    doc = Document(file, value, JsonLines(raw, value), True, digest, size)
    if b'"$ref"' in raw:
        for m in JSON_REF_BYTES.finditer(raw):
            ref = m.group(1)
            doc.refs[orjson.loads(b'"' + ref + b'"') if b"\\" in ref else ref.decode()] = None
    return doc


def _parse_json(file: str, data: bytes, text: str, digest: str, max_depth: int) -> Document | None:
    """The document as JSON; None for a ``.yaml`` file in flow style (YAML parses it)."""
    try:
        value = orjson.loads(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)
    except orjson.JSONDecodeError as exc:
        depth = _json_depth_at(text, exc.pos)
        if depth >= max(max_depth // 2, 1):
            raise Refused(
                TOO_DEEP,
                f"{file}: nested {depth} levels deep at line {exc.lineno}, "
                "deeper than the JSON parser accepts",
                exc.lineno,
            ) from None
        if file.lower().endswith((".yaml", ".yml")):
            return None
        raise Refused(
            SYNTAX_ERROR,
            f"{file}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            exc.lineno,
        ) from None
    doc = Document(file, value, JsonLines(text, value), True, digest, len(data))
    if '"$ref"' in text:
        for m in _JSON_REF.finditer(text):
            ref = m.group(1)
            if "\\" in ref:
                ref = orjson.loads(f'"{ref}"')
            doc.refs[ref] = None
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
# Explicit tags of the core schema that name a JSON type, and the values they allow.
# Every other tag (!!python/..., !!binary, !!set, !!timestamp, a local !tag, ...) asks
# for a type JSON does not have: such a document is refused (YAML_TAG), never read.
_YAML_ORG = "tag:yaml.org,2002:"
_STR_TAGS = frozenset(("!", f"{_YAML_ORG}str"))  # "!" is the non-specific tag: a string
_SCALAR_TAGS: Mapping[str, tuple[str, Callable[[Any], bool]]] = {
    f"{_YAML_ORG}null": ("null", lambda v: v is None),
    f"{_YAML_ORG}bool": ("boolean", lambda v: isinstance(v, bool)),
    f"{_YAML_ORG}int": ("integer", lambda v: type(v) is int),
    f"{_YAML_ORG}float": ("number", lambda v: type(v) in (int, float)),
}
_MAP_TAGS = frozenset((None, "!", f"{_YAML_ORG}map"))
_SEQ_TAGS = frozenset((None, "!", f"{_YAML_ORG}seq"))
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


def _tagged_scalar(file: str, raw: str, tag: str, line: int) -> Any:
    """The value of a scalar with an explicit tag; a tag outside JSON's types is refused."""
    if tag in _STR_TAGS:
        return raw
    if tag in _SCALAR_TAGS:
        kind, fits = _SCALAR_TAGS[tag]
        value = _plain(raw)
        if fits(value):
            return float(value) if kind == "number" else value
        raise Refused(
            YAML_TAG,
            f"{file}: YAML tag {_shown_tag(tag)} at line {line}: {raw[:80]!r} is not a {kind}",
            line,
        )
    raise Refused(YAML_TAG, _tag_message(file, tag, line), line)


def _tag_message(file: str, tag: str, line: int, kind: str = "") -> str:
    on = f" on a {kind}" if kind else ""
    return (
        f"{file}: YAML tag {_shown_tag(tag)}{on} at line {line} is not one of JSON's types "
        "(!!str, !!int, !!float, !!bool, !!null, !!map, !!seq); govbot reads no other tags"
    )


def _shown_tag(tag: str) -> str:
    shown = f"!!{tag[len(_YAML_ORG) :]}" if tag.startswith(_YAML_ORG) else tag
    shown = shown if shown.startswith("!") else f"!<{shown}>"
    return shown if len(shown) <= 80 else shown[:77] + "..."


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
        return _EventBuilder(file, max_alias_nodes, max_depth).build(parser.get_event)
    except _ParserStopped as stopped:
        exc = stopped.error
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        # The scanner reads ahead of the events (a flow collection may be a key, so it
        # scans to its end, up to 1024 characters): count the brackets it read too.
        ahead = text[stopped.index : mark.index + 1] if mark is not None else ""
        depth = stopped.depth + ahead.count("[") + ahead.count("{")
        if depth >= max(max_depth // 2, 1):
            raise Refused(
                TOO_DEEP,
                f"{file}: nested {depth} levels deep at line {line}, "
                "deeper than the YAML parser accepts",
                line,
            ) from None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise Refused(
            SYNTAX_ERROR, f"{file}: YAML syntax error at line {line}: {problem}", line
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise Refused(
            SYNTAX_ERROR, f"{file}: unacceptable character at line {line}: {exc.reason}", line
        ) from None
    except yaml.YAMLError as exc:
        raise Refused(SYNTAX_ERROR, f"{file}: YAML error: {exc}") from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()


class _ParserStopped(Exception):
    """The YAML parser's error, with the depth govbot had reached before it."""

    def __init__(self, error: yaml.MarkedYAMLError, depth: int, index: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.depth = depth
        self.index = index  # where the last event the parser gave ended


class _Frame:
    """A mapping or sequence being built: its value, its lines, and what it waits for."""

    __slots__ = ("anchor", "container", "is_map", "key", "line", "lines", "merges", "start")

    def __init__(self, is_map: bool, anchor: str | None, start: int, line: int) -> None:
        self.is_map = is_map
        self.container: Any = {} if is_map else []
        self.lines: Any = {} if is_map else []
        self.key: Any = _NO_KEY  # a mapping's key read, waiting for its value
        self.anchor = anchor
        self.start = start  # the node count when it opened
        self.merges: list[dict[str, Any]] | None = None  # sources of << merge keys
        self.line = line


class _EventBuilder:
    """Build JSON values from YAML events, iteratively.

    Aliases share the anchored value (no copy), and the size each alias would add if
    expanded is counted, so a "billion laughs" document is refused after reading it
    once, without ever being materialised. Every key and item line is recorded in a
    table per container for :class:`YamlLines`.
    """

    def __init__(self, file: str, max_alias_nodes: int, max_depth: int) -> None:
        self.file = file
        self.max_alias_nodes = max_alias_nodes
        self.max_depth = max_depth
        self.root: Any = _NO_KEY
        self.root_line = 1
        self.table: dict[int, Any] = {}
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.sites: dict[str, list[str]] = {}
        self.stack: list[_Frame] = []
        self.nodes = 0
        self.expanded = 0

    def build(
        self, get_event: Callable[[], Any]
    ) -> tuple[Any, dict[int, Any], int, dict[str, list[str]]]:
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        map_end, seq_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        doc_start, stream_end = yaml.DocumentStartEvent, yaml.StreamEndEvent
        event = None
        while True:
            try:
                event = get_event()
            except yaml.MarkedYAMLError as exc:
                index = event.end_mark.index if event is not None else 0
                raise _ParserStopped(exc, len(self.stack), index) from None
            kind = type(event)
            if kind is scalar_event:
                self.attach(event, *self.scalar(event), False)
            elif kind is map_start or kind is seq_start:
                self.open(event, kind is map_start)
            elif kind is map_end or kind is seq_end:
                self.attach(event, *self.close(), True)
            elif kind is alias_event:
                value, line = self.alias(event)
                self.attach(event, value, line, isinstance(value, dict | list))
            elif kind is stream_end:
                break
            elif kind is doc_start and self.root is not _NO_KEY:
                line = event.start_mark.line + 1
                self.refuse(f"a second YAML document starts at line {line}; expected one", line)
        root = None if self.root is _NO_KEY else self.root
        return root, self.table, self.root_line, self.sites

    def refuse(self, message: str, line: int, code: str = SYNTAX_ERROR) -> NoReturn:
        raise Refused(code, f"{self.file}: {message}", line)

    def scalar(self, event: Any) -> tuple[Any, int]:
        self.nodes += 1
        raw = event.value
        line = event.start_mark.line + 1
        try:
            if event.tag is not None:
                value = _tagged_scalar(self.file, raw, event.tag, line)
            elif event.style:
                value = raw  # quoted or block scalars are strings
            else:
                value = _plain(raw)
        except ValueError:  # Python reads integers of at most 4300 digits
            self.refuse(f"the number at line {line} has {len(raw)} digits, too many to read", line)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)
        return value, line

    def open(self, event: Any, is_map: bool) -> None:
        self.nodes += 1
        line = event.start_mark.line + 1
        if len(self.stack) >= self.max_depth:
            self.refuse(
                f"nested deeper than {self.max_depth} levels at line {line}", line, TOO_DEEP
            )
        if event.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
            shape = "mapping" if is_map else "sequence"
            raise Refused(YAML_TAG, _tag_message(self.file, event.tag, line, shape), line)
        frame = _Frame(is_map, event.anchor, self.nodes, line)
        self.table[id(frame.container)] = frame.lines
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.stack.append(frame)

    def close(self) -> tuple[Any, int]:
        frame = self.stack.pop()
        if frame.merges:
            _merge(frame.container, frame.lines, frame.merges, self.table)
        if frame.anchor:
            self.anchors[frame.anchor] = (frame.container, self.nodes - frame.start + 1)
            self.open_anchors.discard(frame.anchor)
        return frame.container, frame.line

    def alias(self, event: Any) -> tuple[Any, int]:
        line = event.start_mark.line + 1
        name = event.anchor
        if name not in self.anchors:
            if name in self.open_anchors:
                self.refuse(
                    f"YAML alias *{name} at line {line} refers to its own anchor "
                    "(an infinitely deep value)",
                    line,
                    ALIAS_BOMB,
                )
            self.refuse(f"YAML alias *{name} at line {line} has no anchor", line)
        value, size = self.anchors[name]
        self.nodes += size
        self.expanded += size
        if self.expanded > self.max_alias_nodes:
            self.refuse(
                f"YAML aliases expand to more than {self.max_alias_nodes} nodes "
                f"(alias *{name} at line {line}); refused without expanding them",
                line,
                ALIAS_BOMB,
            )
        return value, line

    def attach(self, event: Any, value: Any, line: int, is_container: bool) -> None:
        """Put a finished value where it belongs: the root, a list, a key or a value."""
        if not self.stack:
            self.root, self.root_line = value, line
            return
        top = self.stack[-1]
        if not top.is_map:
            top.container.append(value)
            top.lines.append(line)
            return
        key = top.key
        if key is _NO_KEY:
            self.read_key(top, event, value, line, is_container)
        elif key is _MERGE:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(s, dict) for s in sources):
                self.refuse(f"the merge key << at line {line} needs mappings", line)
            top.merges = (top.merges or []) + sources
            top.key = _NO_KEY
        else:
            top.container[key] = value
            if key == "$ref" and type(value) is str:
                self.sites.setdefault(value, []).append(_frames_pointer(self.stack))
            top.key = _NO_KEY

    def read_key(self, top: _Frame, event: Any, value: Any, line: int, is_container: bool) -> None:
        if is_container:
            self.refuse(
                f"a mapping key at line {line} is not a scalar; JSON allows only strings", line
            )
        if type(event) is yaml.ScalarEvent:
            if event.value == "<<" and not event.style and event.tag is None:
                top.key = _MERGE
                return
            key = event.value
        else:
            key = _key_text(value)
        if key in top.lines:
            # YAML keys are unique; parsers keep the last value, a reader sees the first
            self.refuse(
                f"duplicate key {key[:80]!r} at line {line} (first at line "
                f"{top.lines[key]}); YAML mapping keys must be unique",
                line,
            )
        top.key = key
        top.lines[key] = line


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


def _frames_pointer(stack: list[_Frame]) -> str:
    """Pointer of the mapping on top of the stack."""
    parts = []
    for frame in stack[:-1]:
        if frame.is_map:
            key = frame.key  # a merge key or a key still being read has no text of its own
            parts.append("/" + escape(key if isinstance(key, str) else "<<"))
        else:
            parts.append(f"/{len(frame.container)}")
    return "".join(parts)
