"""govbot.openapi.lineage: versions of a spec read one after the other share what did not
change, and what is worked out per unit from the previous version (the operations, the
consistency index, the line map, so the whole check) is what working it out anew gives,
version after version."""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_support import (
    BASE,
    CORPUS,
    DictReader,
    _set,
    edit,
    mutations,
    operation,
    schema_ref,
    versions,
)

from govbot.openapi import lineage
from govbot.openapi import load as loading
from govbot.openapi.load import load_spec
from govbot.openapi.units import split
from govbot.policy import Policy, load_policy
from govbot.rules.consistency import index as consistency_index
from govbot.rules.consistency.index import spec_index
from govbot.services.index_evaluate import SpecsEvaluation, evaluate_specs
from govbot.surface import Spec, lineage_of, operations

FILE = "api-specs/api.json"
TODAY = dt.date(2026, 12, 3)


@pytest.fixture(autouse=True)
def no_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check runs (a verdict read back would compare a check with itself)."""
    monkeypatch.setenv("GOVBOT_CACHE_DIR", "")


def text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"))  # minified, as a published spec


@functools.cache
def policy() -> Policy:
    return load_policy()  # one, as a backfill has: what is decided under it is reused


def checked(doc: dict[str, Any]) -> tuple[SpecsEvaluation, Spec]:
    """The check of ``doc`` as indexing makes it, and the spec it loaded."""
    evaluation = evaluate_specs(DictReader({FILE: text(doc)}), policy(), "p", TODAY, [FILE])
    history = lineage._HISTORY
    assert history is not None  # within lineage.remembering()
    spec = history[FILE].spec  # the one the check loaded
    assert spec is not None
    return evaluation, spec


def anew(doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[SpecsEvaluation, Spec]:
    """The same, outside any lineage, from nothing the process kept."""
    monkeypatch.setattr(loading, "_LOADED", weakref.WeakValueDictionary())
    with lineage.remembering():  # a memory of its own, empty: no previous version
        return checked(doc)


def index_view(spec: Spec) -> list[Any]:
    index = spec_index(spec)
    return [
        (sid, info.children, [(f.name, f.pointer, f.schema, f.target, f.data) for f in info.fields])
        for sid, info in index.schemas.items()
    ]


SPLICED: list[str] = []  # the versions of the last compare_as_anew() parsed in part


def compare_as_anew(
    docs: Iterator[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> int:
    """Check each version in one lineage and anew; the number that had a lineage."""
    followed = 0
    SPLICED.clear()
    with lineage.remembering():
        for name, doc in docs:
            got, spec = checked(doc)
            followed += lineage_of(spec) is not None
            history = lineage._HISTORY
            assert history is not None
            if history[FILE].layout is not None:  # made from the last by govbot.openapi.splice
                SPLICED.append(name)
            mine = (operations(spec), index_view(spec))
            want, fresh = anew(doc, monkeypatch)
            assert lineage_of(fresh) is None
            assert got == want, name
            assert mine == (operations(fresh), index_view(fresh)), name
    return followed


def test_every_edit_checks_as_anew(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = versions()
    followed = compare_as_anew(iter(docs), monkeypatch)
    assert followed == len(docs) - 1  # every version after the first had the one before


@pytest.mark.parametrize("seed", [3])
def test_a_real_spec_edited_at_random_checks_as_anew(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """airbyte's config API: 40 random edits (path items dropped, copied, reordered,
    schemas swapped and dropped)."""
    doc = json.loads((CORPUS / "apis-guru" / "airbyte.local" / "config.json").read_text())
    edits = list(mutations(doc, random.Random(seed)))
    assert compare_as_anew(iter([("the first version", doc), *edits]), monkeypatch) == 40


def test_unchanged_units_are_the_previous_objects_and_their_work_is_reused() -> None:
    changed = edit(_set(["components", "parameters", "Id", "name"], "sid"))(BASE)
    with lineage.remembering():
        _, first = checked(BASE)
        _, second = checked(changed)
    found = lineage_of(second)
    assert found is not None and found.previous is first
    paths, before = second.data["paths"], first.data["paths"]  # type: ignore[index]
    # An unchanged path item is the previous object; its operations are reused.
    assert paths["/first"] is before["/first"]
    assert found.holds("/paths/~1first")
    old = {op.key: op for op in operations(first)}
    assert all(old[op.key] is op for op in operations(second) if op.path == "/first")
    # The path item that refers to the changed parameter is its own object again and
    # is built anew, though its text did not change.
    assert paths["/servers/{id}"] is before["/servers/{id}"]
    assert not found.holds("/paths/~1servers~1{id}")
    assert all(old[op.key] is not op for op in operations(second) if op.path == "/servers/{id}")
    assert not found.holds("/components/parameters/Id")
    # A schema entry of the consistency index is reused where its unit holds.
    sid = (FILE, "/components/schemas/Server")
    assert spec_index(second).schemas[sid] is spec_index(first).schemas[sid]
    # So is the audience decided of a reused operation.
    decided = {op.path: d for op, d in second.__dict__["_govbot_decided"][1].values()}
    earlier = {op.path: d for op, d in first.__dict__["_govbot_decided"][1].values()}
    assert decided["/first"] is earlier["/first"]
    assert decided["/servers/{id}"] is not earlier["/servers/{id}"]


def test_versions_do_not_chain_and_nothing_is_kept_outside() -> None:
    docs = [doc for _, doc in versions()[:3]]
    with lineage.remembering():
        specs = [checked(doc)[1] for doc in docs]
        assert lineage_of(specs[2]) is not None and lineage_of(specs[2]).previous is specs[1]  # type: ignore[union-attr]
        assert lineage_of(specs[1]) is None  # one step back, never a chain of versions
    assert lineage._HISTORY is None
    alone = load_spec(FILE, reader=DictReader({FILE: text(docs[0])}))
    assert lineage_of(alone) is None


def test_a_document_that_does_not_split_has_no_lineage() -> None:
    with_id = edit(_set(["components", "schemas", "Server", "$id"], "https://example.com/s"))
    docs = [with_id(BASE), with_id(edit(_set(["info", "version"], "2"))(BASE))]
    with lineage.remembering():
        specs = [load_spec(FILE, reader=DictReader({FILE: text(doc)})) for doc in docs]
        assert lineage._HISTORY == {}  # $id moves the base of refs: no units to follow
    assert lineage_of(specs[1]) is None


def test_a_mark_on_the_document_decides_every_operation_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The audience of an operation reused from the previous version still follows the
    document: a marker on ``info`` or the root, or a tag's description, changes it."""
    docs = [
        ("the first version", BASE),
        ("info says internal", edit(_set(["info", "x-audience"], "internal"))(BASE)),
        ("the root says admin", edit(_set(["x-audience"], "external-admin"))(BASE)),
        ("no mark again", BASE),
    ]
    assert compare_as_anew(iter(docs), monkeypatch) == 3


