"""Audience from policy defaults: api-ref and OpenAPI alike, the evidence naming the policy."""

from __future__ import annotations

import json
from pathlib import Path

from govbot.apiref.policies import load_policy_defaults
from govbot.apiref.project import with_policies
from govbot.apiref.tree import read_api_ref
from govbot.audience import classify, default_audience_config
from govbot.findings import Audience
from govbot.openapi.load import load_spec
from tests.apiref.apiref_support import widget_files, write

OPENAPI = """\
openapi: 3.1.0
info: {title: Widgets, version: "1.0"}
paths:
  /v2.1/widgets:
    get:
      responses: {"200": {description: ok}}
  /v2.1/widgets/{widget_id}:
    get:
      x-audience: internal
      responses: {"200": {description: ok}}
  /v2.1/gadgets:
    get:
      description: Lists gadgets. Administrator only.
      responses: {"200": {description: ok}}
"""
MORE = """\
from oslo_policy import policy

rules = [
    policy.DocumentedRuleDefault(
        name="widget:widgets:list:all_projects",
        check_str="role:admin",
        description="List the widgets of every project.",
        operations=[{"method": "GET", "path": "/widgets"}],
    ),
    policy.DocumentedRuleDefault(
        name="widget:gadgets:list",
        check_str="http://policy.example.invalid/gadgets",
        description="List gadgets.",
        operations=[{"method": "GET", "path": "/gadgets"}],
    ),
]
"""


def _project(tmp_path: Path) -> Path:
    files = widget_files()
    files["widget/policies/more.py"] = MORE
    files["widget/policies/widgets.py"] = files["widget/policies/widgets.py"].replace(
        'name=POLICY_ROOT % "show",\n        check_str=base.PROJECT_READER_OR_ADMIN,',
        'name=POLICY_ROOT % "show",\n        check_str=base.ADMIN,',
    )
    return write(tmp_path / "widget", files)


def test_an_api_ref_tree_is_classified_by_its_projects_defaults(tmp_path: Path) -> None:
    """The project's own defaults decide: the most permissive default naming an
    operation wins, and the evidence names the policy and its check string."""
    root = _project(tmp_path)
    spec = read_api_ref(root / "api-ref" / "source")
    c = classify(spec, default_audience_config())
    listing, show = c.operations["GET /widgets"], c.operations["GET /widgets/{}"]
    assert (listing.audience, listing.source) == (Audience.EXTERNAL, "policy-defaults")
    assert "widget:widgets:list" in listing.evidence and "most permissive of 2" in listing.evidence
    assert (listing.file, listing.line) == ("widget/policies/widgets.py", 8)
    assert {p.name for p in listing.policies} == {
        "widget:widgets:list",
        "widget:widgets:list:all_projects",
    }
    assert show.audience is Audience.EXTERNAL_ADMIN
    assert "'rule:context_is_admin'" in show.evidence
    as_json = json.loads(json.dumps(c.to_json()))
    shown = next(o for o in as_json["operations"] if o["key"] == "GET /widgets/{}")
    assert shown["policies"] == [
        {
            "name": "widget:widgets:show",
            "check_str": "rule:context_is_admin",
            "file": "widget/policies/widgets.py",
            "line": 14,
            "audience": "external-admin",
            "allows": {"project": False, "service": False, "admin": True},
        }
    ]


def test_an_openapi_spec_with_policy_defaults(tmp_path: Path) -> None:
    """``--policy-defaults``: a marker on the operation still wins; a default that cannot
    be decided leaves the operation to the next evidence (here its description)."""
    root = _project(tmp_path)
    spec_file = write(tmp_path / "specs", {"widgets.yaml": OPENAPI}) / "widgets.yaml"
    spec = with_policies(load_spec(spec_file), load_policy_defaults([root]))
    c = classify(spec, default_audience_config())
    assert c.operations["GET /v2.1/widgets"].source == "policy-defaults"  # /v2.1 prefix ignored
    assert c.operations["GET /v2.1/widgets/{}"].audience is Audience.INTERNAL  # x-audience
    gadgets = c.operations["GET /v2.1/gadgets"]
    assert gadgets.audience is Audience.EXTERNAL_ADMIN
    assert gadgets.source.startswith("policy:")
    assert "the policy defaults do not decide" in gadgets.evidence
    assert "http" in gadgets.evidence


def test_without_policy_defaults_the_descriptions_decide(tmp_path: Path) -> None:
    """A project without policy-in-code: the descriptions and index parts are the evidence."""
    files = {k: v for k, v in widget_files().items() if "/policies/" not in k}
    files["api-ref/source/widgets.inc"] = files["api-ref/source/widgets.inc"].replace(
        "Shows a widget.",
        "Shows a widget.\n\nPolicy defaults enable only users with the administrative role "
        "to perform this operation.",
    )
    spec = read_api_ref(write(tmp_path / "w", files) / "api-ref" / "source")
    c = classify(spec, default_audience_config())
    assert c.operations["GET /widgets"].audience is Audience.EXTERNAL
    show = c.operations["GET /widgets/{}"]
    assert show.audience is Audience.EXTERNAL_ADMIN and not show.policies
