"""Importing this module registers every rule family."""

from govbot.rules import consistency, cross, deprecation, loading, policy_rules  # noqa: F401
