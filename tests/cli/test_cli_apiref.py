"""govbot check and classify on OpenStack api-ref trees, as on OpenAPI (the README's examples)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from govbot.cli import cli
from tests.apiref.apiref_support import git_commit_all, git_init, widget_files, write

INC = "api-ref/source/widgets.inc"
POLICY = "widget/policies/widgets.py"
OPENAPI = """\
openapi: 3.1.0
info: {title: Widgets, version: "1.0"}
paths:
  /widgets/{widget_id}:
    get:
      responses: {"200": {description: ok}}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _removed(files: dict[str, str]) -> dict[str, str]:
    text = files[INC]
    return {**files, INC: text[: text.index("Show Widget\n")]}


@pytest.fixture
def releases(tmp_path: Path) -> tuple[Path, Path]:
    """Two releases of the widget project; the second drops GET /widgets/{widget_id}."""
    files = widget_files()
    return write(tmp_path / "old", files), write(tmp_path / "new", _removed(files))


def test_check_a_tree_and_a_pair_of_trees(releases: tuple[Path, Path]) -> None:
    """`govbot check api-ref/source` and `--base OLD NEW`: the removal is an error at the
    rest_method line of the base .inc; JSON names the operation."""
    old, new = releases
    code, out, _ = run("check", str(new / "api-ref" / "source"))
    assert code == 0 and "in 1 spec" in out
    code, out, _ = run(
        "check", "--base", str(old / "api-ref" / "source"), str(new / "api-ref" / "source")
    )
    assert code == 1
    assert f"{INC} (base)" in out and "DEP001" in out
    code, out, _ = run(
        "check",
        "--format",
        "json",
        "--base",
        str(old / "api-ref" / "source"),
        str(new / "api-ref" / "source"),
    )
    [dep] = [f for f in json.loads(out)["findings"] if f["rule"] == "DEP001"]
    assert dep["operation"] == {"method": "GET", "path": "/widgets/{widget_id}"}
    assert (dep["file"], dep["side"]) == (INC, "base")
    # A project directory stands for its api-ref trees.
    code, out, _ = run("check", "--base", str(old), str(new))
    assert code == 1 and "DEP001" in out


def test_check_git_range_in_a_checkout(tmp_path: Path) -> None:
    """`govbot check --git` in a project checkout: a change of a policy default alone has
    the api-ref tree checked with both sides' defaults (AUD001 at the policy line)."""
    files = widget_files()
    repo = git_init(write(tmp_path / "widget", files))
    first = git_commit_all(repo, "widget")
    narrowed = files[POLICY].replace(
        'name=POLICY_ROOT % "list",\n        check_str=base.PROJECT_READER_OR_ADMIN,',
        'name=POLICY_ROOT % "list",\n        check_str=base.ADMIN,',
    )
    write(tmp_path / "widget", {POLICY: narrowed})
    second = git_commit_all(repo, "narrow")
    code, out, _ = run(
        "check",
        "--git",
        f"{first}..{second}",
        "--repo",
        str(tmp_path / "widget"),
        "--format",
        "json",
    )
    assert code == 1
    [aud] = [f for f in json.loads(out)["findings"] if f["rule"] == "AUD001"]
    assert aud["file"] == POLICY and aud["operation"]["path"] == "/widgets"
    # A range that touches nothing the policy watches checks nothing.
    write(tmp_path / "widget", {"README.rst": "Widgets\n"})
    third = git_commit_all(repo, "readme")
    code, out, _ = run("check", "--git", f"{second}..{third}", "--repo", str(tmp_path / "widget"))
    assert code == 0 and "in 0 specs" in out


def test_classify_with_policy_defaults(releases: tuple[Path, Path], tmp_path: Path) -> None:
    """classify on an api-ref tree (its project's defaults) and on an OpenAPI spec with
    --policy-defaults: the policy name and check string are the evidence, text and JSON."""
    old, _ = releases
    code, out, _ = run("classify", str(old / "api-ref" / "source"))
    assert code == 0
    assert "policy-defaults: policy widget:widgets:show (widget/policies/widgets.py:14)" in out
    spec = write(tmp_path / "specs", {"widgets.yaml": OPENAPI}) / "widgets.yaml"
    code, out, _ = run("classify", "--format", "json", "--policy-defaults", str(old), str(spec))
    assert code == 0
    [op] = json.loads(out)["specs"][0]["operations"]
    assert op["source"] == "policy-defaults"
    assert [(p["name"], p["check_str"]) for p in op["policies"]] == [
        (
            "widget:widgets:show",
            "rule:context_is_admin or (role:reader and project_id:%(project_id)s)",
        )
    ]


def test_bad_input_never_a_traceback(tmp_path: Path) -> None:
    """A policy file with a syntax error and module-level code: a warning naming the file
    and line, the code never run; a missing tree: one line, exit 2."""
    marker = tmp_path / "ran"
    files = widget_files()
    files["widget/policies/evil.py"] = (
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\nx = (\n"
    )
    project = write(tmp_path / "widget", files)
    code, out, err = run("classify", str(project / "api-ref" / "source"))
    assert code == 0 and not marker.exists()
    assert "warning: widget/policies/evil.py:3: " in err and "(ARF008)" in err
    code, out, err = run("check", str(project / "api-ref" / "source"))
    assert "ARF008" in out and not marker.exists()
    code, out, err = run("check", str(tmp_path / "no-such-tree"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
