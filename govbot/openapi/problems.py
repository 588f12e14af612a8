"""The problems the OpenAPI reader reports: their codes and names, and the reader's limits.

Each code is also the code of the load rule that reports it under the policy
(:mod:`govbot.rules.loading`); they live here so that the reader needs nothing from the
rules.
"""

from __future__ import annotations

from collections.abc import Mapping

SYNTAX_ERROR = "OAS001"
FILE_TOO_LARGE = "OAS002"
BINARY_FILE = "OAS003"
NOT_UTF8 = "OAS004"
ALIAS_BOMB = "OAS005"
TOO_DEEP = "OAS006"
NOT_OPENAPI = "OAS007"
UNSUPPORTED_VERSION = "OAS008"
REMOTE_REF = "OAS009"
OUTSIDE_ROOT = "OAS010"
REF_FILE_MISSING = "OAS011"
REF_TARGET_MISSING = "OAS012"
REF_LOOP = "OAS013"
INVALID = "OAS014"
VALIDATOR_FAILED = "OAS015"
YAML_TAG = "OAS016"

PROBLEMS: Mapping[str, str] = {
    SYNTAX_ERROR: "syntax-error",
    FILE_TOO_LARGE: "file-too-large",
    BINARY_FILE: "binary-file",
    NOT_UTF8: "not-utf8",
    ALIAS_BOMB: "alias-bomb",
    TOO_DEEP: "nesting-too-deep",
    NOT_OPENAPI: "not-openapi",
    UNSUPPORTED_VERSION: "unsupported-version",
    REMOTE_REF: "remote-ref",
    OUTSIDE_ROOT: "outside-root",
    REF_FILE_MISSING: "ref-file-missing",
    REF_TARGET_MISSING: "ref-target-missing",
    REF_LOOP: "ref-loop",
    INVALID: "invalid-openapi",
    VALIDATOR_FAILED: "validator-failed",
    YAML_TAG: "yaml-tag",
}

SUPPORTED_VERSIONS = ("2.0", "3.0", "3.1", "3.2")
MAX_BYTES = 64 * 1024 * 1024
MAX_ALIAS_NODES = 1_000_000
# orjson refuses JSON nested deeper than 1024; YAML gets about the same bound.
MAX_DEPTH = 1000
# The parsers have nesting limits of their own near MAX_DEPTH (libyaml 1000, orjson 1024)
# and read ahead of govbot's count, so one of them may stop first. A parser that stops
# where the document is nested at least this deep (govbot measures it) stopped for the
# nesting, whatever its message says: no real spec comes near.
DEEP_AT_ERROR = MAX_DEPTH // 2
# Documents up to this size also get openapi-spec-validator's detailed (slower) checks.
DETAIL_MAX_BYTES = 2 * 1024 * 1024
MAX_VALIDATION_FINDINGS = 50


class Refused(Exception):
    """A file the reader will not use; becomes a :class:`~govbot.findings.Problem`."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
