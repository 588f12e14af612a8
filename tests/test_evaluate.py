"""The decision point: selection, severity by audience and scope, placement, suppression, waivers, crashes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import pytest

from govbot.audience import classify
from govbot.diff import diff_specs
from govbot.evaluate import Subject, evaluate, severity_of
from govbot.findings import Audience, Problem, Severity
from govbot.openapi.load import load_spec
from govbot.policy import Policy, RuleConfig, Waiver
from govbot.rules.catalog import all_rules, get_rule
from govbot.rules.registry import Hit, Kind, rule
from govbot.surface import operations

TODAY = dt.date(2025, 6, 1)

BASE = """
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
  /gone:
    delete:
      x-govbot-ignore: [TST012]
      responses:
        '204': {description: ok}
"""

HEAD = """
openapi: 3.0.3
info: {title: demo, version: "1.0"}
paths:
  /servers:
    get:
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
      responses:
        '200': {description: ok}
  /flavors:
    get:
      responses:
        '200': {description: ok}
  /internal/ping:
    get:
      x-audience: component-internal
      responses:
        '200': {description: ok}
"""


@pytest.fixture
def rules():
    """Throwaway rules: one per op (spec), one per removal (diff), one that crashes."""

    @rule("TST011", "every-operation", kind="spec", severity=Severity.ERROR)
    def every_operation(ctx):
        """Reports every operation."""
        for op in operations(ctx.spec):
            yield Hit(
                f"{op.label} seen",
                op.node.pointer,
                audience=ctx.audience.of(op.key),
                scope=ctx.scope_of(op.key),
            )

    @rule("TST012", "removed", kind="diff", severity=Severity.ERROR)
    def removed(ctx):
        """Reports every removed operation, on the base side."""
        for d in ctx.diff.removed:
            yield Hit(
                f"{d.label} removed",
                d.op.node.pointer,
                side="base",
                audience=ctx.base_audience.of(d.key),
                scope="changed",
            )

    @rule("TST013", "half-then-crash", kind="spec", severity=Severity.WARNING)
    def half_then_crash(ctx):
        """Yields one hit, then crashes."""
        yield Hit("before the crash", "/info")
        raise KeyError("boom")

    @rule("TST014", "spec-level", kind="cross", severity=Severity.INFO)
    def spec_level(ctx):
        """One hit per spec, on the document."""
        for spec in ctx.specs:
            yield Hit(f"{spec.file} checked", "/info", file=spec.file)

    return {r.code: r for r in (every_operation, removed, half_then_crash, spec_level)}


@pytest.fixture
def subject(write_file):
    base_path = write_file("base.yaml", BASE)
    head_path = write_file("head.yaml", HEAD)
    return make_subject(base_path, head_path)


def make_subject(base_path, head_path, policy=None):
    policy = policy or Policy(source="test", digest="0")
    head = load_spec(head_path, root=head_path.parent)
    base = load_spec(base_path, root=base_path.parent) if base_path else None
    return Subject(
        head=head,
        head_audience=classify(head, policy.audience),
        base=base,
        base_audience=classify(base, policy.audience) if base else None,
        diff=diff_specs(base, head) if base else None,
    )


def policy_with(**kwargs) -> Policy:
    return Policy(source="test", digest="0", **kwargs)


def by_rule(findings, code):
    return [f for f in findings if f.rule == code]


def test_strict_on_new_and_changed_surface_milder_on_existing(rules, subject):
    """An error rule is an error on changed surface and a warning on untouched surface."""
    result = evaluate([subject], policy_with(), TODAY, rules=[rules["TST011"]])
    seen = {f.message: f for f in by_rule(result, "TST011")}
    assert seen["GET /servers seen"].scope == "changed"
    assert seen["GET /servers seen"].severity is Severity.ERROR
    assert seen["GET /flavors seen"].scope == "existing"
    assert seen["GET /flavors seen"].severity is Severity.WARNING
    # added internal surface: the rule's internal default (one step milder)
    ping = seen["GET /internal/ping seen"]
    assert (ping.audience, ping.severity) == (Audience.INTERNAL, Severity.WARNING)
    assert ping.scope != "existing"


def test_without_a_base_everything_is_new(rules, write_file):
    """A spec checked on its own is judged as new surface throughout."""
    subject = make_subject(None, write_file("head.yaml", HEAD))
    result = evaluate([subject], policy_with(), TODAY, rules=[rules["TST011"]])
    assert {f.scope for f in result} == {"new"}
    assert {f.severity for f in result if f.audience is Audience.EXTERNAL} == {Severity.ERROR}


@pytest.mark.parametrize(
    ("default", "audience", "scope", "expected"),
    [
        (Severity.ERROR, Audience.EXTERNAL, "new", Severity.ERROR),
        (Severity.ERROR, Audience.EXTERNAL, "changed", Severity.ERROR),
        (Severity.ERROR, Audience.EXTERNAL, "existing", Severity.WARNING),
        (Severity.WARNING, Audience.EXTERNAL, "existing", Severity.INFO),
        (Severity.ERROR, Audience.EXTERNAL_ADMIN, "new", Severity.ERROR),
        (Severity.ERROR, Audience.INTERNAL, "new", Severity.WARNING),
        (Severity.ERROR, Audience.INTERNAL, "existing", Severity.INFO),
        (Severity.INFO, Audience.EXTERNAL, "existing", Severity.INFO),
    ],
)
def test_severity_table(default, audience, scope, expected):
    """Severity = the rule's default for the audience, one step milder on existing surface."""

    @rule("TST020", "table", kind="spec", severity=default)
    def table(ctx):
        """Table rule."""
        return iter(())

    assert severity_of(table, policy_with(), audience, scope) is expected


