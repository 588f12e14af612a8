"""Source lines of JSON pointers, built lazily so that a spec without findings pays nothing.

Two kinds of lookup, one per parser:

* JSON documents are parsed by orjson, which keeps no positions. Most JSON specs are
  written by a serializer, either pretty-printed with two spaces (``JSON.stringify(v,
  null, 2)``, orjson's ``OPT_INDENT_2``) or minified. :class:`JsonLines` checks on the
  first lookup, with one C-speed ``orjson.dumps`` of the parsed value, whether the text
  is exactly one of those two layouts; if so a pointer's line and column follow from
  the serialized sizes of the siblings before it on its path (each container's table
  is made once, when a pointer first goes through it), so only the containers that
  findings sit in are measured. Any other text is tokenized whole on the first lookup
  (one regular expression, every token ending with its trailing whitespace so the
  scanner never skips characters one at a time) and each pointer mapped to a character
  offset; offsets become lines by bisecting the newline offsets.
* YAML documents are built from libyaml events, which carry marks. The builder records
  the line of every mapping key and sequence item in a small table per container
  (keyed by the container's identity), which costs little and needs no pointer strings;
  :class:`YamlLines` walks the data along the pointer to find the line.

A lookup returns the line of the pointer itself or None; :meth:`Spec.line` falls back
to the nearest ancestor. :class:`JsonLines` also gives the column (``column()``), so
that a finding in a minified JSON spec, all on line 1, is still placed.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from govbot.surface import escape, split

_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_SCALAR = rf'(?:{_STRING}|[^\s,:{{}}\[\]"]+)'
_END = r"\s*(?:,\s*)?"
# Groups: 1 a key, 2 the bracket opening its value (else the value is a scalar, eaten
# with the key), 3 a bracket opening an array item or the root, 4 a closing bracket.
# A match without groups is a scalar array item.
_TOKEN = re.compile(
    rf'"([^"\\]*(?:\\.[^"\\]*)*)"\s*:\s*(?:([{{\[])\s*|{_SCALAR}{_END})'
    rf"|([{{\[])\s*"
    rf"|([}}\]]){_END}"
    rf"|{_SCALAR}{_END}"
)
_NEWLINE = re.compile("\n")


def _json_key(raw: str) -> str:
    key = orjson.loads(f'"{raw}"') if "\\" in raw else raw
    return escape(key) if "~" in key or "/" in key else key


def json_offsets(text: str) -> dict[str, int]:
    """Character offset of every pointer of a (valid) JSON text.

    Members point at their key, array items at their first character, the root at 0.
    Duplicate keys keep the last offset, as parsers keep the last value.
    """
    offsets: dict[str, int] = {"": 0}
    stack: list[tuple[str, bool, int]] = []
    push, pop = stack.append, stack.pop
    current, in_array, index = "", False, 0
    for m in _TOKEN.finditer(text):
        group = m.lastindex
        if group is None:  # a scalar: only array items have a pointer of their own
            if in_array:
                offsets[f"{current}/{index}"] = m.start()
                index += 1
        elif group == 1:
            offsets[f"{current}/{_json_key(m.group(1))}"] = m.start()
        elif group == 2:
            pointer = f"{current}/{_json_key(m.group(1))}"
            offsets[pointer] = m.start()
            push((current, in_array, index))
            current, in_array, index = pointer, m.group(2) == "[", 0
        elif group == 3:
            if in_array:
                pointer = f"{current}/{index}"
                offsets[pointer] = m.start()
                index += 1
            else:
                pointer = current  # the root value
            push((current, in_array, index))
            current, in_array, index = pointer, m.group(3) == "[", 0
        elif stack:
            current, in_array, index = pop()
    return offsets


# How a JSON text is laid out: exactly as orjson serializes its value with two-space
# indentation or minified (sizes then give positions), or otherwise (scan the text).
_UNKNOWN, _PRETTY, _COMPACT, _SCAN = range(4)
_NO_VALUE: Any = object()
# Per container: each member's (pointer position, value position) relative to the
# container's own value position; lines for _PRETTY, characters for _COMPACT.
_Table = dict[str, tuple[int, int]] | list[tuple[int, int]]


def _layout(text: str | bytes, value: Any) -> int:
    raw = text if isinstance(text, bytes) else text.encode()
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    try:
        # orjson's indented text breaks the line after its first bracket; a text that
        # does not is not that layout, and is not dumped to find out.
        if raw[1:2] == b"\n" and orjson.dumps(value, option=orjson.OPT_INDENT_2) == raw:
            return _PRETTY
        if orjson.dumps(value) == raw:
            return _COMPACT
    except orjson.JSONEncodeError:  # e.g. an integer wider than 64 bits
        pass
    return _SCAN


def _chars(raw: bytes) -> int:
    return len(raw) if raw.isascii() else len(raw.decode())


def _pretty_lines(value: Any) -> int:
    if isinstance(value, dict | list) and value:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).count(b"\n") + 1
    return 1


def _pretty_table(node: dict[str, Any] | list[Any]) -> _Table:
    """Members start one line after the bracket and take the lines they serialize to."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    rel, last = 1, len(node) - 1
    positions: list[tuple[int, int]] = []
    for i, (_, value) in enumerate(items):
        positions.append((rel, rel))
        if i < last:  # the last member's size moves nothing
            rel += _pretty_lines(value)
    return dict(zip(node, positions, strict=True)) if isinstance(node, dict) else positions


