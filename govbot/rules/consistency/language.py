"""The English the CON rules need: plurals, boolean names by meaning, names that are data.

Plurals and singulars come from ``inflect`` (a maintained inflection library), with its
classical mode for Latin and Greek plurals, never from "ends in s": ``amphorae`` is
the plural of ``amphora``, ``analysis`` and ``status`` are singular, ``series`` and
``chassis`` are both.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import inflect

_MODERN = inflect.engine()
_CLASSICAL = inflect.engine()
_CLASSICAL.classical(all=True)


@functools.lru_cache(maxsize=4096)
def is_plural(word: str) -> bool:
    """Whether ``word`` (one lower-case word) can be read as a plural noun.

    A word is plural when one of the engines singularises it and pluralises the result
    back to it (``servers`` <-> ``server``), or when it is its own plural (``series``,
    ``news``). Latin first-declension plurals (``amphorae``, ``formulae``) count too:
    inflect only knows a closed list of them.
    """
    if not word.isalpha():
        return True  # not an English word (an abbreviation with digits): no opinion
    if word.endswith(("sis", "xis")):
        return False  # Greek and Latin singulars whose plural ends in -es: analysis, axis
    if _MODERN.singular_noun(word) is False and _MODERN.plural_noun(word) == word:  # type: ignore[arg-type]
        return True  # its own plural in today's English: series, news, chassis
    for engine in (_MODERN, _CLASSICAL):
        single = engine.singular_noun(word)  # type: ignore[arg-type]
        if single is not False and single != word and engine.plural_noun(single) == word:  # type: ignore[arg-type]
            return True
    return len(word) > 4 and word.endswith("ae")


@functools.lru_cache(maxsize=4096)
def plural_of(word: str) -> str:
    """The plural of a singular ``word`` (``amphora`` -> ``amphorae``, ``policy`` -> ``policies``)."""
    if not word.isalpha():
        return word
    if word.endswith("a") and _CLASSICAL.plural_noun(word) != _MODERN.plural_noun(word):  # type: ignore[arg-type]
        return str(_CLASSICAL.plural_noun(word))  # type: ignore[arg-type]
    return str(_MODERN.plural_noun(word))  # type: ignore[arg-type]


@functools.lru_cache(maxsize=4096)
def singular_of(word: str) -> str:
    """The singular of ``word`` when it is a plural, else ``word`` (``amphorae`` -> ``amphora``)."""
    if not word.isalpha() or not is_plural(word):
        return word
    for engine in (_MODERN, _CLASSICAL):
        single = engine.singular_noun(word)  # type: ignore[arg-type]
        if single is not False and engine.plural_noun(single) == word:  # type: ignore[arg-type]
            return str(single)
    if word.endswith("ae"):
        return word[:-1]
    return word


# --- boolean names (API-SIG naming guideline, "Boolean fields") ---------------------------

# Words that negate what follows: `not_enabled`, `no_gateway`, `non_shared`.
NEGATIONS = frozenset({"not", "no", "non", "never", "without"})
# Negative adjectives of the guideline's own example (`disabled` rather than `enabled`).
NEGATIVE_ADJECTIVES = frozenset({"disabled", "unset", "hidden", "unavailable"})
# A boolean that states a capability or a permission is positive whatever its verb:
# `can_disable_second_factor` says something can be done, not that it is disabled.
CAPABILITY_PREFIXES = frozenset({"can", "may", "allow", "allows", "supports", "support"})
# Verb forms the guideline names ("enable_dhcp"); CON003 reports them, CON004 does not.
VERB_PREFIXES = frozenset({"enable", "disable"})


def negative_boolean(parts: list[str]) -> str | None:
    """The negative word of a boolean name (its lower-case words), or None.

    By meaning: a capability (``can_``, ``allow_``...) is positive; a verb form
    (``disable_x``) is CON003's verb finding, not a second report here.
    """
    if not parts or parts[0] in CAPABILITY_PREFIXES or parts[0] in VERB_PREFIXES:
        return None
    for word in parts:
        if word in NEGATIONS or word in NEGATIVE_ADJECTIVES:
            return word
    return None


# --- names that are data ------------------------------------------------------------------

# JSON Schema keywords spelled in camelCase. An object whose properties are JSON Schema
# keywords carries a schema as data (image metadata definitions, for one); their names
# are fixed by JSON Schema, not chosen by the API.
SCHEMA_KEYWORDS = frozenset(
    {
        "maxLength", "minLength", "maxItems", "minItems", "uniqueItems", "maxProperties",
        "minProperties", "additionalProperties", "additionalItems", "patternProperties",
        "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "readOnly", "writeOnly",
        "allOf", "anyOf", "oneOf", "propertyNames", "unevaluatedProperties",
        "unevaluatedItems", "dependentRequired", "dependentSchemas", "contentMediaType",
        "contentEncoding", "maxContains", "minContains", "$ref", "$schema", "$id", "$defs",
        "$comment", "$anchor",
    }
)  # fmt: skip
# Lower-case keywords: evidence that an object carries a schema, though harmless names.
_SCHEMA_EVIDENCE = frozenset(
    {"type", "enum", "items", "minimum", "maximum", "pattern", "format", "default",
     "properties", "required", "const"}
)  # fmt: skip
_KEY_LIKE = re.compile(
    r"^(?:\d+|[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$",
    re.IGNORECASE,
)


def data_names(names: Iterable[str]) -> frozenset[str]:
    """The property names of one object schema that are data, not field names.

    Map keys written out as properties (ids: ``"1"``, ``"2"``, uuids) and, in an object
    that carries a JSON Schema (two or more of its properties are schema keywords),
    the camelCase keywords (``maxLength``).
    """
    names = list(names)
    out = {n for n in names if _KEY_LIKE.match(n)}
    keywords = [n for n in names if n in SCHEMA_KEYWORDS]
    evidence = len(keywords) + sum(1 for n in names if n in _SCHEMA_EVIDENCE)
    if keywords and evidence >= 2:
        out.update(keywords)
    return frozenset(out)
