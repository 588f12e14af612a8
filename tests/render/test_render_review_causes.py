"""A Gerrit review: one inline comment per cause, and old debt never decides the vote."""

from __future__ import annotations

from govbot import render
from govbot.findings import Audience, Finding, Location, Scope, Severity
from govbot.policy import Policy, ReviewConfig, VoteConfig

SPEC = "api-specs/compute.yaml"
POLICY = Policy(review=ReviewConfig(vote=VoteConfig(label="API-Review", on_error=-1, on_clean=1)))


def _finding(severity: Severity, scope: Scope, *, places: int = 0, line: int = 10) -> Finding:
    return Finding(
        rule="CON031",
        name="datetime-iso8601",
        severity=severity,
        message="Timestamp field `created_at` is a string without a format: add `format: date-time`.",
        file=SPEC,
        line=line,
        pointer="/components/schemas/Server/properties/created_at",
        audience=Audience.EXTERNAL,
        scope=scope,
        locations=tuple(
            Location(SPEC, 100 + i, f"/paths/~1p{i}/get/responses/200", None) for i in range(places)
        ),
    ).with_fingerprint()


def test_one_comment_per_cause_lists_the_other_places() -> None:
    review = render.review_input(
        [_finding(Severity.WARNING, Scope.NEW, places=12)],
        files_in_revision=[SPEC],
        policy=POLICY,
        docs_base="http://govbot.example",
        patch_set=1,
    )
    (comment,) = review["comments"][SPEC]
    assert "And 12 more places: line 100, line 101," in comment["message"]
    assert "and 2 more." in comment["message"]  # ten are named, the rest counted


def test_existing_findings_never_decide_the_vote() -> None:
    old_error = _finding(Severity.ERROR, Scope.EXISTING)
    assert render.review_vote([old_error], POLICY) == {"API-Review": 1}
    fresh_error = _finding(Severity.ERROR, Scope.CHANGED, line=20)
    assert render.review_vote([old_error, fresh_error], POLICY) == {"API-Review": -1}
