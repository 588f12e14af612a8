"""Findings, audiences and the rule catalogue as text, JSON, SARIF 2.1.0 and Markdown.

Rendering never decides anything: it prints what :mod:`govbot.evaluate` decided.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import click

import govbot
from govbot.findings import Audience, Finding, Severity
from govbot.openapi.audience import Classification
from govbot.rules.registry import Rule
from govbot.services.check import Report

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
_SECTION_RE = re.compile(
    r"^(What it checks|Why it matters|Why is this bad\?|Example|Examples|Fix|Use instead|References|Options)\s*:?\s*$"
)


# --- findings ----------------------------------------------------------------------------


def render_text(report: Report, *, color: bool = False, docs_base: str = "") -> str:
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
        out.append("")
    out.append(summary_line(report, color=color))
    if report.findings:
        codes = sorted({f.rule for f in report.findings})
        where = f" or {docs_base.rstrip('/')}/rules/CODE" if docs_base else ""
        out.append(
            style(f"Rule documentation: govbot rules CODE{where} ({', '.join(codes)})", dim=True)
        )
    return "\n".join(out) + "\n"


def summary_line(report: Report, *, color: bool = False) -> str:
    """``2 errors, 1 warning, 0 info in 3 specs (1 waived)``."""
    s = report.summary
    parts = [_plural(s.errors, "error"), _plural(s.warnings, "warning"), f"{s.info} info"]
    text = ", ".join(parts) + f" in {_plural(s.specs, 'spec')}"
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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render_json(report: Report) -> str:
    """``{"findings": [...], "summary": {...}}``; each finding as in design.md §3."""
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def sarif_log(report: Report, rules: Sequence[Rule], *, docs_base: str) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log: one run, every rule described, one result per finding.

    Waived findings and those silenced by ``x-govbot-ignore`` are included as
    suppressed results, so that code-scanning tools show them as such.
    """
    docs_base = docs_base.rstrip("/")
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
                    "helpUri": f"{docs_base}/rules/{finding.rule}",
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


def render_sarif(report: Report, rules: Sequence[Rule], *, docs_base: str) -> str:
    """:func:`sarif_log` as JSON text."""
    return (
        json.dumps(sarif_log(report, rules, docs_base=docs_base), indent=2, ensure_ascii=False)
        + "\n"
    )


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
        "helpUri": f"{docs_base}/rules/{rule.code}",
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
    location: dict[str, Any] = {"physicalLocation": physical}
    if f.pointer:
        location["logicalLocations"] = [{"fullyQualifiedName": f.pointer, "kind": "member"}]
    properties: dict[str, Any] = {"pointer": f.pointer, "side": f.side, "scope": f.scope}
    if f.audience is not None:
        properties["audience"] = f.audience.value
    return {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [location],
        "partialFingerprints": {"govbot/v1": f.fingerprint or f.with_fingerprint().fingerprint},
        "properties": properties,
    }


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
        f"{_plural(total, 'operation')}" + (f": {summary}" if summary else ""),
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


# --- the rule catalogue ------------------------------------------------------------------


def _severities(rule: Rule) -> str:
    ext = rule.severity[Audience.EXTERNAL].value
    others = [
        f"{a.value}: {rule.severity[a].value}"
        for a in (Audience.EXTERNAL_ADMIN, Audience.INTERNAL)
        if rule.severity[a] != rule.severity[Audience.EXTERNAL]
    ]
    return ext + (f" ({', '.join(others)})" if others else "")


def render_rules_text(rules: Iterable[Rule]) -> str:
    """One line per rule: code, name, kind, default severity, summary."""
    rules = list(rules)
    width = max((len(r.name) for r in rules), default=10)
    lines = [
        f"{r.code}  {r.name:<{width}}  {r.kind:<5}  {r.summary}  [{_severities(r)}]" for r in rules
    ]
    return (
        "\n".join(lines)
        + f"\n\n{_plural(len(rules), 'rule')}; `govbot rules CODE` shows one rule's documentation.\n"
    )


