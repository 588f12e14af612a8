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
from tests.rules import catalogue

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
