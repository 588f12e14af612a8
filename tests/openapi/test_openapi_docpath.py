"""govbot.openapi.docpath reads the documents as jsonschema-path's SchemaPath does.

That openapi-spec-validator reports the same issues either way, on real specs, is
tests/openapi/test_openapi_validate.py::test_driving_the_validator_cheaply_changes_no_issue;
here each question the validator asks is put to both readers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jsonschema_path import SchemaPath
from openapi_support import DictReader

from govbot.openapi import validate
from govbot.openapi.docpath import DocumentPath, Documents, Unanswerable, sets_ids
from govbot.openapi.load import load_spec
from govbot.surface import Spec

TESTS = Path(__file__).resolve().parent.parent

API = """\
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /pets/{id}:
    $ref: '#/components/pathItems/Pet'
components:
  pathItems:
    Pet:
      parameters:
        - $ref: '#/components/parameters/Id'
      get:
        responses:
          '200': {description: ok, content: {application/json: {schema: {$ref: 'more.yaml#/Pet'}}}}
  parameters:
    Id: {name: id, in: path, required: true, schema: {type: string, default: 7}}
  schemas:
    Alias: {$ref: '#/components/schemas/Chain'}
    Chain: {$ref: 'more.yaml#/Pet'}
    Word: {type: string, enum: [a, b], description: plain}
    Odd: {$ref: 5, type: object}
"""
MORE = """\
Pet:
  type: object
  required: [name, tag]
  properties:
    name: {type: string}
    kin: {$ref: '#/Pet'}
  allOf: [{$ref: '#/Named'}]
Named: {properties: {tag: {type: string}}}
"""


@pytest.fixture
def spec() -> Spec:
    return load_spec("api.yaml", reader=DictReader({"api.yaml": API, "more.yaml": MORE}))


def both(spec: Spec) -> tuple[DocumentPath, Any]:
    library = SchemaPath.from_dict(
        spec.data,
        base_uri="file:///__govbot__/api.yaml",
        handlers=validate._handlers(spec.documents),
    )
    return DocumentPath.root(Documents(spec.documents, spec.refs, spec.file, library)), library


def walk(path: Any, parts: tuple[Any, ...]) -> Any:
    for part in parts:
        path = path / part
    return path


PATHS = [
    (),
    ("paths",),
    ("paths", "/pets/{id}"),  # a path item by $ref
    ("paths", "/pets/{id}", "parameters", 0),  # a parameter by $ref, in a list
    ("paths", "/pets/{id}", "parameters", 0, "schema", "default"),
    ("paths", "/pets/{id}", "get", "responses", "200", "content", "application/json", "schema"),
    ("components", "schemas", "Alias"),  # a chain of two refs, into another file
    ("components", "schemas", "Alias", "properties", "kin"),  # a ref relative to that file
    ("components", "schemas", "Alias", "allOf", 0),
    ("components", "schemas", "Alias", "required"),
    ("components", "schemas", "Word", "enum", 1),
    ("components", "schemas", "Word", "description"),  # a string
    ("components", "schemas", "Odd"),  # a $ref that is not a string is not followed
    ("components", "schemas", "Missing"),
    ("components", "schemas", "Word", "description", 0),  # a string is subscriptable
    ("paths", "/pets/{id}", "parameters", "x"),  # a list by a string
    ("paths", "/pets/{id}", "parameters", 9),
]
KEYS: list[Any] = ["type", "properties", "allOf", "$ref", "name", 0, 1, 9, "x", "parameters"]


def outcome(call: Any) -> Any:
    try:
        return ("value", call())
    except Exception as exc:  # the type of failure is part of the answer
        return ("raises", type(exc))


@pytest.mark.parametrize("parts", PATHS, ids=lambda p: "/".join(map(str, p)) or "root")
def test_every_question_gets_the_libraries_answer(spec: Spec, parts: tuple[Any, ...]) -> None:
    direct_root, library_root = both(spec)
    direct, library = walk(direct_root, parts), walk(library_root, parts)
    assert direct.parts == library.parts
    for key in KEYS:
        assert (key in direct) == (key in library), key
    assert outcome(lambda: list(direct.keys())) == outcome(lambda: list(library.keys()))
    assert outcome(lambda: [c.parts for c in direct]) == outcome(lambda: [c.parts for c in library])
    assert outcome(lambda: [(k, c.parts) for k, c in direct.items()]) == outcome(
        lambda: [(k, c.parts) for k, c in library.items()]
    )
    assert outcome(lambda: direct.read_str("none")) == outcome(lambda: library.read_str("none"))
    mine, theirs = outcome(direct.read_value), outcome(library.read_value)
    assert mine[0] == theirs[0]
    if mine[0] == "value":
        assert mine[1] is theirs[1]  # the same object: the validator dedupes schemas by id
    else:
        assert mine[1] is theirs[1] is KeyError
    for key in KEYS:
        got, want = outcome(lambda: direct[key]), outcome(lambda: library[key])  # noqa: B023
        if got[0] == "value" and isinstance(got[1], DocumentPath):
            assert isinstance(want[1], SchemaPath)
            assert got[1].parts == want[1].parts
        else:
            assert got == want, key


def test_resolve_hands_over_to_jsonschema_path(spec: Spec) -> None:
    """The value validator gets jsonschema-path's own resolver (to follow refs inside the
    schema whose default it checks)."""
    direct, library = both(spec)
    parts = ("components", "schemas", "Alias", "properties", "kin")
    with walk(direct, parts).resolve() as mine, walk(library, parts).resolve() as theirs:
        assert mine.contents is theirs.contents
        assert mine.resolver._base_uri == theirs.resolver._base_uri
    assert walk(direct, parts)._clone_with_parts(()).read_value() is spec.data


def test_an_unresolved_ref_is_unanswerable(spec: Spec) -> None:
    direct, _ = both(spec)
    bare = DocumentPath.root(Documents(spec.documents, {}, spec.file, None))
    with pytest.raises(Unanswerable):
        walk(bare, ("components", "schemas", "Alias")).read_value()
    with pytest.raises(Unanswerable):  # not a missing key: "in" does not hide it
        assert "type" in walk(bare, ("components", "schemas", "Alias"))
    assert walk(direct, ("components", "schemas", "Alias")).read_value()["type"] == "object"


def test_a_document_that_sets_ids_is_noticed() -> None:
    assert not sets_ids({"a.yaml": {"type": "object", "properties": {"id": {}}}})
    assert sets_ids({"a.yaml": {"x": [{"$id": "https://example.com/s"}]}})
    assert sets_ids({"a.yaml": {"x": {1: "a"}}, "b.yaml": {"y": [{"$id": "s"}]}})


def reader_roots(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The kind of reader each run of the validator got, in order."""
    roots: list[str] = []
    run = validate._run

    def spy(validator: Any, root: Any, *args: Any) -> Any:
        roots.append(type(root).__name__)
        return run(validator, root, *args)

    monkeypatch.setattr(validate, "_run", spy)
    return roots


