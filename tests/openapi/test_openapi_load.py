"""Loading specs: parsing, line maps, refused inputs and $ref resolution."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_support import DictReader

from govbot.errors import SpecError
from govbot.findings import Audience, Problem, Severity, Side
from govbot.openapi import parse, problems
from govbot.openapi.files import OutsideRoot
from govbot.openapi.linemap import JsonLines, YamlLines, json_offsets
from govbot.openapi.load import FileReader, SpecNotFound, load_spec, parse_document
from govbot.rules.catalog import get_rule
from govbot.rules.registry import LoadContext
from govbot.surface import (
    Node,
    Spec,
    get_pointer,
    normalize_path,
    properties,
    split,
    unescape,
    walk_schemas,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "load"


@pytest.fixture(autouse=True)
def no_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Validation results go to a private cache, never the user's."""
    monkeypatch.setenv("GOVBOT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def fixture(name: str, **kwargs: Any) -> Spec:
    return load_spec(DATA / name, root=DATA, **kwargs)


def only(spec: Spec, code: str) -> Problem:
    found = [f for f in spec.problems if f.code == code]
    assert len(found) == 1, [f.message for f in spec.problems]
    return found[0]


def severity(problem: Problem) -> Severity:
    """The severity the load rule of the problem's code gives it by default."""
    rule = get_rule(problem.code)
    assert rule is not None, problem.code
    return rule.default_severity(None)


MINIMAL = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"


# --- refused inputs ----------------------------------------------------------------------


def test_malformed_yaml_is_a_syntax_error_at_its_line() -> None:
    """A YAML syntax error refuses the document, naming the file, the line and the cause."""
    spec = fixture("malformed.yaml")
    assert not spec.ok
    finding = only(spec, "OAS001")
    assert problems.PROBLEMS[finding.code] == "syntax-error"
    assert severity(finding) is Severity.ERROR
    assert finding.file == "malformed.yaml"
    assert finding.line == 8
    # govbot's words; the parser's own reason after them varies with its version
    assert finding.message.startswith("malformed.yaml: YAML syntax error at line 8: ")
    assert spec.line("malformed.yaml", "") == 8


def test_malformed_json_is_a_syntax_error_at_its_line() -> None:
    """A JSON syntax error names the file, the line and column, and orjson's reason."""
    spec = fixture("malformed.json")
    finding = only(spec, "OAS001")
    assert not spec.ok
    assert finding.line == 5
    assert finding.message.startswith("malformed.json: invalid JSON at line 5, column ")


def test_billion_laughs_is_refused_without_expanding() -> None:
    """Nine levels of nine aliases (387 million nodes) are refused, never expanded."""
    spec = fixture("bomb.yaml")
    finding = only(spec, "OAS005")
    assert not spec.ok
    assert problems.PROBLEMS[finding.code] == "alias-bomb"
    assert "bomb.yaml" in finding.message and "aliases expand to more than" in finding.message
    assert finding.line is not None


def test_alias_limit_is_configurable_and_modest_reuse_loads() -> None:
    """Aliases that add fewer nodes than the limit load, sharing the anchored value."""
    text = MINIMAL + "x-a: &a {k: [1, 2, 3]}\nx-b: *a\nx-c: *a\n"
    doc = parse_document("ok.yaml", text.encode())
    assert doc.data["x-b"] == {"k": [1, 2, 3]}
    with pytest.raises(problems.Refused) as refused:
        parse_document("small.yaml", text.encode(), max_alias_nodes=5)
    assert refused.value.code == "OAS005"


def test_alias_inside_its_own_anchor_is_refused() -> None:
    """``&a [*a]`` is an infinitely deep value: refused as an alias bomb."""
    reader = DictReader({"self.yaml": MINIMAL + "x-loop: &a [1, *a]\n"})
    spec = load_spec("self.yaml", reader=reader)
    finding = only(spec, "OAS005")
    assert "refers to its own anchor" in finding.message and "self.yaml" in finding.message


def test_unknown_alias_is_a_syntax_error() -> None:
    """An alias with no anchor is malformed YAML."""
    spec = load_spec("a.yaml", reader=DictReader({"a.yaml": MINIMAL + "x-b: *nowhere\n"}))
    assert "has no anchor" in only(spec, "OAS001").message


def test_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    """A file over ``max_bytes`` is refused before it is read (FileReader knows sizes)."""
    path = tmp_path / "big.yaml"
    path.write_text(MINIMAL + "x-pad: '" + "x" * 500 + "'\n")
    spec = load_spec(path, root=tmp_path, max_bytes=100)
    finding = only(spec, "OAS002")
    assert problems.PROBLEMS[finding.code] == "file-too-large"
    assert "big.yaml" in finding.message and "over the limit of 100 bytes" in finding.message


def test_size_limit_applies_to_readers_without_sizes() -> None:
    """A reader that only reads still gets its content checked against the limit."""
    spec = load_spec("big.yaml", reader=DictReader({"big.yaml": MINIMAL * 10}), max_bytes=50)
    assert "big.yaml" in only(spec, "OAS002").message


def test_binary_file_is_refused() -> None:
    """A NUL byte marks a binary file, refused with its line."""
    finding = only(fixture("binary.yaml"), "OAS003")
    assert problems.PROBLEMS[finding.code] == "binary-file"
    assert finding.line == 3
    assert "binary.yaml" in finding.message and "NUL byte" in finding.message


def test_non_utf8_file_is_refused() -> None:
    """Latin-1 text is refused, naming the byte and its line."""
    finding = only(fixture("latin1.yaml"), "OAS004")
    assert finding.line == 3
    assert "latin1.yaml" in finding.message and "not UTF-8" in finding.message
    assert "0xe9" in finding.message


@pytest.mark.parametrize(
    ("name", "text", "cause"),
    [
        ("none.yaml", "info: {title: t}\npaths: {}\n", "no `openapi` or `swagger` field"),
        ("list.yaml", "- openapi: 3.0.3\n", "the top level is a list"),
        ("scalar.yaml", "just some words\n", "the top level is a single str value"),
        ("empty.yaml", "# nothing\n", "empty document"),
        ("array.json", "[1, 2]", "the top level is a list"),
    ],
)
def test_documents_that_are_not_openapi_are_refused(name: str, text: str, cause: str) -> None:
    """A file without an openapi/swagger field, or with no mapping at the top, is not OpenAPI."""
    spec = load_spec(name, reader=DictReader({name: text}))
    finding = only(spec, "OAS007")
    assert not spec.ok
    assert problems.PROBLEMS[finding.code] == "not-openapi"
    assert name in finding.message and cause in finding.message


@pytest.mark.parametrize(
    "text",
    ['{"swagger": "1.2"}', '{"openapi": "4.0.0"}', '{"openapi": "2.0"}', '{"openapi": true}'],
)
def test_unsupported_versions_are_refused(text: str) -> None:
    """Swagger 1.x and unknown OpenAPI versions are refused plainly."""
    spec = load_spec("v.json", reader=DictReader({"v.json": text}))
    finding = only(spec, "OAS008")
    assert not spec.ok
    assert "v.json" in finding.message and "unsupported version" in finding.message


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ('{"swagger": "2.0"}', "2.0"),
        ('{"openapi": "3.0.3"}', "3.0"),
        ('{"openapi": "3.1.1"}', "3.1"),
        ('{"openapi": "3.2.0"}', "3.2"),
    ],
)
def test_supported_versions(text: str, version: str) -> None:
    """Swagger 2.0 and OpenAPI 3.0, 3.1 and 3.2 load (validation findings aside)."""
    spec = load_spec("v.json", reader=DictReader({"v.json": text}), validate=False)
    assert spec.ok and spec.version == version and spec.problems == ()


