"""The command line: exit codes 0/1/2, one-line failures, formats, --git, classify and rules."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import git
import pytest
from click.testing import CliRunner

import govbot.cli.common
from govbot.cli import cli
from govbot.findings import Severity
from govbot.policy import load_policy
from govbot.rules.catalog import CATALOG, all_rules
from govbot.rules.registry import Hit, rule
from govbot.surface import operations

REPO = Path(__file__).resolve().parents[2]
GOVBOT = REPO / ".venv" / "bin" / "govbot"

SPEC = """\
openapi: 3.0.3
info: {title: demo, version: "1.0"}
paths:
  /servers:
    get:
      responses:
        '200': {description: ok}
  /flavors:
    get:
      responses:
        '200': {description: ok}
"""


@pytest.fixture
def quiet_policy(tmp_path) -> Path:
    """A policy with every catalogue rule off: only the test's own rules speak."""
    path = tmp_path / "quiet-policy.yaml"
    path.write_text("rules:\n" + "".join(f"  {r.code}: off\n" for r in all_rules()))
    return path


@pytest.fixture
def flag_servers(monkeypatch):
    """TST051 flags GET /servers as an error; TST052 flags removed operations."""

    @rule("TST051", "no-servers", kind="spec", severity=Severity.ERROR)
    def no_servers(ctx):
        """GET /servers is flagged."""
        for op in operations(ctx.spec):
            if op.path == "/servers":
                yield Hit(
                    "servers are flagged",
                    op.node.pointer,
                    audience=ctx.audience.of(op.key),
                    scope="new",
                )

    @rule("TST052", "removed", kind="diff", severity=Severity.ERROR)
    def removed(ctx):
        """Removed operations."""
        for d in ctx.diff.removed:
            yield Hit(
                f"{d.label} removed",
                d.op.node.pointer,
                side="base",
                file=d.op.node.file,
                scope="changed",
            )

    catalog = CATALOG.with_rules(no_servers, removed)
    # The command line loads its policy against this catalogue, so these rules run.
    monkeypatch.setattr(
        govbot.cli.common, "load_policy", lambda path=None: load_policy(path, catalog=catalog)
    )


@pytest.fixture
def spec_file(tmp_path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(SPEC)
    return path


def invoke(*args: str | Path):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def one_line_error(result) -> str:
    """The failure message: exactly one line on stderr, starting with "govbot: ", no traceback."""
    err = result.stderr
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("govbot: ")
    return lines[0]


# --- exit codes ----------------------------------------------------------------------------


def test_exit_0_without_error_findings(spec_file, quiet_policy):
    """No error-level finding: exit 0."""
    result = invoke("check", "--policy", quiet_policy, spec_file)
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings, 0 info in 1 spec" in result.stdout


def test_exit_1_with_error_findings(spec_file, quiet_policy, flag_servers):
    """An error-level finding: exit 1, the finding printed with its rule, file and line."""
    result = invoke("check", "--policy", quiet_policy, spec_file)
    assert result.exit_code == 1
    assert "demo.yaml\n" in result.stdout
    assert "TST051 servers are flagged" in result.stdout
    assert "1 error, 0 warnings, 0 info in 1 spec" in result.stdout


def test_warnings_alone_exit_0(spec_file, tmp_path, quiet_policy, flag_servers):
    """A policy that lowers the rule to a warning turns the verdict into exit 0."""
    policy = tmp_path / "pol"
    policy.mkdir()
    (policy / "10-quiet.yaml").write_text(quiet_policy.read_text())
    (policy / "20-lower.yaml").write_text("rules:\n  TST051: warning\n")
    result = invoke("check", "--policy", policy, spec_file)
    assert result.exit_code == 0
    assert "0 errors, 1 warning" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "missing.yaml"], "govbot: missing.yaml: no such file or directory"),
        (["check"], "give at least one SPEC"),
        (["check", "--base", "a.yaml", "--base", "b.yaml", "c.yaml"], "2 --base for 1 SPEC"),
        (["check", "--git", "HEAD", "--repo", "."], "--git wants REV1..REV2"),
        # click's own words around the option and the value vary with its version
        (["check", "--frobnicate"], "--frobnicate"),
        (["check", "--format", "xml", "x.yaml"], "xml"),
        (["rules", "XYZ123"], "unknown rule code 'XYZ123'"),
        (["check", "--config", "nope.toml", "x.yaml"], "nope.toml: no such settings file"),
    ],
)
def test_exit_2_is_one_line(args, message, tmp_path, monkeypatch):
    """Usage and input problems: exit 2 with one line naming the cause, never a traceback."""
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in one_line_error(result)