def test_units_split_from_the_previous_version_are_the_units_split_anew() -> None:
    """The refs of an unchanged unit are taken from the previous version's units; the
    units are those found from nothing, edit after edit."""
    doc = json.loads((CORPUS / "apis-guru" / "airbyte.local" / "config.json").read_text())
    docs = [d for _, d in versions()] + [doc] + [d for _, d in mutations(doc, random.Random(5))]
    before = None
    for version in docs:
        units = split(version, before)
        assert units == split(version)
        before = units


def test_most_versions_are_parsed_in_part(monkeypatch: pytest.MonkeyPatch) -> None:
    """The edits above and at random are small: nearly every version after the first is
    made from the one before, parsing only the members that changed."""
    docs = versions()
    compare_as_anew(iter(docs), monkeypatch)
    assert len(SPLICED) == len(docs) - 1
    doc = json.loads((CORPUS / "apis-guru" / "airbyte.local" / "config.json").read_text())
    compare_as_anew(iter([("first", doc), *mutations(doc, random.Random(3))]), monkeypatch)
    assert len(SPLICED) >= 32  # of 40


def test_the_index_of_operations_shared_from_the_first_is_taken_not_walked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An edit of the last path item: the operations before it walk nothing again; the
    index is the one a check from scratch builds (compare_as_anew), in the same order."""
    changed = edit(_set(["paths", "/top", "get", "summary"], "the top"))(BASE)
    walked: list[str] = []
    real = consistency_index._walk

    def counting(spec: Spec, start: Any, *args: Any) -> None:
        walked.append(start.pointer)
        real(spec, start, *args)

    monkeypatch.setattr(consistency_index, "_walk", counting)
    with lineage.remembering():
        _, first = checked(BASE)
        before = len(walked)
        _, second = checked(changed)
    assert spec_index(second).ops[:-1] == spec_index(first).ops[:-1]
    assert walked[before:] == ["/components/schemas/Top"]  # the last operation's only
    assert list(spec_index(second).schemas) == list(spec_index(first).schemas)


def test_a_rule_reuses_what_it_found_in_a_kept_schema_and_looks_again_where_it_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CON031 keeps what it found in an index entry the next version keeps; an entry
    whose schema reaches a changed one is new, and is judged again."""
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {"get": operation("things", schema_ref("Thing"))},
            "/events": {"get": operation("events", schema_ref("Event"))},
        },
        "components": {
            "schemas": {
                "Thing": {"type": "object", "properties": {"created_at": {"type": "integer"}}},
                "Event": {"type": "object", "properties": {"seen_at": schema_ref("Stamp")}},
                "Stamp": {"type": "integer", "description": "When it was seen."},
            }
        },
    }
    fixed = edit(
        _set(["components", "schemas", "Stamp"], {"type": "string", "format": "date-time"})
    )(doc)

    def con031(evaluation: SpecsEvaluation) -> list[str]:
        return sorted(
            f["pointer"] for f in evaluation.records[FILE].findings if f["rule"] == "CON031"
        )

    with lineage.remembering():
        first, before = checked(doc)
        second, after = checked(fixed)
    thing, event = (FILE, "/components/schemas/Thing"), (FILE, "/components/schemas/Event")
    assert con031(first) == [
        "/components/schemas/Event/properties/seen_at",
        "/components/schemas/Thing/properties/created_at",
    ]
    assert con031(second) == ["/components/schemas/Thing/properties/created_at"]
    kept = spec_index(after).schemas[thing]
    assert kept is spec_index(before).schemas[thing] and kept.derived  # reused as found
    assert spec_index(after).schemas[event] is not spec_index(before).schemas[event]
    want, _ = anew(fixed, monkeypatch)
    assert con031(want) == con031(second)


