"""A bounded reader for the flat YAML files of an api-ref tree (parameters.yaml, status.yaml).

Both files are a mapping of entries, each a mapping of scalar fields. This reader keeps
exactly that, from libyaml's events, and nothing deeper:

* scalars keep their source text (``min_version: 2.10`` stays ``"2.10"``, as os-api-ref
  reads it, never the float 2.1) and their line;
* anchors and ``<<`` merge keys work on entries and on scalar fields (nova's
  parameters.yaml merges entries), but an alias only ever copies one flat mapping of
  scalars, so an alias bomb costs what its text costs and is never expanded;
* nested containers inside an entry are skipped and counted; events are consumed one by
  one, so nesting depth costs no stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

MAX_BYTES = 16 * 1024 * 1024

# YAML 1.1 booleans: os-api-ref loads these files with PyYAML's SafeLoader.
_TRUE = frozenset({"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})
_FALSE = frozenset({"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"})


class YamlRefused(Exception):
    """The file cannot be used: one line naming the cause, and where."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True, slots=True)
class Scalar:
    text: str
    quoted: bool
    line: int

    def as_bool(self) -> bool | None:
        if self.quoted:
            return None
        if self.text in _TRUE:
            return True
        if self.text in _FALSE:
            return False
        return None


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    line: int
    fields: Mapping[str, Scalar]


@dataclass(frozen=True)
class FlatYaml:
    entries: Mapping[str, Entry]
    duplicates: tuple[tuple[str, int], ...] = ()
    skipped: tuple[tuple[str, int], ...] = ()  # (what, line) of what was not kept


@dataclass
class _State:
    entries: dict[str, Entry] = field(default_factory=dict)
    duplicates: list[tuple[str, int]] = field(default_factory=list)
    skipped: list[tuple[str, int]] = field(default_factory=list)
    map_anchors: dict[str, dict[str, Scalar]] = field(default_factory=dict)
    scalar_anchors: dict[str, Scalar] = field(default_factory=dict)