def test_policy_overrides_severity_per_audience(rules, subject):
    """A policy severity replaces the rule's default; a per-audience one only for that audience."""
    policy = policy_with(
        rules={
            "TST011": RuleConfig(
                severity=Severity.INFO, severities={Audience.INTERNAL: Severity.ERROR}
            )
        }
    )
    result = evaluate([subject], policy, TODAY, rules=[rules["TST011"]])
    seen = {f.message: f.severity for f in result}
    assert seen["GET /servers seen"] is Severity.INFO
    assert seen["GET /internal/ping seen"] is Severity.ERROR


def test_disabled_rule_does_not_run(rules, subject):
    """`CODE: off` means the rule is not even run (its crash cannot happen)."""
    policy = policy_with(rules={"TST013": RuleConfig(enabled=False)})
    result = evaluate([subject], policy, TODAY, rules=[rules["TST011"], rules["TST013"]])
    assert by_rule(result, "TST013") == [] and by_rule(result, "POL002") == []
    assert by_rule(result, "TST011")


def test_removal_points_into_the_base_spec(rules, subject):
    """A finding about something removed carries the base file and the base line."""
    policy = policy_with()
    removed = [f for f in evaluate([subject], policy, TODAY, rules=[rules["TST012"]]).suppressed]
    # /gone carries x-govbot-ignore: [TST012] in the base: suppressed there
    assert [f.message for f in removed] == ["DELETE /gone removed"]
    f = removed[0]
    assert (f.file, f.side) == ("base.yaml", "base")
    assert (
        f.line
        == subject.base.line("base.yaml", "/paths/~1gone/delete")
        != subject.head.line("head.yaml", f.pointer)
    )


def test_line_name_and_fingerprint(rules, subject):
    """Findings get their line on the right side, the rule's name and a fingerprint."""
    result = evaluate([subject], policy_with(), TODAY, rules=[rules["TST011"]])
    f = next(f for f in result if f.message == "GET /servers seen")
    assert (f.file, f.pointer) == ("head.yaml", "/paths/~1servers/get")
    assert f.line == subject.head.line("head.yaml", "/paths/~1servers/get") and f.line in (4, 5)
    assert f.name == "every-operation"
    assert len(f.fingerprint) == 16


def test_x_govbot_ignore_on_an_object_covers_it_and_below(rules, write_file):
    """`x-govbot-ignore: [CODE]` silences that code at the object and below, nowhere else."""
    head = HEAD.replace("  /servers:\n", "  /servers:\n    x-govbot-ignore: [TST011, TST099]\n")
    subject = make_subject(None, write_file("head.yaml", head))
    result = evaluate([subject], policy_with(), TODAY, rules=[rules["TST011"], rules["TST014"]])
    messages = {f.message for f in result}
    assert "GET /servers seen" not in messages
    assert {"GET /flavors seen", "GET /internal/ping seen", "head.yaml checked"} <= messages
    assert [f.message for f in result.suppressed] == ["GET /servers seen"]
    assert "x-govbot-ignore" in result.suppressed[0].note