def test_exit_2_on_policy_errors_names_file_and_key(spec_file, tmp_path, monkeypatch):
    """A broken policy: exit 2, `govbot: <file>: unknown key ...`."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "default.yaml").write_text("version: 1\nrulez: {}\n")
    result = invoke("check", spec_file)  # ./policies is the default policy directory
    assert result.exit_code == 2
    assert (
        one_line_error(result) == "govbot: policies/default.yaml: unknown key 'rulez' at / (line 2)"
    )


def test_exit_2_on_unexpected_errors_with_trace_only_under_debug(
    spec_file, quiet_policy, monkeypatch
):
    """An internal error is one line (exit 2); --debug adds the trace."""

    def boom(*args, **kwargs):
        raise RuntimeError("something broke")

    monkeypatch.setattr("govbot.cli.offline.check_files", boom)
    result = invoke("check", "--policy", quiet_policy, spec_file)
    assert result.exit_code == 2
    line = one_line_error(result)
    assert "internal error: RuntimeError: something broke" in line and "--debug" in line
    debug = invoke("--debug", "check", "--policy", quiet_policy, spec_file)
    assert debug.exit_code == 2
    assert "Traceback" in debug.stderr


def test_unloadable_spec_is_a_finding_not_a_crash(tmp_path, quiet_policy):
    """Malformed YAML is reported as a finding of the loader (exit 1 when error-level), not exit 2."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.0.3\npaths: {/x: [\n")
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "".join(
            line
            for line in quiet_policy.read_text().splitlines(True)
            if not line.startswith("  OAS")
        )
    )
    result = invoke("check", "--policy", policy, "--format", "json", bad)
    assert result.exit_code in (0, 1)
    data = json.loads(result.stdout)
    assert data["findings"], "a syntax error must be reported"
    assert all(f["file"] == "bad.yaml" for f in data["findings"])


# --- formats and outputs -------------------------------------------------------------------


def test_json_output(spec_file, quiet_policy, flag_servers):
    """--format json: the findings and the summary."""
    result = invoke("check", "--policy", quiet_policy, "--format", "json", spec_file)
    data = json.loads(result.stdout)
    (finding,) = data["findings"]
    assert (
        finding["rule"] == "TST051" and finding["file"] == "demo.yaml" and finding["line"] in (4, 5)
    )
    assert finding["help"] == "http://127.0.0.1:8080/rules/TST051"
    assert data["summary"]["errors"] == 1


def test_sarif_output_to_a_file(spec_file, quiet_policy, flag_servers, tmp_path):
    """--format sarif --output FILE writes SARIF there; the counts go to stderr."""
    out = tmp_path / "govbot.sarif"
    result = invoke(
        "check", "--policy", quiet_policy, "--format", "sarif", "--output", out, spec_file
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "1 error" in result.stderr
    log = json.loads(out.read_text())
    assert log["version"] == "2.1.0"
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["TST051"]


def test_help_links_use_the_configured_web_url(spec_file, quiet_policy, flag_servers, monkeypatch):
    """GOVBOT_WEB_URL sets the base of every rule link."""
    monkeypatch.setenv("GOVBOT_WEB_URL", "https://govbot.example.org/")
    result = invoke("check", "--policy", quiet_policy, "--format", "json", spec_file)
    assert (
        json.loads(result.stdout)["findings"][0]["help"]
        == "https://govbot.example.org/rules/TST051"
    )


def test_colour_only_on_request(spec_file, quiet_policy, flag_servers):
    """--color always colours; auto does not when stdout is not a terminal."""
    assert (
        "\x1b[" in invoke("check", "--policy", quiet_policy, "--color", "always", spec_file).stdout
    )
    assert "\x1b[" not in invoke("check", "--policy", quiet_policy, spec_file).stdout


def test_base_pair_reports_removals_in_the_base_file(tmp_path, quiet_policy, flag_servers):
    """--base OLD SPEC: a removed operation is reported in the base file, at its line there."""
    old = tmp_path / "old.yaml"
    old.write_text(SPEC)
    new = tmp_path / "new.yaml"
    new.write_text(SPEC.split("  /flavors:")[0])
    result = invoke("check", "--policy", quiet_policy, "--format", "json", "--base", old, new)
    removed = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "TST052"]
    assert [(f["file"], f["side"], f["message"]) for f in removed] == [
        ("old.yaml", "base", "GET /flavors removed")
    ]
    assert removed[0]["line"] in (8, 9)


