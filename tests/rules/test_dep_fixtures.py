"""The DEP rules against their fixture pairs in ``tests/rules/DEP*/<scenario>/``.

Each scenario holds ``base.yaml``, optionally ``revision.yaml`` and ``expected.yaml`` (a
list of ``{rule, pointer, side, severity[, message_contains]}``; ``[]`` for none). The
rule of the directory runs alone, straight from the registry, so this test does not
depend on the other rule families or on the policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

import govbot.rules.deprecation  # noqa: F401  (registers the DEP rules)
from govbot.findings import Audience
from govbot.openapi.diff import diff_specs
from govbot.openapi.load import load_spec
from govbot.openapi.model import Spec, operations
from govbot.rules import registry
from govbot.rules.registry import DiffContext, SpecContext

FIXTURES = Path(__file__).parent
# The fixtures use sunset dates in 2000 (past) and 2099 (future), so any "today" in
# between gives the same findings; a fixed date keeps the test deterministic.
TODAY = dt.date(2026, 1, 15)

_INTERNAL = {"company-internal", "business-unit-internal", "component-internal", "internal"}


class Audiences:
    """A stand-in for ``audience.Classification``: op-level ``x-internal``/``x-audience`` only."""

    def __init__(self, spec: Spec) -> None:
        self._by_key: dict[str, Audience] = {}
        for op in operations(spec):
            marker = op.value.get("x-audience")
            if op.value.get("x-internal") is True or marker in _INTERNAL:
                self._by_key[op.key] = Audience.INTERNAL
            elif marker == "external-admin":
                self._by_key[op.key] = Audience.EXTERNAL_ADMIN

    def of(self, op_key: str | None) -> Audience:
        return self._by_key.get(op_key or "", Audience.EXTERNAL)


def dep_rules() -> list[registry.Rule]:
    return [r for code, r in sorted(registry._REGISTRY.items()) if code.startswith("DEP")]


def scenarios() -> list[Path]:
    return sorted(p.parent for p in FIXTURES.glob("DEP*/*/expected.yaml"))


def run_scenario(case: Path) -> list[dict[str, Any]]:
    code = case.parent.name
    rule = registry._REGISTRY[code]
    base = load_spec(case / "base.yaml")
    revision = case / "revision.yaml"
    options = dict(rule.options)
    if revision.exists():
        head = load_spec(revision)
        diff = diff_specs(base, head)
        if rule.kind == "diff":
            ctx: Any = DiffContext(
                base, head, diff, Audiences(base), Audiences(head), options, TODAY
            )
        else:
            ctx = SpecContext(head, Audiences(head), options, diff.touched, base, TODAY)
    else:
        assert rule.kind == "spec", f"{case}: a diff rule needs revision.yaml"
        ctx = SpecContext(base, Audiences(base), options, None, None, TODAY)
    out = []
    for hit in rule.run(ctx):
        out.append(
            {
                "rule": code,
                "pointer": hit.pointer,
                "side": hit.side,
                "severity": str(rule.default_severity(hit.audience)),
                "message": hit.message,
                "file": hit.file,
            }
        )
    return out


@pytest.mark.parametrize("case", scenarios(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(case: Path) -> None:
    """Each DEP rule finds exactly the findings its fixture expects."""
    expected = yaml.safe_load((case / "expected.yaml").read_text()) or []
    got = run_scenario(case)

    def key(item: Mapping[str, Any]) -> tuple[str, str, str, str]:
        return (item["rule"], item["pointer"], item["side"], item["severity"])

    assert sorted(map(key, got)) == sorted(map(key, expected)), [h["message"] for h in got]
    for want in expected:
        if "message_contains" in want:
            messages = [h["message"] for h in got if key(h) == key(want)]
            assert any(want["message_contains"] in m for m in messages), messages
    if (case / "revision.yaml").exists():
        for hit in got:
            # Removals point into the base spec, everything else into the revision.
            want = "base.yaml" if hit["side"] == "base" else "revision.yaml"
            assert Path(hit["file"]).name == want, hit


def test_every_dep_rule_has_docs_and_a_fixture() -> None:
    """Every registered DEP rule has the documented sections and at least one fixture."""
    rules = dep_rules()
    assert len(rules) >= 15
    covered = {p.parent.name for p in scenarios()}
    for r in rules:
        assert r.code in covered, f"{r.code} has no fixture under tests/rules/{r.code}/"
        for section in ("What it checks:", "Why it matters:", "Example:", "Fix:", "References:"):
            assert section in r.doc, f"{r.code} docstring lacks {section!r}"
        assert r.summary.endswith("."), r.code
