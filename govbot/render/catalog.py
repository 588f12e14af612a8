"""The rule catalogue as text, JSON and Markdown, from the rules' docstrings."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable
from typing import Any

from govbot.findings import Audience
from govbot.render.links import plural, rule_url
from govbot.rules.registry import PROFILES, Rule

_SECTION_RE = re.compile(
    r"^(What it checks|Why it matters|Why is this bad\?|Example|Examples|Fix|Use instead|References|Options)\s*:?\s*$"
)


def _severities(rule: Rule) -> str:
    ext = rule.severity[Audience.EXTERNAL].value
    others = [
        f"{a.value}: {rule.severity[a].value}"
        for a in (Audience.EXTERNAL_ADMIN, Audience.INTERNAL)
        if rule.severity[a] != rule.severity[Audience.EXTERNAL]
    ]
    return ext + (f" ({', '.join(others)})" if others else "")


def profiles_text(rule: Rule) -> str:
    """The profiles a rule belongs to: ``api-sig``, ``generic`` or ``all``."""
    if rule.profiles >= set(PROFILES):
        return "all"
    return ",".join(p for p in PROFILES if p in rule.profiles)


def render_rules_text(rules: Iterable[Rule]) -> str:
    """One line per rule: code, name, kind, profile(s), default severity, summary."""
    rules = list(rules)
    width = max((len(r.name) for r in rules), default=10)
    lines = [
        f"{r.code}  {r.name:<{width}}  {r.kind:<5}  {profiles_text(r):<7}  {r.summary}  "
        f"[{_severities(r)}]"
        for r in rules
    ]
    return (
        "\n".join(lines)
        + f"\n\n{plural(len(rules), 'rule')}; `govbot rules CODE` shows one rule's documentation. "
        "Profiles: api-sig (OpenStack's API-SIG guidelines), generic (what the wider field "
        "agrees on), all (both); the policy's `profiles` picks one per project.\n"
    )


def render_rule_text(rule: Rule, *, docs_base: str) -> str:
    """One rule's documentation: its metadata, then its docstring."""
    out = [
        f"{rule.code} {rule.name}",
        f"kind: {rule.kind}; profile: {profiles_text(rule)}; severity: {_severities(rule)}",
    ]
    if rule.options:
        out.append(
            "options: " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in rule.options.items())
        )
    if rule.guideline:
        out.append(f"guideline: {rule.guideline}")
    out.append(f"docs: {rule_url(rule.code, docs_base)}")
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
            "profiles": [p for p in PROFILES if p in r.profiles],
            "help": rule_url(r.code, docs_base),
            "doc": r.doc,
        }
        for r in rules
    ]


def rule_markdown(rule: Rule, *, docs_base: str, heading: bool = True) -> str:
    """One rule's documentation in Markdown (its docstring sections become headings)."""
    out = []
    if heading:
        out += [f"## {rule.code} {rule.name}", ""]
    out += [
        f"*{rule.kind} rule; profile {profiles_text(rule)}; severity {_severities(rule)}*",
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
        out += [f"[Documentation]({rule_url(rule.code, docs_base)})", ""]
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
