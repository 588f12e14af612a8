"""Real version pairs from the npm registry give the removals and deprecations their release
notes list.

The specs come from the npm registry (see fetch.py); they are 2-11 MB each and never
committed. Each pair runs through the whole offline pipeline, as ``govbot check --base``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from govbot.findings import Finding, Severity
from govbot.policy import load_policy
from govbot.services.check import check_files
from tests.realdata.fetch import PAIRS, pair_files

TODAY = dt.date(2026, 11, 21)
POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"


def _check(number: int, cache: Path) -> list[Finding]:
    pair = next(p for p in PAIRS if p.number == number)
    base, head = pair_files(pair, cache)
    report = check_files([head], base_files=[base], policy=load_policy(POLICY_DIR), today=TODAY)
    return list(report.findings)


def _ops(findings: list[Finding], rule: str) -> set[str]:
    """The operations ("GET /path") named by a rule's findings, from their pointers."""
    out = set()
    for f in findings:
        if f.rule != rule:
            continue
        parts = f.pointer.split("/")
        if len(parts) >= 4 and parts[1] == "paths":
            path = parts[2].replace("~1", "/").replace("~0", "~")
            out.add(f"{parts[3].upper()} {path}")
    return out


@pytest.fixture(scope="module")
def results(realdata: Path) -> dict[int, list[Finding]]:
    return {p.number: _check(p.number, realdata) for p in PAIRS}


def test_lawful_removal_after_deprecation_is_accepted(results: dict[int, list[Finding]]) -> None:
    """GHES 3.16->3.17: the 33 removed Projects-classic operations were all deprecated first."""
    findings = results[1]
    accepted = _ops(findings, "DEP003")
    assert len(accepted) == 33
    assert {
        "GET /orgs/{org}/projects",
        "POST /orgs/{org}/projects",
        "GET /orgs/{org}/teams/{team_slug}/projects",
    } <= accepted
    assert not [f for f in findings if f.rule in ("DEP001", "DEP002")]
    assert all(f.severity is Severity.INFO for f in findings if f.rule == "DEP003")
    removed = [f for f in findings if f.rule == "DEP003"]
    assert all(f.side == "base" and f.file.endswith("ghes-3.16.json") for f in removed)


def test_removal_without_deprecation_is_an_error(results: dict[int, list[Finding]]) -> None:
    """GHES 3.14->3.15: /setup/api/* vanish without ever being deprecated."""
    findings = results[2]
    errors = {op for op in _ops(findings, "DEP001")}
    assert len(errors) == 11
    assert {
        "GET /setup/api/configcheck",
        "POST /setup/api/configure",
        "GET /setup/api/maintenance",
    } <= errors
    assert all(f.severity is Severity.ERROR for f in findings if f.rule == "DEP001")
    # ... while 29 Projects-classic operations become deprecated, with no sunset date.
    newly = _ops(findings, "DEP004")
    assert len(newly) == 29
    assert "GET /orgs/{org}/projects" in newly


def test_bulk_deprecation_and_parameter_removal(results: dict[int, list[Finding]]) -> None:
    """GHES 2.20->2.21: 31 legacy team operations deprecated, preview `accept` headers dropped."""
    findings = results[3]
    newly = _ops(findings, "DEP004")
    assert len(newly) == 31
    assert {
        "DELETE /reactions/{reaction_id}",
        "GET /teams/{team_id}",
        "PATCH /teams/{team_id}",
    } <= newly
    removed_params = [f for f in findings if f.rule == "DEP010"]
    assert len(removed_params) == 8
    assert any(
        "accept" in f.message.lower() and "/reactions/{reaction_id}" in f.message
        for f in removed_params
    )
    assert not [f for f in findings if f.rule == "DEP001"]


def test_vendor_history_mixes_lawful_and_unlawful_removals(
    results: dict[int, list[Finding]],
) -> None:
    """DRACOON 4.5.0->4.42.3: 8 of 11 removals were deprecated first; 16 new deprecations."""
    findings = results[7]
    lawful, unlawful = _ops(findings, "DEP003"), _ops(findings, "DEP001")
    assert len(lawful) == 8 and len(unlawful) == 3
    assert {
        "GET /v4/auth/openid/resources",
        "GET /v4/auth/resources",
        "GET /v4/nodes/files/{file_id}/downloads",
    } <= lawful
    assert {
        "GET /v4/config/authSettings",
        "PUT /v4/config/authSettings",
        "GET /v4/public/branding/info",
    } <= unlawful
    assert "POST /v4/auth/login" in _ops(findings, "DEP004") | _ops(findings, "DEP009")
    assert Counter(f.rule for f in findings)["DEP010"] == 7


def test_trailing_slash_renames_are_not_removals(results: dict[int, list[Finding]]) -> None:
    """Bitbucket: `.../deployments/` -> `.../deployments` is a rename, not a removal."""
    findings = results[11]
    assert not _ops(findings, "DEP001")
    assert not [f for f in findings if f.rule == "DEP001"]
