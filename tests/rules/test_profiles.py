"""Rule profiles: OpenStack's conventions for OpenStack's APIs, the field's for the others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from govbot.cli import cli
from govbot.errors import PolicyError
from govbot.policy import load_policy
from govbot.rules.catalog import all_rules
from govbot.rules.registry import API_SIG, GENERIC
from govbot.services.check import check_files
from tests.rules.harness import POLICIES, TODAY

# A GitHub-style API: page/per_page, 422 for validation errors, a total_count.
GITHUB_STYLE = {
    "openapi": "3.1.0",
    "info": {"title": "Forge API", "version": "1.0"},
    "paths": {
        "/repos": {
            "get": {
                "summary": "List repositories",
                "parameters": [
                    {
                        "name": "page",
                        "in": "query",
                        "description": "Page.",
                        "schema": {"type": "integer"},
                    },
                    {
                        "name": "per_page",
                        "in": "query",
                        "description": "Size.",
                        "schema": {"type": "integer"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "total_count": {"type": "integer"},
                                        "repos": {"type": "array", "items": {"type": "object"}},
                                    },
                                }
                            }
                        },
                    },
                    "422": {"description": "Validation failed"},
                },
            }
        }
    },
}
OPENSTACK_ONLY = {"CON021", "CON026", "CON029"}  # 422, limit/marker, with_count/count


def _codes(
    tmp_path: Path, title: str, profile: str | None = None, project: str | None = None
) -> set[str]:
    spec = tmp_path / "forge.json"
    spec.write_text(json.dumps({**GITHUB_STYLE, "info": {"title": title, "version": "1.0"}}))
    policy = load_policy(POLICIES).for_project(project)
    if profile is not None:
        policy = policy.with_profile(profile)
    report = check_files([spec], policy=policy, today=TODAY, root=tmp_path)
    return {f.rule for f in report.findings}


def test_openstack_conventions_are_not_imposed_on_other_apis(tmp_path: Path) -> None:
    """Under `auto`, a spec without OpenStack's marks is judged by the generic profile."""
    assert not OPENSTACK_ONLY & _codes(tmp_path, "Forge API")


def test_an_openstack_spec_or_project_gets_the_api_sig_profile(tmp_path: Path) -> None:
    """By the spec's own marks, by the project the policy maps, or by --profile."""
    assert _codes(tmp_path, "OpenStack Forge API") >= OPENSTACK_ONLY
    assert _codes(tmp_path, "Forge API", project="openstack/forge") >= OPENSTACK_ONLY
    assert _codes(tmp_path, "Forge API", profile=API_SIG) >= OPENSTACK_ONLY
    assert not OPENSTACK_ONLY & _codes(tmp_path, "OpenStack Forge", profile=GENERIC)


def test_every_rule_belongs_to_a_profile_and_snake_case_is_api_sig_only() -> None:
    by_code = {r.code: r for r in all_rules()}
    assert all(r.profiles for r in by_code.values())
    assert by_code["CON001"].profiles == {API_SIG}  # snake_case is not the field's consensus
    assert GENERIC in by_code["CON038"].profiles  # OpenAPI's own requirement
    assert by_code["DEP001"].profiles == {API_SIG, GENERIC}


def test_the_policy_picks_a_profile_per_project(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "profiles": {
                    "default": "generic",
                    "projects": [{"project": "openstack/*", "profile": "api-sig"}],
                },
            }
        )
    )
    policy = load_policy(tmp_path / "p.yaml")
    assert policy.active_profile == GENERIC
    assert policy.for_project("openstack/nova").active_profile == API_SIG
    assert policy.for_project("forge/web").active_profile == GENERIC


def test_an_unknown_profile_is_a_policy_error(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        yaml.safe_dump({"version": 1, "profiles": {"default": "zalando"}})
    )
    with pytest.raises(PolicyError, match="profiles"):
        load_policy(tmp_path / "p.yaml")


def test_govbot_rules_shows_each_rules_profile() -> None:
    result = CliRunner().invoke(cli, ["rules"], catch_exceptions=False)
    line = next(x for x in result.output.splitlines() if x.startswith("CON001"))
    assert " api-sig " in line
    line = next(x for x in result.output.splitlines() if x.startswith("CON038"))
    assert " all " in line
    doc = CliRunner().invoke(cli, ["rules", "CON021"], catch_exceptions=False).output
    assert "profile: api-sig" in doc
