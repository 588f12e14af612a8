"""Blueprint references in commit messages, API-change detection, and resolution to spec files."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from govbot.blueprints import (
    BlueprintConfig,
    ResolvedSpec,
    SpecChange,
    api_impact_flag,
    assess_change,
    classify_change,
    clean_name,
    find_references,
    justify,
    parse_spec,
    resolve_specs,
    spec_candidates,
)
from govbot.policy import Policy
from govbot.services.spec_review import review_change_blueprints as review_change

TODAY = dt.date(2026, 1, 15)


@pytest.mark.parametrize(
    ("line", "name", "kind"),
    [
        ("Implements: blueprint flavor-search-by-name", "flavor-search-by-name", "implements"),
        ("implements: Blueprint Flavor-Search-By-Name.", "flavor-search-by-name", "implements"),
        ("Implements: bp flavor-search-by-name", "flavor-search-by-name", "implements"),
        ("Partial-Implements: blueprint unpin-az", "unpin-az", "partial"),
        ("Partially-Implements: blueprint unpin-az,", "unpin-az", "partial"),
        ("Partially Implements: blueprint unpin-az", "unpin-az", "partial"),
        ("PARTIAL-IMPLEMENTS: BLUEPRINT unpin-az;", "unpin-az", "partial"),
        ("Implements-blueprint: my-blueprint-slug", "my-blueprint-slug", "implements"),
        ("Blueprint: openapi", "openapi", "blueprint"),
        ("blueprint: (openapi)", "openapi", "blueprint"),
        ("Implements blueprint get-me-a-network", "get-me-a-network", "implements"),
        ("Implements: blueprint foo-bar to add the field", "foo-bar", "implements"),
        ("Blueprint: my-blueprint-slug (phase 2)", "my-blueprint-slug", "blueprint"),
        (
            "See https://blueprints.launchpad.net/nova/+spec/unified-limits-nova).",
            "unified-limits-nova",
            "url",
        ),
        (
            "Implements: https://blueprints.launchpad.net/nova/+spec/unpin-az",
            "unpin-az",
            "url",
        ),
    ],
)
def test_reference_forms(line: str, name: str, kind: str) -> None:
    """Every footer form, any case, trailing punctuation stripped; URLs keep their project."""
    message = f"Subject line\n\nBody text.\n\n{line}\nChange-Id: I0123456789abcdef0123456789abcdef01234567\n"
    (ref,) = find_references(message)
    assert (ref.name, ref.kind, ref.line) == (name, kind, 5)
    if kind == "url":
        assert ref.project == "nova"


def test_topic_and_several_references() -> None:
    """bp/NAME topics count; several names are kept in order, each once."""
    message = textwrap.dedent(
        """\
        Add things

        Implements: blueprint first-one, blueprint second-one
        Partial-Implements: blueprint first-one
        """
    )
    refs = find_references(message, topic="bp/third-one")
    assert [(r.name, r.kind, r.line) for r in refs] == [
        ("first-one", "implements", 3),
        ("second-one", "implements", 3),
        ("third-one", "topic", None),
    ]
    assert find_references("x", topic="blueprint/nova/fourth")[0].name == "fourth"
    assert find_references("x", topic="feature/other") == ()


@pytest.mark.parametrize(
    "message",
    [
        "Fix the scheduler\n\nThis blueprint is about the scheduler.\n",
        "Fix\n\nAs discussed in the bp review meeting.\n",
        "Fix\n\n# Implements: blueprint commented-out\n",
        "Fix\n\nImplements: blueprint\n",
        "Fix\n\nCloses-Bug: #123456\n",
    ],
)
def test_prose_mentions_are_not_references(message: str) -> None:
    """Only footers, URLs and topics count: "this blueprint is" names no blueprint "is"."""
    assert find_references(message) == ()


@pytest.mark.parametrize(
    ("token", "name"),
    [("Foo-Bar.", "foo-bar"), ("`foo`", "foo"), ("#foo", "foo"), ("foo/bar", None), ("", None)],
)
def test_clean_name(token: str, name: str | None) -> None:
    """Names are lower-cased slugs; punctuation around them is not part of the name."""
    assert clean_name(token) == name


def test_api_impact_flag() -> None:
    """The APIImpact flag is found on any line, in any case, as nova's dashboard does."""
    assert api_impact_flag("Subject\n\nBody\n\nAPIImpact\nChange-Id: I1\n") == 5
    assert api_impact_flag("Subject\n\napiimpact: new field\n") == 3
    assert api_impact_flag("Subject\n\nNo API change here.\n# APIImpact\n") is None