# Nested past every parser's limit, in each style a parser counts differently: flow
# collections (libyaml's scanner reads them ahead of the events), block mappings and
# compact block sequences (libyaml's indentation levels), JSON (orjson), and JSON
# written in a .yaml file (orjson first, as for any file that looks like JSON).
DEEP = {
    "flow-sequences": ("deep.yaml", "x-deep: " + "[" * 100_000 + "]" * 100_000 + "\n"),
    "flow-mappings": ("deep.yaml", "x-deep: " + "{a: " * 5_000 + "1" + "}" * 5_000 + "\n"),
    "block-mappings": (
        "deep.yaml",
        "x-deep:\n"
        + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(1_200))
        + " " * 1_201
        + "end\n",
    ),
    "block-sequences": ("deep.yaml", "x-deep:\n" + "- " * 5_000 + "end\n"),
    "json": ("deep.json", '{"x-deep": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    "json-in-yaml": ("deep.yaml", '{"x-deep": ' + "{" * 2_000 + "}" * 2_000 + "}"),
}


@pytest.fixture(params=["libyaml", "pure-python"])
def yaml_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each YAML parser govbot may run on: libyaml (with PyYAML's wheels) or PyYAML's own."""
    if request.param == "libyaml":
        if not yaml.__with_libyaml__:
            pytest.fail("this PyYAML has no libyaml, which every PyYAML wheel bundles")
    else:
        monkeypatch.setattr(parse, "_yaml_parser", yaml.SafeLoader)
    return request.param


@pytest.mark.parametrize("shape", DEEP, ids=list(DEEP))
def test_deep_nesting_is_refused_whichever_layer_notices(shape: str, yaml_parser: str) -> None:
    """Too deep is OAS006 whether govbot's count, libyaml or orjson stops first."""
    name, body = DEEP[shape]
    text = ("openapi: 3.0.3\n" + body) if name.endswith(".yaml") and body[0] != "{" else body
    spec = load_spec(name, reader=DictReader({name: text}))
    finding = only(spec, "OAS006")
    assert spec.data is None and len(spec.problems) == 1
    assert (
        problems.PROBLEMS[finding.code] == "nesting-too-deep"
        and severity(finding) is Severity.ERROR
    )
    assert finding.file == name and finding.message.startswith(f"{name}: nested ")
    assert finding.line is not None
    line = text.splitlines()[finding.line - 1].strip()
    assert line[:1] in "-k" or "[" in line or "{" in line  # a line of the nest


@pytest.mark.parametrize("limit", [5, 50])
def test_govbots_own_depth_limit_applies_below_the_parsers(limit: int, yaml_parser: str) -> None:
    """``max_depth`` below the parsers' limits: govbot's own count refuses, at the line."""
    text = MINIMAL + "x-deep:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(limit))
    text += "  " * (limit + 1) + "end\n"
    finding = only(
        load_spec("d.yaml", reader=DictReader({"d.yaml": text}), max_depth=limit), "OAS006"
    )
    assert f"nested deeper than {limit} levels" in finding.message
    assert load_spec("d.yaml", reader=DictReader({"d.yaml": text})).problems == ()


def test_brackets_inside_strings_are_not_nesting() -> None:
    """A JSON syntax error after strings full of brackets is a syntax error, not depth."""
    strings = ", ".join(f'"x-{i}": "{"[" * 2_000}"' for i in range(3))
    text = '{"openapi": "3.0.3", ' + strings + ', "x-bad": }'
    finding = only(load_spec("s.json", reader=DictReader({"s.json": text})), "OAS001")
    assert finding.message.startswith("s.json: invalid JSON at line 1, column ")
    yaml_text = MINIMAL + "x-s: '" + "[" * 2_000 + "'\nx-bad: [\n"
    only(load_spec("s.yaml", reader=DictReader({"s.yaml": yaml_text})), "OAS001")


# --- YAML tags ---------------------------------------------------------------------------

# One spec per kind of tag outside JSON's types: (id, the tagged line, the tag shown).
REFUSED_TAGS = [
    (
        "python-call",
        "x-p: !!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/apply:os.system",
    ),
    ("python-name", "x-p: !!python/name:os.system", "!!python/name:os.system"),
    ("python-object", "x-p: !!python/object:os.PathLike {a: 1}", "!!python/object:os.PathLike"),
    ("local-scalar", "x-p: !include other.yaml", "!include"),
    ("local-mapping", "x-p: !Ref {name: x}", "!Ref"),
    ("binary", "x-p: !!binary aGVsbG8=", "!!binary"),
    ("set", "x-p: !!set {a, b}", "!!set"),
    ("omap", "x-p: !!omap [{a: 1}, {b: 2}]", "!!omap"),
    ("pairs", "x-p: !!pairs [{a: 1}]", "!!pairs"),
    ("timestamp", "x-p: !!timestamp 2025-06-01", "!!timestamp"),
    ("merge", "x-p: {!!merge <<: {a: 1}}", "!!merge"),
    ("verbatim", "x-p: !<tag:example.com,2025:widget> w", "!<tag:example.com,2025:widget>"),
    ("tag-on-a-key", "x-p: {!!python/name:os.system : 1}", "!!python/name:os.system"),
    ("seq-on-a-mapping", "x-p: !!seq {a: 1}", "!!seq"),
    ("map-on-a-sequence", "x-p: !!map [1]", "!!map"),
    ("int-on-a-word", "x-p: !!int twelve", "!!int"),
    ("bool-on-yes", "x-p: !!bool yes", "!!bool"),
]


@pytest.mark.parametrize(
    ("line_text", "shown"), [r[1:] for r in REFUSED_TAGS], ids=[r[0] for r in REFUSED_TAGS]
)
def test_tags_outside_jsons_types_are_refused_never_run(
    line_text: str, shown: str, tmp_path: Path, yaml_parser: str
) -> None:
    """Each kind of non-JSON tag is an OAS016 finding at its line; nothing is constructed."""
    marker = tmp_path / "pwned"
    text = MINIMAL + "x-before: 1\n" + line_text.replace("{marker}", str(marker)) + "\nx-after: 2\n"
    spec = load_spec("t.yaml", reader=DictReader({"t.yaml": text}))
    finding = only(spec, "OAS016")
    assert spec.data is None and len(spec.problems) == 1
    assert problems.PROBLEMS[finding.code] == "yaml-tag" and severity(finding) is Severity.ERROR
    assert (finding.file, finding.line) == ("t.yaml", 5)
    assert finding.message.startswith(f"t.yaml: YAML tag {shown} ")
    assert not marker.exists()


def test_a_percent_tag_directive_cannot_smuggle_a_type_in() -> None:
    """``%TAG !! ...`` makes ``!!str`` another namespace's tag: refused, not read as a string."""
    text = "%TAG !! tag:example.com,2025:\n---\n" + MINIMAL + "x-p: !!str a\n"
    finding = only(load_spec("t.yaml", reader=DictReader({"t.yaml": text})), "OAS016")
    assert "!<tag:example.com,2025:str>" in finding.message and finding.line == 6


def test_tags_of_jsons_types_are_read_as_those_types(yaml_parser: str) -> None:
    """!!str, !!int, !!float, !!bool, !!null, !!map, !!seq and ``!`` mean what JSON means."""
    text = MINIMAL + (
        "x-t: !!map\n"
        "  str: !!str 12\n  int: !!int '12'\n  float: !!float 1\n  nan: !!float .nan\n"
        "  bool: !!bool false\n  null: !!null ~\n  seq: !!seq [!!str true]\n  bang: ! 12\n"
    )
    spec = load_spec("t.yaml", reader=DictReader({"t.yaml": text}))
    assert spec.problems == ()
    x = spec.data["x-t"]
    assert (x["str"], x["int"], x["float"], x["bool"], x["null"], x["seq"], x["bang"]) == (
        "12",
        12,
        1.0,
        False,
        None,
        ["true"],
        "12",
    )
    assert type(x["float"]) is float and x["nan"] != x["nan"]


# --- other hostile inputs ----------------------------------------------------------------


def test_numbers_too_long_to_read_are_a_syntax_error(yaml_parser: str) -> None:
    """An integer of 5000 digits (Python reads at most 4300) is refused, as a key too."""
    for body in (f"x-n: {'9' * 5_000}\n", f"x-n:\n  {'9' * 5_000}: a\n"):
        spec = load_spec("n.yaml", reader=DictReader({"n.yaml": MINIMAL + body}))
        finding = only(spec, "OAS001")
        assert (
            finding.message
            == f"n.yaml: the number at line {finding.line} has 5000 digits, too many to read"
        )
    spec = load_spec(
        "n.json", reader=DictReader({"n.json": '{"openapi": "3.0.3", "x": ' + "9" * 5_000 + "}"})
    )
    assert only(spec, "OAS001").message.startswith("n.json: invalid JSON at line 1, column ")


def test_duplicate_yaml_keys_are_refused_where_the_second_one_is(yaml_parser: str) -> None:
    """Two ``paths:``: parsers keep the last, a reviewer reads the first. Refused, both lines."""
    text = MINIMAL + "paths:\n  /hidden: {}\n"
    finding = only(load_spec("d.yaml", reader=DictReader({"d.yaml": text})), "OAS001")
    assert finding.line == 4
    assert finding.message == (
        "d.yaml: duplicate key 'paths' at line 4 (first at line 3); YAML mapping keys must be unique"
    )
    quoted = MINIMAL + "x-a:\n  b: 1\n  'b': 2\n"
    assert only(load_spec("q.yaml", reader=DictReader({"q.yaml": quoted})), "OAS001").line == 6


def test_keys_that_only_repeat_elsewhere_or_through_a_merge_are_fine(yaml_parser: str) -> None:
    """The same key in two mappings, or an explicit key over a merged one, is not a duplicate."""
    text = MINIMAL + "x-a: &a {b: 1, c: 1}\nx-d: {b: 2}\nx-e: {<<: *a, b: 3}\n"
    spec = load_spec("k.yaml", reader=DictReader({"k.yaml": text}))
    assert spec.problems == () and spec.data["x-e"] == {"b": 3, "c": 1}


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_json_numbers_outside_json_are_a_syntax_error(value: str) -> None:
    """JSON has no NaN or Infinity, and 1e400 is no double: refused with the column."""
    text = '{"openapi": "3.0.3",\n "x-n": ' + value + "}"
    finding = only(load_spec("n.json", reader=DictReader({"n.json": text})), "OAS001")
    assert finding.line == 2 and finding.message.startswith(
        "n.json: invalid JSON at line 2, column "
    )


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("utf16.yaml", MINIMAL.encode("utf-16"), "OAS003"),
        ("utf32.json", b'{"openapi": "3.0.3"}'.decode().encode("utf-32"), "OAS003"),
        ("control.yaml", (MINIMAL + 'x-c: "\x07"\n').encode(), "OAS001"),
        ("surrogate.json", b'{"openapi": "3.0.3", "x": "\\ud800"}', "OAS001"),
    ],
    ids=["utf-16", "utf-32", "control-character", "lone-surrogate"],
)
def test_text_that_is_not_clean_utf8_is_refused(name: str, data: bytes, code: str) -> None:
    spec = load_spec(name, reader=DictReader({name: data}))
    assert only(spec, code).file == name and spec.data is None


