"""The BPR rules against their fixtures in ``tests/rules/BPR*/<scenario>/``.

A scenario is one of two kinds:

* a design spec: ``spec.rst`` or ``spec.md``, and optionally ``template.rst`` (found
  next to the spec as the project's template, as in a specs repository);
* a change: ``commit-message.txt``, optionally ``files.txt`` (the changed files, one a
  line), ``topic.txt``, and ``specs-repo/`` (the project's specs repository: its files
  are what blueprint names resolve against; without it references are not verified).

``expected.yaml`` lists every BPR finding the scenario gives, ``{rule, line?,
severity?}`` (``[]`` for none), under the default policy; an optional ``blueprints.yaml``
replaces the policy's ``blueprints:`` section.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import yaml

from govbot.blueprints import BlueprintConfig, resolve_specs
from govbot.policy import Policy, load_policy
from govbot.services.spec_review import check_specs, review_change_blueprints

FIXTURES = Path(__file__).parent
POLICY = FIXTURES.parents[1] / "policies" / "default.yaml"
TODAY = dt.date(2026, 1, 15)


def _scenarios() -> list[Path]:
    return sorted(d.parent for d in FIXTURES.glob("BPR[0-9][0-9][0-9]/*/expected.yaml"))


def _policy(scenario: Path) -> Policy:
    policy = load_policy(POLICY)
    extra = scenario / "blueprints.yaml"
    if extra.exists():
        raw = {**policy.raw, "blueprints": yaml.safe_load(extra.read_text())}
        policy = dataclasses.replace(policy, raw=raw)
    return policy


def _findings(scenario: Path, policy: Policy) -> list:
    spec = next((scenario / n for n in ("spec.rst", "spec.md") if (scenario / n).exists()), None)
    if spec is not None:
        (report,) = check_specs([spec], policy, today=TODAY)
        return list(report.findings)
    message = (scenario / "commit-message.txt").read_text(encoding="utf-8")
    files_txt = scenario / "files.txt"
    files = files_txt.read_text().split() if files_txt.exists() else []
    topic_txt = scenario / "topic.txt"
    topic = topic_txt.read_text().strip() if topic_txt.exists() else None
    repo = scenario / "specs-repo"
    lookup = None
    if repo.is_dir():
        paths = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file())
        config = BlueprintConfig.from_policy(policy)

        def lookup(name: str) -> list:
            return resolve_specs(name, paths, lambda p: (repo / p).read_bytes(), config)

    evaluation = review_change_blueprints(
        message, files, policy, topic=topic, lookup=lookup, today=TODAY
    )
    return list(evaluation.findings)


@pytest.mark.parametrize("scenario", _scenarios(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_bpr_fixture(scenario: Path) -> None:
    """Each BPR scenario gives exactly the findings its expected.yaml lists."""
    got = [f for f in _findings(scenario, _policy(scenario)) if f.rule.startswith("BPR")]
    expected = yaml.safe_load((scenario / "expected.yaml").read_text()) or []
    assert len(got) == len(expected), [f"{f.rule}:{f.line} {f.message}" for f in got]
    pairs = zip(
        sorted(expected, key=lambda e: e["rule"]), sorted(got, key=lambda f: f.rule), strict=True
    )
    for e, f in pairs:
        assert f.rule == e["rule"], f.message
        if "line" in e:
            assert f.line == e["line"], f"{f.rule}: line {f.line}, expected {e['line']}"
        if "severity" in e:
            assert f.severity.value == e["severity"], f.rule
        assert f.message and f.help.endswith(f"/rules/{f.rule}")


def test_every_bpr_rule_has_a_scenario_that_fires() -> None:
    """Each BPR code is expected by at least one of its own scenarios (not only quiet ones)."""
    from govbot.rules.registry import all_rules

    for rule in all_rules():
        if not rule.code.startswith("BPR"):
            continue
        fired = [
            d
            for d in (FIXTURES / rule.code).glob("*/expected.yaml")
            if any(e["rule"] == rule.code for e in yaml.safe_load(d.read_text()) or [])
        ]
        assert fired, f"no scenario under tests/rules/{rule.code}/ expects {rule.code}"