def test_directory_of_specs(tmp_path, quiet_policy, flag_servers):
    """A directory stands for every spec in it; fragments they $ref are not checked alone."""
    d = tmp_path / "specs"
    (d / "schemas").mkdir(parents=True)
    (d / "a.yaml").write_text(SPEC)
    (d / "b.yaml").write_text(
        SPEC.replace("/servers", "/volumes").replace(
            "{description: ok}", "{$ref: 'schemas/ok.yaml'}"
        )
    )
    (d / "schemas" / "ok.yaml").write_text("description: ok\n")
    result = invoke("check", "--policy", quiet_policy, "--format", "json", d)
    data = json.loads(result.stdout)
    assert data["summary"]["specs"] == 2
    assert [f["file"] for f in data["findings"]] == [
        "a.yaml"
    ]  # relative to the specs' common directory


# --- --git on a real repository --------------------------------------------------------------


def test_git_range(tmp_path, quiet_policy, flag_servers):
    """--git REV1..REV2 --repo DIR: the changed spec, both sides read from git."""
    repo = git.Repo.init(tmp_path / "repo")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "T")
        cfg.set_value("user", "email", "t@example.org")
    spec = Path(repo.working_dir) / "api-specs" / "compute.yaml"
    spec.parent.mkdir()
    spec.write_text(SPEC)
    repo.index.add(["api-specs/compute.yaml"])
    first = repo.index.commit("add").hexsha
    spec.write_text(SPEC.split("  /flavors:")[0])
    repo.index.add(["api-specs/compute.yaml"])
    second = repo.index.commit("remove flavors").hexsha
    result = invoke(
        "check",
        "--policy",
        quiet_policy,
        "--git",
        f"{first}..{second}",
        "--repo",
        repo.working_dir,
        "--format",
        "json",
    )
    assert result.exit_code == 1
    findings = {(f["rule"], f["file"], f["message"]) for f in json.loads(result.stdout)["findings"]}
    assert ("TST052", "api-specs/compute.yaml", "GET /flavors removed") in findings
    bad = invoke(
        "check", "--policy", quiet_policy, "--git", f"{first}..nope", "--repo", repo.working_dir
    )
    assert bad.exit_code == 2 and "unknown revision 'nope'" in one_line_error(bad)


# --- classify and rules --------------------------------------------------------------------------


def test_classify_text_and_json(tmp_path):
    """classify prints every operation with its audience and evidence."""
    spec = tmp_path / "c.yaml"
    spec.write_text(
        SPEC.replace(
            "  /flavors:\n    get:\n",
            "  /flavors:\n    get:\n      x-audience: component-internal\n",
        )
    )
    text = invoke("classify", spec)
    assert text.exit_code == 0
    assert "GET /servers" in text.stdout and "GET /flavors" in text.stdout
    assert "internal" in text.stdout and "x-audience" in text.stdout
    data = json.loads(invoke("classify", "--format", "json", spec).stdout)
    (one,) = data["specs"]
    audiences = {op["operation"]: op["audience"] for op in one["operations"]}
    assert audiences == {"GET /servers": "external", "GET /flavors": "internal"}


