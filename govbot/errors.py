"""The one small exception hierarchy.

Problems in the *input* (a broken spec, an unparseable sunset date) are findings,
never exceptions. These are for the cases where govbot cannot run at all.
"""

from __future__ import annotations


class GovbotError(Exception):
    """Base class; the CLI turns it into a one-line message and exit code 2."""


class ConfigError(GovbotError):
    """Deployment settings are missing or wrong."""


class PolicyError(GovbotError):
    """A governance policy file is unreadable or does not match its schema."""


class SpecError(GovbotError):
    """A spec cannot be read at all (missing file, unreadable path)."""


class GerritError(GovbotError):
    """Gerrit refused or failed a request in a way the caller must handle."""
