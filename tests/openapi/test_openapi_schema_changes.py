"""govbot.openapi.validate, stage 1 (the OpenAPI schema) in a process that remembers:
after a version that passed, the next is checked where it changed, and reports exactly
what a check of the whole document reports, version after version."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from openapi_support import CORPUS, _set, edit, mutations, versions

from govbot.openapi import validate
from govbot.openapi.units import split

FILE = "api.json"
Doc = dict[str, Any]


def whole(doc: Doc, version: str = "3.0") -> list[validate.Issue]:
    return validate.schema_issues(version, doc, FILE)


@pytest.fixture
def shells(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Per check within a memory, how many members of paths and components the checked
    copy kept (-1: the whole document was checked)."""
    kept: list[int] = []
    changed = validate._changed

    def spy(data: Doc, before: Any, units: Any) -> Doc:
        shell = changed(data, before, units)
        kept.append(
            len(shell.get("paths", {})) + sum(len(v) for v in shell.get("components", {}).values())
        )
        return shell

    monkeypatch.setattr(validate, "_changed", spy)
    with validate.remembering():
        yield kept


def remembered(doc: Doc, version: str = "3.0") -> list[validate.Issue]:
    units = split(json.loads(json.dumps(doc)))
    assert units is not None
    return validate.schema_issues(version, doc, FILE, units=units)


def first_response(doc: Doc) -> Doc:
    item = next(iter(doc["paths"].values()))
    return next(iter(item["get"]["responses"].values()))


def first_schema(doc: Doc) -> Doc:
    return next(iter(doc["components"]["schemas"].values()))


EDITS: list[tuple[str, Callable[[Doc], Any]]] = [
    ("a response without its description", lambda doc: first_response(doc).pop("description")),
    ("the response fixed", lambda doc: first_response(doc).update(description="ok")),
    ("a schema whose type is a number", lambda doc: first_schema(doc).update(type=5)),
    ("the schema fixed", lambda doc: first_schema(doc).update(type="object")),
    ("info without a title", lambda doc: doc["info"].pop("title")),
    ("the title back", _set(["info", "title"], "t")),
    ("an unchanged version", lambda doc: None),
    ("paths gone", lambda doc: doc.pop("paths")),
]


def test_every_version_gets_the_whole_documents_errors(shells: list[int]) -> None:
    docs = [doc for _, doc in versions()]  # valid edits of every kind
    doc = docs[-1]
    for _, change in EDITS:
        doc = edit(change)(doc)
        docs.append(doc)
    for doc in docs:
        assert remembered(doc) == whole(doc)
    assert any(whole(d) for d in docs) and any(not whole(d) for d in docs)
    # A version after one that passed keeps only what changed, at most a few members.
    assert shells and max(shells) <= 3
    assert 0 in shells  # the unchanged version: top level only


@pytest.mark.parametrize("seed", [5, 6])
def test_a_real_spec_edited_and_broken_at_random_gets_the_whole_documents_errors(
    seed: int, shells: list[int]
) -> None:
    """airbyte's config API: 40 random edits, a third of them breaking a path item or a
    schema, the next one or two repairing it or breaking another."""
    rng = random.Random(seed)
    doc = json.loads((CORPUS / "apis-guru" / "airbyte.local" / "config.json").read_text())
    for _, version in mutations(doc, random.Random(seed)):
        version = copy.deepcopy(version)
        if rng.random() < 0.33:
            if rng.random() < 0.5:
                url = rng.choice(list(version["paths"]))
                version["paths"][url] = {"get": {"responses": "none"}}
            else:
                name = rng.choice(list(version["components"]["schemas"]))
                version["components"]["schemas"][name] = {"type": "text"}
        assert remembered(version) == whole(version)
    assert len(shells) >= 10


def test_a_31_spec_whose_dialect_changes_is_checked_whole() -> None:
    """Whether schemas are checked against JSON Schema's meta-schema follows the
    spec's dialect: a schema that passed unchecked is checked when that changes."""
    doc: Doc = {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://example.com/dialect",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "components": {"schemas": {"Odd": {"type": 5}}},
    }
    standard = {k: v for k, v in doc.items() if k != "jsonSchemaDialect"}
    with validate.remembering():
        assert remembered(doc, "3.1") == whole(doc, "3.1") == []
        found = remembered(standard, "3.1")
    assert found == whole(standard, "3.1") and found