def test_classify_unloadable_spec_is_exit_2(tmp_path):
    """classify cannot classify what does not load: one line, exit 2."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: [\n")
    result = invoke("classify", bad)
    assert result.exit_code == 2
    assert one_line_error(result).startswith("govbot: bad.yaml: ")


def test_rules_catalogue_and_one_rule():
    """rules lists the catalogue; rules CODE documents one rule in text, json and markdown."""
    listing = invoke("rules")
    assert listing.exit_code == 0
    for r in all_rules():
        assert r.code in listing.stdout
    one = invoke("rules", "pol001")
    assert one.stdout.startswith("POL001 expired-waiver")
    data = json.loads(invoke("rules", "POL002", "--format", "json").stdout)
    assert data["code"] == "POL002" and data["help"].endswith("/rules/POL002")
    assert "#### Why it matters" in invoke("rules", "POL002", "--format", "markdown").stdout
    assert len(json.loads(invoke("rules", "--format", "json").stdout)["rules"]) == len(all_rules())


# --- the installed console script ------------------------------------------------------------------


def run_govbot(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    env["GOVBOT_CACHE_DIR"] = ""
    return subprocess.run(
        [str(GOVBOT), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(not GOVBOT.exists(), reason="needs the package installed in .venv (make venv)")
def test_real_console_script_exit_codes(tmp_path, spec_file, quiet_policy):
    """The installed `govbot` script: 0 on a clean check, 2 with one line on a missing file."""
    ok = run_govbot("check", "--policy", quiet_policy, spec_file, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "0 errors" in ok.stdout
    missing = run_govbot("check", "missing.yaml", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "govbot: missing.yaml: no such file or directory"
    version = run_govbot("--version", cwd=tmp_path)
    assert version.returncode == 0 and "govbot" in version.stdout


@pytest.mark.skipif(not GOVBOT.exists(), reason="needs the package installed in .venv (make venv)")
def test_real_console_script_on_the_demo_pair(tmp_path):
    """`make demo`'s command: the default policy on the real compute pair finds errors (exit 1)."""
    demo = REPO / "tests" / "data" / "demo"
    result = run_govbot(
        "check",
        "--format",
        "json",
        "--base",
        demo / "compute-base.yaml",
        demo / "compute-head.yaml",
        cwd=REPO,
    )
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    errors = [f for f in data["findings"] if f["severity"] == "error"]
    assert any("tags/{id}" in f["message"] or "tags~1{id}" in f["pointer"] for f in errors)
    removal = next(f for f in errors if "tags~1{id}" in f["pointer"])
    assert removal["file"] == "tests/data/demo/compute-base.yaml"
    assert not any(f["rule"] == "POL002" for f in data["findings"]), "no rule may crash on the demo"


def test_base_directory_pairs_with_head_directory(tmp_path, quiet_policy, flag_servers):
    """--base DIR with a DIR: files pair by relative path; a file only in the base was deleted."""
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "compute.yaml").write_text(SPEC)
    (new / "compute.yaml").write_text(SPEC.split("  /flavors:")[0])
    (old / "legacy.yaml").write_text(SPEC.replace("/servers", "/things"))
    result = invoke("check", "--policy", quiet_policy, "--format", "json", "--base", old, new)
    removed = sorted(
        f["message"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "TST052"
    )
    assert removed == ["GET /flavors removed", "GET /flavors removed", "GET /things removed"]


def test_debug_logs_never_show_secrets(spec_file, quiet_policy, monkeypatch):
    """Even with --debug, the Gerrit password and the webhook secret never reach the output."""
    monkeypatch.setenv("GOVBOT_GERRIT_PASSWORD", "hunter2-very-secret")
    monkeypatch.setenv("GOVBOT_WEBHOOK_SECRET", "webhook-very-secret")
    result = invoke("--debug", "check", "--policy", quiet_policy, spec_file)
    assert result.exit_code == 0
    assert "very-secret" not in result.stdout + result.stderr


def test_check_and_classify_run_without_the_cycle_collector_and_restore_it(
    spec_file, quiet_policy, flag_servers, monkeypatch
):
    """A check or a classification (one pass over its inputs) runs with the cyclic
    collector paused, its rules included, and leaves it as it was, also when it fails."""
    import gc

    seen = []

    @rule("TST053", "collector-state", kind="spec", severity=Severity.INFO)
    def collector_state(ctx):
        """Notes whether the collector runs."""
        seen.append(gc.isenabled())
        return ()

    catalog = CATALOG.with_rules(collector_state)
    monkeypatch.setattr(
        govbot.cli.common, "load_policy", lambda path=None: load_policy(path, catalog=catalog)
    )
    assert gc.isenabled()
    assert invoke("check", spec_file).exit_code == 0
    assert seen == [False]
    assert gc.isenabled()
    assert invoke("classify", spec_file).exit_code == 0
    assert gc.isenabled()
    bad = spec_file.with_name("bad.yaml")
    bad.write_text("openapi: [\n")
    assert invoke("classify", bad).exit_code == 2
    assert gc.isenabled()
    gc.disable()
    try:  # paused by someone else before: left paused
        assert invoke("check", spec_file).exit_code == 0
        assert not gc.isenabled()
    finally:
        gc.enable()