def _decode(file: str, data: bytes, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise YamlRefused(f"{file}: {len(data)} bytes, over the limit of {max_bytes} bytes")
    nul = data.find(b"\0")
    if nul >= 0:
        raise YamlRefused(f"{file}: binary content, not YAML", data.count(b"\n", 0, nul) + 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlRefused(f"{file}: not UTF-8 text (at line {line})", line) from None
    return text[1:] if text.startswith("\ufeff") else text


def _parser(text: str) -> yaml.SafeLoader | yaml.CSafeLoader:
    if yaml.__with_libyaml__:
        return yaml.CSafeLoader(text)
    return yaml.SafeLoader(text)


def read_flat_yaml(file: str, data: bytes, *, max_bytes: int = MAX_BYTES) -> FlatYaml:
    """Entries of a flat YAML mapping; raises :class:`YamlRefused` for unusable input."""
    text = _decode(file, data, max_bytes)
    parser = _parser(text)
    state = _State()
    try:
        _walk(file, parser, state)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise YamlRefused(f"{file}: YAML syntax error at line {line}: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise YamlRefused(f"{file}: YAML error: {str(exc).splitlines()[0]}") from None
    finally:
        parser.dispose()
    return FlatYaml(state.entries, tuple(state.duplicates), tuple(state.skipped))


def _skip(parser: yaml.SafeLoader | yaml.CSafeLoader) -> None:
    """Consume the events of the container whose start event was just read."""
    depth = 1
    while depth:
        event = parser.get_event()
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.StreamEndEvent):
            return


def _walk(file: str, parser: yaml.SafeLoader | yaml.CSafeLoader, state: _State) -> None:
    started = False
    while True:
        event = parser.get_event()
        if isinstance(event, yaml.StreamEndEvent):
            return
        if isinstance(event, yaml.DocumentStartEvent):
            if started:
                line = event.start_mark.line + 1
                raise YamlRefused(f"{file}: a second YAML document starts at line {line}", line)
            started = True
            continue
        if isinstance(event, yaml.MappingStartEvent):
            _root(file, parser, state)
        elif isinstance(event, yaml.SequenceStartEvent):
            line = event.start_mark.line + 1
            raise YamlRefused(f"{file}: the top level is a list, not a mapping of entries", line)
        elif isinstance(event, yaml.ScalarEvent) and event.value not in ("", "~", "null"):
            line = event.start_mark.line + 1
            raise YamlRefused(f"{file}: the top level is a single value, not a mapping", line)


def _root(file: str, parser: yaml.SafeLoader | yaml.CSafeLoader, state: _State) -> None:
    while True:
        event = parser.get_event()
        if isinstance(event, yaml.MappingEndEvent):
            return
        line = event.start_mark.line + 1
        if not isinstance(event, yaml.ScalarEvent):
            raise YamlRefused(f"{file}: a key at line {line} is not a plain value", line)
        key = event.value
        value = parser.get_event()
        if isinstance(value, yaml.MappingStartEvent):
            fields = _entry(parser, state)
            if value.anchor:
                state.map_anchors[value.anchor] = fields
        elif isinstance(value, yaml.AliasEvent) and value.anchor in state.map_anchors:
            fields = dict(state.map_anchors[value.anchor])
        else:
            if isinstance(value, yaml.CollectionStartEvent):
                _skip(parser)
            state.skipped.append((f"entry {key!r} is not a mapping of fields", line))
            continue
        if key in state.entries:
            state.duplicates.append((key, line))
        state.entries[key] = Entry(key, line, fields)


def _entry(parser: yaml.SafeLoader | yaml.CSafeLoader, state: _State) -> dict[str, Scalar]:
    explicit: dict[str, Scalar] = {}
    merged: dict[str, Scalar] = {}
    while True:
        event = parser.get_event()
        if isinstance(event, yaml.MappingEndEvent):
            return {**merged, **explicit}
        line = event.start_mark.line + 1
        if isinstance(event, yaml.CollectionStartEvent):
            _skip(parser)
            value = parser.get_event()
            if isinstance(value, yaml.CollectionStartEvent):
                _skip(parser)
            state.skipped.append(("a field whose key is not a plain value", line))
            continue
        key = event.value if isinstance(event, yaml.ScalarEvent) else ""
        is_merge = isinstance(event, yaml.ScalarEvent) and key == "<<" and not event.style
        value = parser.get_event()
        if is_merge:
            _merge(parser, value, merged, state, line)
        elif isinstance(value, yaml.ScalarEvent):
            scalar = Scalar(value.value, bool(value.style), value.start_mark.line + 1)
            if value.anchor:
                state.scalar_anchors[value.anchor] = scalar
            explicit[key] = scalar
        elif isinstance(value, yaml.AliasEvent) and value.anchor in state.scalar_anchors:
            explicit[key] = state.scalar_anchors[value.anchor]
        else:
            if isinstance(value, yaml.CollectionStartEvent):
                _skip(parser)
            state.skipped.append((f"field {key!r} is not a single value", line))


def _merge(
    parser: yaml.SafeLoader | yaml.CSafeLoader,
    value: yaml.Event,
    merged: dict[str, Scalar],
    state: _State,
    line: int,
) -> None:
    """``<<: *anchor`` or ``<<: [*a, *b]``: earlier sources win over later ones."""
    sources: list[str] = []
    if isinstance(value, yaml.AliasEvent):
        sources.append(value.anchor)
    elif isinstance(value, yaml.SequenceStartEvent):
        while True:
            item = parser.get_event()
            if isinstance(item, yaml.SequenceEndEvent):
                break
            if isinstance(item, yaml.AliasEvent):
                sources.append(item.anchor)
            elif isinstance(item, yaml.CollectionStartEvent):
                _skip(parser)
    elif isinstance(value, yaml.CollectionStartEvent):
        _skip(parser)
    for anchor in sources:
        fields = state.map_anchors.get(anchor)
        if fields is None:
            state.skipped.append((f"merge of *{anchor}, which is not an entry", line))
            continue
        for k, v in fields.items():
            merged.setdefault(k, v)
