"""The offline commands: check, classify, rules and blueprint (no Gerrit, no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from govbot import render
from govbot.apiref.source import tree_of
from govbot.audience import Classification, classify
from govbot.cli.common import (
    color_wanted,
    common_options,
    emit,
    one_pass,
    settings_and_policy,
)
from govbot.errors import SpecError
from govbot.findings import Problem, Report, Severity
from govbot.rules.catalog import all_rules, get_rule
from govbot.services.check import (
    PolicyTrees,
    check_files,
    load_source,
    sources_of,
)
from govbot.settings import Settings

# Problems of the policy-defaults reader that classify mentions (it runs no rule).
_POLICY_PROBLEMS = ("ARF008", "ARF009")


def policy_defaults_option(func: Any) -> Any:
    """``--policy-defaults TREE`` (repeatable): policy-in-code to classify operations by."""
    return click.option(
        "--policy-defaults",
        "policy_defaults",
        multiple=True,
        type=click.Path(path_type=Path, exists=True),
        metavar="TREE",
        help="A project's source tree, policies package or policy file whose policy "
        "defaults (parsed, never run) decide each operation's audience; repeat for rules "
        "kept in another project (neutron-lib). api-ref trees read their own project's.",
    )(func)


def _policy_trees(paths: tuple[Path, ...]) -> PolicyTrees:
    return PolicyTrees(tuple(tree_of(p) for p in paths))


@click.command()
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--base",
    "bases",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="OLD",
    help="The spec before the change (once per SPEC, in order); adds the compatibility and deprecation rules.",
)
@click.option(
    "--git",
    "git_range",
    metavar="REV1..REV2",
    help="Check the specs a git range changed (by the policy's globs), both sides read from git.",
)
@click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Repository for --git.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report to FILE instead of stdout.",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour in text output (auto: only on a terminal).",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    help="Refuse spec files larger than this (default: the policy's max_file_bytes).",
)
@click.option(
    "--min-severity",
    type=click.Choice(["info", "warning", "error"]),
    default="info",
    show_default=True,
    help="Show only findings at least this severe (the counts and the exit code still cover all).",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Judge dates (sunsets, waiver expiry) as of this day.",
)
@click.option(
    "--project",
    help="The Gerrit project the specs belong to: the policy's `profiles` picks its rule profile.",
)
@click.option(
    "--profile",
    type=click.Choice(["api-sig", "generic", "auto"]),
    help="Judge under this rule profile, whatever the policy picks (see `govbot rules`).",
)
@click.option(
    "--no-cache",
    "no_cache",
    is_flag=True,
    help="Check again even when the same files were checked under the same policy "
    "(no verdict or validation cache).",
)
@policy_defaults_option
@common_options
def check(
    specs: tuple[Path, ...],
    bases: tuple[Path, ...],
    git_range: str | None,
    repo: Path,
    fmt: str,
    output: Path | None,
    color: str,
    max_bytes: int | None,
    min_severity: str,
    today: dt.datetime | None,
    project: str | None,
    profile: str | None,
    no_cache: bool,
    policy_defaults: tuple[Path, ...],
    config_file: Path | None,
    policy_path: Path | None,
) -> None:
    """Check API specs: validation, audience, consistency, and with a base, compatibility.

    A SPEC is an OpenAPI file, an OpenStack api-ref tree (a directory holding index.rst
    and/or *.inc files with rest_method directives and a parameters.yaml; read with its
    project's policy defaults and microversion ledger), or a directory of either.

    \b
      govbot check api-specs/compute.yaml
      govbot check --base old/compute.yaml api-specs/compute.yaml
      govbot check api-specs/                      (every spec in it, cross-spec rules too)
      govbot check --base OLD/api-ref/source NEW/api-ref/source
      govbot check --git origin/master..HEAD --format sarif -o govbot.sarif
    """
    _check_usage(specs, bases, git_range)
    settings, policy = settings_and_policy(config_file, policy_path)
    policy = policy.for_project(project)
    if profile is not None:
        policy = policy.with_profile(profile)
    options: dict[str, Any] = {
        "policy": policy,
        "today": today.date() if today is not None else dt.date.today(),
        "max_bytes": max_bytes,
        "policy_trees": _policy_trees(policy_defaults),
        "cache": not no_cache,
    }
    with one_pass():
        if git_range:
            rev1, _, rev2 = git_range.partition("..")
            # Only a git range needs git (GitPython): a check of files does not import it.
            from govbot.services.check_git import check_git

            report = check_git(repo, rev1, rev2, **options)
        else:
            report = check_files(list(specs), base_files=list(bases) or None, **options)
    use_color = color_wanted(color, output) and fmt == "text"
    floor = Severity(min_severity).rank
    shown = dataclasses.replace(
        report, findings=tuple(f for f in report.findings if f.severity.rank >= floor)
    )
    emit(_render(shown, fmt, use_color, settings.docs_base), output, color=use_color)
    if output is not None:
        click.echo(render.summary_line(report), err=True)
    click.get_current_context().exit(report.exit_code)


def _check_usage(specs: tuple[Path, ...], bases: tuple[Path, ...], git_range: str | None) -> None:
    if git_range and (specs or bases):
        raise click.UsageError("--git takes no SPEC or --base: it finds the changed specs itself")
    if not git_range and not specs:
        raise click.UsageError("give at least one SPEC, or --git REV1..REV2")
    if bases and len(bases) != len(specs):
        raise click.UsageError(
            f"{len(bases)} --base for {len(specs)} SPEC: give one --base per SPEC"
        )
    if git_range:
        rev1, sep, rev2 = git_range.partition("..")
        if not sep or not rev1 or not rev2 or rev2.startswith("."):
            raise click.UsageError(f"--git wants REV1..REV2, not {git_range!r}")


def _render(report: Report[Classification], fmt: str, color: bool, docs_base: str) -> str:
    if fmt == "json":
        return render.render_json(report, docs_base)
    if fmt == "sarif":
        return render.render_sarif(report, all_rules(), docs_base=docs_base)
    return render.render_text(report, color=color, docs_base=docs_base)


@click.command(name="classify")
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True
)
@click.option("--max-bytes", type=click.IntRange(min=1), help="Refuse spec files larger than this.")
@policy_defaults_option
@common_options
def classify_command(
    specs: tuple[Path, ...],
    fmt: str,
    color: str,
    max_bytes: int | None,
    policy_defaults: tuple[Path, ...],
    config_file: Path | None,
    policy_path: Path | None,
) -> None:
    """Print every operation with its audience and the evidence that decided it.

    A SPEC is an OpenAPI file, an api-ref tree, or a directory of either. With policy
    defaults (an api-ref tree's own project, or --policy-defaults), an operation a
    default names is external when a project user may call it, internal when only a
    service user (or an admin) may, external-admin when only an admin may; the policy
    name and its check string are the evidence.

    \b
      govbot classify api-specs/compute.yaml
      govbot classify --policy-defaults ~/nova api-specs/compute.yaml
      govbot classify --format json ~/nova/api-ref/source
    """
    _, policy = settings_and_policy(config_file, policy_path)
    if max_bytes is not None:
        policy = dataclasses.replace(policy, max_file_bytes=max_bytes)
    trees = _policy_trees(policy_defaults)
    results: dict[str, Classification] = {}
    problems: list[Problem] = []
    with one_pass():
        for path in specs:
            for src in sources_of(path, policy):
                spec = load_source(src, policy, trees)
                if not spec.ok:
                    cause = spec.problems[0].message if spec.problems else "cannot be loaded"
                    raise SpecError(f"{spec.file}: {cause}")
                problems.extend(p for p in spec.problems if p.code in _POLICY_PROBLEMS)
                results[spec.file] = classify(spec, policy.audience)
    for p in dict.fromkeys(problems):
        where = f"{p.file}:{p.line}" if p.line else p.file
        click.echo(f"warning: {where}: {p.message} ({p.code})", err=True)
    if fmt == "json":
        click.echo(render.render_classification_json(results), nl=False)
        return
    use_color = color_wanted(color, None)
    text = "\n".join(
        render.render_classification_text(c, color=use_color) for c in results.values()
    )
    click.echo(text, nl=False, color=use_color)


@click.command(name="rules")
@click.argument("code", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@common_options
def rules_command(
    code: str | None, fmt: str, config_file: Path | None, policy_path: Path | None
) -> None:
    """The rule catalogue, or one rule's documentation."""
    settings = Settings.from_env(config_file)
    docs = settings.docs_base
    if code is not None:
        rule = get_rule(code)
        if rule is None:
            raise click.UsageError(f"unknown rule code {code!r}; `govbot rules` lists them")
        selected = [rule]
    else:
        selected = list(all_rules())
    if fmt == "json":
        payload = render.rules_json(selected, docs_base=docs)
        text = (
            json.dumps(payload[0] if code else {"rules": payload}, indent=2, ensure_ascii=False)
            + "\n"
        )
    elif fmt == "markdown":
        text = (
            render.rule_markdown(selected[0], docs_base=docs)
            if code
            else render.render_rules_markdown(selected, docs_base=docs)
        )
    else:
        text = (
            render.render_rule_text(selected[0], docs_base=docs)
            if code
            else render.render_rules_text(selected)
        )
    click.echo(text, nl=False)


@click.command(name="blueprint")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--template",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The project's spec template: text copied from it never counts as a use case "
    "(default: the policy's blueprints.template, else a *-template.rst next to the spec).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@common_options
def blueprint_cmd(
    files: tuple[Path, ...],
    template: Path | None,
    fmt: str,
    config_file: Path | None,
    policy_path: Path | None,
) -> None:
    """Use-case verdicts for design specs (RST or Markdown blueprints).

    A spec is justified when it says, anywhere it explains itself (Use Cases, Problem
    description, a spec-lite's fields, its introduction), who outside the code needs
    the change and why, or what fails today. A directory stands for every .rst/.md
    file under it. JSON: one object per file with file, verdict, strength, section,
    line, evidence, need (the sentences that carry it) or looked_at (what was read and
    why it does not count), and findings. Exit code 1 when any spec is unjustified.

    \b
      govbot blueprint specs/2027.1/approved/my-spec.rst
      govbot blueprint --template specs/2027.1-template.rst --format json specs/2027.1/
    """
    from govbot.services.spec_review import check_specs, spec_files

    settings, policy = settings_and_policy(config_file, policy_path)
    for file in files:
        if not file.exists():
            raise SpecError(f"{file}: no such file or directory")
    reports = check_specs(spec_files(files), policy, template=template)
    if fmt == "json":
        click.echo(render.render_verdicts_json(reports, settings.docs_base), nl=False)
    else:
        click.echo(render.render_verdicts_text(reports), nl=False)
    click.get_current_context().exit(1 if any(r.fails for r in reports) else 0)


COMMANDS = (check, classify_command, rules_command, blueprint_cmd)
