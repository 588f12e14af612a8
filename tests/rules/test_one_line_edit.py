"""A one-line edit of a large real spec is judged on that line, not on the spec's past.

Issue 17's experiment, on the compute API (tests/data/corpus/openstack/compute/v2.96.yaml,
1.6 MB, about 300 findings of old debt): add one field to the create request of
``POST /v2.1/servers``, or ``format: date-time`` to one response field. At most two
findings may be about anything but the edited element, none of them an error; every
old finding stays ``existing`` at its existing (lowered) severity and never decides the
vote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govbot.findings import Finding, Scope, Severity
from govbot.policy import load_policy
from govbot.render import review_vote
from govbot.services.check import check_files
from tests.rules.harness import POLICIES, TODAY

SPEC = Path(__file__).parents[1] / "data" / "corpus" / "openstack" / "compute" / "v2.96.yaml"
# The create request's server object (ServersCreate_294), and the `updated_at` of the
# services listed by GET /v2.1/os-services.
CREATE_PROPERTIES = (
    "    ServersCreate_294:\n      type: object\n      properties:\n        server:\n"
)
UPDATED_AT = (
    "              updated_at:\n                type: string\n"
    "                description: |-\n                  The date and time when the resource"
)


def _edit(tmp_path: Path, kind: str) -> tuple[Path, Path, str]:
    text = SPEC.read_text(encoding="utf-8")
    if kind == "date-time":
        assert text.count(UPDATED_AT) >= 1
        at = text.index(UPDATED_AT)
        head = (
            text[:at]
            + UPDATED_AT.replace(
                "type: string\n", "type: string\n                format: date-time\n", 1
            )
            + text[at + len(UPDATED_AT) :]
        )
        edited = "updated_at"
    else:
        name = "scheduling_hint" if kind == "good-field" else "schedulingHint"
        start = text.index(CREATE_PROPERTIES)
        anchor = text.index("          properties:\n", start) + len("          properties:\n")
        field = (
            f"            {name}:\n              type: string\n"
            "              description: A hint for the scheduler.\n"
        )
        head = text[:anchor] + field + text[anchor:]
        edited = name
    base_file, head_file = tmp_path / "base" / "compute.yaml", tmp_path / "head" / "compute.yaml"
    base_file.parent.mkdir()
    head_file.parent.mkdir()
    base_file.write_text(text, encoding="utf-8")
    head_file.write_text(head, encoding="utf-8")
    return base_file, head_file, edited


def _about(f: Finding, edited: str) -> bool:
    return edited in f.message or f.pointer.endswith("/" + edited)


@pytest.mark.parametrize("kind", ["good-field", "camel-field", "date-time"])
def test_a_one_line_edit_is_judged_on_that_line(kind: str, tmp_path: Path) -> None:
    """Old debt of the touched operation stays existing; at most 2 other findings, no error."""
    base, head, edited = _edit(tmp_path, kind)
    policy = load_policy(POLICIES)
    report = check_files([head], base_files=[base], policy=policy, today=TODAY, root=tmp_path)
    assert len(report.findings) > 100  # the spec's old debt is there ...
    fresh = [f for f in report.findings if f.scope != Scope.EXISTING]
    others = [f for f in fresh if not _about(f, edited)]
    assert len(others) <= 2, [(f.rule, f.pointer, f.message) for f in others]
    assert all(f.severity is not Severity.ERROR for f in others), others
    old = [f for f in report.findings if f.scope == Scope.EXISTING]
    # ... at the existing severity (one step milder: at most a warning) ...
    assert old and all(f.severity is not Severity.ERROR for f in old)
    # ... and never deciding the vote.
    vote = policy.review.vote
    assert vote is not None
    assert review_vote(old, policy) == {vote.label: vote.value_for(None)}
    if kind == "camel-field":
        # The edit itself is judged: the new camelCase field is a new finding.
        assert any(f.rule == "CON001" and f.scope == Scope.NEW for f in fresh if _about(f, edited))
