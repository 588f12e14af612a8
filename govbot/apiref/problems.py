"""The problems of the api-ref reader, the policy-defaults reader and the ledger reader.

Input problems are facts: each is a :class:`~govbot.findings.Problem` (a code, a
message, a file and line, no severity) in ``Spec.problems``; the load rule of the same
code (:mod:`govbot.rules.apiref`) reports it under the policy. The codes live here so
that the readers need nothing from the rules.
"""

from __future__ import annotations

from collections.abc import Mapping

from govbot.apiref.surface import Problem

INCLUDE_OUTSIDE = "ARF001"
PARAMETERS_MISSING = "ARF002"
PARAMETERS_INVALID = "ARF003"
PARAMETER_UNDEFINED = "ARF004"
UNREADABLE = "ARF005"
SKIPPED = "ARF006"
DUPLICATE_KEY = "ARF007"
POLICY_UNREADABLE = "ARF008"
POLICY_UNRESOLVED = "ARF009"
LEDGER_UNREADABLE = "ARF010"

PROBLEMS: Mapping[str, str] = {
    INCLUDE_OUTSIDE: "api-ref-include-outside-tree",
    PARAMETERS_MISSING: "api-ref-parameters-file-missing",
    PARAMETERS_INVALID: "api-ref-parameters-file-invalid",
    PARAMETER_UNDEFINED: "api-ref-parameter-undefined",
    UNREADABLE: "api-ref-file-unreadable",
    SKIPPED: "api-ref-construct-skipped",
    DUPLICATE_KEY: "api-ref-duplicate-key",
    POLICY_UNREADABLE: "policy-file-unreadable",
    POLICY_UNRESOLVED: "policy-default-unresolved",
    LEDGER_UNREADABLE: "ledger-unreadable",
}


def problem(code: str, message: str, file: str, line: int | None) -> Problem:
    """A problem of ``code`` at ``file``:``line``."""
    return Problem(code, message, file, line=line)