def _compact_table(
    node: dict[str, Any] | list[Any], size: Callable[[Any], int]
) -> tuple[_Table, int]:
    """Members follow the bracket, each ``"key":value`` (or ``value``) and a comma; and
    the node's own size in characters (``size``: a member's)."""
    rel = 1
    if isinstance(node, list):
        positions: list[tuple[int, int]] = []
        for value in node:
            positions.append((rel, rel))
            rel += size(value) + 1
        return positions, rel if node else 2
    table: dict[str, tuple[int, int]] = {}
    for key, value in node.items():
        key_chars = _chars(orjson.dumps(key)) + 1
        table[key] = (rel, rel + key_chars)
        rel += key_chars + size(value) + 1
    return table, rel if node else 2


# Containers this near the root are measured from their members' sizes (a table), not
# dumped whole: the root, its members, and theirs (``paths``, ``components`` and its
# sections), so that the document is serialized about once, not once per level.
_TABLED_DEPTH = 2


def _step(node: Any, token: str) -> tuple[Any, Any] | None:
    """(key, child) of ``node`` that a pointer's ``token`` names, or None: a member, or
    an item by its index written as JSON Pointer writes it (no sign, no leading zero)."""
    if isinstance(node, dict):
        return (token, node[token]) if token in node else None
    if isinstance(node, list):
        if not (token.isascii() and token.isdigit()) or token != str(int(token)):
            return None
        index = int(token)
        return (index, node[index]) if index < len(node) else None
    return None


