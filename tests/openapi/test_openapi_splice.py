"""A version of a JSON document made from the last one by parsing only what changed
(govbot.openapi.splice): the same value, units, refs and layout as parsing it whole, or
no splice at all."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govbot.openapi.parse import JSON_REF_BYTES
from govbot.openapi.splice import Layout, Spliced, minified_layout, splice
from govbot.openapi.units import Units, split

_KEY = re.compile(rb'"(?:[^"\\]|\\.)*"')

_names = st.text(alphabet=st.sampled_from('abcxyz/{}_-é"\\ '), min_size=1, max_size=6).filter(
    lambda k: k not in ("paths", "components")
)
_refs = st.sampled_from(["#/components/schemas/A", "#/components/schemas/B", "#/components/x/y"])
_values = st.recursive(
    st.none() | st.booleans() | st.integers(-99, 99) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(_names, inner, max_size=3)
        | st.builds(lambda r: {"$ref": r}, _refs)
    ),
    max_leaves=8,
)
_members = st.dictionaries(_names, _values, min_size=1, max_size=5)
_documents = st.builds(
    lambda top, paths, schemas, other: {
        "openapi": "3.1.0",
        **top,
        "paths": paths,
        "components": {"schemas": schemas, "x": other},
    },
    st.dictionaries(_names.filter(lambda k: k != "openapi"), _values, max_size=3),
    _members,
    _members,
    _members,
)
# Where an edit goes: the top level, paths, or a section of components.
_CONTAINERS = [(), ("paths",), ("components", "schemas"), ("components", "x")]


def _container(doc: dict[str, Any], where: tuple[str, ...]) -> dict[str, Any]:
    node: Any = doc
    for key in where:
        node = node[key]
    return node  # type: ignore[no-any-return]


@st.composite
def _edits(draw: st.DrawFn, doc: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``doc`` with one member of one container set, added or removed; and where."""
    new = json.loads(json.dumps(doc))
    where = draw(st.sampled_from(_CONTAINERS))
    members = _container(new, where)
    keys = [k for k in members if k not in ("openapi", "paths", "components")]
    action = draw(st.sampled_from(["set", "add", "drop"]))
    if action == "drop" and keys:
        del members[draw(st.sampled_from(keys))]
    elif action == "set" and keys:
        members[draw(st.sampled_from(keys))] = draw(_values)
    else:  # added at a random place
        key = draw(_names.filter(lambda k: k not in members))
        items = list(members.items())
        at = draw(st.integers(0, len(items)))
        items.insert(at, (key, draw(_values)))
        members.clear()
        members.update(items)
    return new, where


def _text(doc: dict[str, Any], loose: tuple[str, ...] | None = None) -> bytes:
    """``doc`` minified as orjson writes it; the members of container ``loose`` written
    as a person might (spaces, line breaks, escapes)."""
    if loose is None:
        return orjson.dumps(doc)

    def write(node: Any, where: tuple[str, ...]) -> bytes:
        if not isinstance(node, dict):
            return orjson.dumps(node)
        if where == loose:
            parts = [
                json.dumps(k).encode() + b" :\n " + json.dumps(v, indent=1).encode()
                for k, v in node.items()
            ]
            return b"{ " + b" ,\n".join(parts) + b"\n}"
        inner = [
            orjson.dumps(k) + b":" + (write(v, (*where, k)) if len(where) < 2 else orjson.dumps(v))
            for k, v in node.items()
        ]
        return b"{" + b",".join(inner) + b"}"

    return write(doc, ())


def _raw_refs(raw: bytes) -> tuple[str, ...]:
    found = (
        orjson.loads(b'"' + r + b'"') if b"\\" in r else r.decode()
        for r in JSON_REF_BYTES.findall(raw)
    )
    return tuple(dict.fromkeys(found))


def _first(doc: dict[str, Any]) -> tuple[bytes, dict[str, Any], Units, Layout]:
    raw = _text(doc)
    data = orjson.loads(raw)
    units = split(data)
    assert units is not None
    layout = minified_layout(raw, data, units)
    assert layout is not None
    return raw, data, units, layout


def _assert_as_whole(spliced: Spliced, raw: bytes) -> None:
    """What a splice made is what parsing ``raw`` whole gives, and its layout is true."""
    whole = orjson.loads(raw)
    assert spliced.data == whole
    for where in spliced.layout.starts:
        assert list(_container(spliced.data, where)) == list(_container(whole, where))
    units = split(whole)
    assert units is not None
    assert list(spliced.units.digests.items()) == list(units.digests.items())
    assert dict(spliced.units.refs) == dict(units.refs)
    assert dict(spliced.units.sizes) == dict(units.sizes)
    assert spliced.refs == _raw_refs(raw)
    for where, starts in spliced.layout.starts.items():
        opening, closing = spliced.layout.braces[where]
        assert raw[opening : opening + 1] == b"{" and raw[closing : closing + 1] == b"}"
        for key, at in zip(spliced.layout.keys[where], starts, strict=True):
            token = _KEY.match(raw, at)
            assert token is not None and orjson.loads(token.group(0)) == key


