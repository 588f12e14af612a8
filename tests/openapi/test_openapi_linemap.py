"""Positions of JSON pointers: lines, and columns for minified JSON specs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from govbot.cli import cli
from govbot.openapi.linemap import JsonLines

MINIFIED = {
    "openapi": "3.1.0",
    "info": {"title": "Example API", "version": "1.0"},
    "paths": {
        "/servers": {
            "get": {
                "summary": "List servers",
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"created_at": {"type": "string"}},
                                }
                            }
                        },
                    }
                },
            }
        }
    },
}
FIELD = "/paths/~1servers/get/responses/200/content/application~1json/schema/properties/created_at"


def test_columns_place_pointers_on_a_single_line() -> None:
    """In a minified text every pointer is on line 1; the column tells them apart."""
    text = '{"a":{"b":1},"c":[true,{"d":2}]}'
    lines = JsonLines(text)
    assert {lines(p) for p in ("/a", "/a/b", "/c/1/d")} == {1}
    assert lines.column("/a") == text.index('"a"') + 1
    assert lines.column("/c/1/d") == text.index('"d"') + 1
    assert lines.column("/nowhere") is None


def test_a_column_counts_from_the_start_of_its_line() -> None:
    text = '{\n  "a": {\n    "b": 1\n  }\n}'
    lines = JsonLines(text)
    assert (lines("/a/b"), lines.column("/a/b")) == (3, 5)


def test_findings_in_minified_json_carry_a_column(tmp_path: Path) -> None:
    """JSON and SARIF output give the column beside line 1 (SARIF region startColumn)."""
    spec = tmp_path / "api.json"
    text = json.dumps(MINIFIED, separators=(",", ":"))
    spec.write_text(text)
    runner = CliRunner()
    day = dt.date(2026, 1, 15).isoformat()
    args = ["check", "--profile", "generic", "--today", day]
    out = runner.invoke(cli, [*args, "--format", "json", str(spec)])
    (finding,) = [f for f in json.loads(out.output)["findings"] if f["rule"] == "CON031"]
    assert finding["line"] == 1
    assert finding["column"] == text.index('"created_at"') + 1
    out = runner.invoke(cli, [*args, "--format", "sarif", str(spec)])
    results = json.loads(out.output)["runs"][0]["results"]
    (result,) = [r for r in results if r["ruleId"] == "CON031"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1, "startColumn": finding["column"]}
