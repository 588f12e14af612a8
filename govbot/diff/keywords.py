"""What a schema keyword does to the set of valid values, and so the direction of a change.

A fact about a change, not a verdict: a change *narrows* a schema when fewer values are
valid afterwards (a higher ``minimum``, a new ``pattern``), *widens* it when more are
(``nullable`` added, an ``enum`` dropped), and does *both* when neither set contains the
other (a different ``pattern``). Whether that breaks a client depends on who sends the
value; the rules decide (``govbot/rules/deprecation/direction.py``).

One table, :data:`KEYWORDS`, says for every compared keyword how its values order; the
same table merges the parts of an ``allOf`` (every part applies, so the merged value is
the stricter one). Changes inside a sub-schema keyword reach the diff as ``"then/maximum"``
(see :func:`govbot.diff.differ.Differ`); :func:`effect` reads the path: a change under
``not`` has the opposite effect, one under ``if`` an unknown one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum, StrEnum
from typing import Any


class Effect(StrEnum):
    """How the set of valid values moved."""

    NARROWED = "narrowed"  # fewer values are valid
    WIDENED = "widened"  # more values are valid
    BOTH = "both"  # some values became valid, others invalid


class Order(Enum):
    """How the values of one keyword order, from the loosest to the strictest."""

    LOWER = "lower bound"  # a higher value is stricter; absent is loosest
    UPPER = "upper bound"  # a lower value is stricter; absent is loosest
    NARROW_FLAG = "flag"  # ``true`` is stricter (uniqueItems, required)
    WIDEN_FLAG = "widening flag"  # ``true`` is looser (nullable, allowEmptyValue)
    VALUES = "set of values"  # fewer values is stricter; absent is loosest (enum)
    TYPES = "set of types"  # fewer types is stricter; ``number`` holds ``integer``
    CLOSER = "closer"  # ``false`` < a schema < ``true`` or absent (additionalProperties)
    CONSTRAINT = "constraint"  # present is stricter; two different values: both
    NAMES = "set of names"  # more names is stricter (required names, dependentRequired)
    SUBSCHEMA = "sub-schema"  # present is stricter; changes inside come as "kw/attr"
    BRANCHES = "branches"  # (removed, added) alternatives: added widens (oneOf, anyOf)
    NEUTRAL = "no effect on validity"  # default, if, annotations, lifecycle


KEYWORDS: Mapping[str, Order] = {
    "minimum": Order.LOWER,
    "exclusiveMinimum": Order.LOWER,
    "minLength": Order.LOWER,
    "minItems": Order.LOWER,
    "minProperties": Order.LOWER,
    "minContains": Order.LOWER,
    "maximum": Order.UPPER,
    "exclusiveMaximum": Order.UPPER,
    "maxLength": Order.UPPER,
    "maxItems": Order.UPPER,
    "maxProperties": Order.UPPER,
    "maxContains": Order.UPPER,
    "uniqueItems": Order.NARROW_FLAG,
    "required": Order.NARROW_FLAG,
    "nullable": Order.WIDEN_FLAG,
    "allowEmptyValue": Order.WIDEN_FLAG,
    "enum": Order.VALUES,
    "x-extensible-enum": Order.VALUES,
    "type": Order.TYPES,
    "additionalProperties": Order.CLOSER,
    "unevaluatedProperties": Order.CLOSER,
    "unevaluatedItems": Order.CLOSER,
    "additionalItems": Order.CLOSER,
    "pattern": Order.CONSTRAINT,
    "format": Order.CONSTRAINT,
    "const": Order.CONSTRAINT,
    "multipleOf": Order.CONSTRAINT,
    "contentEncoding": Order.CONSTRAINT,
    "contentMediaType": Order.CONSTRAINT,
    "requiredNames": Order.NAMES,
    "dependentRequired": Order.NAMES,
    "patternProperties": Order.NAMES,
    "dependentSchemas": Order.NAMES,
    "prefixItems": Order.LOWER,  # the number of positions constrained
    "not": Order.SUBSCHEMA,
    "then": Order.SUBSCHEMA,
    "else": Order.SUBSCHEMA,
    "contains": Order.SUBSCHEMA,
    "propertyNames": Order.SUBSCHEMA,
    "contentSchema": Order.SUBSCHEMA,
    "items": Order.SUBSCHEMA,
    "oneOf": Order.BRANCHES,
    "anyOf": Order.BRANCHES,
    "enum-values": Order.BRANCHES,  # (removed, added) values of an enum inside a sub-schema
    "if": Order.NEUTRAL,  # alone it constrains nothing; its then/else do
    "default": Order.NEUTRAL,
}
# Sub-schema keywords whose changes the differ reports as "<keyword>/<attr>".
SUBSCHEMAS = ("not", "if", "then", "else", "contains", "propertyNames", "contentSchema")
# The same for keywords holding several sub-schemas, keyed by position or name.
SCHEMA_LISTS = ("prefixItems",)
SCHEMA_MAPS = ("patternProperties", "dependentSchemas")
# Patterns that match every string.
MATCH_ALL = frozenset({".*", "^.*$", "^.*", ".*$", "(.*)", "^(.*)$", "[\\s\\S]*"})
# Formats that hold each other: an int32 is an int64, a float a double.
WIDER_FORMAT = {"int32": "int64", "float": "double"}

# Stability levels (oasdiff's x-stability-level), in the only order they may move.
STABILITY_LEVELS = ("draft", "alpha", "beta", "stable")
UNSTABLE = frozenset({"draft", "alpha"})


# The types a keyword constrains: JSON Schema ignores ``maximum`` on a string, ``maxLength``
# on a number; a keyword of another type than the schema's has no effect.
_APPLIES: Mapping[str, frozenset[str]] = {
    **dict.fromkeys(
        ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
        frozenset({"number", "integer"}),
    ),
    **dict.fromkeys(
        ("minLength", "maxLength", "pattern", "contentEncoding", "contentMediaType"),
        frozenset({"string"}),
    ),
    **dict.fromkeys(
        ("minItems", "maxItems", "uniqueItems", "minContains", "maxContains", "prefixItems"),
        frozenset({"array"}),
    ),
    **dict.fromkeys(
        (
            "minProperties",
            "maxProperties",
            "requiredNames",
            "dependentRequired",
            "dependentSchemas",
            "propertyNames",
            "patternProperties",
            "additionalProperties",
            "unevaluatedProperties",
        ),
        frozenset({"object"}),
    ),
}


def applies(keyword: str, types: frozenset[str] | None) -> bool:
    """Whether ``keyword`` constrains values of ``types`` (None: any type)."""
    kinds = _APPLIES.get(keyword)
    return kinds is None or types is None or bool(kinds & types)


def order_of(attr: str) -> Order | None:
    """The order of the last keyword of ``attr`` ("then/maximum" -> maximum's)."""
    return KEYWORDS.get(attr.rsplit("/", 1)[-1])


def effect(attr: str, old: Any, new: Any, *, text: bool = False) -> Effect | None:
    """How the valid values moved when ``attr`` went from ``old`` to ``new`` (None: absent).

    None when the keyword has no effect on validity (``default``, annotations) or the
    values are equal. ``text``: the value travels as text (a parameter, a header), where
    every scalar is also a valid string, so ``string`` holds the other scalar types.
    """
    *outer, keyword = attr.split("/")
    order = KEYWORDS.get(keyword)
    if order is None:
        return None
    if order is Order.TYPES:
        found = _types(old, new, text=text)
    else:
        found = _effect(order, keyword, old, new)
    if found is None:
        return None
    for token in outer:
        if token == "not":
            found = _FLIP[found]
        elif token == "if":
            found = Effect.BOTH
    return found


_FLIP = {Effect.NARROWED: Effect.WIDENED, Effect.WIDENED: Effect.NARROWED, Effect.BOTH: Effect.BOTH}


def _effect(order: Order, keyword: str, old: Any, new: Any) -> Effect | None:
    if order is Order.NEUTRAL or (old == new and type(old) is type(new)):
        return None
    if order in (Order.LOWER, Order.UPPER):
        return _bound(order, old, new)
    if order is Order.NARROW_FLAG:
        return _flag(old is True, new is True, strict=True)
    if order is Order.WIDEN_FLAG:
        return _flag(old is True, new is True, strict=False)
    if order is Order.VALUES:
        return _contains(_values(new), _values(old))
    if order is Order.TYPES:
        return _types(old, new)
    if order is Order.CLOSER:
        return _ranked(_closer_rank(old), _closer_rank(new))
    if order is Order.CONSTRAINT:
        return _constraint(keyword, old, new)
    if order is Order.NAMES:
        return _more_names(_names(old), _names(new))
    if order is Order.SUBSCHEMA:
        return _ranked(_present(old), _present(new), higher_is_stricter=True)
    # BRANCHES: (removed, added)
    removed, added = bool(old), bool(new)
    if removed and added:
        return Effect.BOTH
    return Effect.WIDENED if added else Effect.NARROWED if removed else None


def _bound(order: Order, old: Any, new: Any) -> Effect | None:
    if isinstance(old, bool) or isinstance(new, bool):
        # OpenAPI 3.0's exclusiveMinimum/Maximum: a flag on minimum/maximum.
        return _flag(old is True, new is True, strict=True)
    if old is None:
        return Effect.NARROWED
    if new is None:
        return Effect.WIDENED
    if isinstance(old, int | float) and isinstance(new, int | float):
        if old == new:
            return None
        higher = new > old
        return Effect.NARROWED if higher == (order is Order.LOWER) else Effect.WIDENED
    return Effect.BOTH


def _flag(old: bool, new: bool, *, strict: bool) -> Effect | None:
    if old == new:
        return None
    narrowed = new if strict else old
    return Effect.NARROWED if narrowed else Effect.WIDENED


def _ranked(old: int, new: int, *, higher_is_stricter: bool = False) -> Effect | None:
    if old == new:
        return None
    stricter = new > old if higher_is_stricter else new < old
    return Effect.NARROWED if stricter else Effect.WIDENED


def _closer_rank(value: Any) -> int:
    """false 0 (nothing more allowed), a schema 1, true or absent 2 (anything)."""
    if value is False:
        return 0
    return 1 if isinstance(value, Mapping) else 2


def _values(value: Any) -> list[Any] | None:
    return list(value) if isinstance(value, list) else None


def _names(value: Any) -> set[Any]:
    """The constraints of a names keyword, as a set (absent: none)."""
    if isinstance(value, list | tuple):
        return {str(v) for v in value}
    if isinstance(value, Mapping):
        out: set[Any] = set()
        for k, v in value.items():
            if isinstance(v, list):  # dependentRequired: {a: [b, c]}
                out.update((str(k), str(x)) for x in v)
            else:  # patternProperties, dependentSchemas: their keys
                out.add(str(k))
        return out
    if isinstance(value, int) and not isinstance(value, bool):
        return set(range(value))
    return set()


def _present(value: Any) -> int:
    """1 when a sub-schema keyword is there (the differ records ``items`` as a flag)."""
    return 0 if value is None or value is False else 1


def _more_names(before: set[Any], after: set[Any]) -> Effect | None:
    """More required names (or dependencies, or patterns) constrain more."""
    if before == after:
        return None
    if before <= after:
        return Effect.NARROWED
    return Effect.WIDENED if after <= before else Effect.BOTH


def _contains(new: Iterable[Any] | None, old: Iterable[Any] | None) -> Effect | None:
    """The allowed values moved from ``old`` to ``new``; None means every value."""
    if old is None and new is None:
        return None
    if old is None:
        return Effect.NARROWED
    if new is None:
        return Effect.WIDENED
    new_l, old_l = list(new), list(old)
    gained = any(v not in old_l for v in new_l)
    lost = any(v not in new_l for v in old_l)
    if gained and lost:
        return Effect.BOTH
    return Effect.WIDENED if gained else Effect.NARROWED if lost else None


def type_set(value: Any) -> frozenset[str] | None:
    """The types a diff's ``type`` value allows ("integer|string"); None: any type."""
    if value is None:
        return None
    if isinstance(value, list):
        return frozenset(str(v) for v in value if v != "null")
    return frozenset(str(value).split("|"))


_SCALARS = frozenset({"integer", "number", "boolean", "string"})


def _covers(wide: frozenset[str], narrow: frozenset[str], text: bool = False) -> bool:
    return all(
        t in wide
        or (t == "integer" and "number" in wide)
        or (text and t in _SCALARS and "string" in wide)
        for t in narrow
    )


def _types(old: Any, new: Any, *, text: bool = False) -> Effect | None:
    a, b = type_set(old), type_set(new)
    if a == b:
        return None
    if a is None:
        return Effect.NARROWED
    if b is None:
        return Effect.WIDENED
    old_covers, new_covers = _covers(a, b, text), _covers(b, a, text)
    if old_covers and new_covers:
        return None
    if old_covers:
        return Effect.NARROWED
    return Effect.WIDENED if new_covers else Effect.BOTH


def _constraint(keyword: str, old: Any, new: Any) -> Effect | None:
    if keyword == "pattern":
        # A pattern that matches everything constrains nothing.
        old = None if old in MATCH_ALL else old
        new = None if new in MATCH_ALL else new
        if old == new:
            return None
    if old is None:
        return Effect.NARROWED
    if new is None:
        return Effect.WIDENED
    if keyword == "format":
        if WIDER_FORMAT.get(str(old)) == new:
            return Effect.WIDENED
        if WIDER_FORMAT.get(str(new)) == old:
            return Effect.NARROWED
    if keyword == "multipleOf" and _numbers(old, new) and old and new:
        # Multiples of 4 are multiples of 2: a multiple of the old step is stricter.
        if new % old == 0:
            return Effect.NARROWED
        if old % new == 0:
            return Effect.WIDENED
    return Effect.BOTH


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def stricter(attr: str, a: Any, b: Any) -> Any:
    """The value of ``attr`` when two ``allOf`` parts both set it: the stricter one.

    Every part applies, so the merged schema is their intersection: the higher lower
    bound, the lower upper bound, the common enum values, the common types.
    """
    order = KEYWORDS.get(attr)
    if order in (Order.LOWER, Order.UPPER) and _numbers(a, b):
        return max(a, b) if order is Order.LOWER else min(a, b)
    if order is Order.VALUES and isinstance(a, list) and isinstance(b, list):
        return [v for v in a if v in b]
    if order is Order.TYPES:
        ta, tb = type_set(a), type_set(b)
        if ta is not None and tb is not None and ta & tb:
            return "|".join(sorted(ta & tb))
    if order is Order.NARROW_FLAG:
        return a is True or b is True
    if order is Order.CLOSER:
        return a if _closer_rank(a) <= _closer_rank(b) else b
    if order is Order.NAMES and isinstance(a, tuple) and isinstance(b, tuple):
        return tuple(sorted(set(a) | set(b)))
    return a


def stability(value: Any) -> str | None:
    """The stability level a spec object declares: ``x-stability-level`` (draft, alpha,
    beta, stable); ``x-stability: experimental`` and ``x-experimental: true`` count as
    alpha. None when it declares none (or an invalid level, which DEP036 reports)."""
    if not isinstance(value, Mapping):
        return None
    level = value.get("x-stability-level")
    if isinstance(level, str) and level in STABILITY_LEVELS:
        return level
    other = value.get("x-stability")
    if isinstance(other, str) and other.lower() in ("experimental", "alpha", "draft"):
        return "alpha" if other.lower() != "draft" else "draft"
    if value.get("x-experimental") is True:
        return "alpha"
    return None
