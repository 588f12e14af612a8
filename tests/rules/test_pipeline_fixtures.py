"""Every rule fixture, run through the whole pipeline as ``govbot check`` runs it.

The per-family tests (test_dep_fixtures.py, test_con_fixtures.py) run one rule alone;
this one loads the pair from disk, classifies, diffs and evaluates under the default
policy, so it proves each rule is wired end to end. A scenario may add ``policy.yaml``
(merged after the default policy) and ``options.yaml`` (the rule's options). Expected
findings are compared by rule, pointer and side; ``[]`` means the rule stays quiet.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from govbot.policy import load_policy
from govbot.services.check import check_files

FIXTURES = Path(__file__).parent
POLICIES = FIXTURES.parents[1] / "policies"
TODAY = dt.date(2026, 1, 15)


def _scenarios() -> list[Path]:
    out = []
    for code_dir in sorted(FIXTURES.glob("[A-Z][A-Z][A-Z][0-9][0-9][0-9]")):
        out.extend(
            d
            for d in sorted(code_dir.iterdir())
            if (d / "expected.yaml").exists()
            # Only OpenAPI scenarios; design-spec and change scenarios (BPR) have their
            # own runner, tests/rules/test_bpr_fixtures.py.
            and ((d / "specs").is_dir() or any(d.glob("base.*")))
        )
    return out


def _one(scenario: Path, stem: str) -> Path | None:
    found = sorted(scenario.glob(f"{stem}.*"))
    return found[0] if found else None


@pytest.mark.parametrize("scenario", _scenarios(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_through_the_pipeline(scenario: Path, tmp_path: Path) -> None:
    code = scenario.parent.name
    policy_dir = tmp_path / "policy"
    policy_dir.mkdir()
    shutil.copy(POLICIES / "default.yaml", policy_dir / "00-default.yaml")
    entry: dict = {"enabled": True}
    if (scenario / "options.yaml").exists():
        entry["options"] = yaml.safe_load((scenario / "options.yaml").read_text()) or {}
    if code[:3] in ("DEP", "CON"):
        (policy_dir / "50-rule.yaml").write_text(yaml.safe_dump({"rules": {code: entry}}))
    if (scenario / "policy.yaml").exists():
        shutil.copy(scenario / "policy.yaml", policy_dir / "90-scenario.yaml")
    policy = load_policy(policy_dir)

    if (scenario / "specs").is_dir():
        report = check_files([scenario / "specs"], policy=policy, today=TODAY, root=scenario)
    else:
        base, revision = _one(scenario, "base"), _one(scenario, "revision")
        assert base is not None, f"{scenario}: no base spec"
        if revision is None:
            report = check_files([base], policy=policy, today=TODAY, root=scenario)
        else:
            report = check_files(
                [revision], base_files=[base], policy=policy, today=TODAY, root=scenario
            )

    got = {(f.rule, f.pointer, f.side) for f in report.findings if f.rule == code}
    expected = [
        e
        for e in (yaml.safe_load((scenario / "expected.yaml").read_text()) or [])
        if e["rule"] == code
    ]
    if not expected:
        assert not got, f"{code} should stay quiet here, got {sorted(got)}"
        return
    for e in expected:
        key = (e["rule"], e.get("pointer", ""), e.get("side", "head"))
        assert key in got, f"missing {key}; got {sorted(got)}"
