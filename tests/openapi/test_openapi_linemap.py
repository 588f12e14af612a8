"""Positions of JSON pointers: lines, and columns for minified JSON specs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import orjson
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from govbot.cli import cli
from govbot.openapi.linemap import JsonLines, json_offsets

MINIFIED = {
    "openapi": "3.1.0",
    "info": {"title": "Example API", "version": "1.0"},
    "paths": {
        "/servers": {
            "get": {
                "summary": "List servers",
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"created_at": {"type": "string"}},
                                }
                            }
                        },
                    }
                },
            }
        }
    },
}
FIELD = "/paths/~1servers/get/responses/200/content/application~1json/schema/properties/created_at"


def test_columns_place_pointers_on_a_single_line() -> None:
    """In a minified text every pointer is on line 1; the column tells them apart."""
    text = '{"a":{"b":1},"c":[true,{"d":2}]}'
    lines = JsonLines(text)
    assert {lines(p) for p in ("/a", "/a/b", "/c/1/d")} == {1}
    assert lines.column("/a") == text.index('"a"') + 1
    assert lines.column("/c/1/d") == text.index('"d"') + 1
    assert lines.column("/nowhere") is None


def test_a_column_counts_from_the_start_of_its_line() -> None:
    text = '{\n  "a": {\n    "b": 1\n  }\n}'
    lines = JsonLines(text)
    assert (lines("/a/b"), lines.column("/a/b")) == (3, 5)


def test_findings_in_minified_json_carry_a_column(tmp_path: Path) -> None:
    """JSON and SARIF output give the column beside line 1 (SARIF region startColumn)."""
    spec = tmp_path / "api.json"
    text = json.dumps(MINIFIED, separators=(",", ":"))
    spec.write_text(text)
    runner = CliRunner()
    day = dt.date(2026, 1, 15).isoformat()
    args = ["check", "--profile", "generic", "--today", day]
    out = runner.invoke(cli, [*args, "--format", "json", str(spec)])
    (finding,) = [f for f in json.loads(out.output)["findings"] if f["rule"] == "CON031"]
    assert finding["line"] == 1
    assert finding["column"] == text.index('"created_at"') + 1
    out = runner.invoke(cli, [*args, "--format", "sarif", str(spec)])
    results = json.loads(out.output)["runs"][0]["results"]
    (result,) = [r for r in results if r["ruleId"] == "CON031"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1, "startColumn": finding["column"]}


def _scanned(text: str, pointer: str) -> tuple[int | None, int | None]:
    """Line and column from the whole-text scan, the reference for the other layouts."""
    offset = json_offsets(text).get(pointer)
    if offset is None:
        return None, None
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


_KEYS = st.text(alphabet=st.sampled_from('ab~/"\\é 0{}[]:,'), max_size=4)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(_JSON)
def test_serializer_layouts_place_pointers_as_the_scan_does(value: object) -> None:
    """Pretty (two spaces), minified and other layouts: same line and column per pointer."""
    texts = (
        json.dumps(value, indent=2, ensure_ascii=False),  # what the sizes place
        json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n",
        json.dumps(value, indent=4),  # neither: the text is scanned
    )
    for text in texts:
        pointers = [*json_offsets(text), "/nowhere", "/0/x", "/00"]
        lines = JsonLines(text, orjson.loads(text))
        for pointer in pointers:
            assert (lines(pointer), lines.column(pointer)) == _scanned(text, pointer), (
                text,
                pointer,
            )


def test_a_value_changed_after_parsing_falls_back_to_the_scan() -> None:
    """The layout is checked against the value itself, so a mismatch cannot misplace."""
    text = json.dumps({"a": [1, 2], "b": {"c": True}}, indent=2)
    value = orjson.loads(text)
    value["a"].append(3)
    lines = JsonLines(text, value)
    assert (lines("/b/c"), lines.column("/b/c")) == _scanned(text, "/b/c") == (7, 5)


def test_a_minified_version_measured_from_the_one_before_places_pointers_alike() -> None:
    """A version read in a lineage takes the measures of the parts it shares with the
    version before (govbot.openapi.lineage); every pointer lands where a scan puts it."""
    first = {
        "openapi": "3.1.0",
        "paths": {f"/p{i}": {"get": {"summary": "é" * i, "x": [i, {"y": i}]}} for i in range(6)},
        "components": {"schemas": {f"S{i}": {"type": "string", "d": "ü" * i} for i in range(4)}},
    }
    second = json.loads(json.dumps(first))
    shared = [first["paths"]["/p1"], first["paths"]["/p4"], first["components"]["schemas"]["S2"]]
    second["paths"]["/p1"], second["paths"]["/p4"] = shared[0], shared[1]
    second["components"]["schemas"]["S2"] = shared[2]
    second["paths"]["/p2"]["get"]["summary"] = "longer than before"
    del second["paths"]["/p0"]
    texts = [json.dumps(v, separators=(",", ":"), ensure_ascii=False) for v in (first, second)]
    before = JsonLines(texts[0], first)
    for pointer in json_offsets(texts[0]):
        before(pointer)  # measured whole, as a version with findings everywhere
    lines = JsonLines(texts[1], second)
    lines.inherit(before)
    for pointer in [*json_offsets(texts[1]), "/paths/~1p0"]:
        assert (lines(pointer), lines.column(pointer)) == _scanned(texts[1], pointer), pointer


def test_a_serializers_text_is_given_as_its_own_serialization() -> None:
    """A search of the serialized document (DEP006's "is there an x-sunset at all?")
    takes a minified or two-space text as it is; any other text is no serialization, and
    asking does not scan it for positions."""
    value = {"info": {"x-sunset": "2027-01-01"}, "paths": {}}
    minified = orjson.dumps(value)
    pretty = orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"
    assert JsonLines(minified, orjson.loads(minified)).serialized() is minified
    assert JsonLines(pretty, orjson.loads(pretty)).serialized() is pretty
    escaped = b'{"info": {"x\\u002dsunset": "2027-01-01"}, "paths": {}}'
    lines = JsonLines(escaped, orjson.loads(escaped))
    assert lines.serialized() is None
    assert lines._offsets is None  # not scanned until a line is asked
    assert lines("/info/x-sunset") == 1 and lines.column("/info/x-sunset") == 11


def test_an_escaped_sunset_key_is_still_found(tmp_path: Path) -> None:
    """A key written with an escape (not a serializer's text) is searched in the value."""
    spec = tmp_path / "api.json"
    spec.write_bytes(
        b'{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": '
        b'{"get": {"deprecated": true, "x\\u002dsunset": "soon", "responses": '
        b'{"200": {"description": "ok"}}}}}}'
    )
    result = CliRunner().invoke(cli, ["check", "--format", "json", str(spec)])
    assert result.exit_code in (0, 1), result.output
    assert "DEP006" in {f["rule"] for f in json.loads(result.output)["findings"]}


def test_a_text_known_to_be_minified_places_pointers_as_the_scan_does() -> None:
    """A version spliced from a minified one is known minified: not serialized again."""
    text = orjson.dumps(MINIFIED)
    lines = JsonLines(text, orjson.loads(text), minified=True)
    assert lines.serialized() is text
    for pointer in json_offsets(text.decode()):
        assert (lines(pointer), lines.column(pointer)) == _scanned(text.decode(), pointer)


def test_the_line_of_a_minified_pointer_is_found_without_measuring() -> None:
    """Minified, everything is on line 1: a line is only whether the pointer is there
    (the containers are measured for a column alone), the same answer as the scan's."""
    text = orjson.dumps({**MINIFIED, "odd": {"a/b": [1, {"c~d": None}], "01": True}})
    lines = JsonLines(text, orjson.loads(text), minified=True)
    pointers = [*json_offsets(text.decode()), "/odd/a~1b/1/c~0d", "/odd/01", "/odd/a~1b/01"]
    pointers += ["/nope", "/paths/~1servers/put", "/odd/a~1b/2", "/odd/a~1b/x", "/info/title/x"]
    answers = [lines(p) for p in pointers]
    assert not lines._tables and not lines._positions  # nothing measured yet
    scanned = [_scanned(text.decode(), p) for p in pointers]
    assert answers == [s[0] for s in scanned]
    assert answers.count(None) == 6  # "01" is no index
    assert [lines.column(p) for p in pointers] == [s[1] for s in scanned]
    assert [lines(p) for p in pointers] == answers  # once measured, the same
