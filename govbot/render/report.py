"""A check's report as text, JSON and SARIF 2.1.0, and audiences as text and JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import click
import orjson

import govbot
from govbot.audience import Classification
from govbot.findings import Audience, Finding, Location, Report, Severity
from govbot.render.catalog import rule_markdown
from govbot.render.links import finding_json, more_places, plural, rule_url
from govbot.rules.registry import Rule

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://opendev.org/openstack/govbot"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_COLOUR = {
    Severity.ERROR: ("red", True),
    Severity.WARNING: ("yellow", True),
    Severity.INFO: ("cyan", False),
}


def render_text(report: Report[Classification], *, color: bool = False, docs_base: str = "") -> str:
    """Findings grouped by file (base-side findings under the base file), then the counts."""

    def style(text: str, **kw: Any) -> str:
        return click.style(text, **kw) if color else text

    out: list[str] = []
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in report.findings:
        groups.setdefault((f.file, f.side), []).append(f)
    width = max((len(str(f.line or "")) for f in report.findings), default=1)
    for (file, side), findings in groups.items():
        header = f"{file} (base)" if side == "base" else file
        out.append(style(header, bold=True, underline=True))
        for f in findings:
            fg, bold = _COLOUR[f.severity]
            line = str(f.line) if f.line is not None else "-"
            severity = style(f"{f.severity.value:<7}", fg=fg, bold=bold)
            audience = f" [{f.audience.value}]" if f.audience is not None else ""
            out.append(
                f"  {line:>{width}}  {severity} {style(f.rule, bold=True)} {f.message}{audience}"
            )
            if f.pointer:
                out.append(" " * (width + 12) + style(f"at {f.pointer} ({f.name})", dim=True))
            elif f.name:
                out.append(" " * (width + 12) + style(f"({f.name})", dim=True))
            if f.locations:
                out.append(" " * (width + 12) + style(more_places(f), dim=True))
        out.append("")
    out.append(summary_line(report, color=color))
    if report.findings:
        codes = sorted({f.rule for f in report.findings})
        where = f" or {rule_url('CODE', docs_base)}" if docs_base else ""
        out.append(
            style(f"Rule documentation: govbot rules CODE{where} ({', '.join(codes)})", dim=True)
        )
    return "\n".join(out) + "\n"


def summary_line(report: Report[Classification], *, color: bool = False) -> str:
    """``2 errors, 1 warning, 0 info in 3 specs (1 waived)``."""
    s = report.summary
    parts = [plural(s.errors, "error"), plural(s.warnings, "warning"), f"{s.info} info"]
    text = ", ".join(parts) + f" in {plural(s.specs, 'spec')}"
    quiet = []
    if s.waived:
        quiet.append(f"{s.waived} waived by the policy")
    if s.suppressed:
        quiet.append(f"{s.suppressed} suppressed by x-govbot-ignore")
    hidden = s.total - len(report.findings)
    if hidden > 0:
        quiet.append(f"{hidden} below --min-severity not shown")
    if quiet:
        text += f" ({', '.join(quiet)})"
    if color:
        fg = "red" if s.errors else "yellow" if s.warnings else "green"
        return click.style(text, fg=fg, bold=True)
    return text


def report_json(report: Report[Classification], docs_base: str) -> dict[str, Any]:
    """``{"findings": [...], "summary": {...}}``, the summary naming the policy."""
    summary = report.summary.to_json()
    summary["policy"] = {"source": report.policy_source, "digest": report.policy_digest}
    return {"findings": [finding_json(f, docs_base) for f in report.findings], "summary": summary}


def render_json(report: Report[Classification], docs_base: str) -> str:
    """:func:`report_json` as JSON text (``govbot check --format json``)."""
    return json_text(report_json(report, docs_base))


def json_text(value: Any) -> str:
    """``value`` as JSON indented by two, not ASCII-escaped, with a final newline: the
    text ``json.dumps(value, indent=2, ensure_ascii=False)`` writes, made by orjson
    (the standard library's indenting encoder is pure Python: tens of milliseconds for
    the hundreds of findings of a big spec)."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n"


