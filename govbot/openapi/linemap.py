"""Source lines of JSON pointers, built lazily so that a spec without findings pays nothing.

Two kinds of lookup, one per parser:

* JSON documents are parsed by orjson, which keeps no positions. :class:`JsonLines`
  tokenizes the text on the first lookup (one regular expression, every token ending
  with its trailing whitespace so the scanner never skips characters one at a time)
  and maps each pointer to a character offset; offsets become lines by bisecting the
  newline offsets.
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


class JsonLines:
    """Pointer -> line for one JSON text; the map is built on the first call."""

    __slots__ = ("_newlines", "_offsets", "_text")

    def __init__(self, text: str) -> None:
        self._text: str | None = text
        self._offsets: dict[str, int] | None = None
        self._newlines: list[int] = []

    def _build(self) -> dict[str, int]:
        text = self._text or ""
        self._offsets = json_offsets(text)
        self._newlines = [m.start() for m in _NEWLINE.finditer(text)]
        self._text = None  # the offsets are all we need from now on
        return self._offsets

    def __call__(self, pointer: str) -> int | None:
        offsets = self._offsets if self._offsets is not None else self._build()
        offset = offsets.get(pointer)
        if offset is None:
            return None
        return bisect.bisect_left(self._newlines, offset) + 1

    def column(self, pointer: str) -> int | None:
        """1-based column (in characters) of ``pointer`` on its line, or None.

        A minified JSON spec is one line: the column is what places a finding in it.
        """
        offsets = self._offsets if self._offsets is not None else self._build()
        offset = offsets.get(pointer)
        if offset is None:
            return None
        line = bisect.bisect_left(self._newlines, offset)
        start = self._newlines[line - 1] + 1 if line > 0 else 0
        return offset - start + 1


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