def test_x_govbot_ignore_at_the_root_covers_everything(rules, write_file):
    """On the document root, x-govbot-ignore silences the code everywhere in the spec."""
    head = HEAD.replace("openapi: 3.0.3\n", "openapi: 3.0.3\nx-govbot-ignore: tst011\n")
    subject = make_subject(None, write_file("head.yaml", head))
    result = evaluate([subject], policy_with(), TODAY, rules=[rules["TST011"], rules["TST014"]])
    assert by_rule(result, "TST011") == []
    assert len(by_rule(result.suppressed, "TST011")) == 3
    assert by_rule(result, "TST014")


@pytest.mark.parametrize(
    "key",
    [
        '"x-govbot-ignore"',  # as a serializer writes it
        '"x\\u002dgovbot-ignore"',  # the same key, one character escaped
        '"x-govbot-ignore" ',  # not the serializer's layout
    ],
)
def test_x_govbot_ignore_in_a_minified_json_spec_or_a_file_it_refers_to(
    write_file, key: str
) -> None:
    """Found however the JSON writes it, in the root file or in a file reached by $ref
    alone; a spec that writes it nowhere has no finding suppressed."""

    @rule("TST021", "every-operation-where-written", kind="spec", severity=Severity.ERROR)
    def placed(ctx):
        """Reports every operation, in the file it is written in."""
        for op in operations(ctx.spec):
            yield Hit(f"{op.label} seen", op.node.pointer, file=op.node.file)

    ok = '{"200":{"description":"ok"}}'
    servers = '{"get":{KEY:["TST021"],"responses":OK}}'.replace("OK", ok)
    write_file("servers.json", servers.replace("KEY", key))
    head = (
        (
            '{"openapi":"3.0.3","info":{"title":"demo","version":"1.0"},"paths":{'
            '"/servers":{"$ref":"servers.json"},'
            '"/flavors":{"get":{"responses":OK}},'
            '"/pets":{"get":{KEY:["TST021"],"responses":OK}}}}'
        )
        .replace("OK", ok)
        .replace("KEY", key)
    )
    subject = make_subject(None, write_file("head.json", head))
    result = evaluate([subject], policy_with(), TODAY, rules=[placed])
    assert [f.message for f in result] == ["GET /flavors seen"]
    assert sorted(f.message for f in result.suppressed) == ["GET /pets seen", "GET /servers seen"]
    # Only the referenced file writes it.
    alone = make_subject(None, write_file("alone.json", head.replace(key, '"x-other"')))
    result = evaluate([alone], policy_with(), TODAY, rules=[placed])
    assert sorted(f.message for f in result) == ["GET /flavors seen", "GET /pets seen"]
    assert [f.message for f in result.suppressed] == ["GET /servers seen"]
    write_file("servers.json", servers.replace("KEY", '"x-other"'))
    plain = make_subject(None, write_file("plain.json", head.replace(key, '"x-other"')))
    result = evaluate([plain], policy_with(), TODAY, rules=[placed])
    assert len(result.findings) == 3 and result.suppressed == ()


def test_waiver_drops_the_finding_and_counts_it(rules, subject):
    """A matching waiver drops the finding; the evaluation keeps it as waived with the reason."""
    waiver = Waiver(
        "TST011",
        path="*.yaml",
        pointer="/paths/~1servers",
        reason="TC 2025-05",
        expires=dt.date(2025, 12, 31),
    )
    result = evaluate([subject], policy_with(waivers=(waiver,)), TODAY, rules=[rules["TST011"]])
    assert "GET /servers seen" not in {f.message for f in result}
    assert [f.message for f in result.waived] == ["GET /servers seen"]
    assert result.waived[0].note == "waived: TC 2025-05 (until 2025-12-31)"
    assert by_rule(result, "POL001") == []


