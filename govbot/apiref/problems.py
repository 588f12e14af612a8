"""Problem codes of the api-ref reader, the policy-defaults reader and the ledger reader.

Input problems are facts: each becomes a :class:`~govbot.findings.Finding` in
``Spec.findings`` (or in the facts a reader returns) with one of these codes, at the file
and line where it is. The evaluator reports a code that no rule claims as the reader
rated it, so these are reported even before rules document them.
"""

from __future__ import annotations

from collections.abc import Mapping

from govbot.apiref.surface import Finding, Severity

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

NAMES: Mapping[str, str] = {
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

SEVERITY: Mapping[str, Severity] = {
    INCLUDE_OUTSIDE: Severity.WARNING,
    PARAMETERS_MISSING: Severity.ERROR,
    PARAMETERS_INVALID: Severity.ERROR,
    PARAMETER_UNDEFINED: Severity.ERROR,
    UNREADABLE: Severity.ERROR,
    SKIPPED: Severity.INFO,
    DUPLICATE_KEY: Severity.WARNING,
    POLICY_UNREADABLE: Severity.WARNING,
    POLICY_UNRESOLVED: Severity.INFO,
    LEDGER_UNREADABLE: Severity.WARNING,
}


def problem(code: str, message: str, file: str, line: int | None) -> Finding:
    """A finding for an input problem, rated as this module rates it."""
    return Finding(
        rule=code,
        name=NAMES[code],
        severity=SEVERITY[code],
        message=message,
        file=file,
        line=line,
        pointer="",
    )
