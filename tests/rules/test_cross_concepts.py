"""Cross-service rules compare concepts, not bare names, and never blame both sides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from govbot.findings import Scope
from govbot.openapi.load import load_spec
from govbot.rules.catalog import get_rule
from govbot.rules.cross import concept, resource_of
from govbot.rules.registry import CrossContext
from govbot.surface import Spec
from tests.rules.harness import Audiences


def _spec(tmp_path: Path, name: str, body: dict[str, Any], path: str = "/things") -> Spec:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": name, "version": "1.0"},
        "paths": {
            path: {
                "get": {
                    "summary": "List",
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {"application/json": {"schema": body}},
                        }
                    },
                }
            }
        },
    }
    file = tmp_path / f"{name}.yaml"
    file.write_text(yaml.safe_dump(doc))
    return load_spec(file, root=tmp_path)


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


def _run(code: str, specs: tuple[Spec, ...], **kw: Any) -> list[Any]:
    rule = get_rule(code)
    assert rule is not None
    ctx = CrossContext(specs, {s.file: Audiences(s) for s in specs}, dict(rule.options), **kw)
    return list(rule.run(ctx))


def test_a_single_word_belongs_to_its_resource() -> None:
    """`weight` of a pool member and of an image store are two concepts; `created_at` one."""
    member = resource_of("/paths/~1pools/get/responses/200/properties/member")
    store = resource_of("/components/schemas/StoreList/properties/stores/items")
    assert (member, store) == ("member", "store")
    assert concept("weight", member) != concept("weight", store)
    assert concept("created_at", member) == concept("created_at", store)


def test_homonyms_on_unrelated_resources_are_not_compared(tmp_path: Path) -> None:
    """A member's integer `weight` and a store's string `weight` are no inconsistency."""
    a = _spec(tmp_path, "lb", _obj(member=_obj(weight={"type": "integer"})))
    b = _spec(
        tmp_path, "image", _obj(stores={"type": "array", "items": _obj(weight={"type": "string"})})
    )
    assert _run("CON080", (a, b)) == []


def test_the_minority_is_asked_to_change(tmp_path: Path) -> None:
    """Two specs agree on `created_at`; the third, the minority, is the one reported."""
    good = {"type": "string", "format": "date-time"}
    a = _spec(tmp_path, "a", _obj(server=_obj(created_at=good)))
    b = _spec(tmp_path, "b", _obj(volume=_obj(created_at=good)))
    c = _spec(tmp_path, "c", _obj(image=_obj(created_at={"type": "integer"})))
    hits = _run("CON080", (a, b, c))
    assert [h.file for h in hits] == [c.file]


def test_on_a_tie_the_newer_side_is_asked_to_change(tmp_path: Path) -> None:
    """One spec against one: the spec whose use the change altered is reported, not the other."""
    old = _spec(tmp_path, "old", _obj(volume=_obj(size={"type": "integer"})))
    base = _spec(tmp_path, "new-base", _obj(volume=_obj(size={"type": "integer"})))
    head = _spec(tmp_path, "new", _obj(volume=_obj(size={"type": "string"})))
    touched: dict[str, frozenset[str] | None] = {head.file: frozenset({"GET /things"})}
    hits = _run("CON080", (old, head), touched=touched, bases={head.file: base})
    assert [(h.file, h.scope) for h in hits] == [(head.file, Scope.CHANGED)]
    # Without a change under review neither side is newer: nobody is told to change.
    assert _run("CON080", (old, head)) == []
