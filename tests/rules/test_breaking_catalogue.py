"""govbot's verdicts on the breaking-change catalogue (tests/data/breaking), through the pipeline.

The catalogue is govbot's specification of the principle in ``docs/breaking-changes.md``:
every breaking pair draws an error, no fine pair does. This runs the fast selection
(every kind, once on each side of the exchange); ``benchmarks/breaking.py`` measures
every pair through ``govbot check --base``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from govbot.findings import Finding, Severity
from govbot.policy import load_policy
from govbot.services.check import check_files
from tests.rules import catalogue, harness

POLICIES = Path(__file__).resolve().parents[2] / "policies"
TODAY = dt.date(2026, 6, 1)
PAIRS = catalogue.pairs(fast=True)
ALL = catalogue.pairs()


def errors(pair: catalogue.Pair, folder: Path) -> list[Finding]:
    """The error findings of ``govbot check --base`` on one pair."""
    base, head = catalogue.write(pair, folder)
    report = check_files(
        [head], base_files=[base], policy=load_policy(POLICIES), today=TODAY, root=folder
    )
    return [f for f in report.findings if f.severity is Severity.ERROR]


def test_the_catalogue_spans_the_kinds_and_both_verdicts() -> None:
    """Well over a hundred kinds of change, breaking and fine, every kind in the fast
    selection, each schema change placed on both sides of the exchange."""
    assert len({p.kind for p in ALL}) >= 150
    assert {p.kind for p in PAIRS} == {p.kind for p in ALL}
    assert sum(p.breaking for p in PAIRS) >= 100
    assert sum(not p.breaking for p in PAIRS) >= 100
    assert {p.where for p in PAIRS} == set(catalogue.PLACES) | {"spec"}


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_breaking_changes_are_errors_and_the_others_are_not(
    pair: catalogue.Pair, tmp_path: Path
) -> None:
    found = errors(pair, tmp_path)
    if pair.breaking:
        assert found, f"{pair.name} breaks clients but drew no error"
    else:
        assert not found, [f"{f.rule} {f.message}" for f in found]


def test_draft_surface_is_reported_not_held_against_the_change() -> None:
    """A breaking change to a draft operation is an info finding that says why."""
    scenario = Path(__file__).parent / "DEP028" / "draft-operation-is-advisory"
    report = check_files(
        [scenario / "revision.yaml"],
        base_files=[scenario / "base.yaml"],
        policy=load_policy(POLICIES),
        today=TODAY,
        root=scenario,
    )
    (finding,) = [f for f in report.findings if f.rule == "DEP028"]
    assert finding.severity is Severity.INFO
    assert finding.note.startswith("draft surface (x-stability-level: draft)")
    assert not [f for f in report.findings if f.severity is Severity.ERROR]


def test_the_docs_name_every_compatibility_rule() -> None:
    """docs/breaking-changes.md lists every DEP rule that judges a change, and is linked."""
    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "breaking-changes.md").read_text(encoding="utf-8")
    for rule in harness.family("DEP"):
        if rule.code >= "DEP010" and rule.code not in ("DEP022", "DEP023", "DEP026"):
            assert f"| {rule.code} | {rule.name} |" in doc, rule.code
    assert "docs/breaking-changes.md" in (root / "README.md").read_text(encoding="utf-8")
