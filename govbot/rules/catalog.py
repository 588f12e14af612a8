"""Importing this module registers every rule family."""

from govbot.rules import (  # noqa: F401
    blueprints,
    consistency,
    cross,
    deprecation,
    loading,
    policy_rules,
)