def test_spec_candidates() -> None:
    """specs/<release>/{approved,implemented}/<name>.rst|.md; implemented first."""
    paths = [
        "specs/2025.1/approved/unpin-az.rst",
        "specs/2026.2/approved/unpin-az.rst",
        "specs/2025.2/implemented/unpin-az.rst",
        "specs/2026.2/approved/unpin-az-part2.rst",
        "specs/2026.2/unpin-az.rst",
        "specs/abandoned/unpin-az.rst",
        "doc/unpin-az.rst",
        "specs/2027.1/approved/Unpin-AZ.md",
    ]
    assert spec_candidates("unpin-az", paths) == [
        "specs/2025.2/implemented/unpin-az.rst",
        "specs/2027.1/approved/Unpin-AZ.md",
        "specs/2026.2/approved/unpin-az.rst",
        "specs/2025.1/approved/unpin-az.rst",
    ]


# --- is it an external API change? -----------------------------------------------------------


def test_external_api_paths_need_a_blueprint() -> None:
    """Non-test files under the configured API paths are an external API change."""
    api = classify_change(["nova/api/openstack/compute/servers.py", "releasenotes/x.yaml"])
    assert api.needs_blueprint
    assert api.signals == ("API file changed: nova/api/openstack/compute/servers.py",)


def test_internal_and_test_only_changes_need_none() -> None:
    """Internal-only API files and tests are recorded, but ask for no blueprint."""
    api = classify_change(
        [
            "nova/api/openstack/placement/handlers/trait.py",
            "nova/tests/unit/api/openstack/compute/test_servers.py",
            "nova/compute/manager.py",
        ]
    )
    assert not api.needs_blueprint
    assert api.internal == (
        "internal API file changed: nova/api/openstack/placement/handlers/trait.py",
    )


def test_spec_diffs_decide_by_audience() -> None:
    """An OpenAPI diff with external surface is the strongest signal; an internal one is not."""
    internal = classify_change([], spec_changes=[SpecChange("api-specs/internal.yaml", False)])
    assert not internal.needs_blueprint and internal.internal
    external = classify_change(
        [], spec_changes=[SpecChange("api-specs/compute.yaml", True, "GET /servers changed")]
    )
    assert external.signals == (
        "external API spec changed (api-specs/compute.yaml: GET /servers changed)",
    )


def test_apiimpact_and_reverts() -> None:
    """APIImpact self-declares an API change; a revert is exempt; paths are policy options."""
    assert classify_change([], "Subject\n\nAPIImpact\n").needs_blueprint
    revert = classify_change(
        ["nova/api/openstack/compute/servers.py"],
        'Revert "Add a thing"\n\nThis reverts commit 0123456789abcdef.\n',
    )
    assert revert.external and not revert.needs_blueprint and revert.exempt == "a revert"
    config = BlueprintConfig.from_section({"api_paths": ["cinder/api/**"]})
    assert classify_change(["cinder/api/v3/volumes.py"], config=config).needs_blueprint
    assert not classify_change(["nova/api/openstack/compute/x.py"], config=config).needs_blueprint


# --- resolution and the change status -------------------------------------------------------

JUSTIFIED = """\
Title
=====

Use Cases
---------

As an operator, I want to retire hosts without downtime.

REST API impact
---------------

{api}
"""
NONE_UC = "Title\n=====\n\nUse Cases\n---------\n\nNone\n\nREST API impact\n---------------\n\nNew field.\n"


def _resolved(name: str, text: str, merged: bool = True) -> ResolvedSpec:
    path = f"specs/2026.2/approved/{name}.rst"
    return ResolvedSpec(name, path, justify(parse_spec(path, text)), merged=merged)


