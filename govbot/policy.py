"""Governance policy: the TC's YAML in ``policies/``, checked against a JSON Schema.

Policy says *what* is enforced (rules, severities, audiences, windows, waivers);
deployment settings (URLs, credentials) live in :mod:`govbot.settings` and never here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from govbot.findings import Severity


@dataclass(frozen=True)
class RuleConfig:
    enabled: bool = True
    severity: Severity | None = None  # overrides the rule's default for every audience
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Waiver:
    """A finding the TC agreed to accept: which rule, where, why and until when."""

    rule: str
    path: str = "**"  # glob over the spec's file path
    pointer: str = ""  # JSON-pointer prefix inside the spec ("" = anywhere)
    reason: str = ""
    expires: dt.date | None = None
    source: str = ""  # policy file that declared it, for messages


@dataclass(frozen=True)
class AudienceConfig:
    """Policy rules of design.md §4.1 step 2 (explicit markers in the spec come first)."""

    internal_files: tuple[str, ...] = ()  # spec path globs, e.g. "api-specs/internal/**"
    admin_files: tuple[str, ...] = ()
    internal_paths: tuple[str, ...] = ()  # URL path regexes
    admin_paths: tuple[str, ...] = ()
    internal_tags: tuple[str, ...] = ()  # case-insensitive tag names
    admin_tags: tuple[str, ...] = ()
    internal_servers: tuple[str, ...] = ()  # server URL regexes
    admin_scopes: tuple[str, ...] = ()  # security scopes/roles that mean admin-only
    admin_descriptions: tuple[str, ...] = ()  # description regexes ("only ... administrative role")


@dataclass(frozen=True)
class Policy:
    source: str  # directory or file it came from
    digest: str  # sha256 of the policy content: a review is idempotent per policy version
    rules: Mapping[str, RuleConfig] = field(default_factory=dict)
    audience: AudienceConfig = field(default_factory=AudienceConfig)
    # Files that count as API specs in a git range / Gerrit change.
    spec_globs: tuple[str, ...] = ("api-specs/**/*.yaml", "api-specs/**/*.yml", "api-specs/**/*.json")
    waivers: tuple[Waiver, ...] = ()
    # Preferred terms: discouraged field name -> preferred one (project_id, not tenant_id).
    glossary: Mapping[str, str] = field(default_factory=dict)
    max_file_bytes: int = 64 * 1024 * 1024
    # Raw document kept for later issues' sections (review, escalation, blueprints).
    raw: Mapping[str, Any] = field(default_factory=dict)

    def rule_config(self, code: str) -> RuleConfig:
        return self.rules.get(code, RuleConfig())


def load_policy(path: str | None = None) -> Policy:  # pragma: no cover - replaced below
    raise NotImplementedError
