"""Importing this module registers every rule family."""

from govbot.rules import consistency, cross, deprecation, loading  # noqa: F401