SPECS = {
    "good": _resolved("good", JUSTIFIED.format(api="A new microversion adds ``pinned``.")),
    "no-api": _resolved("no-api", JUSTIFIED.format(api="None")),
    "bad": _resolved("bad", NONE_UC, merged=False),
}


def _lookup(name: str) -> list[ResolvedSpec]:
    return [SPECS[name]] if name in SPECS else []


API_FILES = ["nova/api/openstack/compute/servers.py"]


@pytest.mark.parametrize(
    ("footer", "status", "rule"),
    [
        ("", "no-blueprint", "BPR010"),
        ("Implements: blueprint nope", "not-found", "BPR011"),
        ("Implements: blueprint bad", "unjustified", "BPR012"),
        ("Implements: blueprint no-api", "no-rest-api-impact", "BPR013"),
        ("Implements: blueprint good", "ok", None),
        # the best reference decides: one justified spec with an API section is enough
        ("Implements: blueprint nope\nPartial-Implements: blueprint good", "ok", None),
        ("Implements: blueprint bad\nImplements: blueprint no-api", "no-rest-api-impact", "BPR013"),
    ],
)
def test_change_status_and_its_one_finding(
    footer: str, status: str, rule: str | None, default_policy: Policy
) -> None:
    """An external API change gets at most one BPR01x comment: the first failing step."""
    message = f"Add a field\n\nBody.\n\n{footer}\nChange-Id: I1\n"
    ctx = assess_change(message, API_FILES, lookup=_lookup)
    assert ctx.status == status
    evaluation = review_change(message, API_FILES, default_policy, lookup=_lookup, today=TODAY)
    assert [f.rule for f in evaluation.findings] == ([rule] if rule else [])
    for f in evaluation.findings:
        assert f.file == "/COMMIT_MSG"
        assert f.line == (None if rule == "BPR010" else ctx.subject.line)
    if rule not in (None, "BPR010"):
        assert ctx.subject is not None and ctx.subject.line == 4 + len(footer.splitlines())


def test_unjustified_finding_explains_the_spec(default_policy: Policy) -> None:
    """The BPR012 comment names the spec, its state and why it fails."""
    message = "Add a field\n\nImplements: blueprint bad\n"
    (f,) = review_change(message, API_FILES, default_policy, lookup=_lookup, today=TODAY)
    assert f.message == (
        "blueprint bad: its spec specs/2026.2/approved/bad.rst (in review) has no use-case "
        'justification (missing-empty: "Use Cases" only has a placeholder: "None"); fix the '
        "spec's Use Cases"
    )


def test_without_a_specs_repository_references_are_unverified(default_policy: Policy) -> None:
    """No lookup: a reference is enough (degrade to unverified, never fail on a lookup)."""
    message = "Add a field\n\nImplements: blueprint anything\n"
    assert assess_change(message, API_FILES).status == "unverified"
    assert list(review_change(message, API_FILES, default_policy, today=TODAY)) == []


def test_non_api_changes_are_not_asked(default_policy: Policy) -> None:
    """A change outside the API paths, without APIImpact, gets no blueprint comment."""
    findings = review_change(
        "Fix a typo\n", ["nova/compute/manager.py"], default_policy, today=TODAY
    )
    assert list(findings) == []


def test_resolve_specs_reads_and_judges_with_the_repository_template() -> None:
    """resolve_specs finds the file by name and judges it with the template found in the listing."""
    template = (
        "T\n=\n\nUse Cases\n---------\n\nWhat use cases does this address? Who are the actors?\n"
    )
    files = {
        "specs/2026.2-template.rst": template,
        "specs/2026.2/approved/copied.rst": template.replace("T\n=", "Copied\n======"),
        "specs/2026.2/approved/other.rst": NONE_UC,
    }
    read = lambda p: files[p].encode()  # noqa: E731
    (resolved,) = resolve_specs("copied", list(files), read)
    assert resolved.path == "specs/2026.2/approved/copied.rst"
    assert resolved.verdict.strength == "missing-template"
    assert resolve_specs("missing", list(files), read) == []
