"""Bad input through the real command: a finding naming the file and the cause, or one
line on stderr with exit code 2; never a traceback, and the other specs still checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from govbot.cli import cli

RULES = Path(__file__).resolve().parents[1] / "rules"
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

# (fixture scenario, expected code, words the message must contain)
REFUSED = [
    ("OAS001/malformed-yaml", "OAS001", "YAML syntax error at line 3"),
    ("OAS001/malformed-json", "OAS001", "invalid JSON at line 2"),
    ("OAS003/nul-bytes", "OAS003", "binary content"),
    ("OAS004/latin1", "OAS004", "not UTF-8"),
    ("OAS005/billion-laughs", "OAS005", "aliases expand to more than"),
    ("OAS006/deep-nesting", "OAS006", "base.yaml: nested "),
    ("OAS006/deep-block-sequences", "OAS006", "base.yaml: nested "),
    ("OAS006/deep-json", "OAS006", "base.json: nested "),
    ("OAS007/not-openapi", "OAS007", "not an OpenAPI description"),
    ("OAS008/openapi-4", "OAS008", "unsupported version"),
    ("OAS009/remote-ref", "OAS009", "remote references are never fetched"),
    ("OAS010/outside-root", "OAS010", "outside the repository root"),
    ("OAS011/missing-file", "OAS011", "does not exist"),
    ("OAS012/missing-pointer", "OAS012", "nothing at #/components/schemas/Widget"),
    ("OAS013/pure-loop", "OAS013", "$ref loop"),
    ("OAS014/missing-info", "OAS014", "invalid OpenAPI 3.0 at the top level"),
    ("OAS016/python-tag", "OAS016", "YAML tag !!python/object/apply:os.system on a sequence"),
    ("OAS016/local-tag", "OAS016", "YAML tag !include at line 5"),
    ("OAS016/yaml11-types", "OAS016", "YAML tag !!timestamp at line 4"),
]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("scenario", "code", "cause"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_input_is_a_finding_and_the_next_spec_is_still_checked(
    scenario: str, code: str, cause: str, tmp_path: Path
) -> None:
    bad = next((RULES / scenario).glob("base.*"))
    target = tmp_path / bad.name
    target.write_bytes(bad.read_bytes())
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    status, out, err = _run("check", "--format", "json", str(target), str(good))
    assert status == 1, err
    assert "Traceback" not in out + err
    findings = json.loads(out)["findings"]
    mine = [f for f in findings if f["rule"] == code]
    assert mine, findings
    assert mine[0]["file"].endswith(bad.name) and mine[0]["severity"] == "error"
    assert bad.name in mine[0]["message"] and cause in mine[0]["message"]
    # the good spec was loaded and checked: it is known to the summary, with no load error
    assert not [
        f for f in findings if f["file"].endswith("good.yaml") and f["rule"].startswith("OAS")
    ]


def test_a_language_tag_is_a_finding_at_its_line_and_never_runs(tmp_path: Path) -> None:
    """The report's example: ``!!python/object/apply:os.system`` is refused, not read, not run."""
    marker = tmp_path / "pwned"
    spec = tmp_path / "api.yaml"
    spec.write_text(GOOD + f"x-p: !!python/object/apply:os.system ['touch {marker}']\n")
    status, out, err = _run("check", "--format", "json", str(spec))
    assert status == 1 and "Traceback" not in out + err
    (finding,) = json.loads(out)["findings"]
    assert (finding["rule"], finding["severity"], finding["line"]) == ("OAS016", "error", 11)
    assert (
        finding["file"].endswith("api.yaml")
        and "!!python/object/apply:os.system" in finding["message"]
    )
    assert not marker.exists()


def test_size_limit_is_configurable_from_the_command_line(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text(GOOD + "# " + "x" * 4000 + "\n")
    status, out, _ = _run("check", "--max-bytes", "2048", "--format", "json", str(spec))
    assert status == 1
    (finding,) = json.loads(out)["findings"]
    assert finding["rule"] == "OAS002" and "over the limit of 2048 bytes" in finding["message"]


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        (lambda d: [str(d / "absent.yaml")], "absent.yaml: no such file or directory"),
        (lambda d: ["--policy", str(d / "broken.yaml"), str(d / "good.yaml")], "broken.yaml"),
        (
            lambda d: ["--policy", str(d / "unknown.yaml"), str(d / "good.yaml")],
            "unknown key 'rulez'",
        ),
    ],
    ids=["missing-spec", "malformed-policy", "unknown-policy-key"],
)
def test_cannot_run_is_one_line_and_exit_2(setup, needle: str, tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "broken.yaml").write_text("rules: {CON001: [\n")
    (tmp_path / "unknown.yaml").write_text("rulez: {}\n")
    status, _out, err = _run("check", *setup(tmp_path))
    assert status == 2
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