@pytest.mark.parametrize(
    "text",
    [
        "\ufeff" + MINIMAL,
        "\ufeff" + '{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}',
        MINIMAL.replace("\n", "\r\n"),
        MINIMAL + "x-l: " + "a" * 5_000_000 + "\n",
        "%YAML 1.1\n---\n" + MINIMAL + "...\n",
        MINIMAL + "x-a: &k key\nx-b: {*k : 1, &n null: 2, 1.0: 3, true: 4}\n",
    ],
    ids=["yaml-bom", "json-bom", "crlf", "5-mb-line", "directive-and-end", "anchored-keys"],
)
def test_unusual_but_valid_text_loads(text: str) -> None:
    """A BOM, CRLF, a 5 MB line, directives, anchors and aliases on keys: all read."""
    name = "v.json" if text.lstrip("\ufeff").startswith("{") else "v.yaml"
    spec = load_spec(name, reader=DictReader({name: text}))
    assert spec.ok and spec.problems == (), [f.message for f in spec.problems]
    assert spec.data["openapi"] == "3.0.3"


def test_odd_yaml_shapes_do_not_break_the_loader() -> None:
    """A ref inside a merge source loads; a mapping used as a key is refused as syntax."""
    merged = MINIMAL + "x-a: {<<: {$ref: '#/paths'}, b: 1}\n"
    spec = load_spec("m.yaml", reader=DictReader({"m.yaml": merged}), validate=False)
    assert spec.problems == () and spec.data is not None
    assert spec.data["x-a"] == {"$ref": "#/paths", "b": 1}
    keyed = MINIMAL + "x-a:\n  ? {$ref: '#/paths'}\n  : 1\n"
    spec = load_spec("k.yaml", reader=DictReader({"k.yaml": keyed}))
    assert "is not a scalar" in only(spec, "OAS001").message