def sarif_log(
    report: Report[Classification], rules: Sequence[Rule], *, docs_base: str
) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log: one run, every rule described, one result per finding.

    Waived findings and those silenced by ``x-govbot-ignore`` are included as
    suppressed results, so that code-scanning tools show them as such.
    """
    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule in rules:
        index[rule.code] = len(descriptors)
        descriptors.append(_sarif_rule(rule, docs_base))
    results = []
    for finding, suppression in (
        *((f, None) for f in report.findings),
        *((f, ("external", f.note)) for f in report.waived),
        *((f, ("inSource", f.note)) for f in report.suppressed),
    ):
        if finding.rule not in index:
            index[finding.rule] = len(descriptors)
            descriptors.append(
                {
                    "id": finding.rule,
                    "name": finding.name or finding.rule,
                    "shortDescription": {"text": finding.name or finding.rule},
                    "helpUri": rule_url(finding.rule, docs_base),
                }
            )
        result = _sarif_result(finding, index[finding.rule])
        if suppression is not None:
            kind, justification = suppression
            result["suppressions"] = [{"kind": kind, "justification": justification or kind}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "govbot",
                        "version": govbot.__version__,
                        "semanticVersion": govbot.__version__,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
                "properties": {
                    "policy": {"source": report.policy_source, "digest": report.policy_digest},
                    "summary": report.summary.to_json(),
                },
            }
        ],
    }


def render_sarif(report: Report[Classification], rules: Sequence[Rule], *, docs_base: str) -> str:
    """:func:`sarif_log` as JSON text."""
    return json_text(sarif_log(report, rules, docs_base=docs_base))


def _sarif_rule(rule: Rule, docs_base: str) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.doc},
        "help": {
            "text": rule.doc,
            "markdown": rule_markdown(rule, docs_base=docs_base, heading=False),
        },
        "helpUri": rule_url(rule.code, docs_base),
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.default_severity(Audience.EXTERNAL)]},
        "properties": {
            "kind": rule.kind,
            "family": rule.family,
            "severity": {a.value: rule.severity[a].value for a in Audience},
            "tags": [rule.family, rule.kind],
        },
    }


def _sarif_result(f: Finding, rule_index: int) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": quote(f.file)}}
    if f.line is not None and f.line >= 1:
        physical["region"] = {"startLine": f.line}
        if f.column is not None and f.column >= 1:
            physical["region"]["startColumn"] = f.column
    location: dict[str, Any] = {"physicalLocation": physical}
    if f.pointer:
        location["logicalLocations"] = [{"fullyQualifiedName": f.pointer, "kind": "member"}]
    properties: dict[str, Any] = {"pointer": f.pointer, "side": f.side, "scope": f.scope}
    if f.audience is not None:
        properties["audience"] = f.audience.value
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [location],
        "partialFingerprints": {"govbot/v1": f.identity()},
        "properties": properties,
    }
    if f.locations:
        # The other places of the same cause (one finding per cause).
        result["relatedLocations"] = [
            _sarif_related(i, loc) for i, loc in enumerate(f.locations, start=1)
        ]
    return result


def _sarif_related(index: int, loc: Location) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": quote(loc.file)}}
    if loc.line is not None and loc.line >= 1:
        physical["region"] = {"startLine": loc.line}
        if loc.column is not None and loc.column >= 1:
            physical["region"]["startColumn"] = loc.column
    out: dict[str, Any] = {
        "id": index,
        "physicalLocation": physical,
        "message": {"text": "the same cause here too"},
    }
    if loc.pointer:
        out["logicalLocations"] = [{"fullyQualifiedName": loc.pointer, "kind": "member"}]
    return out


# --- audiences ---------------------------------------------------------------------------


def render_classification_text(c: Classification, *, color: bool = False) -> str:
    """Every operation with its audience and the evidence that decided it."""

    def style(text: str, **kw: Any) -> str:
        return click.style(text, **kw) if color else text

    counts = c.counts()
    total = sum(counts.values())
    summary = ", ".join(f"{n} {a}" for a, n in counts.items() if n)
    out = [
        style(f"{c.file}: {c.spec_audience.value}", bold=True)
        + f" ({_evidence(c.spec_source, c.spec_evidence)})",
        f"{plural(total, 'operation')}" + (f": {summary}" if summary else ""),
        "",
    ]
    colour = {
        Audience.EXTERNAL: "green",
        Audience.EXTERNAL_ADMIN: "yellow",
        Audience.INTERNAL: "cyan",
    }
    rows = sorted(c.operations.items(), key=lambda kv: (kv[1].label or kv[0]).split(" ", 1)[::-1])
    for key, d in rows:
        label = d.label or key
        out.append(f"  {style(f'{d.audience.value:<14}', fg=colour[d.audience])}  {label}")
        out.append(f"  {'':<14}  {style(_evidence(d.source, d.evidence), dim=True)}")
    return "\n".join(out) + "\n"


def _evidence(source: str, evidence: str) -> str:
    return evidence if evidence.startswith(source) else f"{source}: {evidence}"


def render_classification_json(classifications: Mapping[str, Classification]) -> str:
    """``{"specs": [classification, ...]}``."""
    return (
        json.dumps(
            {"specs": [c.to_json() for c in classifications.values()]}, indent=2, ensure_ascii=False
        )
        + "\n"
    )