def detail(spec: Spec, refs: Any = None) -> list[validate.Issue]:
    assert spec.version is not None
    return validate.detail_issues(
        spec.version, spec.data, spec.file, spec.documents, spec.refs if refs is None else refs
    )


@pytest.mark.parametrize(
    "name",
    [
        "data/corpus/apis-guru/airbyte.local/config.json",
        "rules/CON007/irregular-plurals/base.yaml",
        "data/corpus/openstack/placement/v1.yaml",
    ],
)
def test_real_specs_are_read_directly(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No silent fallback: the direct reading answers every question on these."""
    spec = load_spec(TESTS / name, root=TESTS, validate=False)
    roots = reader_roots(monkeypatch)
    detail(spec)
    assert roots == ["DocumentPath"]


def test_what_it_cannot_answer_goes_to_the_library(
    spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    roots = reader_roots(monkeypatch)
    want = detail(spec)
    assert roots == ["DocumentPath"]
    assert [(i.pointer, i.message) for i in want] == [
        ("/components/parameters/Id/schema/default", "7 is not of type 'string'")
    ]
    roots.clear()
    got = detail(spec, refs={})  # the loader resolved nothing: the library's own run
    assert roots == ["DocumentPath", "SchemaPath"]
    assert [i.message for i in got] == [i.message for i in want]


def test_a_document_with_ids_is_read_by_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    text = API.replace("Word: {type: string,", "Word: {$id: 'https://example.com/w', type: string,")
    spec = load_spec("api.yaml", reader=DictReader({"api.yaml": text, "more.yaml": MORE}))
    roots = reader_roots(monkeypatch)
    detail(spec)
    assert roots == ["SchemaPath"]