def test_second_yaml_document_is_refused() -> None:
    """A stream with two YAML documents is not one spec."""
    spec = load_spec("two.yaml", reader=DictReader({"two.yaml": MINIMAL + "---\nfoo: 1\n"}))
    finding = only(spec, "OAS001")
    assert "second YAML document" in finding.message and finding.line == 4


def test_missing_root_file_raises_spec_not_found(tmp_path: Path) -> None:
    """A spec that does not exist cannot be checked: a one-line error, not a finding."""
    with pytest.raises(SpecNotFound, match=r"no-such\.yaml: no such file") as raised:
        load_spec(tmp_path / "no-such.yaml")
    assert isinstance(raised.value, SpecError) and isinstance(raised.value, FileNotFoundError)
    with pytest.raises(SpecNotFound):
        load_spec("no-such.yaml", reader=DictReader({}))


def test_root_symlink_escaping_the_root_is_refused(tmp_path: Path) -> None:
    """A spec that is a symlink to a file outside the root is not read."""
    outside = tmp_path / "outside.yaml"
    outside.write_text(MINIMAL)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "spec.yaml").symlink_to(outside)
    spec = load_spec(repo / "spec.yaml", root=repo)
    finding = only(spec, "OAS010")
    assert not spec.ok
    assert "spec.yaml" in finding.message and "outside the repository root" in finding.message


# --- $ref ------------------------------------------------------------------------------