@settings(max_examples=300, deadline=None)
@given(st.data(), _documents)
def test_a_minified_edit_splices_as_parsing_it_whole(
    data: st.DataObject, doc: dict[str, Any]
) -> None:
    raw0, data0, units0, layout0 = _first(doc)
    new, where = data.draw(_edits(doc))
    raw1 = _text(new)
    spliced = splice(raw0, data0, units0, layout0, raw1)
    if raw1 == raw0:
        assert spliced is None
        return
    if where:  # one member of paths or a section: always spliced
        assert spliced is not None
    elif spliced is None:
        return  # at the top level, next to paths or components: may be parsed whole
    _assert_as_whole(spliced, raw1)
    assert spliced.layout == minified_layout(raw1, spliced.data, spliced.units)


@settings(max_examples=200, deadline=None)
@given(st.data(), _documents)
def test_edits_written_by_hand_splice_as_parsing_them_whole(
    data: st.DataObject, doc: dict[str, Any]
) -> None:
    """The changed members written with spaces and line breaks, then a second edit
    spliced from that version's layout (found by scanning, not from sizes)."""
    raw0, data0, units0, layout0 = _first(doc)
    new, _ = data.draw(_edits(doc))
    where = data.draw(st.sampled_from(_CONTAINERS[1:]))
    raw1 = _text(new, loose=where)
    spliced = splice(raw0, data0, units0, layout0, raw1)
    if spliced is None:
        return  # the loose writing reached beyond one container: parsed whole
    _assert_as_whole(spliced, raw1)
    assert spliced.layout.minified == (raw1 == orjson.dumps(spliced.data))
    newer, _ = data.draw(_edits(new))
    raw2 = _text(newer, loose=where)
    again = splice(raw1, spliced.data, spliced.units, spliced.layout, raw2)
    if again is not None:
        _assert_as_whole(again, raw2)
        assert again.layout.minified == (raw2 == orjson.dumps(again.data))


def _pair(old: dict[str, Any], new: bytes) -> Spliced | None:
    raw0, data0, units0, layout0 = _first(old)
    return splice(raw0, data0, units0, layout0, new)


DOC = {
    "openapi": "3.1.0",
    "info": {"title": "t"},
    "paths": {"/a": {"get": {}}, "/b": {"get": {"x": 1}}},
    "components": {"schemas": {"A": {"type": "string"}, "B": {"type": "integer"}}},
}


@pytest.mark.parametrize(
    ("why", "before", "after"),
    [
        ("a trailing comma", b'"x":1}}},"components"', b'"x":1}},}},"components"'),
        ("no comma between members", b'"/b":{"get"', b'"/c":{}"/b":{"get"'),
        ("a key repeated", b'"/b":{"get":{"x":1}}', b'"/b":{"get":{"x":1}},"/a":{}'),
        ("invalid JSON", b'"type":"integer"', b'"type":integer"'),
        (
            "edits in paths and in components",
            b'"x":1}}},"components":{"schemas":{"A"',
            b'"x":2}}},"components":{"schemas":{"C"',
        ),
        ("the paths key itself", b'"paths":{', b'"paths" :{'),
        ("a member moved out of paths", b'"/b":{"get":{"x":1}}}', b'"/b":{"get":{"x":1}}},"/c":{}'),
    ],
)
def test_what_cannot_be_spliced_soundly_is_parsed_whole(
    why: str, before: bytes, after: bytes
) -> None:
    raw = orjson.dumps(DOC)
    assert before in raw, why
    assert _pair(DOC, raw.replace(before, after)) is None, why


def test_a_text_no_serializer_wrote_has_no_layout_from_sizes() -> None:
    data = orjson.loads(orjson.dumps(DOC))
    units = split(data)
    assert units is not None
    assert minified_layout(json.dumps(DOC).encode(), data, units) is None  # spaces
    assert minified_layout(orjson.dumps(DOC) + b"\n", data, units) is not None


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.binary(max_size=4)),
        min_size=1,
        max_size=3,
    )
)
def test_bytes_edited_at_random_splice_as_parsed_whole_or_not_at_all(
    edits: list[tuple[int, int, bytes]],
) -> None:
    """Any bytes cut or written anywhere (broken JSON, stray brackets, quotes, NULs):
    a text that does not parse is never spliced, and one that is spliced is what
    parsing it whole gives."""
    raw0, data0, units0, layout0 = _first(DOC)
    raw1 = raw0
    for at, cut, written in edits:
        at %= len(raw1) + 1
        raw1 = raw1[:at] + written + raw1[at + cut :]
    spliced = splice(raw0, data0, units0, layout0, raw1)
    try:
        whole = orjson.loads(raw1)
    except orjson.JSONDecodeError:
        assert spliced is None
        return
    if spliced is not None and isinstance(whole, dict) and split(whole) is not None:
        _assert_as_whole(spliced, raw1)
    elif spliced is not None:
        assert spliced.data == whole
