"""govbot's verdicts on the breaking-change catalogue (tests/data/breaking), through the pipeline.

The catalogue is govbot's specification of the principle in ``docs/breaking-changes.md``:
every breaking pair draws an error, no fine pair does. ``benchmarks/breaking.py``
measures the same catalogue through ``govbot check --base``.
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
PAIRS = catalogue.pairs()


def errors(pair: catalogue.Pair, folder: Path) -> list[Finding]:
    """The error findings of ``govbot check --base`` on one pair."""
    base, head = catalogue.write(pair, folder)
    report = check_files(
        [head], base_files=[base], policy=load_policy(POLICIES), today=TODAY, root=folder
    )
    return [f for f in report.findings if f.severity is Severity.ERROR]


def test_the_catalogue_spans_the_kinds_and_both_verdicts() -> None:
    """About two hundred changes, breaking and fine, each kind placed on both sides."""
    assert len(PAIRS) >= 200
    assert len({p.kind for p in PAIRS}) >= 100
    assert sum(p.breaking for p in PAIRS) >= 100
    assert sum(not p.breaking for p in PAIRS) >= 100


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_breaking_changes_are_errors_and_the_others_are_not(
    pair: catalogue.Pair, tmp_path: Path
) -> None:
    found = errors(pair, tmp_path)
    if pair.breaking:
        assert found, f"{pair.name} breaks clients but drew no error"
    else:
        assert not found, [f"{f.rule} {f.message}" for f in found]