def test_refused_refs_are_findings_at_their_lines(no_network: None) -> None:
    """URL, traversal, absolute, missing-file and missing-pointer refs: one finding each."""
    spec = fixture("refs-refused.yaml")
    assert spec.ok
    by_pointer = {f.pointer: f for f in spec.problems if f.code != "OAS014"}
    expected = {
        "/paths/~1a/get/responses/200": ("OAS009", "remote-ref", 9, "points to a URL"),
        "/paths/~1b/get/responses/200": ("OAS009", "remote-ref", 14, "points to a URL"),
        "/paths/~1c/get/responses/200": (
            "OAS010",
            "outside-root",
            19,
            "outside the repository root",
        ),
        "/paths/~1d/get/responses/200": ("OAS010", "outside-root", 24, "absolute path"),
        "/paths/~1e/get/responses/200": (
            "OAS011",
            "ref-file-missing",
            29,
            "missing.yaml does not exist",
        ),
        "/paths/~1f/get/responses/200": (
            "OAS012",
            "ref-target-missing",
            34,
            "nothing at #/components/responses/Missing",
        ),
        "/paths/~1g/get/responses/200": ("OAS012", "ref-target-missing", 39, "not a JSON pointer"),
    }
    assert set(by_pointer) == set(expected)
    for pointer, (code, name, line, cause) in expected.items():
        finding = by_pointer[pointer]
        assert (finding.code, problems.PROBLEMS[finding.code], finding.line) == (code, name, line)
        assert "refs-refused.yaml" in finding.message and cause in finding.message
    assert spec.refs == {}  # nothing refused is resolvable
    assert spec.resolve(spec.root.child("paths", "/a", "get", "responses", "200")) is None


@pytest.mark.parametrize(
    "ref",
    [
        "http://example.com/x.yaml",
        "https://example.com/x.yaml#/A",
        "ftp://example.com/x.yaml",
        "file:///etc/passwd",
        "//example.com/x.yaml",
        "urn:example:x",
    ],
)
def test_url_refs_are_never_fetched(ref: str, no_network: None) -> None:
    """Every scheme and network-path reference is refused without a request."""
    text = MINIMAL + f"components:\n  schemas:\n    A:\n      $ref: '{ref}'\n"
    spec = load_spec("r.yaml", reader=DictReader({"r.yaml": text}))
    finding = only(spec, "OAS009")
    assert ref in finding.message and finding.pointer == "/components/schemas/A"


def test_traversal_refs_are_not_read() -> None:
    """``..`` above the root is refused before the reader is asked for anything."""
    reader = DictReader({"api/r.yaml": MINIMAL + "x-a: {$ref: '../../secret.yaml'}\n"})
    spec = load_spec("api/r.yaml", reader=reader)
    assert only(spec, "OAS010").pointer == "/x-a"
    assert reader.reads == ["api/r.yaml"]


