"""`govbot check --git` on hostile revisions and committed symlinks, as a real process on a
real git repository: a revision that is not a commit is one line on stderr naming it and
why, exit 2, no traceback; a committed spec whose link leads out of the repository is an
OAS010 finding for that file while the rest of the range is still checked (exit 1).
A path the user names on the command line may be anywhere, ``..`` included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GOVBOT = str(Path(sys.executable).with_name("govbot"))
GOOD = """\
openapi: 3.0.3
info: {title: Good, version: "1.0"}
paths:
  /widgets:
    get:
      summary: List widgets.
      description: Lists the widgets.
      responses:
        "200": {description: ok}
        "400": {description: bad request}
"""
SECRET = "openapi: 3.0.3\ninfo: {title: Outside, version: '1'}\npaths: {}\n"


def git(repo: Path, *args: str) -> None:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)


def govbot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    env.update({"GOVBOT_CACHE_DIR": str(cwd / ".cache"), "NO_COLOR": "1"})
    return subprocess.run(
        [GOVBOT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two commits: the second changes a good spec and commits three links under
    api-specs/: one out of the repository (to a real file there), one that loops, and one
    to a spec inside (followed, as the OpenStack trees' ``v2.yaml`` is)."""
    (tmp_path / "outside.yaml").write_text(SECRET)
    root = tmp_path / "repo"
    (root / "api-specs").mkdir(parents=True)
    git(root, "init", "-q")
    (root / "api-specs" / "good.yaml").write_text(GOOD)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    # A dangling $ref: a finding that shows the spec was read and checked.
    broken = GOOD.replace('"200": {description: ok}', '"200": {$ref: "missing.yaml#/R"}')
    (root / "api-specs" / "good.yaml").write_text(broken)
    (root / "api-specs" / "escape.yaml").symlink_to("../../outside.yaml")
    (root / "api-specs" / "loop-a.yaml").symlink_to("loop-b.yaml")
    (root / "api-specs" / "loop-b.yaml").symlink_to("loop-a.yaml")
    (root / "api-specs" / "v2.yaml").symlink_to("good.yaml")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "second")
    return root


@pytest.mark.parametrize(
    ("git_range", "named", "cause"),
    [
        ("HEAD~1..HEAD:../../outside", "HEAD:../../outside", "inside a revision (REV:PATH)"),
        ("HEAD~1..HEAD:api-specs/good.yaml", "HEAD:api-specs/good.yaml", "(REV:PATH)"),
        ("--all..HEAD", "--all", "an option, not a revision"),
        ("HEAD~1..HEAD^{tree}", "HEAD^{tree}", "unknown revision"),
        ("HEAD~1..no-such-branch", "no-such-branch", "unknown revision"),
    ],
)
def test_a_revision_that_is_not_a_commit_is_one_line_and_exit_2(
    repo: Path, git_range: str, named: str, cause: str
) -> None:
    result = govbot("check", "--git", git_range, cwd=repo)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert repr(named) in lines[0] and cause in lines[0]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_links_out_of_the_repository_are_findings_and_the_range_is_still_checked(
    repo: Path,
) -> None:
    result = govbot("check", "--git", "HEAD~1..HEAD", "--format", "json", cwd=repo)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    by_file: dict[str, list[str]] = {}
    for finding in report["findings"]:
        by_file.setdefault(finding["file"], []).append(finding["rule"])
    assert by_file.get("api-specs/escape.yaml") == ["OAS010"]
    assert by_file.get("api-specs/loop-a.yaml") == ["OAS010"]
    assert by_file.get("api-specs/loop-b.yaml") == ["OAS010"]
    # The rest of the range: the changed spec and the link followed inside the tree.
    assert "OAS011" in by_file.get("api-specs/good.yaml", [])
    assert "OAS011" in by_file.get("api-specs/v2.yaml", [])
    assert report["summary"]["specs"] == 5
    assert "Outside" not in result.stdout  # nothing of the outside file was read


def test_a_path_named_on_the_command_line_may_lie_outside_the_working_directory(
    repo: Path,
) -> None:
    # The user may check any file they name; only $refs and git paths are bounded.
    result = govbot("check", "--format", "json", "../../outside.yaml", cwd=repo / "api-specs")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["specs"] == 1