class JsonLines:
    """Pointer -> line (and column) for one JSON text; worked out on the first call.

    ``value`` is the text's parsed value (parsed here when not given); the text may be
    given as its UTF-8 bytes, decoded only if it must be scanned. ``minified``: the
    caller knows the bytes are orjson's minified serialization of ``value``.
    """

    __slots__ = (
        "_before",
        "_layout",
        "_newlines",
        "_offsets",
        "_positions",
        "_serialized",
        "_sizes",
        "_tables",
        "_text",
        "_value",
    )

    def __init__(
        self, text: str | bytes, value: Any = _NO_VALUE, *, minified: bool = False
    ) -> None:
        self._text: str | bytes | None = text
        self._value = value
        self._layout = _UNKNOWN
        self._tables: dict[int, _Table] = {}
        self._offsets: dict[str, int] | None = None
        self._newlines: list[int] = []
        # A finding asks for its line, then its column: each pointer is walked once.
        self._positions: dict[str, tuple[int, int] | None] = {}
        # Minified text: the size in characters of the containers measured, by identity
        # (the container kept with it, so that an id is never taken for another's).
        self._sizes: dict[int, tuple[Any, int]] = {}
        # The previous version of the same file (minified alike), whose measures of the
        # containers both versions hold (the same objects) are this one's too.
        self._before: JsonLines | None = None
        self._serialized: bytes | None = None
        if minified and isinstance(text, bytes) and value is not _NO_VALUE:
            # The caller knows the text is orjson's minified serialization of ``value``
            # (a version spliced from a minified one): not serialized again to check.
            self._layout, self._serialized, self._text = _COMPACT, text, None

    def _prepare(self) -> int:
        """The text's layout, found on first use; a text of no serializer's layout is
        scanned then (pointer offsets and newlines)."""
        layout = self._detect()
        if layout == _SCAN and self._offsets is None:
            text = self._text or ""
            text = text.decode() if isinstance(text, bytes) else text
            self._offsets = json_offsets(text)
            self._newlines = [m.start() for m in _NEWLINE.finditer(text)]
            self._text = None  # the offsets are all we need from now on
        return layout

    def _detect(self) -> int:
        if self._layout != _UNKNOWN:
            return self._layout
        text = self._text or ""
        if self._value is _NO_VALUE:
            try:
                self._value = orjson.loads(text)
            except orjson.JSONDecodeError:
                self._value = None
        self._layout = _layout(text, self._value) if self._value is not None else _SCAN
        if self._layout == _SCAN:
            self._value = None
        else:  # the value is all we need from now on; the text is its serialization
            self._serialized = text if isinstance(text, bytes) else text.encode()
            self._text = None
        return self._layout

    def _walk(self, pointer: str, layout: int) -> tuple[int, int] | None:
        """(line, column) of ``pointer`` in a serializer's layout, or None if absent."""
        node, depth = self._value, 0
        at, base = 0, 0  # the pointer's position and that of its value's first character
        for token in split(pointer):
            step = _step(node, token)
            if step is None:
                return None
            key, child = step
            table = self._tables.get(id(node))
            if table is None:
                if layout == _PRETTY:
                    table = self._tables[id(node)] = _pretty_table(node)
                else:
                    table = self._inherited(node) or self._compact_tabled(node, depth)
            rel_at, rel_value = table[key]
            at, base = base + rel_at, base + rel_value
            node, depth = child, depth + 1
        if layout == _PRETTY:
            return at + 1, 2 * depth + 1
        return 1, at + 1

    def _compact_tabled(self, node: dict[str, Any] | list[Any], depth: int) -> _Table:
        """The table of ``node`` (at ``depth``) in minified text, made and kept."""
        table, size = _compact_table(node, lambda member: self._compact_size(member, depth + 1))
        self._tables[id(node)] = table
        self._sizes[id(node)] = (node, size)
        return table

    def _inherited(self, node: dict[str, Any] | list[Any]) -> _Table | None:
        """The previous version's table of ``node``, when it measured this very object."""
        before = self._before
        if before is None:
            return None
        table = before._tables.get(id(node))
        known = before._sizes.get(id(node))
        if table is None or known is None or known[0] is not node:
            return None
        self._tables[id(node)] = table
        self._sizes[id(node)] = known
        return table

    def _compact_size(self, value: Any, depth: int) -> int:
        """The size in characters of ``value`` (at ``depth``) in minified text."""
        if not isinstance(value, dict | list) or not value:
            return _chars(orjson.dumps(value))
        known = self._sizes.get(id(value))
        if known is None and self._before is not None:
            known = self._before._sizes.get(id(value))
        if known is not None and known[0] is value:
            self._sizes[id(value)] = known
            return known[1]
        if depth <= _TABLED_DEPTH:
            self._compact_tabled(value, depth)
        else:
            self._sizes[id(value)] = (value, _chars(orjson.dumps(value)))
        return self._sizes[id(value)][1]

    def inherit(self, before: JsonLines) -> None:
        """Take what ``before`` (the previous version of the same file) measured of the
        containers this version holds too (the same objects: their content is the same),
        when both are minified."""
        before._before = None  # one version back, never a chain of them
        self._before = before if before._layout == _COMPACT else None

    def serialized(self) -> bytes | None:
        """The text, when it is exactly orjson's serialization of its value (minified or
        indented by two); None for any other layout. A search of the serialized
        document (does it hold a key at all?) takes it instead of serializing again."""
        self._detect()
        return self._serialized

    def _position(self, pointer: str) -> tuple[int, int] | None:
        if pointer in self._positions:
            return self._positions[pointer]
        found = self._find(pointer)
        self._positions[pointer] = found
        return found

    def _find(self, pointer: str) -> tuple[int, int] | None:
        layout = self._prepare()
        if layout != _SCAN:
            return self._walk(pointer, layout)
        offset = (self._offsets or {}).get(pointer)
        if offset is None:
            return None
        line = bisect.bisect_left(self._newlines, offset)
        start = self._newlines[line - 1] + 1 if line > 0 else 0
        return line + 1, offset - start + 1

    def __call__(self, pointer: str) -> int | None:
        position = self._positions.get(pointer, _NO_VALUE)
        if position is _NO_VALUE and self._detect() == _COMPACT:
            # All on line 1: only whether the pointer is there. Its column, worked out
            # only when asked (a stored finding keeps its line alone), measures the
            # containers on its way.
            return 1 if self._holds(pointer) else None
        position = self._position(pointer)
        return position[0] if position is not None else None

    def _holds(self, pointer: str) -> bool:
        """Whether ``pointer`` is in the value, as :meth:`_walk` finds it."""
        node = self._value
        for token in split(pointer):
            step = _step(node, token)
            if step is None:
                return False
            node = step[1]
        return True

    def column(self, pointer: str) -> int | None:
        """1-based column (in characters) of ``pointer`` on its line, or None.

        A minified JSON spec is one line: the column is what places a finding in it.
        """
        position = self._position(pointer)
        return position[1] if position is not None else None


class YamlLines:
    """Pointer -> line for a document built from YAML events.

    ``table`` maps ``id(container)`` to the line of each key (a dict) or item (a list).
    Containers shared through YAML aliases share their table, so a pointer through an
    alias lands on the anchored source lines.
    """

    __slots__ = ("_data", "_root_line", "_table")

    def __init__(self, data: Any, table: dict[int, Any], root_line: int) -> None:
        self._data = data
        self._table = table
        self._root_line = root_line

    def __call__(self, pointer: str) -> int | None:
        if not pointer:
            return self._root_line
        node = self._data
        line: int | None = None
        for token in split(pointer):
            lines = self._table.get(id(node))
            if lines is None:
                return None
            if isinstance(node, Mapping):
                if token not in node:
                    return None
                line = lines.get(token)
                node = node[token]
            elif isinstance(node, list):
                if not token.isdigit() or int(token) >= len(node):
                    return None
                i = int(token)
                line = lines[i] if i < len(lines) else None
                node = node[i]
            else:
                return None
        return line


def fixed_line(line: int | None) -> Callable[[str], int | None]:
    """A lookup for a file that could not be parsed: its problem sits on ``line``."""

    def lookup(pointer: str) -> int | None:
        return line if pointer == "" else None

    return lookup
