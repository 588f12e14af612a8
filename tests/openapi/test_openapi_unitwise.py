"""govbot.openapi.unitwise: the detailed checks remembered unit by unit report, version
after version, exactly what a full run of openapi-spec-validator reports (same issues,
same order, same cap), while re-walking only what changed."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_support import (
    BASE,
    CORPUS,
    DictReader,
    _set,
    _top_first,
    edit,
    mutations,
    operation,
    versions,
)

from govbot.openapi import unitwise, validate
from govbot.openapi.load import load_spec
from govbot.surface import Spec


def load(doc: dict[str, Any], name: str = "api.json") -> Spec:
    text = json.dumps(doc) if name.endswith(".json") else json.dumps(doc, indent=1)
    return load_spec(name, reader=DictReader({name: text}), validate=False)


def detail(spec: Spec, *, as_json: bool = True) -> list[validate.Issue]:
    assert spec.version is not None
    return validate.detail_issues(
        spec.version, spec.data, spec.file, spec.documents, spec.refs, json=as_json
    )


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many roots each recording run walked (a fallback to a full run records none)."""
    counts: list[int] = []
    record = unitwise.record

    def spy(validator: Any, root: Any, todo: Any, recorder: Any) -> Any:
        counts.append(len(todo))
        return record(validator, root, todo, recorder)

    monkeypatch.setattr(unitwise, "record", spy)
    with validate.remembering():
        yield counts


def test_every_version_gets_the_full_runs_issues(walks: list[int]) -> None:
    plain_counts = []
    for name, doc in versions():
        spec = load(doc)
        remembered = detail(spec)
        with validate.remembering():  # an empty memory: a full run of the validator
            full = detail(spec, as_json=False)
        assert remembered == full, name
        plain_counts.append(len(full))
    assert min(plain_counts) >= 4  # every version has issues to get right
    # The first version walked every root; the later ones only what their edit reached.
    roots = len(BASE["paths"]) + len(BASE["components"]["schemas"]) + 1
    assert walks[0] == roots
    assert all(n < roots for n in walks[1:]), walks
    assert walks[-1] == 0  # nothing changed: nothing walked


def test_what_the_first_visit_decides_follows_the_order(walks: list[int]) -> None:
    """ "Required list has not defined properties" is said of a schema only when the
    walk first reaches it as a schema of its own, not inside another, and where that
    visit came from (the $ref)."""
    said = "Required list has not defined properties: ['zz']"
    quiet = [i for i in detail(load(BASE)) if i.message == said]
    loud = [i for i in detail(load(edit(_top_first)(BASE))) if i.message == said]
    assert quiet == []
    assert [i.pointer for i in loud] == [
        "/paths/~1nested/get/responses/200/content/application~1json/schema"
    ]
    assert walks == [10, 1]  # the second version walked only the new path item


def test_the_cap_is_the_full_runs_cap(walks: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate, "MAX_ERRORS", 3)
    for name, doc in versions()[:4]:
        spec = load(doc)
        remembered = detail(spec)
        assert len(remembered) == 3
        with validate.remembering():
            assert remembered == detail(spec, as_json=False), name


def test_yaml_and_processes_that_do_not_remember_run_it_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    used: list[bool] = []
    check = unitwise.check
    monkeypatch.setattr(unitwise, "check", lambda *a, **k: used.append(True) or check(*a, **k))
    spec = load(BASE)
    detail(spec)  # not remembering
    with validate.remembering():
        detail(load(BASE, "api.yaml"), as_json=False)  # YAML may share values (aliases)
        assert not used
        detail(spec)
    assert used == [True]
    assert validate._MEMORY is None  # forgotten after


def test_a_memory_that_breaks_is_dropped_and_the_full_run_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = load(BASE)
    with validate.remembering():
        want = detail(spec)
        memory = validate._MEMORY
        assert memory is not None and memory
        key = next(iter(memory))
        broken = memory[key]
        memory[key] = unitwise.Memory(broken.units, {}, broken.roots)  # records lost
        changed = load(edit(_set(["paths", "/x"], {"get": operation("x", {})}))(BASE))
        got = detail(changed)
        with validate.remembering():
            assert got == detail(changed, as_json=False)
        assert want


@pytest.mark.parametrize("seed", [1, 2])
def test_a_real_spec_edited_at_random_gets_the_full_runs_issues(
    seed: int, walks: list[int]
) -> None:
    """airbyte's config API (a real spec with 14 issues the validator reports)."""
    path = CORPUS / "apis-guru" / "airbyte.local" / "config.json"
    doc = json.loads(path.read_text())
    checked = 0
    for name, version in mutations(doc, random.Random(seed)):
        spec = load(version)
        remembered = detail(spec)
        with validate.remembering():
            assert remembered == detail(spec, as_json=False), name
        checked += len(remembered)
    assert checked > 40 * 10
    assert len(walks) == 40 and sum(walks[1:]) < walks[0] * 39  # less walked than anew


def test_a_document_that_sets_an_id_is_checked_whole(walks: list[int]) -> None:
    with_id = edit(_set(["components", "schemas", "Server", "$id"], "https://example.com/s"))
    spec = load(with_id(BASE))
    got = detail(spec)
    assert walks == []  # never split: jsonschema-path reads it, as without a memory
    with validate.remembering():
        assert got == detail(spec, as_json=False)


def test_the_merge_goes_only_into_records_that_say_something() -> None:
    """A record holding nothing but visits, leading only to such records, says
    nothing wherever the walk meets it: only the others (loud) are gone into."""
    a, b, c, d, e, gone = (("api.json", f"/components/schemas/{n}") for n in "abcdeg")
    fresh = {
        a: (("v", b, True, None),),  # leads to b, which leads to an error
        b: (("v", c, True, None), ("e", "an error")),
        c: (("v", c, True, None),),  # a quiet cycle
        d: (("v", e, True, None),),  # leads to a known loud record
        e: (("v", gone, True, None),),  # leads to a schema with no record
    }
    known_loud = ("api.json", "/components/schemas/k")
    known = {known_loud: (("x", "said"),), ("bool", True): ()}
    fresh[d] = (*fresh[d], ("v", known_loud, True, None))
    loud = unitwise.loud_nodes(fresh, known, {known_loud})
    assert loud == {a, b, d, e, known_loud}
    # The merge says the same with and without going into the quiet records.
    order = [("components", "schemas", "x")]
    roots = {order[0]: tuple(("v", key, True, key) for key in (c, a, ("bool", True)))}
    nodes = {**known, **fresh}

    def issue(file: str, pointer: str, message: str) -> tuple[str, str, str]:
        return file, pointer, message

    everything = unitwise.merge(order, roots, nodes, 10, issue)
    assert unitwise.merge(order, roots, nodes, 10, issue, loud) == everything == ["an error"]


def test_a_valid_specs_records_are_mostly_quiet(walks: list[int]) -> None:
    """A memory knows which records say something: for a spec whose issues are few,
    few of them; the next version keeps what held."""
    path = CORPUS / "apis-guru" / "airbyte.local" / "config.json"
    doc = json.loads(path.read_text())
    detail(load(doc, "config.json"))
    memory = next(iter((validate._MEMORY or {}).values()))
    assert memory.loud and 10 * len(memory.loud) < len(memory.nodes)
    edited = json.loads(json.dumps(doc))
    edited["info"]["description"] = "edited"
    detail(load(edited, "config.json"))
    again = next(iter((validate._MEMORY or {}).values()))
    assert again.loud == memory.loud and walks[-1] == 0