def test_expired_waiver_no_longer_applies_and_is_reported(rules, subject):
    """An expired waiver lets the finding through and is itself reported, at its policy line."""
    waiver = Waiver(
        "TST011",
        path="**",
        pointer="/paths/~1servers",
        reason="frozen API",
        expires=dt.date(2025, 5, 31),
        source="policies/default.yaml",
        line=42,
    )
    result = evaluate([subject], policy_with(waivers=(waiver,)), TODAY, rules=[rules["TST011"]])
    assert "GET /servers seen" in {f.message for f in result}
    assert result.waived == ()
    (expired,) = by_rule(result, "POL001")
    assert (expired.file, expired.line, expired.name) == (
        "policies/default.yaml",
        42,
        "expired-waiver",
    )
    assert "expired on 2025-05-31" in expired.message and "frozen API" in expired.message
    assert expired.severity is get_rule("POL001").default_severity(Audience.EXTERNAL)


def test_expired_waiver_for_other_files_is_not_reported(rules, subject):
    """An expired waiver is reported where it matters: when its glob matches a spec of the check."""
    waiver = Waiver("TST011", path="legacy/**", reason="old", expires=dt.date(2020, 1, 1))
    result = evaluate([subject], policy_with(waivers=(waiver,)), TODAY, rules=[rules["TST011"]])
    assert by_rule(result, "POL001") == []


def test_rule_crash_is_contained(rules, subject, caplog):
    """A crashing rule is logged and reported as POL002; its earlier hits and the other rules remain."""
    with caplog.at_level(logging.DEBUG, logger="govbot"):
        result = evaluate([subject], policy_with(), TODAY, rules=[rules["TST013"], rules["TST011"]])
    (crash,) = by_rule(result, "POL002")
    assert "TST013" in crash.message and "KeyError" in crash.message
    assert crash.severity is Severity.ERROR and crash.file == "head.yaml"
    assert [f.message for f in by_rule(result, "TST013")] == ["before the crash"]
    assert len(by_rule(result, "TST011")) == 3
    assert "rule TST013 crashed on head.yaml" in caplog.text


def test_loader_problems_go_through_a_load_rule_and_the_policy(write_file):
    """Problems a reader met become findings only through a load rule, under the policy."""

    @rule("TST030", "load-problem", kind=Kind.LOAD, severity=Severity.ERROR)
    def load_problem(ctx):
        """Loader rule."""
        for p in ctx.head.problems:
            yield Hit(p.message, p.pointer, p.file, audience=None)

    head = load_spec(write_file("head.yaml", HEAD), root=write_file("x", "").parent)
    problem = Problem("TST030", "bad thing", "head.yaml", "/paths/~1servers")
    subject = Subject(
        head=dataclasses.replace(head, problems=(problem,)),
        head_audience=classify(head, Policy("t", "0").audience),
    )
    (f,) = evaluate([subject], policy_with(), TODAY, rules=[load_problem])
    assert (f.name, f.severity, f.audience) == ("load-problem", Severity.ERROR, None)
    assert f.line == head.line("head.yaml", "/paths/~1servers") and f.line in (4, 5)
    policy = policy_with(rules={"TST030": RuleConfig(severity=Severity.WARNING)})
    (g,) = evaluate([subject], policy, TODAY, rules=[load_problem])
    assert g.severity is Severity.WARNING
    off = policy_with(rules={"TST030": RuleConfig(enabled=False)})
    assert len(evaluate([subject], off, TODAY, rules=[load_problem])) == 0


def test_findings_are_sorted_by_file_and_line(rules, subject):
    """The verdict reads top to bottom, file by file."""
    result = evaluate([subject], policy_with(), TODAY, rules=list(rules.values()))
    keys = [(f.file, f.line or 0) for f in result]
    assert keys == sorted(keys)


def test_every_registered_rule_runs_on_a_real_spec_without_crashing(default_policy, repo_root):
    """The real catalogue on the demo pair: no rule crashes (no POL002)."""
    demo = repo_root / "tests" / "data" / "demo"
    subject = make_subject(demo / "compute-base.yaml", demo / "compute-head.yaml", default_policy)
    result = evaluate([subject], default_policy, TODAY, rules=all_rules())
    assert by_rule(result, "POL002") == []
