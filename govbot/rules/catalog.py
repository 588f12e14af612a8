"""The catalogue: every rule govbot ships, from the families imported here by name.

A new rule family is added to the list below; nothing registers itself on import.
"""

from __future__ import annotations

from govbot.rules import access, apiref, blueprints, cross, loading, microversions, policy_rules
from govbot.rules.consistency import (
    docs,
    errors,
    glossary,
    methods,
    naming,
    pagination,
    paths,
    status_codes,
    versions,
)
from govbot.rules.deprecation import (
    composition,
    lifecycle,
    parameters,
    removals,
    request,
    request_body,
    response,
    response_body,
    sunset,
)
from govbot.rules.deprecation import versions as version_rules
from govbot.rules.registry import Catalog, Rule

CATALOG = Catalog.of_modules(
    loading,
    apiref,
    naming,
    paths,
    methods,
    status_codes,
    errors,
    pagination,
    docs,
    versions,
    removals,
    sunset,
    request,
    response,
    version_rules,
    parameters,
    request_body,
    response_body,
    composition,
    lifecycle,
    microversions,
    access,
    cross,
    glossary,
    blueprints,
    policy_rules,
)


def all_rules() -> tuple[Rule, ...]:
    """Every rule of the catalogue, in code order."""
    return CATALOG.rules


def get_rule(code: str) -> Rule | None:
    """The rule of ``code`` (case-insensitive), or None."""
    return CATALOG.get(code)