def render_rule_text(rule: Rule, *, docs_base: str) -> str:
    """One rule's documentation: its metadata, then its docstring."""
    out = [
        f"{rule.code} {rule.name}",
        f"kind: {rule.kind}; severity: {_severities(rule)}",
    ]
    if rule.options:
        out.append(
            "options: " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in rule.options.items())
        )
    if rule.guideline:
        out.append(f"guideline: {rule.guideline}")
    out.append(f"docs: {docs_base.rstrip('/')}/rules/{rule.code}")
    out.extend(["", rule.doc])
    return "\n".join(out) + "\n"


def rules_json(rules: Iterable[Rule], *, docs_base: str) -> list[dict[str, Any]]:
    """The catalogue as JSON-ready dictionaries."""
    return [
        {
            "code": r.code,
            "name": r.name,
            "kind": r.kind,
            "summary": r.summary,
            "severity": {a.value: r.severity[a].value for a in Audience},
            "options": dict(r.options),
            "guideline": r.guideline,
            "help": f"{docs_base.rstrip('/')}/rules/{r.code}",
            "doc": r.doc,
        }
        for r in rules
    ]


def render_rules_json(rules: Iterable[Rule], *, docs_base: str) -> str:
    """``{"rules": [...]}``."""
    return (
        json.dumps({"rules": rules_json(rules, docs_base=docs_base)}, indent=2, ensure_ascii=False)
        + "\n"
    )


def rule_markdown(rule: Rule, *, docs_base: str, heading: bool = True) -> str:
    """One rule's documentation in Markdown (its docstring sections become headings)."""
    out = []
    if heading:
        out += [f"## {rule.code} {rule.name}", ""]
    out += [
        f"*{rule.kind} rule; severity {_severities(rule)}*",
        "",
    ]
    if rule.options:
        out += [
            "Options: " + ", ".join(f"`{k}` = `{json.dumps(v)}`" for k, v in rule.options.items()),
            "",
        ]
    summary, sections = doc_sections(rule.doc)
    out += [summary, ""]
    for title, body in sections:
        if title:
            out += [f"{'####' if heading else '###'} {title}", ""]
        out += [body, ""]
    if heading:
        out += [f"[Documentation]({docs_base.rstrip('/')}/rules/{rule.code})", ""]
    return "\n".join(out).rstrip() + "\n"


def render_rules_markdown(rules: Iterable[Rule], *, docs_base: str) -> str:
    """The whole catalogue as one Markdown document."""
    rules = list(rules)
    toc = [
        f"| [{r.code}](#{r.code.lower()}-{r.name}) | {r.name} | {r.kind} | {_severities(r)} | {r.summary} |"
        for r in rules
    ]
    head = [
        "# govbot rules",
        "",
        "| code | name | kind | severity | summary |",
        "|---|---|---|---|---|",
        *toc,
        "",
    ]
    return "\n".join(head) + "\n" + "\n".join(rule_markdown(r, docs_base=docs_base) for r in rules)


def doc_sections(doc: str) -> tuple[str, list[tuple[str, str]]]:
    """A rule docstring split into its summary and its (title, body) sections."""
    lines = doc.splitlines()
    summary_lines: list[str] = []
    i = 0
    while i < len(lines) and lines[i].strip():
        summary_lines.append(lines[i].strip())
        i += 1
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in lines[i:]:
        m = _SECTION_RE.match(line.strip()) if not line.startswith(" ") else None
        if m:
            sections.append((m.group(1), []))
            continue
        inline = re.match(
            r"^(What it checks|Why it matters|Example|Fix|References):\s+(\S.*)$", line
        )
        if inline:
            sections.append((inline.group(1), [inline.group(2)]))
            continue
        sections[-1][1].append(line)
    out = []
    for title, body in sections:
        text = textwrap.dedent("\n".join(body)).strip()
        if title or text:
            out.append((title, text))
    return " ".join(summary_lines), out
