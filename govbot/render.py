"""Findings, audiences and the rule catalogue as text, JSON, SARIF 2.1.0 and Markdown;
findings as a Gerrit review (ReviewInput).

Rendering never decides anything: it prints what :mod:`govbot.evaluate` decided.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import click

import govbot
from govbot.findings import Audience, Finding, Severity
from govbot.openapi.audience import Classification
from govbot.policy import Policy
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


# --- Gerrit reviews ----------------------------------------------------------------------

# Gerrit refuses a comment or change message over ``change.commentSizeLimit`` (default
# 16 KiB, counted in UTF-8 bytes) with a 400 that rejects the whole review. Stay ~2 %
# under it, as Zuul does: what Gerrit counts is not exactly the text we send.
REVIEW_TEXT_LIMIT = 16_000
TRUNCATED = "\n… (truncated)"
# Every inline comment ends with its finding's marker, so the comments govbot posted on
# earlier patch sets can be recognised on Gerrit alone (after a lost database, too).
FINDING_MARKER_RE = re.compile(r"\[govbot:([A-Z]{3}[0-9]{3}):([0-9a-f]{8,64})\]")
# Gerrit's side of a comment on the parent (base) version of a file.
PARENT_SIDE = "PARENT"
# Gerrit's name for the commit message "file" (its lines start after a header).
COMMIT_MSG = "/COMMIT_MSG"


def finding_marker(f: Finding) -> str:
    """``[govbot:DEP001:1a2b3c4d5e6f7a8b]``: the rule and fingerprint, last in a comment."""
    return f"[govbot:{f.rule}:{f.fingerprint or f.with_fingerprint().fingerprint}]"


def finding_fingerprints(text: str) -> set[str]:
    """The fingerprints of the finding markers in a comment's text."""
    return {m.group(2) for m in FINDING_MARKER_RE.finditer(text)}


def policy_marker(digest: str) -> str:
    """The last line of every review summary: which policy version produced it.

    With the tag and the patch set of the message it identifies a posted review on
    Gerrit, which is how a review posted just before a crash is found again.
    """
    return f"govbot policy {digest[:12]}"


def has_policy_marker(message: str, digest: str) -> bool:
    """Whether a change message (Gerrit prefixes ``Patch Set N: ...``) carries the marker."""
    marker = policy_marker(digest)
    return any(line.strip() == marker for line in message.splitlines())