def test_a_rule_reuses_what_it_found_of_a_shared_operation_and_looks_again_at_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CON036 keeps what it found of an operation the next version shares; the
    operations of the path item whose parameter changed are new, and judged again."""
    doc = edit(_set(["paths", "/first", "get", "parameters"], [{"name": "q", "in": "query"}]))(BASE)
    described = edit(_set(["components", "parameters", "Id", "description"], "The id."))(doc)

    def con036(evaluation: SpecsEvaluation) -> list[str]:
        return sorted(
            f["pointer"] for f in evaluation.records[FILE].findings if f["rule"] == "CON036"
        )

    with lineage.remembering():
        first, before = checked(doc)
        second, after = checked(described)
    assert con036(first) == ["/components/parameters/Id", "/paths/~1first/get/parameters/0"]
    assert con036(second) == ["/paths/~1first/get/parameters/0"]
    old, new = spec_index(before), spec_index(after)
    where = {id(op): j for j, op in enumerate(old.ops)}  # both alive: an id is one object
    shared = [(i, where[id(op)]) for i, op in enumerate(new.ops) if id(op) in where]
    assert [new.ops[i].path for i, _ in shared] == ["/first", "/volumes/{vid}", "/top"]
    assert all(new.derived[i] is old.derived[j] for i, j in shared)
    assert "CON036" in new.derived[0]
    want, _ = anew(described, monkeypatch)
    assert con036(want) == con036(second)
