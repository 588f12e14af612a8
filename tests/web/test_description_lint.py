"""The JSON API's description passes govbot's own policy and the peer linters.

* govbot itself, with the repository's policy: no finding at any severity;
* Spectral (``spectral:oas``) and Redocly (``recommended``), the peer linters, from the
  npm registry, installed into a cache directory (``GOVBOT_LINTERS_DIR``, default
  ``~/.cache/govbot-linters``), never into the repository: no error. Without npm or the
  registry they are skipped here and fail on CI (``CI`` set), where both are reachable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from govbot.cli import cli
from tests.conftest import REPO

DESCRIPTION = REPO / "api-specs" / "govbot.yaml"
SPECTRAL = "@stoplight/spectral-cli@6.16.3"
REDOCLY = "@redocly/cli@2.77.0"
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}


def test_govbot_finds_nothing_in_its_own_description() -> None:
    result = CliRunner().invoke(
        cli, ["check", "--format", "json", "--policy", str(REPO / "policies"), str(DESCRIPTION)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)["summary"]
    assert (summary["errors"], summary["warnings"], summary["info"]) == (0, 0, 0)


@pytest.fixture(scope="module")
def linters() -> Path:
    """The cache directory's ``node_modules/.bin``, with both linters installed."""
    root = Path(os.environ.get("GOVBOT_LINTERS_DIR", Path.home() / ".cache" / "govbot-linters"))
    bin_dir = root / "node_modules" / ".bin"
    if (bin_dir / "spectral").exists() and (bin_dir / "redocly").exists():
        return bin_dir
    npm = shutil.which("npm")
    problem = "npm is not installed" if npm is None else None
    if npm is not None:
        root.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--prefix", str(root), "--no-audit", "--no-fund", SPECTRAL, REDOCLY],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            problem = f"npm install failed: {done.stderr.strip()[-500:]}"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    return bin_dir


def test_spectral_oas_ruleset_finds_no_error(linters: Path, tmp_path: Path) -> None:
    ruleset = tmp_path / ".spectral.yaml"
    ruleset.write_text('extends: ["spectral:oas"]\n', encoding="utf-8")
    out = tmp_path / "spectral.json"
    command = [str(linters / "spectral"), "lint", "-r", str(ruleset), "-f", "json", "-o", str(out)]
    done = subprocess.run(
        [*command, str(DESCRIPTION)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **QUIET},
    )
    assert out.exists(), done.stdout + done.stderr
    results = json.loads(out.read_text(encoding="utf-8"))
    errors = [r for r in results if r["severity"] == 0]
    assert errors == [], json.dumps(errors, indent=1)[:3000]


def test_redocly_recommended_ruleset_finds_no_error(linters: Path, tmp_path: Path) -> None:
    config = tmp_path / "redocly.yaml"
    config.write_text("extends:\n  - recommended\n", encoding="utf-8")
    done = subprocess.run(
        [
            str(linters / "redocly"),
            "lint",
            "--config",
            str(config),
            "--format=json",
            str(DESCRIPTION),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **QUIET},
    )
    report = json.loads(done.stdout)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert errors == [] and done.returncode == 0, json.dumps(errors, indent=1)[:3000]