def fit_utf8(text: str, limit: int = REVIEW_TEXT_LIMIT, suffix: str = TRUNCATED) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (``suffix`` included when cut).

    Cuts on a character boundary, never inside a multi-byte sequence.
    """
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = max(limit - len(suffix.encode("utf-8")), 0)
    return data[:room].decode("utf-8", errors="ignore").rstrip() + suffix


def _files_index(files: Mapping[str, Any] | Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """path -> (status, old_path), from FileInfo-like values or bare paths (status M)."""
    if isinstance(files, Mapping):
        out = {}
        for path, info in files.items():
            status = getattr(info, "status", None) or "M"
            out[str(path)] = (status, getattr(info, "old_path", None))
        return out
    return {str(path): ("M", None) for path in files}


def comment_place(
    f: Finding,
    files: Mapping[str, tuple[str, str | None]],
    *,
    commit_msg_offset: int | None = None,
) -> tuple[str, str | None] | None:
    """Where an inline comment about ``f`` goes: (path in the revision, side), or None.

    Gerrit accepts comments only on files of the revision (anything else fails the whole
    review with a 400). A finding about the head goes on the file as it is in this patch
    set; one about the base (a removed operation, a deleted spec) on the parent side of
    that file: under its own path when modified or deleted, under its new path when
    renamed or copied. A finding about the commit message goes on ``/COMMIT_MSG`` only
    when the caller gives ``commit_msg_offset`` (the lines of Gerrit's header above the
    message) and the finding has a line.
    """
    if f.file == COMMIT_MSG and commit_msg_offset is not None:
        return (COMMIT_MSG, None) if f.line is not None and f.line >= 1 else None
    if f.file.startswith("/"):
        return None  # /COMMIT_MSG and friends: not a spec
    entry = files.get(f.file)
    if f.side == "base":
        for path, (status, old_path) in files.items():
            if old_path == f.file and status in ("R", "C"):
                return path, PARENT_SIDE
        if entry is not None and entry[0] != "A":
            return f.file, PARENT_SIDE
        return None
    if entry is not None and entry[0] != "D":
        return f.file, None
    return None


def review_comment(f: Finding, *, docs_base: str) -> str:
    """One inline comment: severity, rule code and name, the message, the help link, the marker."""
    head = f"{f.severity.value} {f.rule} {f.name}".rstrip()
    where = []
    if f.audience is not None:
        where.append(f"audience: {f.audience.value}")
    if f.pointer:
        where.append(f"at {f.pointer}")
    body = f.message + (f"\n\n{'; '.join(where)}" if where else "")
    link = f.help or f"{docs_base.rstrip('/')}/rules/{f.rule}"
    tail = f"Rule documentation: {link}\n\n{finding_marker(f)}"
    # The head and the tail (with the marker) always survive; the body is what gets cut.
    fixed = len(f"{head}\n\n\n\n{tail}".encode())
    body = fit_utf8(body, max(REVIEW_TEXT_LIMIT - fixed, 0))
    return f"{head}\n\n{body}\n\n{tail}"


def review_vote(findings: Sequence[Finding], policy: Policy) -> dict[str, int]:
    """The label vote the policy asks for on these findings ({} when it asks for none)."""
    vote = policy.review.vote
    if vote is None:
        return {}
    worst = max((f.severity for f in findings), key=lambda s: s.rank, default=None)
    return {vote.label: vote.value_for(worst)}


def _counts(findings: Sequence[Finding]) -> str:
    counts = Counter(f.severity for f in findings)
    return ", ".join(
        [
            _plural(counts[Severity.ERROR], "error"),
            _plural(counts[Severity.WARNING], "warning"),
            f"{counts[Severity.INFO]} info",
        ]
    )


def _rule_lines(findings: Sequence[Finding], docs_base: str) -> list[str]:
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)

    def order(code: str) -> tuple[int, str]:
        return (-max(f.severity.rank for f in by_rule[code]), code)

    lines = []
    for code in sorted(by_rule, key=order):
        group = by_rule[code]
        counts = Counter(f.severity for f in group)
        parts = [
            _plural(counts[s], s.value) if s is not Severity.INFO else f"{counts[s]} info"
            for s in Severity
            if counts[s]
        ]
        name = group[0].name
        link = f"{docs_base.rstrip('/')}/rules/{code}"
        lines.append(f"* {code} {name}: {', '.join(parts)} ({link})")
    return lines


def _audience_lines(
    findings: Sequence[Finding], audiences: Mapping[str, Classification] | None
) -> list[str]:
    if audiences:
        lines = []
        for file, c in sorted(audiences.items()):
            counts = c.counts()
            total = sum(counts.values())
            detail = ", ".join(f"{n} {a}" for a, n in counts.items() if n)
            ops = _plural(total, "operation") + (f": {detail}" if detail else "")
            lines.append(f"* {file}: {c.spec_audience.value} ({ops})")
        return ["Audience:", *lines]
    counts = Counter(f.audience.value for f in findings if f.audience is not None)
    if not counts:
        return []
    return ["Findings by audience: " + ", ".join(f"{n} {a}" for a, n in sorted(counts.items()))]


def _listed(f: Finding) -> str:
    where = f"{f.file}:{f.line}" if f.line else f.file
    side = " (base)" if f.side == "base" else ""
    return f"* {f.severity.value} {f.rule} {where}{side}: {f.message}"


def review_input(
    findings: Sequence[Finding],
    *,
    files_in_revision: Mapping[str, Any] | Iterable[str],
    policy: Policy,
    docs_base: str,
    patch_set: int,
    digest: str | None = None,
    carried: Collection[str] = frozenset(),
    vote: bool = True,
    audiences: Mapping[str, Classification] | None = None,
    notes: Sequence[str] = (),
    title: str = "API review",
    commit_msg_offset: int | None = None,
) -> dict[str, Any]:
    """The Gerrit ReviewInput for ``findings`` on ``patch_set`` (design.md §4.5).

    * ``comments``: one per finding at or above the policy's ``min_severity_inline`` (and,
      unless ``inline_existing``, about surface the change added or touched), only
      on files of the revision (``files_in_revision``: the revision's file list, path ->
      FileInfo, or bare paths), at the finding's line (a file comment when unknown), on
      the parent side for findings about the base, ``unresolved`` for errors, at most
      ``max_comments`` of them, each within Gerrit's size limit.
    * findings in ``carried`` (fingerprints already posted as inline comments, on this
      change's earlier patch sets) are not posted again: the summary counts them.
    * ``message``: the summary: counts by severity, per-rule counts with links to the
      rule documentation, the audiences, what is not inline and why, ``notes``, and
      the policy marker as its last line.
    * ``labels``: the policy's vote, only when ``vote`` is true (the caller says false
      on an outdated patch set or when the project has no such label).
    * ``notify``: the owner when there are errors (something to fix), else nobody:
      routine bot output should not mail every reviewer and watcher.
    * ``title`` names the review in the summary's first line ("govbot API review of
      patch set 2: ..."); ``commit_msg_offset`` lets findings about the commit message
      (file ``/COMMIT_MSG``, line of the message) be posted on Gerrit's ``/COMMIT_MSG``
      at ``line + commit_msg_offset``.
    """
    review = policy.review
    digest = digest if digest is not None else policy.digest
    docs_base = docs_base.rstrip("/")
    files = _files_index(files_in_revision)
    comments: dict[str, list[dict[str, Any]]] = {}
    inline = 0
    carried_over: list[Finding] = []
    quiet: list[Finding] = []  # below min_severity_inline: counted only
    untouched: list[Finding] = []  # on surface the change did not touch: counted only
    elsewhere: list[Finding] = []  # not on a file of this revision
    over_cap: list[Finding] = []
    for f in findings:
        if f.severity.rank < review.min_severity_inline.rank:
            quiet.append(f)
            continue
        if f.scope == "existing" and not review.inline_existing:
            untouched.append(f)
            continue
        if (f.fingerprint or f.with_fingerprint().fingerprint) in carried:
            carried_over.append(f)
            continue
        place = comment_place(f, files, commit_msg_offset=commit_msg_offset)
        if place is None:
            elsewhere.append(f)
            continue
        if inline >= review.max_comments:
            over_cap.append(f)
            continue
        path, side = place
        comment: dict[str, Any] = {
            "message": review_comment(f, docs_base=docs_base),
            "unresolved": f.severity is Severity.ERROR,
        }
        if f.line is not None and f.line >= 1:
            shift = commit_msg_offset if path == COMMIT_MSG and commit_msg_offset else 0
            comment["line"] = f.line + shift
        if side is not None:
            # Parent 1 named: on a merge, a PARENT comment without it lands on the
            # auto-merge, not the base the finding is about (gerrit-fidelity #2).
            comment["side"] = side
            comment["parent"] = 1
        comments.setdefault(path, []).append(comment)
        inline += 1

    message = _review_message(
        findings,
        patch_set=patch_set,
        docs_base=docs_base,
        audiences=audiences,
        inline=inline,
        carried=carried_over,
        quiet=quiet,
        elsewhere=elsewhere,
        over_cap=over_cap,
        max_comments=review.max_comments,
        notes=notes,
        marker=policy_marker(digest),
        title=title,
    )
    errors = any(f.severity is Severity.ERROR for f in findings)
    out: dict[str, Any] = {
        "tag": review.tag,
        "message": message,
        "notify": "OWNER" if errors else "NONE",
        "omit_duplicate_comments": True,
    }
    labels = review_vote(findings, policy) if vote else {}
    if labels:
        out["labels"] = labels
    if comments:
        out["comments"] = comments
    return out


def _review_message(
    findings: Sequence[Finding],
    *,
    patch_set: int,
    docs_base: str,
    audiences: Mapping[str, Classification] | None,
    inline: int,
    carried: Sequence[Finding],
    quiet: Sequence[Finding],
    elsewhere: Sequence[Finding],
    over_cap: Sequence[Finding],
    max_comments: int,
    notes: Sequence[str],
    marker: str,
    title: str = "API review",
) -> str:
    specs = f" in {_plural(len(audiences), 'spec')}" if audiences else ""
    # What the change brought is the verdict; what the spec already had is context, said
    # once, so that a one-line change to a long-lived API is not buried under its past.
    fresh = [f for f in findings if f.scope != "existing"]
    before = [f for f in findings if f.scope == "existing"]
    verdict = _counts(fresh) if fresh else "no findings"
    head = [f"govbot {title} of patch set {patch_set}: {verdict}{specs}."]
    if before:
        head.append(
            f"The surface this change did not touch already has {_counts(before)}; "
            "they are not held against this change."
        )
    status = []
    if inline:
        status.append(f"{_plural(inline, 'inline comment')}.")
    if carried:
        n = len(carried)
        verb = "applies" if n == 1 else "apply"
        status.append(
            f"{_plural(n, 'finding')} already commented on earlier patch sets still {verb}."
        )
    if quiet:
        n = len(quiet)
        verb = "is" if n == 1 else "are"
        status.append(f"{_plural(n, 'finding')} below the inline threshold {verb} counted only.")
    tail = ["", " ".join(status)] if status else []
    tail += ["", *notes] if notes else []
    tail += ["", marker]

    # (title, lines, what the lines are): the parts that grow with the findings. They are
    # added line by line while the message stays within Gerrit's limit.
    sections: list[tuple[str | None, list[str], str]] = [
        (None, _rule_lines(fresh, docs_base), "rules"),
    ]
    audience = _audience_lines(findings, audiences)
    if audience:
        sections.append((audience[0], audience[1:], "specs"))
    if elsewhere:
        sections.append(
            (
                "Not on a file of this patch set (no inline comment possible):",
                [_listed(f) for f in elsewhere],
                "findings",
            )
        )
    if over_cap:
        sections.append(
            (
                f"Over the limit of {max_comments} inline comments:",
                [_listed(f) for f in over_cap],
                "findings",
            )
        )
    reserve = 60 * len(sections)  # room for the "... and N more" lines
    budget = REVIEW_TEXT_LIMIT - len("\n".join([*head, *tail]).encode()) - reserve
    body: list[str] = []
    for title, lines, what in sections:
        if not lines and title is None:
            continue
        block = [""] + ([title] if title else [])
        cost = len("\n".join(block).encode()) + 1
        if cost > budget:
            body += ["", f"… and {len(lines)} more {what}."]
            budget -= 40
            continue
        body += block
        budget -= cost
        for n, line in enumerate(lines):
            line = fit_utf8(line, 500, " …")
            size = len(line.encode()) + 1
            if size > budget:
                body.append(f"… and {len(lines) - n} more {what}.")
                budget -= 40
                break
            body.append(line)
            budget -= size
    text = "\n".join([*head, *body, *tail])
    return fit_utf8(text, REVIEW_TEXT_LIMIT)  # never cuts: the budget kept room


def review_text(review: Mapping[str, Any]) -> str:
    """A ReviewInput as readable text: what ``govbot review --dry-run`` prints."""
    out = [
        f"tag: {review.get('tag', '')}",
        f"notify: {review.get('notify', 'ALL')}",
    ]
    labels = review.get("labels") or {}
    votes = ", ".join(f"{label} {value:+d}" for label, value in labels.items())
    out.append(f"vote: {votes or 'none'}")
    out += ["", "message:", textwrap.indent(review.get("message", ""), "  ")]
    comments: Mapping[str, Sequence[Mapping[str, Any]]] = review.get("comments") or {}
    total = sum(len(items) for items in comments.values())
    out += ["", f"inline comments: {total}"]
    for path, items in comments.items():
        for c in items:
            where = f"{path}:{c['line']}" if c.get("line") else f"{path} (file)"
            flags = []
            if c.get("side") == PARENT_SIDE:
                flags.append("base")
            flags.append("unresolved" if c.get("unresolved") else "resolved")
            out += ["", f"{where} [{', '.join(flags)}]", textwrap.indent(c["message"], "  ")]
    return "\n".join(out).rstrip() + "\n"
