"""The keyword table of the diff: which way each change moves the set of valid values."""

from __future__ import annotations

import pytest

from govbot.diff import Effect, effect
from govbot.diff.keywords import KEYWORDS, applies, stability, stricter

N, W, B = Effect.NARROWED, Effect.WIDENED, Effect.BOTH


@pytest.mark.parametrize(
    ("attr", "old", "new", "expected"),
    [
        # bounds: absent is the loosest
        ("minimum", 0, 1, N),
        ("minimum", 1, 0, W),
        ("minimum", None, 1, N),
        ("maximum", 100, 10, N),
        ("maximum", 10, None, W),
        ("maxLength", 64, 255, W),
        ("minItems", 0, 1, N),
        ("exclusiveMinimum", 0, 10, N),  # OpenAPI 3.1: a number
        ("exclusiveMaximum", None, True, N),  # OpenAPI 3.0: a flag on maximum
        ("prefixItems", 1, 2, N),  # one more position constrained
        # flags
        ("uniqueItems", None, True, N),
        ("required", True, False, W),
        ("nullable", None, True, W),
        ("allowEmptyValue", True, None, N),
        # values and types
        ("enum", None, ["a"], N),
        ("enum", ["a"], None, W),
        ("enum", ["a", "b"], ["a"], N),
        ("enum", ["a"], ["b"], B),
        ("x-extensible-enum", ["a"], ["a", "b"], W),
        ("type", "integer", "number", W),
        ("type", "number", "integer", N),
        ("type", "string", "integer|string", W),
        ("type", "boolean", "integer", B),
        ("type", None, "string", N),
        # constraints: present is stricter, two different ones are incomparable
        ("pattern", None, "^a$", N),
        ("pattern", "^a$", "^b$", B),
        ("pattern", "^a$", ".*", W),
        ("format", "int32", "int64", W),
        ("format", "date", "date-time", B),
        ("multipleOf", 2, 4, N),
        ("multipleOf", 4, 2, W),
        ("const", "v1", "v2", B),
        ("contentMediaType", None, "image/png", N),
        # closers: false < a schema < true or absent
        ("additionalProperties", None, False, N),
        ("additionalProperties", False, {}, W),
        ("unevaluatedProperties", {}, None, W),
        # names: more names constrain more
        ("requiredNames", (), ("a",), N),
        ("dependentRequired", {"a": ["b"]}, {"a": ["b", "c"]}, N),
        ("dependentRequired", {"a": ["b"]}, {"a": ["c"]}, B),
        ("patternProperties", ["^x-"], None, W),
        # sub-schemas: present is stricter; inside ``not`` the opposite
        ("contains", None, {"const": 1}, N),
        ("then", {"required": ["a"]}, None, W),
        ("then/requiredNames", ("a",), ("a", "b"), N),
        ("not/maximum", 10, 5, W),
        ("if/maximum", 10, 5, B),
        ("items", False, True, N),
        # alternatives: (removed, added)
        ("oneOf", (), ("Dog",), W),
        ("anyOf", ("Dog",), (), N),
        ("oneOf", ("Cat",), ("Dog",), B),
    ],
)
def test_effect_of_each_keyword(attr: str, old: object, new: object, expected: Effect) -> None:
    assert effect(attr, old, new) is expected


@pytest.mark.parametrize(
    ("attr", "old", "new"),
    [
        ("default", 1, 2),  # a default does not change what is valid
        ("if", None, {"const": 1}),  # an ``if`` alone constrains nothing
        ("description", "a", "b"),
        ("maximum", 5, 5),
        ("pattern", ".*", None),  # matching everything is no constraint
        ("type", "integer|string", "string|integer"),
    ],
)
def test_changes_without_effect(attr: str, old: object, new: object) -> None:
    assert effect(attr, old, new) is None


def test_on_a_text_wire_a_string_holds_every_scalar() -> None:
    """A parameter or header is text: ``5`` was a valid string already."""
    assert effect("type", "integer", "string", text=True) is W
    assert effect("type", "string", "integer", text=True) is N
    assert effect("type", "integer", "string") is B


def test_keywords_constrain_their_own_types_only() -> None:
    assert not applies("maximum", frozenset({"string"}))
    assert applies("maximum", frozenset({"integer"}))
    assert applies("maxLength", None)  # no declared type: any value, so it applies
    assert applies("enum", frozenset({"array"}))  # enum applies to every type


def test_all_of_parts_merge_to_the_stricter_value() -> None:
    assert stricter("minimum", 1, 5) == 5
    assert stricter("maxLength", 64, 10) == 10
    assert stricter("enum", ["a", "b"], ["b", "c"]) == ["b"]
    assert stricter("type", "integer|string", "string") == "string"
    assert stricter("additionalProperties", True, False) is False
    assert stricter("requiredNames", ("a",), ("b",)) == ("a", "b")


def test_stability_levels_and_their_aliases() -> None:
    assert stability({"x-stability-level": "beta"}) == "beta"
    assert stability({"x-stability-level": "preview"}) is None  # invalid: DEP036
    assert stability({"x-stability": "experimental"}) == "alpha"
    assert stability({"x-experimental": True}) == "alpha"
    assert stability({}) is None


def test_every_keyword_has_an_order() -> None:
    assert all(order is not None for order in KEYWORDS.values())
