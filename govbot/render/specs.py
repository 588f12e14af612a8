"""What ``govbot blueprint`` prints: one verdict per spec, its findings below, a count."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from govbot.blueprints import Judgement, Verdict
from govbot.findings import Finding
from govbot.render.links import finding_json, plural


class SpecResult(Protocol):
    """A spec's verdict with its findings (``services.spec_review.SpecReport``)."""

    @property
    def verdict(self) -> Verdict: ...

    @property
    def findings(self) -> tuple[Finding, ...]: ...


def render_verdicts_text(reports: Sequence[SpecResult]) -> str:
    """A verdict line per file (with the sentence that carries the need), findings below."""
    lines: list[str] = []
    counts: Counter[Judgement] = Counter()
    for report in reports:
        v = report.verdict
        counts[v.verdict] += 1
        where = f":{v.line}" if v.line else ""
        strength = f" ({v.strength.value})" if v.strength is not None else ""
        lines.append(f"{v.file}{where}: {v.verdict.value}{strength}: {v.evidence}")
        for f in report.findings:
            at = f":{f.line}" if f.line else ""
            lines.append(f"  {f.file}{at}: {f.severity.value} {f.rule} {f.name}: {f.message}")
    total = len(reports)
    parts = [
        f"{counts[Judgement.JUSTIFIED]} justified",
        f"{counts[Judgement.UNJUSTIFIED]} unjustified",
    ]
    templates = counts[Judgement.TEMPLATE]
    if templates:
        parts.append(plural(templates, "template"))
    lines.append(f"{plural(total, 'spec')}: " + ", ".join(parts))
    return "\n".join(lines) + "\n"


def render_verdicts_json(reports: Sequence[SpecResult], docs_base: str) -> str:
    """A JSON list: each verdict's object with its ``findings`` (``help``: under ``docs_base``)."""
    objects = [
        {**r.verdict.to_json(), "findings": [finding_json(f, docs_base) for f in r.findings]}
        for r in reports
    ]
    return json.dumps(objects, indent=2, ensure_ascii=False) + "\n"
