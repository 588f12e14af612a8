"""Policy loading: the schema, one-line errors naming file, key and line, merging, waivers."""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from govbot.errors import PolicyError
from govbot.findings import Audience, Severity
from govbot.policy import Waiver, load_policy, packaged_policy_dir
from govbot.policy import load as load_module
from govbot.rules.catalog import CATALOG, all_rules, get_rule
from govbot.rules.registry import rule


def test_unknown_top_level_key_names_file_and_key(write_file, monkeypatch, tmp_path):
    """An unknown key is an error naming the file, the key and where it is."""
    monkeypatch.chdir(tmp_path)
    write_file("policies/default.yaml", "version: 1\nrulez: {}\n")
    with pytest.raises(PolicyError) as err:
        load_policy("policies")
    assert str(err.value).startswith("policies/default.yaml: unknown key 'rulez' at /")
    assert "(line 2)" in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("audience:\n  internal_file: [x]\n", "unknown key 'internal_file' at /audience (line 2)"),
        ("rules:\n  POL001: {enabeld: false}\n", "unknown key 'enabeld' at /rules/POL001"),
        ("rules:\n  POL001: {severity: fatal}\n", "bad value 'fatal' at /rules/POL001/severity"),
        ("rules:\n  POL001: fatal\n", "bad value 'fatal' at /rules/POL001"),
        (
            "rules:\n  POL001: {severity: {external: error, partner: info}}\n",
            "unknown key 'partner' at /rules/POL001/severity",
        ),
        ("rules:\n  dep1: off\n", "bad rule code 'dep1' at /rules"),
        (
            "waivers:\n  - {rule: POL001, expires: 2030-01-01}\n",
            "missing key 'reason' at /waivers/0",
        ),
        ("waivers:\n  - {rule: POL001, reason: ' '}\n", "empty reason at /waivers/0/reason"),
        (
            "waivers:\n  - {rule: POL001, reason: x, expires: 2024-13-01}\n",
            "is not a 'date' at /waivers/0/expires",
        ),
        ("audience:\n  internal_paths: ['(']\n", "is not a 'regex' at /audience/internal_paths/0"),
        ("max_file_bytes: lots\n", "'lots' is not of type 'integer' at /max_file_bytes"),
        ("version: 1\nversion: 1\n", "duplicate key 'version' at / (line 2)"),
        ("- a\n- b\n", "a policy file must be a mapping"),
    ],
)
def test_schema_errors_are_one_line_with_file_and_pointer(write_file, text, expected):
    """Every schema violation is one line: the file, what is wrong, where."""
    path = write_file("p.yaml", text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ") or message.startswith("p.yaml: ")
    assert expected in message


def test_unknown_rule_code_is_named(write_file):
    """A rule code the registry does not know is an error naming the code."""
    path = write_file("p.yaml", "rules:\n  XYZ123: off\n")
    with pytest.raises(
        PolicyError, match=r"unknown rule code 'XYZ123' at /rules/XYZ123 \(line 2\)"
    ):
        load_policy(path)


@pytest.mark.parametrize("key", ["true", "off", "yes"])
def test_a_rule_code_read_as_a_boolean_is_named(write_file, key):
    """YAML reads an unquoted ``true``/``off``/``yes`` key as a boolean: a one-line error."""
    path = write_file("p.yaml", f"rules:\n  {key}: off\n")
    with pytest.raises(
        PolicyError, match=r"a rule code must be text, not (True|False), at /rules \(line 2\)"
    ):
        load_policy(path)


def test_unknown_rule_code_in_a_waiver_is_named(write_file):
    """A waiver of a rule that does not exist is an error, not a silent no-op."""
    path = write_file("p.yaml", "waivers:\n  - {rule: XYZ999, reason: because the TC said so}\n")
    with pytest.raises(PolicyError, match=r"unknown rule code 'XYZ999' at /waivers/0/rule"):
        load_policy(path)


def test_unknown_rule_option_is_named(write_file):
    """Options are checked against the rule's declared options."""
    path = write_file("p.yaml", "rules:\n  POL001: {options: {min_days: 3}}\n")
    with pytest.raises(PolicyError, match=r"unknown option 'min_days' for rule POL001"):
        load_policy(path)


def test_option_of_the_wrong_kind_is_an_error(write_file):
    """An option must have the kind of its default (a number stays a number)."""

    @rule("TST901", "with-option", kind="spec", severity=Severity.WARNING, options={"days": 90})
    def check(ctx):
        """Test rule."""
        return iter(())

    catalog = CATALOG.with_rules(check)
    path = write_file("p.yaml", "rules:\n  TST901: {options: {days: ninety}}\n")
    with pytest.raises(
        PolicyError, match=r"option 'days' of rule TST901 must be a number, not a string"
    ):
        load_policy(path, catalog=catalog)
    ok = write_file("q.yaml", "rules:\n  TST901: {options: {days: 30}}\n")
    loaded = load_policy(ok, catalog=catalog)
    assert loaded.rule_config("TST901").options == {"days": 30}
    assert loaded.catalog.get("TST901") is check


@pytest.mark.parametrize(
    "text",
    [
        "rules:\n  POL001: [on\n  x: y\n",
        "rules:\n POL001: on\n  bad: : x\n",
        "rules: {POL001: on\n",
        "version: 1\n\tx: 2\n",
    ],
)
def test_malformed_yaml_names_file_and_line(write_file, text):
    """Malformed YAML is a PolicyError naming the file and the line, not a traceback."""
    path = write_file("bad.yaml", text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    message = str(err.value)
    assert "malformed YAML" in message
    assert "(line " in message
    assert "bad.yaml" in message


def test_alias_bomb_is_refused(write_file):
    """A YAML alias bomb cannot make the policy loader expand billions of nodes."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefgh"[i]
        lines.append(
            f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]"
        )
    path = write_file("bomb.yaml", "\n".join(lines) + "\n")
    with pytest.raises(PolicyError, match="too many YAML nodes"):
        load_policy(path)


def test_missing_policy_and_empty_directory(tmp_path):
    """A missing path or a directory without policy files is a one-line PolicyError."""
    with pytest.raises(PolicyError, match="no such policy file or directory"):
        load_policy(tmp_path / "nope")
    with pytest.raises(PolicyError, match="no policy files"):
        load_policy(tmp_path)


def test_rule_entries_shorthands_and_per_audience_severity(write_file):
    """`off`, a bare severity and a per-audience mapping all configure a rule."""
    path = write_file(
        "p.yaml",
        """
        rules:
          POL001: off
          POL002: {severity: {external: warning, internal: info}}
        """,
    )
    policy = load_policy(path)
    assert policy.rule_config("POL001").enabled is False
    pol002 = policy.rule_config("POL002")
    assert pol002.severity_for(Audience.EXTERNAL) is Severity.WARNING
    assert pol002.severity_for(Audience.INTERNAL) is Severity.INFO
    assert pol002.severity_for(Audience.EXTERNAL_ADMIN) is None  # the rule's default
    assert policy.rule_config("DEP999").enabled  # not listed: defaults


def test_directory_files_merge_in_name_order(write_file, tmp_path):
    """Later files override scalars and rule fields, extend lists and add waivers."""
    write_file(
        "pol/10-base.yaml",
        """
        max_file_bytes: 2048
        specs: ["api/**/*.yaml"]
        rules:
          POL002: {severity: warning}
        glossary: {tenant_id: project_id}
        waivers:
          - {rule: POL002, reason: first file, expires: 2030-01-01}
        """,
    )
    write_file(
        "pol/20-local.yaml",
        """
        max_file_bytes: 4096
        specs: ["more/*.json"]
        rules:
          POL002: {enabled: false}
        glossary: {tenant: project}
        waivers:
          - {rule: POL001, path: "api/legacy/**", pointer: /paths, reason: second file}
        """,
    )
    policy = load_policy(tmp_path / "pol")
    assert policy.max_file_bytes == 4096
    assert policy.spec_globs == ("api/**/*.yaml", "more/*.json")
    cfg = policy.rule_config("POL002")
    assert cfg.enabled is False and cfg.severity is Severity.WARNING
    assert policy.glossary == {"tenant_id": "project_id", "tenant": "project"}
    first, second = policy.waivers
    assert first.source.endswith("10-base.yaml") and first.line == 7
    assert first.expires == dt.date(2030, 1, 1)
    assert second.source.endswith("20-local.yaml") and second.expires is None
    assert second.pointer == "/paths" and second.reason == "second file"


def test_digest_is_stable_and_changes_with_content(write_file):
    """The digest identifies the policy content, not formatting or key order."""
    a = write_file("a.yaml", "rules: {POL001: off, POL002: on}\nmax_file_bytes: 2048\n")
    b = write_file(
        "b.yaml", "# a comment\nmax_file_bytes: 2048\nrules:\n  POL002: on\n  POL001: off\n"
    )
    c = write_file("c.yaml", "rules: {POL001: on, POL002: on}\nmax_file_bytes: 2048\n")
    assert load_policy(a).digest == load_policy(b).digest
    assert load_policy(a).digest != load_policy(c).digest
    assert len(load_policy(a).digest) == 64


def test_waiver_matching_and_expiry():
    """A waiver covers its rule, files by glob, and pointers under its prefix, until it expires."""
    w = Waiver(
        "CON001",
        path="api-specs/legacy/**",
        pointer="/paths/~1a",
        reason="r",
        expires=dt.date(2025, 1, 31),
    )
    assert w.covers("CON001", "api-specs/legacy/x/y.yaml", "/paths/~1a/get")
    assert w.covers("CON001", "api-specs/legacy/y.yaml", "/paths/~1a")
    assert not w.covers("CON001", "api-specs/legacy/y.yaml", "/paths/~1ab")
    assert not w.covers("CON002", "api-specs/legacy/y.yaml", "/paths/~1a")
    assert not w.covers("CON001", "api-specs/new.yaml", "/paths/~1a")
    assert not w.expired(dt.date(2025, 1, 31))  # the last day it applies
    assert w.expired(dt.date(2025, 2, 1))


def test_default_policy_and_registry_agree(default_policy):
    """Every registered rule is listed in policies/default.yaml, and every listed code exists."""
    registered = {r.code for r in all_rules()}
    raw = yaml.safe_load((Path(__file__).parents[2] / "policies" / "default.yaml").read_text())
    listed = set(raw["rules"])
    missing = sorted(registered - listed)
    hint = "".join(f"\n  {code}: on    # {get_rule(code).name}" for code in missing)
    assert not missing, f"add to policies/default.yaml (and govbot/data/policies/):{hint}"
    assert listed - registered == set(), "policies/default.yaml lists unknown rules"
    assert set(default_policy.rules) == registered


def test_packaged_policy_is_a_copy_of_policies(repo_root):
    """govbot/data/policies/ (shipped in the wheel) is identical to the top-level policies/."""
    top, packaged = repo_root / "policies", packaged_policy_dir()
    names = sorted(p.name for p in top.iterdir() if p.is_file())
    assert names == sorted(p.name for p in packaged.iterdir() if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(top, packaged, names, shallow=False)
    assert mismatch == [] and errors == [], f"copy policies/ to {packaged}"


def test_schema_is_valid_draft_2020_12_and_closed(repo_root):
    """The policy schema is valid JSON Schema 2020-12 and every object in it is closed."""
    schema = json.loads((repo_root / "policies" / "schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)

    def objects(node):
        if isinstance(node, dict):
            if node.get("type") == "object":
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for value in node:
                yield from objects(value)

    for obj in objects(schema):
        if obj.get("description", "").startswith("Rule options"):
            continue  # checked against each rule's declared options instead
        assert "additionalProperties" in obj, obj


def test_load_none_is_the_packaged_default(default_policy):
    """load_policy(None) loads the policy shipped in the package (same content)."""
    assert load_policy(None).digest == default_policy.digest


def test_readme_policy_example_is_a_valid_policy(repo_root, tmp_path):
    """The policy example in README.md loads: the documentation does not drift from the schema."""
    import re

    text = (repo_root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(version: 1\n.*?)```", text, re.S)
    assert block is not None
    path = tmp_path / "readme.yaml"
    path.write_text(block.group(1))
    policy = load_policy(path)
    assert policy.rule_config("CON028").enabled is False
    assert policy.waivers[0].expires == dt.date(2026, 12, 31)


# --- the fast check (jsonschema-rs) says what jsonschema says -----------------------------


@pytest.mark.parametrize(
    "text",
    [
        # Python-only regex syntax (a named group, a lookbehind) is a valid 'regex'
        "audience:\n  internal_paths: ['(?P<x>a)', '(?<![\\w-])b']\n",
        # ECMA-only syntax is not: policies' regexes run in Python
        "audience:\n  internal_paths: ['(?<x>a)']\n",
        # spaces in Python's eyes, not jsonschema-rs's: still an empty reason
        'waivers:\n  - {rule: POL001, reason: "\\x1c\\x1f"}\n',
        'waivers:\n  - {rule: POL001, reason: "\\u00a0"}\n',
        # '.' takes a carriage return in Python, not in jsonschema-rs
        'waivers:\n  - {rule: POL001, reason: ok, path: "/a\\rb"}\n',
        "waivers:\n  - {rule: POL001, reason: ok, expires: '2026-02-30'}\n",
        'waivers:\n  - {rule: POL001, reason: ok, expires: "2026-12-03\\n"}\n',
        "waivers:\n  - {rule: POL001, reason: ok, expires: 2026-12-03}\n",
        "audience:\n  true: [x]\n",  # a key that is not text
        "max_file_bytes: 100000000000000000000000\n",
        "max_file_bytes: .nan\n",
        "max_file_bytes: 12\n",
    ],
)
def test_fast_schema_check_agrees_with_jsonschema(write_file, monkeypatch, text):
    """A policy jsonschema-rs passes is one jsonschema passes; the rest is jsonschema's to
    judge and explain, with the same message as when it checks every file."""
    path = write_file("p.yaml", text)

    def outcome() -> str:
        try:
            load_policy(path)
        except PolicyError as exc:
            return str(exc)
        return "valid"

    fast = outcome()
    monkeypatch.setattr(load_module, "_surely_valid", lambda data: False)
    assert outcome() == fast


def test_valid_policies_are_checked_without_importing_jsonschema(repo_root):
    """jsonschema (a tenth of a second to import) is only needed to explain an error."""
    code = (
        "import sys\n"
        "from govbot.policy import load_policy\n"
        "load_policy()\n"
        "assert 'jsonschema' not in sys.modules, 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=repo_root, timeout=120)