def test_symlink_escaping_the_root_is_refused(tmp_path: Path) -> None:
    """A ref to a file inside the root that symlinks outside it is refused."""
    (tmp_path / "secret.yaml").write_text("Secret: {type: string}\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    (repo / "api.yaml").write_text(MINIMAL + "x-a: {$ref: 'link.yaml#/Secret'}\n")
    spec = load_spec(repo / "api.yaml", root=repo)
    finding = only(spec, "OAS010")
    assert "link.yaml" in finding.message and finding.pointer == "/x-a"
    assert "link.yaml" not in spec.documents


def test_file_reader_refuses_paths_outside_its_root(tmp_path: Path) -> None:
    """FileReader itself never reads above its root."""
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    with pytest.raises(OutsideRoot):
        FileReader(tmp_path / "sub").read("../a.txt")
    with pytest.raises(PermissionError):
        FileReader(tmp_path / "sub").read("/etc/hostname")


def test_pure_ref_loop_is_reported_once_and_left_out() -> None:
    """A -> B -> A where every hop is a ref: one finding, those refs unresolved."""
    spec = fixture("loop.yaml")
    finding = only(spec, "OAS013")
    assert problems.PROBLEMS[finding.code] == "ref-loop"
    assert finding.pointer == "/components/schemas/Instance" and finding.line == 21
    assert "loop.yaml" in finding.message
    assert "/components/schemas/Server -> /components/schemas/Instance" in finding.message
    assert ("loop.yaml", "#/components/schemas/Instance") not in spec.refs
    assert ("loop.yaml", "#/components/schemas/Server") not in spec.refs
    # the chain into the loop is kept; following it ends in the broken loop
    assert spec.refs[("loop.yaml", "#/components/schemas/Chain")] == (
        "loop.yaml",
        "/components/schemas/Chain",
    )
    assert spec.resolve(spec.root.child("components", "schemas", "Chain")) is None
    assert spec.data is not None and spec.data["components"]["schemas"]["Fine"] == {
        "type": "string"
    }


def test_loop_across_files_is_reported() -> None:
    """A loop through two files is found and reported in one of them."""
    reader = DictReader(
        {
            "a.yaml": MINIMAL + "x-a: {$ref: 'b.yaml#/B'}\n",
            "b.yaml": "B: {$ref: 'a.yaml#/x-a'}\n",
        }
    )
    spec = load_spec("a.yaml", reader=reader)
    finding = only(spec, "OAS013")
    assert "b.yaml" in finding.message
    assert ("a.yaml", "b.yaml#/B") not in spec.refs and ("b.yaml", "a.yaml#/x-a") not in spec.refs


def test_recursive_schemas_load() -> None:
    """A schema whose properties refer to itself (Stripe-like) is recursion, not a loop."""
    spec = fixture("recursive.yaml")
    assert spec.problems == ()
    node = spec.resolve(spec.root.child("components", "schemas", "Account", "properties", "root"))
    assert node is not None and node.pointer == "/components/schemas/Node"
    props = properties(spec, node)
    assert set(props) == {"name", "children", "owner"}
    walked = [schema.pointer for _, schema in walk_schemas(spec, node)]
    assert len(walked) == len(set(walked)) and len(walked) < 10  # each schema once, finite


def test_refs_in_examples_are_data() -> None:
    """A ``$ref`` inside an example value is not reported (nor followed)."""
    spec = fixture("refs-refused.yaml")
    assert not any("not-a-reference" in f.message for f in spec.problems)


def test_files_named_only_in_examples_are_not_read() -> None:
    """A relative ``$ref`` inside an example names no file to read."""
    reader = DictReader({"api.yaml": MINIMAL + "x-e:\n  example:\n    $ref: 'secret.yaml'\n"})
    spec = load_spec("api.yaml", reader=reader)
    assert spec.problems == () and reader.reads == ["api.yaml"]


def test_refs_across_directories_resolve() -> None:
    """Relative, percent-encoded and ~0/~1-escaped refs resolve across directories."""
    spec = fixture("multi/api/openapi.yaml")
    assert spec.problems == ()
    assert set(spec.documents) == {
        "multi/api/openapi.yaml",
        "multi/api/params.json",
        "multi/schemas/pet.yaml",
        "multi/schemas/sub dir/tag.yaml",
    }
    root = "multi/api/openapi.yaml"
    assert spec.refs[(root, "../schemas/pet.yaml#/Pet")] == ("multi/schemas/pet.yaml", "/Pet")
    assert spec.refs[(root, "../schemas/sub%20dir/tag.yaml#/Tag%20Object")] == (
        "multi/schemas/sub dir/tag.yaml",
        "/Tag Object",
    )
    assert spec.refs[("multi/schemas/pet.yaml", "sub dir/tag.yaml#/Tag Object")] == (
        "multi/schemas/sub dir/tag.yaml",
        "/Tag Object",
    )
    response = spec.resolve(spec.root.child("paths", "/pets", "get", "responses", "default"))
    assert response is not None and response.pointer == "/components/responses/a~1b"
    schema = spec.resolve(response.child("content", "application/json", "schema"))
    assert schema is not None and schema.file == "multi/schemas/sub dir/tag.yaml"
    assert schema.value["properties"]["label"] == {"type": "string"}
    items = spec.resolve(
        spec.root.child(
            "paths",
            "/pets",
            "get",
            "responses",
            "200",
            "content",
            "application/json",
            "schema",
            "items",
        )
    )
    assert items is not None and items.file == "multi/schemas/pet.yaml"
    tag = spec.resolve(items.child("properties", "tag"))
    assert tag is not None and tag.file == "multi/schemas/sub dir/tag.yaml"
    # lines of the external files, each in its own file
    assert spec.line("multi/schemas/pet.yaml", "/Pet/properties/tag") == 8
    assert spec.line("multi/schemas/sub dir/tag.yaml", "/Tag Object/properties/label") == 4
    assert spec.line("multi/api/params.json", "/limit/schema/minimum") == 7
    assert spec.line(root, "/components/schemas/tilde~0name") == 30


def test_external_files_come_through_the_reader() -> None:
    """Files reached by refs are read through the same reader (a git revision)."""
    reader = DictReader(
        {
            "specs/api.yaml": MINIMAL + "x-thing: {$ref: '../common/thing.yaml#/Thing'}\n",
            "common/thing.yaml": "Thing:\n  type: object\n",
        }
    )
    spec = load_spec("specs/api.yaml", reader=reader)
    assert spec.problems == ()
    assert reader.reads == ["specs/api.yaml", "common/thing.yaml"]
    assert spec.deref(spec.root.child("x-thing")) == {"type": "object"}


@pytest.mark.parametrize(
    ("content", "code", "cause"),
    [
        ("Thing: {type: [}\n", "OAS001", "YAML syntax error at line 1"),
        (b"Thing: \x00\n", "OAS003", "binary content"),
        (b"Thing: caf\xe9\n", "OAS004", "not UTF-8"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
            "OAS005",
            "aliases expand",
        ),
        ("x" * 300, "OAS002", "over the limit"),
    ],
)
def test_external_file_problems_are_reported_on_that_file(
    content: str | bytes, code: str, cause: str
) -> None:
    """A file reached by a ref gets the same checks, reported on itself, once."""
    reader = DictReader(
        {
            "api.yaml": MINIMAL
            + "x-a: {$ref: 'thing.yaml#/Thing'}\nx-b: {$ref: 'thing.yaml#/Other'}\n",
            "thing.yaml": content,
        }
    )
    spec = load_spec("api.yaml", reader=reader, max_bytes=250, max_alias_nodes=50)
    assert spec.ok
    finding = only(spec, code)
    assert finding.file == "thing.yaml"
    assert "thing.yaml" in finding.message and cause in finding.message
    assert "reached by a $ref from api.yaml" in finding.message
    assert spec.refs == {}
    assert len(spec.problems) == 1


def test_missing_external_file_is_reported_once_per_referrer() -> None:
    """Two refs into one missing file: one finding, counting both places."""
    reader = DictReader(
        {"api.yaml": MINIMAL + "x-a: {$ref: 'gone.yaml#/A'}\nx-b: {$ref: 'gone.yaml#/B'}\n"}
    )
    spec = load_spec("api.yaml", reader=reader)
    finding = only(spec, "OAS011")
    assert finding.pointer == "/x-a" and "gone.yaml does not exist" in finding.message


def test_missing_pointer_in_json_is_located() -> None:
    """Broken refs in JSON (found by pattern, not by walking) still get their pointer and line."""
    text = json.dumps(
        {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "x": [{"$ref": "#/nope"}],
        },
        indent=2,
    )
    spec = load_spec("j.json", reader=DictReader({"j.json": text}))
    finding = only(spec, "OAS012")
    assert finding.pointer == "/x/0" and finding.line == 9


# --- parsing and lines ---------------------------------------------------------------------


def test_yaml_scalars_are_json_values() -> None:
    """Dates stay strings, status-code keys become strings, YAML 1.2 core types only."""
    spec = fixture("yaml-types.yaml", validate=False)
    assert spec.data is not None
    get = spec.data["paths"]["/things"]["get"]
    assert get["x-sunset"] == "2025-01-01"
    assert get["x-when"] == "2025-01-01T10:00:00Z"
    assert get["x-words"] == ["yes", "no", "on", "off", "y", "n"]
    assert get["x-null"] is None and get["x-empty"] is None
    assert get["x-numbers"][:6] == [1, -2, 15, 31, 1.5, 1000.0]
    assert get["x-numbers"][6] == float("inf") and get["x-numbers"][7] == "1_000"
    assert get["x-bools"] == [True, False, True]
    assert get["x-quoted"] == ["true", "12"]
    assert set(get["responses"]) == {"200", "404"}
    assert spec.data["info"]["version"] == 1.0
    assert spec.data["x-merged"] == {"a": 1, "b": 3, "c": 4}
    assert spec.line(spec.file, "/x-merged/a") == 22  # merged keys keep their source line
    assert spec.line(spec.file, "/x-merged/b") == 26


def test_yaml_lines() -> None:
    """Members sit on their key's line, items on their own, unknown pointers on the nearest ancestor."""
    spec = fixture("multi/api/openapi.yaml")
    file = spec.file
    assert spec.line(file, "") == 1
    assert spec.line(file, "/info/version") == 4
    assert spec.line(file, "/paths/~1pets/get/parameters/0") == 9
    assert (
        spec.line(
            file, "/paths/~1pets/get/responses/200/content/application~1json/schema/items/$ref"
        )
        == 18
    )
    assert spec.line(file, "/components/responses/a~1b") == 23
    assert spec.line(file, "/components/responses/a~1b/nothing/here") == 23
    assert spec.line("no-such-file.yaml", "/x") is None


def test_json_lines() -> None:
    """Keys, array items and escaped keys of pretty-printed JSON map to their lines."""
    text = (
        '{\n  "openapi": "3.0.3",\n  "paths": {\n    "/a/{id}": {\n      "get": {"tags": ["x", "y"]}\n'
        '    }\n  },\n  "x-list": [\n    1,\n    {"k\\"ey": true},\n    [2, 3]\n  ],\n'
        '  "x-\\u00e9~": null\n}\n'
    )
    lines = JsonLines(text)
    assert lines("") == 1
    assert lines("/openapi") == 2
    assert lines("/paths/~1a~1{id}") == 4
    assert lines("/paths/~1a~1{id}/get/tags/1") == 5
    assert lines("/x-list/0") == 9
    assert lines('/x-list/1/k"ey') == 10
    assert lines("/x-list/2/1") == 11
    assert lines("/x-\u00e9~0") == 13
    assert lines("/nope") is None


def test_json_lines_agree_with_yaml_marks() -> None:
    """The JSON tokenizer gives the same line as libyaml's marks for every pointer."""
    doc = {
        "openapi": "3.1.0",
        "paths": {
            "/s/{id}": {
                "get": {"parameters": [{"name": "id", "in": "path"}], "x": [[], {}, [1, [2]]]}
            }
        },
        "components": {
            "schemas": {"a/b~c": {"enum": ["x", 1, None, True, -2.5e3], "properties": {}}}
        },
        "x-strings": ["brace } and [ bracket", 'quote " and \\ backslash', "colon: comma,"],
    }
    text = json.dumps(doc, indent=2)
    offsets = json_offsets(text)
    json_lines = JsonLines(text)
    value, table, root_line, _ = parse._build_yaml("x.yaml", text, 10_000, 100)
    yaml_lines = YamlLines(value, table, root_line)
    assert len(offsets) > 20
    for pointer in offsets:
        if pointer:
            assert json_lines(pointer) == yaml_lines(pointer), pointer


def test_json_with_a_byte_order_mark_loads() -> None:
    """A UTF-8 BOM is not part of the document."""
    text = "\ufeff" + json.dumps(
        {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}
    )
    spec = load_spec("bom.json", reader=DictReader({"bom.json": text}))
    assert spec.ok and spec.version == "2.0" and spec.problems == ()


def test_flow_yaml_named_yaml_is_read_as_yaml() -> None:
    """A .yaml file in flow style that is not JSON still loads (JSON first, then YAML)."""
    spec = load_spec(
        "f.yaml",
        reader=DictReader(
            {"f.yaml": "{openapi: 3.0.3, info: {title: t, version: '1'}, paths: {}}"}
        ),
    )
    assert spec.ok and spec.problems == ()


# --- the rules --------------------------------------------------------------------------


def test_every_problem_code_is_a_registered_load_rule() -> None:
    """Each loader code has a rule of kind load, with its name and documented sections."""
    for code, name in problems.PROBLEMS.items():
        registered = get_rule(code)
        assert registered is not None, code
        assert registered.name == name and registered.kind == "load"
        for section in ("What it checks:", "Why it matters:", "Example:", "Fix:"):
            assert section in registered.doc, (code, section)
    assert get_rule("OAS015").default_severity(Audience.INTERNAL) is Severity.WARNING  # type: ignore[union-attr]
    assert get_rule("OAS001").default_severity(Audience.INTERNAL) is Severity.ERROR  # type: ignore[union-attr]


def test_load_rules_report_the_loader_problems() -> None:
    """A load rule yields one hit per problem of its code, with its file and pointer."""
    spec = fixture("refs-refused.yaml")
    ctx = LoadContext(spec)
    registered = get_rule("OAS009")
    assert registered is not None
    hits = list(registered.run(ctx))
    assert [h.pointer for h in hits] == [
        "/paths/~1a/get/responses/200",
        "/paths/~1b/get/responses/200",
    ]
    assert all(h.file == "refs-refused.yaml" and "points to a URL" in h.message for h in hits)
    assert all(h.audience is None and h.side is Side.HEAD for h in hits)


def test_a_problem_the_base_had_is_existing_surface_and_a_broken_base_is_reported() -> None:
    """The head's problem that the base had already is existing surface; a base that
    does not load is reported on the base side; a deleted spec reports nothing."""
    spec = fixture("refs-refused.yaml")
    rule = get_rule("OAS009")
    assert rule is not None
    hits = list(rule.run(LoadContext(spec, base=spec)))
    assert hits and all(h.scope == "existing" for h in hits)
    broken = fixture("malformed.yaml")
    syntax = get_rule("OAS001")
    assert syntax is not None
    (on_base,) = syntax.run(LoadContext(spec, base=broken))
    assert on_base.side is Side.BASE and on_base.file == "malformed.yaml"
    assert list(syntax.run(LoadContext(spec, base=broken, deleted=True))) == []


def test_problems_carry_known_codes_and_lines() -> None:
    """Loader problems have a problem code, a file, a line and a pointer."""
    for problem in fixture("refs-refused.yaml").problems:
        assert problem.code in problems.PROBLEMS
        assert problem.line is not None and problem.file == "refs-refused.yaml"


def test_default_root_is_the_git_work_tree(
    tmp_path: Path, write_file: Callable[[str, str], Path]
) -> None:
    """Without ``root``, refs may reach anywhere in the enclosing git work tree."""
    (tmp_path / ".git").mkdir()
    write_file("common/thing.yaml", "Thing: {type: string}\n")
    api = write_file("specs/api.yaml", MINIMAL + "x-t: {$ref: '../common/thing.yaml#/Thing'}\n")
    spec = load_spec(api)
    assert spec.file == "specs/api.yaml" and spec.problems == ()
    assert spec.deref(Node(spec.data["x-t"], spec.file, "/x-t")) == {"type": "string"}  # type: ignore[index]
    assert get_pointer(spec.documents["common/thing.yaml"], "/Thing/type") == "string"


def test_the_same_bytes_load_once_while_in_use() -> None:
    """Base and head with the same content are one spec: parsed, resolved, validated once."""
    base, head = DictReader({"api.yaml": MINIMAL}), DictReader({"api.yaml": MINIMAL})
    first = load_spec("api.yaml", reader=base)
    assert load_spec("api.yaml", reader=head) is first
    assert load_spec("api.yaml", reader=head, validate=False) is not first  # other options
    changed = DictReader({"api.yaml": MINIMAL + "tags: []\n"})
    assert load_spec("api.yaml", reader=changed) is not first


def test_a_spec_with_a_file_ref_is_loaded_at_each_revision() -> None:
    """The root bytes do not say what a referenced file holds: such specs are not shared."""
    root = (
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n"
        "  /a:\n    get:\n      responses:\n        '200': {$ref: 'r.yaml#/ok'}\n"
    )
    old = load_spec("api.yaml", reader=DictReader({"api.yaml": root, "r.yaml": "ok: {}\n"}))
    new = load_spec(
        "api.yaml", reader=DictReader({"api.yaml": root, "r.yaml": "ok: {description: OK}\n"})
    )
    assert new is not old
    assert new.documents["r.yaml"] == {"ok": {"description": "OK"}}
    missing = load_spec("api.yaml", reader=DictReader({"api.yaml": root}))
    assert missing is not old and missing.problems


def test_the_quick_mapping_test_answers_as_isinstance_does() -> None:
    """``is_mapping`` and the walks that use it see any Mapping, not only dicts."""
    from collections import OrderedDict
    from types import MappingProxyType

    from govbot.surface import is_mapping, join

    for value in ({}, {"a": 1}, OrderedDict(a=1), MappingProxyType({"a": 1})):
        assert is_mapping(value)
    for value in (None, [], (), "a", 1, 0.5, True, {1}):
        assert not is_mapping(value)
    frozen = Node(MappingProxyType({"a/b": {"c": 1}}), "x.json", "/p")
    child = frozen.get("a/b")
    assert child is not None and child.pointer == "/p/a~1b" and child.value == {"c": 1}
    assert Node({"k": 1}, "x.json", "").get("missing") is None
    assert Node([1], "x.json", "").get("0") is None
    assert join("/p", 0) == "/p/0"
    assert join("/p", "a~b", 2, "c/d") == "/p/a~0b/2/c~1d"


def test_pointers_split_into_their_tokens_escaped_or_not() -> None:
    """RFC 6901: ``~1`` is ``/``, ``~0`` is ``~`` (``~01`` is ``~1``); a pointer
    without ``~`` splits as it is."""
    assert split("") == []
    assert split("/") == [""]
    assert split("/paths/servers/get") == ["paths", "servers", "get"]
    assert split("/paths/~1servers~1{id}/get") == ["paths", "/servers/{id}", "get"]
    assert split("/a~0b/~01/~10") == ["a~b", "~1", "/0"]
    assert [unescape(t) for t in ("plain", "~0~1", "~01")] == ["plain", "~/", "~1"]
    assert (
        normalize_path("/servers/{server_id}/") == normalize_path("/servers/{id}") == "/servers/{}"
    )
    assert normalize_path("/") == "/"
